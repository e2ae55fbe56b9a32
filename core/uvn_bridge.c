// SPDX-License-Identifier: GPL-2.0 OR MIT
#include "uvn_bridge.h"

void uvn_config_default(struct uvn_config *c)
{
	uvn_memset(c, 0, sizeof(*c));
	c->mode = UVN_MODE_BRIDGE;
	c->flags = UVN_CFG_AUTO_ATTACH;
	c->drivers = UVN_DRV_ALL;
}

int uvn_config_check(const struct uvn_config *c, const char **why)
{
	const char *bad = NULL;
	uint32_t i;

	if (uvn_mac_is_group(c->mac) || uvn_mac_is_zero(c->mac))
		bad = "mac: must be a unicast, non-zero address";
	else if (c->mode > UVN_MODE_PRIVATE)
		bad = "mode: must be bridge (0) or private (1)";
	else if (c->flags & ~UVN_CFG_ALL)
		bad = "flags: unknown flag bits";
	else if (c->drivers & ~UVN_DRV_ALL)
		bad = "drivers: unknown driver bits";
	else if (c->nr_rules > UVN_MAX_RULES)
		bad = "nr_rules: at most 16 rules";
	for (i = 0; !bad && i < c->nr_rules; i++)
		if (c->rules[i].action > UVN_RULE_DENY)
			bad = "rules: action must be allow (0) or deny (1)";
	if (bad) {
		if (why)
			*why = bad;
		return -UVN_EINVAL;
	}
	return 0;
}

static bool str_eq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

uint32_t uvn_driver_bit(const char *name)
{
	static const struct {
		const char *name;
		uint32_t bit;
	} drivers[] = {
		{ "cdc_ether", UVN_DRV_CDC_ETHER },
		{ "cdc_ncm", UVN_DRV_CDC_NCM },
		{ "cdc_eem", UVN_DRV_CDC_EEM },
		{ "rndis_host", UVN_DRV_RNDIS_HOST },
	};
	unsigned int i;

	for (i = 0; name && i < sizeof(drivers) / sizeof(drivers[0]); i++)
		if (str_eq(name, drivers[i].name))
			return drivers[i].bit;
	return 0;
}

int uvn_config_match(const struct uvn_config *c, uint32_t driver_bit,
		     uint16_t vendor, uint16_t product)
{
	uint32_t i;

	if (!driver_bit || !(c->drivers & driver_bit))
		return -UVN_ENOENT;
	for (i = 0; i < c->nr_rules && i < UVN_MAX_RULES; i++) {
		const struct uvn_rule *r = &c->rules[i];

		if ((r->vendor && r->vendor != vendor) || (r->product && r->product != product))
			continue;
		return r->action == UVN_RULE_DENY ? -UVN_EPERM : 0;
	}
	return 0;
}

#define FNV_OFFSET	0xcbf29ce484222325ULL
#define FNV_PRIME	0x100000001b3ULL

static uint64_t fnv1a(uint64_t h, const uint8_t *p, size_t n)
{
	while (n--) {
		h ^= *p++;
		h *= FNV_PRIME;
	}
	return h;
}

void uvn_mac_derive(const uint8_t *machine_id, size_t id_len, const char *ifname,
		    uint8_t mac[6])
{
	static const uint8_t prefix[] = "usbvnet";	/* with its NUL */
	uint64_t h = FNV_OFFSET;
	size_t n = 0;
	int i;

	while (ifname[n])
		n++;
	h = fnv1a(h, prefix, sizeof(prefix));
	h = fnv1a(h, machine_id, id_len);
	h = fnv1a(h, (const uint8_t *)"", 1);
	h = fnv1a(h, (const uint8_t *)ifname, n);
	for (i = 0; i < 6; i++)
		mac[i] = (uint8_t)(h >> (56 - 8 * i));
	mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02);
}

enum uvn_source uvn_check_source(const struct uvn_fdb *f, const uint8_t *host_mac,
				 uint32_t slot, const uint8_t *src, unsigned int *index)
{
	int owner;

	if (uvn_mac_is_group(src) || uvn_mac_is_zero(src))
		return UVN_SOURCE_INVALID;
	if (uvn_mac_equal(src, host_mac))
		return UVN_SOURCE_SPOOF;
	owner = uvn_fdb_find(f, src, index);
	if (owner < 0)
		return UVN_SOURCE_NEW;
	return (uint32_t)owner == slot ? UVN_SOURCE_KNOWN : UVN_SOURCE_SPOOF;
}

void uvn_forward_from_slot(const struct uvn_fdb *f, uint32_t used, uint32_t mode,
			   const uint8_t *host_mac, bool promisc, uint32_t src_slot,
			   const uint8_t *dst, struct uvn_verdict *v)
{
	uint32_t others = used & ~(1U << (src_slot & 31));
	bool bridge = mode == UVN_MODE_BRIDGE;
	int owner;

	v->to_slots = 0;
	v->host_unicast = false;
	v->to_host = promisc;

	if (uvn_mac_is_group(dst)) {
		v->to_host = true;
		v->to_slots = bridge ? others : 0;
		return;
	}
	if (uvn_mac_equal(dst, host_mac)) {
		v->to_host = true;
		v->host_unicast = true;
		return;
	}
	if (!bridge)
		return;
	owner = uvn_fdb_lookup(f, dst);
	if (owner < 0)
		v->to_slots = others;		/* unknown: flood, as a bridge does */
	else
		v->to_slots = others & (1U << owner);	/* never back to its own slot */
}

void uvn_forward_from_host(const struct uvn_fdb *f, uint32_t used, const uint8_t *dst,
			   struct uvn_verdict *v)
{
	int owner = uvn_mac_is_group(dst) ? -1 : uvn_fdb_lookup(f, dst);

	v->to_host = false;
	v->host_unicast = false;
	v->to_slots = owner < 0 ? used : used & (1U << owner);
}
