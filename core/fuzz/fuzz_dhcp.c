// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libFuzzer harness for the DHCP server. The first input byte picks a mode:
 *   'F' slot frame...   one raw frame from a slot (slot % 33, 32 = the host)
 *   'I' buffer...       an import, as is and with its checksum made valid
 *   'S' program...      a stateful sequence of operations (below)
 *   anything else       the whole input as a raw frame, from slot 0 and the host
 * A program is a list of operations, each an op byte and an arg byte, then:
 *   op % 6 == 0  frame: u16 length (LE) and that many bytes, from slot arg % 33
 *   op % 6 == 1  uvn_dhcp_slot_gone(arg % 40)
 *   op % 6 == 2  the clock moves arg * 3 seconds
 *   op % 6 == 3  a well-formed message from 4 bytes (see synth) from slot arg % 33
 *   op % 6 == 4  the same, with a reply buffer of 3 * (4th byte) bytes
 *   op % 6 == 5  reconfigure with a pool of 1 + arg % 12 addresses
 * The serial of the slot is serials[arg >> 6].
 * After every step the lease table's invariants are checked, and a frame from
 * one slot must leave the leases in use on other slots byte for byte alone.
 * Seeds (core/fuzz/seeds/fuzz_dhcp/) come from build/core-test/test_dhcp
 * --write-seeds DIR.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uvn_dhcp.h"
#include "../test/dhcp_frames.h"

#define NET(d)		UVN_DHCP_ADDR(100, 127, 254, d)
#define HOST_IP		NET(1)

static struct uvn_dhcp_server srv, other;
static struct uvn_dhcp_lease snapshot[UVN_DHCP_LEASES];
static uint8_t reply[UVN_DHCP_REPLY_MAX];
static uint8_t buf[DF_MAX];
static uint8_t exported[UVN_DHCP_EXPORT_MAX], again[UVN_DHCP_EXPORT_MAX];
static uint32_t now;
static uint32_t last_yiaddr;	/* from the latest reply, so programs can REQUEST it */
static const uint8_t *sent_cid;	/* the client id of a synthesised message, else NULL */
static size_t sent_cid_len;

static const char *const serials[4] = { NULL, "", "S1", "S2" };

static void fail(const char *what)
{
	fprintf(stderr, "invariant broken: %s\n", what);
	abort();
}

static void setup(void)
{
	struct uvn_dhcp_config c;
	struct uvn_dhcp_reservation *r = c.reservations;
	static const uint8_t mac[6] = { 0x02, 0xde, 0xad, 0, 0, 5 };

	uvn_dhcp_config_default(&c);
	c.flags = UVN_DHCP_ENABLED | UVN_DHCP_RAPID_COMMIT;
	memcpy(c.server_mac, (uint8_t[]){ 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0x01 }, 6);
	c.pool_end = NET(9);		/* eight addresses: exhaustion is reachable */
	c.per_slot_cap = 2;
	c.decline_seconds = 30;
	c.lease_seconds = 120;
	c.nr_dns = 2;
	c.dns[0] = UVN_DHCP_ADDR(9, 9, 9, 9);
	c.dns[1] = NET(1);
	strcpy(c.domain, "usb.example");
	c.mtu = 1500;
	c.nr_reservations = 3;
	r[0].kind = UVN_DHCP_RES_MAC;
	memcpy(r[0].mac, mac, 6);
	r[0].ip = NET(100);
	r[1].kind = UVN_DHCP_RES_SERIAL;
	strcpy(r[1].serial, "S1");
	r[1].ip = NET(3);
	r[2].kind = UVN_DHCP_RES_SLOT;
	r[2].slot = 7;
	r[2].ip = NET(101);
	if (uvn_dhcp_init(&srv, &c, NULL) || uvn_dhcp_init(&other, &c, NULL))
		fail("fuzz config rejected");
	now = 1000;
	last_yiaddr = 0;
	sent_cid = NULL;
}

static bool reserved(uint32_t ip);

static bool allowed_ip(uint32_t ip)
{
	return (ip >= srv.cfg.pool_start && ip <= srv.cfg.pool_end) || reserved(ip);
}

static bool reserved(uint32_t ip)
{
	uint32_t i;

	for (i = 0; i < srv.cfg.nr_reservations; i++)
		if (srv.cfg.reservations[i].ip == ip)
			return true;
	return false;
}

static void check_table(void)
{
	unsigned int i, j, k, live[UVN_DHCP_LEASES], nr_live = 0, per_slot[UVN_MAX_SLOTS] = { 0 };

	for (i = 0; i < UVN_DHCP_LEASES; i++) {
		const struct uvn_dhcp_lease *l = &srv.leases[i];
		enum uvn_dhcp_lease_state st = uvn_dhcp_lease_state(l, now);
		bool active = st == UVN_DHCP_OFFERED || st == UVN_DHCP_BOUND;

		if (st == UVN_DHCP_FREE)
			continue;
		if (!allowed_ip(l->ip))
			fail("lease outside the pool and not reserved");
		if (l->slot >= UVN_MAX_SLOTS && l->slot != UVN_DHCP_NO_SLOT)
			fail("lease slot out of range");
		for (k = 0; k < nr_live; k++) {
			const struct uvn_dhcp_lease *o = &srv.leases[live[k]];

			if (o->ip == l->ip)
				fail("address in two entries");
			if (st == UVN_DHCP_DECLINED || uvn_dhcp_lease_state(o, now) == UVN_DHCP_DECLINED ||
			    o->cid_len != l->cid_len)
				continue;
			if (!l->cid_len && !memcmp(o->mac, l->mac, 6))
				fail("MAC without a client id in two entries");
			/* Clones of one image share an id, one entry per slot
			 * (any number tied to none: unplugged or imported). */
			if (l->cid_len && !memcmp(o->cid, l->cid, sizeof(l->cid)) &&
			    l->slot == o->slot && l->slot != UVN_DHCP_NO_SLOT)
				fail("client id in two entries on one slot");
		}
		live[nr_live++] = i;
		if (active && l->slot < UVN_MAX_SLOTS && !reserved(l->ip) &&
		    ++per_slot[l->slot] > srv.cfg.per_slot_cap)
			fail("per-slot cap exceeded");
		if (!active)
			continue;
		for (j = 0; j < srv.cfg.nr_reservations; j++) {
			const struct uvn_dhcp_reservation *r = &srv.cfg.reservations[j];

			if (r->ip != l->ip)
				continue;
			if ((r->kind == UVN_DHCP_RES_MAC && memcmp(r->mac, l->mac, 6)) ||
			    (r->kind == UVN_DHCP_RES_SERIAL && strcmp(r->serial, l->serial)) ||
			    (r->kind == UVN_DHCP_RES_SLOT && l->slot != r->slot &&
			     l->slot != UVN_DHCP_NO_SLOT))
				fail("reserved address given to another client");
		}
	}
}

/* Leases in use on slots other than this one (the host: all of them). */
static bool guarded(const struct uvn_dhcp_lease *l, uint32_t slot)
{
	enum uvn_dhcp_lease_state st = uvn_dhcp_lease_state(l, now);

	return (st == UVN_DHCP_OFFERED || st == UVN_DHCP_BOUND) && l->slot != slot &&
	       l->slot != UVN_DHCP_NO_SLOT;
}

static void handle(uint32_t slot, const char *serial, const uint8_t *frame, size_t len,
		   size_t cap)
{
	struct df_reply r;
	unsigned int i;
	int n;

	memcpy(snapshot, srv.leases, sizeof(snapshot));
	(void)uvn_dhcp_is_request(frame, len);
	n = uvn_dhcp_handle(&srv, slot, serial, frame, len, reply, cap, now);
	if (n > (int)cap)
		fail("reply longer than its buffer");
	if (n > 0) {
		if (df_parse_reply(reply, (size_t)n, &r) || r.op != 2)
			fail("reply does not parse back");
		if (r.yiaddr && r.yiaddr != HOST_IP && !allowed_ip(r.yiaddr))
			fail("offered an address outside the pool");
		if (slot == UVN_DHCP_HOST && r.yiaddr && r.yiaddr != HOST_IP)
			fail("host got a device address");
		if (r.yiaddr)
			last_yiaddr = r.yiaddr;
		if (sent_cid && r.cid_len &&
		    (r.cid_len != sent_cid_len || memcmp(r.cid, sent_cid, sent_cid_len)))
			fail("echoed another client id");
		/* RFC 2132 3.3: a mask sent with a router comes first. */
		for (i = 0; i < r.nr_order && r.order[i] != 1; i++)
			if (r.order[i] == 3 && r.has_mask)
				fail("router before the subnet mask");
	}
	for (i = 0; i < UVN_DHCP_LEASES; i++)
		if ((slot == UVN_DHCP_HOST || guarded(&snapshot[i], slot)) &&
		    memcmp(&snapshot[i], &srv.leases[i], sizeof(snapshot[i])))
			fail("a frame touched another slot's lease");
}

static void fix_checksum(uint8_t *p, size_t len)
{
	uint32_t h = 2166136261U;
	size_t i;

	for (i = 16; i < len; i++)
		h = (h ^ p[i]) * 16777619U;
	p[12] = (uint8_t)h, p[13] = (uint8_t)(h >> 8);
	p[14] = (uint8_t)(h >> 16), p[15] = (uint8_t)(h >> 24);
}

static void import(const uint8_t *data, size_t size)
{
	static uint8_t copy[UVN_DHCP_EXPORT_MAX];
	int pass;

	for (pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			if (size < 16 || size > sizeof(copy))
				return;
			memcpy(copy, data, size);
			fix_checksum(copy, size);
			data = copy;
		}
		memcpy(snapshot, srv.leases, sizeof(snapshot));
		if (uvn_dhcp_import(&srv, data, size, now, NULL)) {
			if (memcmp(snapshot, srv.leases, sizeof(snapshot)))
				fail("failed import changed the table");
		} else {
			check_table();
		}
	}
}

/*
 * A well-formed message from 4 fuzz bytes, to reach deep states:
 * [0] type 1 + b % 8, 8 adds Rapid Commit (option 80), 0x10 splits the client
 * id in two instances (RFC 3396), [1] MAC 02:de:ad:00:00:(b % 16) and, from b >> 4, a
 * client id: none, 01+MAC, one of four short ones shared between MACs (sent
 * from two slots: clones), or a long one (hashed) of four, [2] bits: 1 option 50,
 * 2 ciaddr, 4 ciaddr near the reserved .100, 8|16 server id (none, ours,
 * another), 0x20 broadcast flag, 0x40 unicast to the server, 0x80 the
 * address is the last one answered, else [3] picks it (.0 to .11).
 */
static size_t synth(const uint8_t *p, struct df_req *q)
{
	static const uint32_t servers[4] = { 0, HOST_IP, NET(1) + 0x100, 0 };
	static uint8_t cid[100], extra[2 + sizeof(cid) + 2];
	uint32_t ip = p[2] & 0x80 ? last_yiaddr : NET(p[3] % 12);
	size_t n = 0;

	memset(q, 0, sizeof(*q));
	q->type = (uint8_t)(1 + p[0] % 8);
	memcpy(q->mac, (uint8_t[]){ 0x02, 0xde, 0xad, 0, 0, (uint8_t)(p[1] % 16) }, 6);
	switch ((p[1] >> 4) & 3) {
	case 1:			/* what udhcpc sends */
		cid[0] = 1;
		memcpy(cid + 1, q->mac, 6);
		q->cid_len = 7;
		break;
	case 2:
		memcpy(cid, (uint8_t[]){ 0xff, 'i', 'd', (uint8_t)(p[1] >> 6) }, 4);
		q->cid_len = 4;
		break;
	case 3:			/* the same first 64 bytes, told apart by the hash */
		memset(cid, 'L', sizeof(cid));
		cid[99] = (uint8_t)(p[1] >> 6);
		q->cid_len = sizeof(cid);
		break;
	}
	q->cid = q->cid_len ? cid : NULL;
	sent_cid = q->cid;
	sent_cid_len = q->cid_len;
	if ((p[0] & 0x10) && q->cid_len) {
		/* the first half in df_build's instance, the rest in a second */
		extra[n++] = 61;
		extra[n++] = (uint8_t)(q->cid_len - q->cid_len / 2);
		memcpy(extra + n, cid + q->cid_len / 2, q->cid_len - q->cid_len / 2);
		n += q->cid_len - q->cid_len / 2;
		q->cid_len /= 2;
	}
	if (p[0] & 8)
		extra[n++] = 80, extra[n++] = 0;
	q->extra = n ? extra : NULL;
	q->extra_len = n;
	q->xid = p[1];
	if (p[2] & 1)
		q->requested = ip;
	if (p[2] & 2)
		q->ciaddr = ip + (p[2] & 4 ? 96 : 0);
	q->server_id = servers[(p[2] >> 3) & 3];
	q->flags = p[2] & 0x20 ? 0x8000 : 0;
	q->ip_dst = p[2] & 0x40 ? HOST_IP : 0;
	return df_build(buf, q);
}

/* Leases outside a shrunken pool go; the cap and reservations stay. */
static void reconfigure(uint32_t pool_size)
{
	struct uvn_dhcp_config c = srv.cfg;

	c.pool_end = c.pool_start + pool_size - 1;
	if (uvn_dhcp_configure(&srv, &c, NULL))
		fail("reconfigure rejected");
}

static void program(const uint8_t *d, size_t size)
{
	struct df_req q;
	size_t i = 0, len;
	uint32_t slot;
	const char *why = NULL;
	int n, m;

	while (i + 2 <= size) {
		uint8_t op = d[i], arg = d[i + 1];

		slot = arg % 33 == 32 ? UVN_DHCP_HOST : arg % 33;
		i += 2;
		switch (op % 6) {
		case 0:		/* raw frame: u16 length, bytes */
			if (i + 2 > size)
				return;
			len = (size_t)(d[i] | d[i + 1] << 8);
			i += 2;
			if (len > size - i)
				len = size - i;
			sent_cid = NULL;
			handle(slot, serials[arg >> 6], d + i, len, sizeof(reply));
			i += len;
			break;
		case 1:
			uvn_dhcp_slot_gone(&srv, arg % 40);
			break;
		case 2:
			now += (uint32_t)arg * 3;
			break;
		case 3:		/* synthesised message: 4 bytes */
		case 4:		/* the same with a reply buffer the fuzzer sizes */
			if (i + 4 > size)
				return;
			len = synth(d + i, &q);
			handle(slot, serials[arg >> 6], buf, len,
			       op % 6 == 4 ? (size_t)d[i + 3] * 3 : sizeof(reply));
			i += 4;
			break;
		case 5:
			reconfigure(1 + arg % 12);
			break;
		}
		check_table();
	}
	/* The table survives export and import into another server. */
	n = uvn_dhcp_export(&srv, exported, sizeof(exported), now);
	if (uvn_dhcp_configure(&other, &srv.cfg, NULL))
		fail("config did not copy");
	if (n < 0 || uvn_dhcp_import(&other, exported, (size_t)n, now + 5, &why)) {
		fprintf(stderr, "import: %s\n", n < 0 ? "export failed" : why);
		fail("export did not import");
	}
	m = uvn_dhcp_export(&other, again, sizeof(again), now + 5);
	if (m != n)
		fail("re-export differs in length");
	for (i = 16; i < (size_t)n; i += UVN_DHCP_EXPORT_RECORD)
		if (memcmp(again + i, exported + i, 15) ||
		    memcmp(again + i + 16, exported + i + 16, UVN_DHCP_EXPORT_RECORD - 16))
			fail("re-export differs");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	if (!size)
		return 0;
	switch (data[0]) {
	case 'F':
		if (size >= 2)
			handle(data[1] % 33 == 32 ? UVN_DHCP_HOST : data[1] % 33, "S2", data + 2,
			       size - 2, sizeof(reply));
		break;
	case 'I':
		import(data + 1, size - 1);
		break;
	case 'S':
		program(data + 1, size - 1);
		break;
	default:
		handle(0, NULL, data, size, sizeof(reply));
		handle(UVN_DHCP_HOST, NULL, data, size, sizeof(reply));
		break;
	}
	check_table();
	return 0;
}
