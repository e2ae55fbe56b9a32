// SPDX-License-Identifier: GPL-2.0 OR MIT
/* The DHCP server's settings: defaults, validation, address helpers. */
#include "uvn_dhcp_internal.h"

void uvn_dhcp_config_default(struct uvn_dhcp_config *c)
{
	uvn_memset(c, 0, sizeof(*c));
	c->flags = UVN_DHCP_RAPID_COMMIT;	/* whether to serve is the driver's choice */
	c->subnet = UVN_DHCP_DEFAULT_SUBNET;
	c->prefix_len = UVN_DHCP_DEFAULT_PREFIX;
	c->host_ip = UVN_DHCP_DEFAULT_SUBNET + 1;
	c->pool_start = UVN_DHCP_DEFAULT_SUBNET + 2;
	c->pool_end = UVN_DHCP_DEFAULT_SUBNET + 254;
	c->lease_seconds = UVN_DHCP_DEFAULT_LEASE;
	c->decline_seconds = UVN_DHCP_DEFAULT_DECLINE;
	c->per_slot_cap = UVN_DHCP_DEFAULT_CAP;
	c->router = c->host_ip;
}

uint32_t uvn_dhcp_mask(const struct uvn_dhcp_config *c)
{
	if (c->prefix_len == 0 || c->prefix_len > 32)
		return 0;
	return 0xffffffffU << (32 - c->prefix_len);
}

bool uvn_dhcp_ip_usable(const struct uvn_dhcp_config *c, uint32_t ip)
{
	uint32_t mask = uvn_dhcp_mask(c);

	return mask && (ip & mask) == c->subnet && (ip & ~mask) != 0 && (ip & ~mask) != ~mask;
}

bool uvn_dhcp_ip_in_pool(const struct uvn_dhcp_config *c, uint32_t ip)
{
	return ip >= c->pool_start && ip <= c->pool_end;
}

size_t uvn_dhcp_strnlen(const char *str, size_t max)
{
	size_t n = 0;

	if (!str)
		return 0;
	while (n < max && str[n])
		n++;
	return n;
}

bool uvn_dhcp_serial_equal(const char *stored, const char *serial)
{
	size_t n = uvn_dhcp_strnlen(serial, UVN_SERIAL_LEN - 1);

	return (!n || !uvn_memcmp(stored, serial, n)) && stored[n] == '\0';
}

const struct uvn_dhcp_reservation *uvn_dhcp_reservation_of_ip(const struct uvn_dhcp_config *c,
							      uint32_t ip)
{
	uint32_t i;

	for (i = 0; i < c->nr_reservations && i < UVN_DHCP_MAX_RESERVATIONS; i++)
		if (c->reservations[i].ip == ip)
			return &c->reservations[i];
	return NULL;
}

bool uvn_dhcp_reservation_matches(const struct uvn_dhcp_reservation *r, const uint8_t *mac,
				  const char *serial, uint32_t slot)
{
	switch (r->kind) {
	case UVN_DHCP_RES_MAC:
		return !uvn_memcmp(r->mac, mac, 6);
	case UVN_DHCP_RES_SERIAL:
		return uvn_dhcp_strnlen(serial, 1) && uvn_dhcp_serial_equal(r->serial, serial);
	case UVN_DHCP_RES_SLOT:
		return r->slot == slot;
	}
	return false;
}

const char *uvn_dhcp_lease_misfit(const struct uvn_dhcp_config *c, uint32_t ip,
				  const uint8_t *mac, const char *serial, uint32_t slot,
				  uint32_t state)
{
	const struct uvn_dhcp_reservation *r = uvn_dhcp_reservation_of_ip(c, ip);

	if (!uvn_dhcp_ip_usable(c, ip) || ip == c->host_ip)
		return "address outside the subnet, or the host's";
	if (!r)
		return uvn_dhcp_ip_in_pool(c, ip) ? NULL : "address neither in the pool nor reserved";
	/* A lease with no slot may be its slot reservation's: its device is away. */
	if (state == UVN_DHCP_DECLINED || uvn_dhcp_reservation_matches(r, mac, serial, slot) ||
	    (r->kind == UVN_DHCP_RES_SLOT && slot == UVN_DHCP_NO_SLOT))
		return NULL;
	return "reserved address held by another client";
}

bool uvn_dhcp_mac_ok(const uint8_t *mac)
{
	return !(mac[0] & 1) && (mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]);
}

static bool domain_ok(const char *d)
{
	size_t i, n = uvn_dhcp_strnlen(d, UVN_DHCP_DOMAIN_LEN);

	if (n == UVN_DHCP_DOMAIN_LEN || d[0] == '.' || d[0] == '-')
		return false;
	for (i = 0; i < n; i++) {
		char ch = d[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '.'))
			return false;
	}
	return true;
}

static const char *check_reservation(const struct uvn_dhcp_config *c, uint32_t i)
{
	const struct uvn_dhcp_reservation *r = &c->reservations[i], *o;
	size_t n;
	uint32_t j;

	if (!uvn_dhcp_ip_usable(c, r->ip) || r->ip == c->host_ip)
		return "reservations: ip must be in the subnet and not the host address";
	switch (r->kind) {
	case UVN_DHCP_RES_MAC:
		if (!uvn_dhcp_mac_ok(r->mac))
			return "reservations: mac must be a unicast, non-zero address";
		break;
	case UVN_DHCP_RES_SERIAL:
		n = uvn_dhcp_strnlen(r->serial, UVN_SERIAL_LEN);
		if (n == 0 || n == UVN_SERIAL_LEN)
			return "reservations: serial must be 1 to 63 characters";
		break;
	case UVN_DHCP_RES_SLOT:
		if (r->slot >= UVN_MAX_SLOTS)
			return "reservations: slot must be 0..31";
		break;
	default:
		return "reservations: kind must be mac (0), serial (1) or slot (2)";
	}
	for (j = 0; j < i; j++) {
		o = &c->reservations[j];
		if (o->ip == r->ip)
			return "reservations: an address is reserved twice";
		if (o->kind != r->kind)
			continue;
		if ((r->kind == UVN_DHCP_RES_MAC && !uvn_memcmp(o->mac, r->mac, 6)) ||
		    (r->kind == UVN_DHCP_RES_SERIAL && uvn_dhcp_serial_equal(o->serial, r->serial)) ||
		    (r->kind == UVN_DHCP_RES_SLOT && o->slot == r->slot))
			return "reservations: the same client is reserved twice";
	}
	return NULL;
}

int uvn_dhcp_config_check(const struct uvn_dhcp_config *c, const char **why)
{
	const char *bad = NULL;
	uint32_t i, mask = uvn_dhcp_mask(c);

	if (c->flags & ~UVN_DHCP_FLAGS_ALL)
		bad = "flags: unknown flag bits";
	else if (!uvn_dhcp_mac_ok(c->server_mac))
		bad = "server_mac: must be a unicast, non-zero address";
	else if (c->prefix_len < 8 || c->prefix_len > 30)
		bad = "prefix_len: must be 8..30";
	else if (c->subnet & ~mask)
		bad = "subnet: host bits set for this prefix length";
	else if (!uvn_dhcp_ip_usable(c, c->host_ip))
		bad = "host_ip: must be in the subnet, not its network or broadcast address";
	else if (c->pool_start > c->pool_end)
		bad = "pool: start after end";
	else if (!uvn_dhcp_ip_usable(c, c->pool_start) || !uvn_dhcp_ip_usable(c, c->pool_end))
		bad = "pool: must be inside the subnet";
	else if (c->pool_end - c->pool_start >= UVN_DHCP_LEASES)
		bad = "pool: at most 256 addresses";
	else if (uvn_dhcp_ip_in_pool(c, c->host_ip))
		bad = "pool: must not contain host_ip";
	else if (c->lease_seconds < 60 || c->lease_seconds > UVN_DHCP_LEASE_MAX)
		bad = "lease_seconds: must be 60 s to 365 days";
	else if (c->decline_seconds < 1 || c->decline_seconds > 86400)
		bad = "decline_seconds: must be 1 s to 1 day";
	else if (c->per_slot_cap < 1 || c->per_slot_cap > UVN_DHCP_LEASES)
		bad = "per_slot_cap: must be 1..256";
	else if (c->router && !uvn_dhcp_ip_usable(c, c->router))
		bad = "router: must be in the subnet (or 0 for none)";
	else if (c->nr_dns > UVN_DHCP_MAX_DNS)
		bad = "nr_dns: at most 3 DNS servers";
	else if (!domain_ok(c->domain))
		bad = "domain: letters, digits, '-' and '.', at most 63";
	else if (c->mtu && (c->mtu < 576 || c->mtu > 65535))
		bad = "mtu: must be 576..65535 (or 0 for none)";
	else if (c->nr_reservations > UVN_DHCP_MAX_RESERVATIONS)
		bad = "nr_reservations: at most 32";
	for (i = 0; !bad && i < c->nr_dns; i++)
		if (!c->dns[i] || c->dns[i] >= 0xe0000000U)	/* multicast, reserved, broadcast */
			bad = "dns: must be unicast addresses";
	for (i = 0; !bad && i < c->nr_reservations; i++)
		bad = check_reservation(c, i);
	if (bad) {
		if (why)
			*why = bad;
		return -UVN_EINVAL;
	}
	return 0;
}
