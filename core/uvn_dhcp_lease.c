// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The lease table: a fixed array searched linearly (256 entries, a few
 * microseconds; DHCP is rare). Expiry is lazy: a stored state plus its
 * deadline say what an entry is at any time, so nothing needs a timer.
 * An address has at most one entry, and so has a MAC among the entries
 * without a client id. A client id has at most one entry per slot: clones
 * of one image send the same id, each from its own slot (see find_mine()
 * in uvn_dhcp.c).
 */
#include "uvn_dhcp_internal.h"

enum uvn_dhcp_lease_state uvn_dhcp_lease_state(const struct uvn_dhcp_lease *l, uint32_t now)
{
	switch (l->state) {
	case UVN_DHCP_OFFERED:
	case UVN_DHCP_BOUND:
		return uvn_time_reached(now, l->expires) ? UVN_DHCP_AVAILABLE
							 : (enum uvn_dhcp_lease_state)l->state;
	case UVN_DHCP_AVAILABLE:
		return UVN_DHCP_AVAILABLE;
	case UVN_DHCP_DECLINED:
		return uvn_time_reached(now, l->expires) ? UVN_DHCP_FREE : UVN_DHCP_DECLINED;
	}
	return UVN_DHCP_FREE;
}

bool uvn_dhcp_lease_active(const struct uvn_dhcp_lease *l, uint32_t now)
{
	enum uvn_dhcp_lease_state st = uvn_dhcp_lease_state(l, now);

	return st == UVN_DHCP_OFFERED || st == UVN_DHCP_BOUND;
}

/* Stored state, not expiry: a remembered client stays findable. */
bool uvn_dhcp_remembers_client(const struct uvn_dhcp_lease *l)
{
	return l->state == UVN_DHCP_OFFERED || l->state == UVN_DHCP_BOUND ||
	       l->state == UVN_DHCP_AVAILABLE;
}

struct uvn_dhcp_lease *uvn_dhcp_find_mac(struct uvn_dhcp_server *s, const uint8_t *mac)
{
	unsigned int i;

	for (i = 0; i < UVN_DHCP_LEASES; i++) {
		struct uvn_dhcp_lease *l = &s->leases[i];

		if (uvn_dhcp_remembers_client(l) && !l->cid_len && !uvn_memcmp(l->mac, mac, 6))
			return l;
	}
	return NULL;
}

bool uvn_dhcp_is_client(const struct uvn_dhcp_lease *l, const uint8_t *mac, uint8_t cid_len,
			const uint8_t *cid)
{
	if (l->cid_len)
		return l->cid_len == cid_len && !uvn_memcmp(l->cid, cid, UVN_DHCP_CID_KEY);
	return !uvn_memcmp(l->mac, mac, 6);
}

const struct uvn_dhcp_lease *uvn_dhcp_lease_of(const struct uvn_dhcp_server *s,
					       const uint8_t mac[6])
{
	return uvn_dhcp_find_mac((struct uvn_dhcp_server *)s, mac);
}

struct uvn_dhcp_lease *uvn_dhcp_find_ip(struct uvn_dhcp_server *s, uint32_t ip, uint32_t now)
{
	unsigned int i;

	for (i = 0; i < UVN_DHCP_LEASES; i++)
		if (s->leases[i].ip == ip && uvn_dhcp_lease_state(&s->leases[i], now) != UVN_DHCP_FREE)
			return &s->leases[i];
	return NULL;
}

unsigned int uvn_dhcp_slot_leases(const struct uvn_dhcp_server *s, uint32_t slot, uint32_t now)
{
	unsigned int i, n = 0;

	for (i = 0; i < UVN_DHCP_LEASES; i++) {
		const struct uvn_dhcp_lease *l = &s->leases[i];

		/* Addresses it declined count until their quarantine ends. */
		if (l->slot == slot && (uvn_dhcp_lease_active(l, now) ||
					uvn_dhcp_lease_state(l, now) == UVN_DHCP_DECLINED) &&
		    !uvn_dhcp_reservation_of_ip(&s->cfg, l->ip))
			n++;
	}
	return n;
}

void uvn_dhcp_clear(struct uvn_dhcp_lease *l, uint32_t ip)
{
	uvn_memset(l, 0, sizeof(*l));
	l->ip = ip;
	l->slot = UVN_DHCP_NO_SLOT;
}

/* The available entry released longest ago, optionally only pool addresses. */
static struct uvn_dhcp_lease *oldest_available(struct uvn_dhcp_server *s, uint32_t now,
					       bool pool_only)
{
	struct uvn_dhcp_lease *best = NULL;
	unsigned int i;

	for (i = 0; i < UVN_DHCP_LEASES; i++) {
		struct uvn_dhcp_lease *l = &s->leases[i];

		if (uvn_dhcp_lease_state(l, now) != UVN_DHCP_AVAILABLE)
			continue;
		if (pool_only && (!uvn_dhcp_ip_in_pool(&s->cfg, l->ip) ||
				  uvn_dhcp_reservation_of_ip(&s->cfg, l->ip)))
			continue;
		if (!best || (int32_t)(l->expires - best->expires) < 0)
			best = l;
	}
	return best;
}

struct uvn_dhcp_lease *uvn_dhcp_entry_for(struct uvn_dhcp_server *s, uint32_t ip, uint32_t now)
{
	struct uvn_dhcp_lease *l = NULL;
	unsigned int i;

	for (i = 0; i < UVN_DHCP_LEASES && !l; i++)
		if (uvn_dhcp_lease_state(&s->leases[i], now) == UVN_DHCP_FREE)
			l = &s->leases[i];
	if (!l)
		l = oldest_available(s, now, false);
	if (l)
		uvn_dhcp_clear(l, ip);
	return l;
}

struct uvn_dhcp_lease *uvn_dhcp_alloc(struct uvn_dhcp_server *s, uint32_t now)
{
	const struct uvn_dhcp_config *c = &s->cfg;
	uint32_t used[UVN_DHCP_LEASES / 32] = { 0 }, off, size = c->pool_end - c->pool_start + 1;
	struct uvn_dhcp_lease *l;
	unsigned int i;

	/* Addresses with an entry (bound, remembered or quarantined) or reserved. */
	for (i = 0; i < UVN_DHCP_LEASES; i++) {
		l = &s->leases[i];
		off = l->ip - c->pool_start;
		if (uvn_dhcp_lease_state(l, now) != UVN_DHCP_FREE && off < size)
			used[off / 32] |= 1U << (off % 32);
	}
	for (i = 0; i < c->nr_reservations && i < UVN_DHCP_MAX_RESERVATIONS; i++) {
		off = c->reservations[i].ip - c->pool_start;
		if (off < size)
			used[off / 32] |= 1U << (off % 32);
	}
	for (off = 0; off < size; off++) {
		if (used[off / 32] & (1U << (off % 32)))
			continue;
		l = uvn_dhcp_entry_for(s, c->pool_start + off, now);
		if (l)
			return l;
		break;
	}
	/* Every address has been used: take the one released longest ago, so
	 * that recently gone devices still find theirs when they come back. */
	l = oldest_available(s, now, true);
	if (l)
		uvn_dhcp_clear(l, l->ip);
	return l;
}

/* ---- export / import ------------------------------------------------------ */

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v & 0xff);
	p[1] = (uint8_t)((v >> 8) & 0xff);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v & 0xff);
	p[1] = (uint8_t)((v >> 8) & 0xff);
	p[2] = (uint8_t)((v >> 16) & 0xff);
	p[3] = (uint8_t)((v >> 24) & 0xff);
}

static uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t fnv1a32(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261U;

	while (n--) {
		h ^= *p++;
		h *= 16777619U;
	}
	return h;
}

/* Record layout. */
#define R_IP		0
#define R_LEFT		4
#define R_MAC		8
#define R_STATE		14
#define R_SLOT		15
#define R_SERIAL	16
#define R_CID_LEN	80		/* version 2 from here */
#define R_CID_ZERO	81
#define R_CID		84

int uvn_dhcp_export(const struct uvn_dhcp_server *s, uint8_t *buf, size_t cap, uint32_t now)
{
	uint32_t count = 0;
	unsigned int i;
	uint8_t *r;

	for (i = 0; i < UVN_DHCP_LEASES; i++)
		if (uvn_dhcp_lease_state(&s->leases[i], now) != UVN_DHCP_FREE)
			count++;
	if (cap < UVN_DHCP_EXPORT_HEADER + (size_t)count * UVN_DHCP_EXPORT_RECORD)
		return -UVN_ENOSPC;

	r = buf + UVN_DHCP_EXPORT_HEADER;
	for (i = 0; i < UVN_DHCP_LEASES; i++) {
		const struct uvn_dhcp_lease *l = &s->leases[i];
		enum uvn_dhcp_lease_state st = uvn_dhcp_lease_state(l, now);

		if (st == UVN_DHCP_FREE)
			continue;
		uvn_memset(r, 0, UVN_DHCP_EXPORT_RECORD);
		put_le32(r + R_IP, l->ip);
		put_le32(r + R_LEFT, st == UVN_DHCP_AVAILABLE ? 0 : l->expires - now);
		uvn_memcpy(r + R_MAC, l->mac, 6);
		r[R_STATE] = (uint8_t)st;
		r[R_SLOT] = l->slot;
		uvn_memcpy(r + R_SERIAL, l->serial, uvn_dhcp_strnlen(l->serial, UVN_SERIAL_LEN - 1));
		if (st != UVN_DHCP_DECLINED && l->cid_len) {
			r[R_CID_LEN] = l->cid_len;
			uvn_memcpy(r + R_CID, l->cid, UVN_DHCP_CID_KEY);
		}
		r += UVN_DHCP_EXPORT_RECORD;
	}
	uvn_memcpy(buf, UVN_DHCP_EXPORT_MAGIC, 4);
	put_le16(buf + 4, UVN_DHCP_EXPORT_VERSION);
	put_le16(buf + 6, UVN_DHCP_EXPORT_RECORD);
	put_le32(buf + 8, count);
	put_le32(buf + 12, fnv1a32(buf + UVN_DHCP_EXPORT_HEADER,
				   (size_t)count * UVN_DHCP_EXPORT_RECORD));
	return (int)(UVN_DHCP_EXPORT_HEADER + count * UVN_DHCP_EXPORT_RECORD);
}

/* The client id part of a record: none in version 1. */
static uint8_t rec_cid_len(const uint8_t *r, size_t rsize)
{
	return rsize > R_CID_LEN ? r[R_CID_LEN] : 0;
}

static const char *check_cid(const uint8_t *r, size_t rsize)
{
	uint8_t n = rec_cid_len(r, rsize);
	size_t i;

	if (rsize == UVN_DHCP_EXPORT_RECORD_V1)
		return NULL;
	if (r[R_CID_ZERO] | r[R_CID_ZERO + 1] | r[R_CID_ZERO + 2])
		return "record: reserved bytes not zero";
	if (n == 1 || (n && r[R_STATE] == UVN_DHCP_DECLINED))
		return "record: bad client id length";
	for (i = n; i < UVN_DHCP_CID_KEY; i++)
		if (r[R_CID + i])
			return "record: client id key not zero past its length";
	return NULL;
}

/* Two records of one client known by its MAC (declined ones have none).
 * A client id may repeat: clones of one image send the same one, each
 * with a lease of its own. */
static bool same_mac(const uint8_t *a, const uint8_t *b, size_t rsize)
{
	if (a[R_STATE] == UVN_DHCP_DECLINED || b[R_STATE] == UVN_DHCP_DECLINED ||
	    rec_cid_len(a, rsize) || rec_cid_len(b, rsize))
		return false;
	return !uvn_memcmp(a + R_MAC, b + R_MAC, 6);
}

static const char *check_record(const struct uvn_dhcp_config *c, const uint8_t *r, size_t rsize)
{
	static const uint8_t zero[6];
	const char *serial = (const char *)r + R_SERIAL;
	uint8_t st = r[R_STATE];
	const char *bad = check_cid(r, rsize);

	if (st < UVN_DHCP_OFFERED || st > UVN_DHCP_DECLINED)
		return "record: unknown state";
	if (bad)
		return bad;
	if (st == UVN_DHCP_DECLINED ? uvn_memcmp(r + R_MAC, zero, 6) != 0
				    : !uvn_dhcp_mac_ok(r + R_MAC))
		return "record: bad MAC for its state";
	if (r[R_SLOT] >= UVN_MAX_SLOTS && r[R_SLOT] != UVN_DHCP_NO_SLOT)
		return "record: bad slot";
	if (uvn_dhcp_strnlen(serial, UVN_SERIAL_LEN) == UVN_SERIAL_LEN)
		return "record: serial not terminated";
	if (get_le32(r + R_LEFT) > UVN_DHCP_LEASE_MAX)
		return "record: time left out of range";
	/* The slot is not trusted (see uvn_dhcp.h): judged as if away. */
	return uvn_dhcp_lease_misfit(c, get_le32(r + R_IP), r + R_MAC, serial,
				     UVN_DHCP_NO_SLOT, st);
}

static const char *check_export(const struct uvn_dhcp_config *c, const uint8_t *buf, size_t len,
				uint32_t *count, size_t *rsize)
{
	const uint8_t *r, *o;
	const char *bad;
	uint32_t i, j, n;
	size_t rs;

	if (len < UVN_DHCP_EXPORT_HEADER || uvn_memcmp(buf, UVN_DHCP_EXPORT_MAGIC, 4))
		return "header: not a lease table";
	switch (get_le16(buf + 4)) {
	case 1:
		rs = UVN_DHCP_EXPORT_RECORD_V1;
		break;
	case UVN_DHCP_EXPORT_VERSION:
		rs = UVN_DHCP_EXPORT_RECORD;
		break;
	default:
		return "header: unknown version";
	}
	if (get_le16(buf + 6) != rs)
		return "header: wrong record size";
	n = get_le32(buf + 8);
	if (n > UVN_DHCP_LEASES)
		return "header: more records than the table holds";
	if (len != UVN_DHCP_EXPORT_HEADER + (size_t)n * rs)
		return "header: length does not match the record count";
	if (get_le32(buf + 12) != fnv1a32(buf + UVN_DHCP_EXPORT_HEADER, len - UVN_DHCP_EXPORT_HEADER))
		return "header: checksum mismatch";
	for (i = 0; i < n; i++) {
		r = buf + UVN_DHCP_EXPORT_HEADER + (size_t)i * rs;
		bad = check_record(c, r, rs);
		if (bad)
			return bad;
		for (j = 0; j < i; j++) {
			o = buf + UVN_DHCP_EXPORT_HEADER + (size_t)j * rs;
			if (get_le32(o + R_IP) == get_le32(r + R_IP))
				return "record: duplicate address";
			if (same_mac(o, r, rs))
				return "record: duplicate MAC";
		}
	}
	*count = n;
	*rsize = rs;
	return NULL;
}

int uvn_dhcp_import(struct uvn_dhcp_server *s, const uint8_t *buf, size_t len, uint32_t now,
		    const char **why)
{
	const char *bad;
	uint32_t i, n = 0;
	size_t rs = 0;

	bad = buf ? check_export(&s->cfg, buf, len, &n, &rs) : "header: no buffer";
	if (bad) {
		if (why)
			*why = bad;
		return -UVN_EINVAL;
	}
	for (i = 0; i < UVN_DHCP_LEASES; i++)
		uvn_dhcp_clear(&s->leases[i], 0);
	for (i = 0; i < n; i++) {
		const uint8_t *r = buf + UVN_DHCP_EXPORT_HEADER + (size_t)i * rs;
		struct uvn_dhcp_lease *l = &s->leases[i];

		l->ip = get_le32(r + R_IP);
		l->state = r[R_STATE];
		l->expires = l->state == UVN_DHCP_AVAILABLE ? now : now + get_le32(r + R_LEFT);
		uvn_memcpy(l->mac, r + R_MAC, 6);
		uvn_memcpy(l->serial, r + R_SERIAL, UVN_SERIAL_LEN);
		l->cid_len = rec_cid_len(r, rs);
		if (l->cid_len)
			uvn_memcpy(l->cid, r + R_CID, UVN_DHCP_CID_KEY);
		/* No slot is attached yet after a reload; see uvn_dhcp.h. */
		l->slot = UVN_DHCP_NO_SLOT;
	}
	return 0;
}
