// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The DHCP server, driven with real frames built byte by byte and its
 * replies parsed back with checksums verified.
 *
 *   test_dhcp                      run the tests
 *   test_dhcp --write-seeds DIR    write the fuzz_dhcp seed corpus into DIR
 */
#include <stdio.h>
#include <string.h>
#include "uvn_dhcp.h"
#include "unit.h"
#include "dhcp_frames.h"

#define IP(a, b, c, d)	UVN_DHCP_ADDR(a, b, c, d)
#define NET(d)		IP(100, 127, 254, d)
#define HOST_IP		NET(1)
#define T0		1000

static struct uvn_dhcp_server srv;
static uint8_t frame[DF_MAX];
static uint8_t reply[UVN_DHCP_REPLY_MAX];
static const uint8_t host_mac[6] = { 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0x01 };
static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t rapid_opt[] = { 80, 0 };	/* RFC 4039 Rapid Commit */

static void mac_of(uint8_t mac[6], unsigned int n)
{
	mac[0] = 0x02;
	mac[1] = 0xde;
	mac[2] = 0xad;
	mac[3] = (uint8_t)(n >> 16);
	mac[4] = (uint8_t)(n >> 8);
	mac[5] = (uint8_t)n;
}

static void config(struct uvn_dhcp_config *c)
{
	uvn_dhcp_config_default(c);
	memcpy(c->server_mac, host_mac, 6);
	c->flags = UVN_DHCP_ENABLED;
}

static void setup_with(const struct uvn_dhcp_config *c)
{
	const char *why = "";

	EXPECT_EQ(uvn_dhcp_init(&srv, c, &why), 0);
}

static void setup(void)
{
	struct uvn_dhcp_config c;

	config(&c);
	setup_with(&c);
}

static struct df_req msg(uint8_t type, unsigned int macn)
{
	struct df_req q;

	memset(&q, 0, sizeof(q));
	q.type = type;
	mac_of(q.mac, macn);
	q.xid = 0x1000 + macn;
	return q;
}

/* Sends a frame; a reply is parsed into *r and checked for what every reply has. */
static int send_frame(uint32_t slot, const char *serial, const struct df_req *q,
		      struct df_reply *r, uint32_t now)
{
	size_t n = df_build(frame, q);
	int got = uvn_dhcp_handle(&srv, slot, serial, frame, n, reply, sizeof(reply), now);

	memset(r, 0, sizeof(*r));
	if (got > 0) {
		EXPECT_EQ(df_parse_reply(reply, (size_t)got, r), 0);
		EXPECT_EQ(r->op, 2);
		EXPECT_EQ(r->xid, q->xid);
		EXPECT(!memcmp(r->chaddr, q->mac, 6));
		EXPECT(!memcmp(r->eth_src, host_mac, 6));
		EXPECT_EQ(r->ip_src, HOST_IP);
		EXPECT_EQ(r->server_id, HOST_IP);
		EXPECT_EQ(r->giaddr, 0);
	}
	return got;
}

/* The DISCOVER q, then the same client's REQUEST in SELECTING; the bound address or 0. */
static uint32_t bind_as(uint32_t slot, const char *serial, struct df_req q, uint32_t now)
{
	struct df_reply r;

	if (send_frame(slot, serial, &q, &r, now) <= 0 || r.type != DF_OFFER)
		return 0;
	q.type = DF_REQUEST;
	q.requested = r.yiaddr;
	q.server_id = HOST_IP;
	if (send_frame(slot, serial, &q, &r, now) <= 0 || r.type != DF_ACK)
		return 0;
	return r.yiaddr;
}

static uint32_t bind(uint32_t slot, const char *serial, unsigned int macn, uint32_t now)
{
	return bind_as(slot, serial, msg(DF_DISCOVER, macn), now);
}

static enum uvn_dhcp_lease_state state_of(unsigned int macn, uint32_t now)
{
	uint8_t mac[6];
	const struct uvn_dhcp_lease *l;

	mac_of(mac, macn);
	l = uvn_dhcp_lease_of(&srv, mac);
	return l ? uvn_dhcp_lease_state(l, now) : UVN_DHCP_FREE;
}

/* ---- configuration --------------------------------------------------------- */

static void default_config(void)
{
	struct uvn_dhcp_config c;
	const char *why = NULL;

	uvn_dhcp_config_default(&c);
	EXPECT_EQ(uvn_dhcp_config_check(&c, &why), -UVN_EINVAL);	/* no MAC yet */
	memcpy(c.server_mac, host_mac, 6);
	EXPECT_EQ(uvn_dhcp_config_check(&c, &why), 0);
	EXPECT_EQ(c.subnet, NET(0));
	EXPECT_EQ(c.prefix_len, 24);
	EXPECT_EQ(c.host_ip, HOST_IP);
	EXPECT_EQ(c.pool_start, NET(2));
	EXPECT_EQ(c.pool_end, NET(254));
	EXPECT_EQ(c.router, HOST_IP);
	EXPECT_EQ(c.flags, UVN_DHCP_RAPID_COMMIT);	/* off until the driver turns it on */
	EXPECT(c.per_slot_cap * UVN_MAX_SLOTS < c.pool_end - c.pool_start + 1);
}

static void config_rejects_bad_settings(void)
{
	struct uvn_dhcp_config good, c;
	const char *why;

#define REJECT(edit, field)                                             \
	do {                                                            \
		c = good;                                               \
		edit;                                                   \
		why = NULL;                                             \
		EXPECT_EQ(uvn_dhcp_config_check(&c, &why), -UVN_EINVAL); \
		EXPECT(why && !strncmp(why, field, strlen(field)));     \
	} while (0)

	config(&good);
	REJECT(c.flags = 4, "flags");
	REJECT(c.server_mac[0] = 1, "server_mac");
	REJECT(c.prefix_len = 31, "prefix_len");
	REJECT(c.prefix_len = 7, "prefix_len");
	REJECT(c.subnet = NET(5), "subnet");
	REJECT(c.host_ip = IP(10, 0, 0, 1), "host_ip");
	REJECT(c.host_ip = NET(255), "host_ip");
	REJECT(c.pool_start = NET(20); c.pool_end = NET(10), "pool");
	REJECT(c.pool_end = IP(100, 127, 255, 3), "pool");
	REJECT(c.pool_start = NET(0), "pool");
	REJECT(c.host_ip = NET(100), "pool");
	REJECT(c.prefix_len = 16; c.subnet = IP(100, 127, 0, 0); c.pool_end = IP(100, 127, 255, 200),
	       "pool");
	REJECT(c.lease_seconds = 10, "lease_seconds");
	REJECT(c.decline_seconds = 0, "decline_seconds");
	REJECT(c.per_slot_cap = 0, "per_slot_cap");
	REJECT(c.router = IP(192, 168, 1, 1), "router");
	REJECT(c.nr_dns = 4, "nr_dns");
	REJECT(c.nr_dns = 1; c.dns[0] = IP(224, 0, 0, 1), "dns");
	REJECT(strcpy(c.domain, "bad domain"), "domain");
	REJECT(memset(c.domain, 'a', sizeof(c.domain)), "domain");
	REJECT(c.mtu = 100, "mtu");
	REJECT(c.nr_reservations = 33, "nr_reservations");
	REJECT(c.nr_reservations = 1; c.reservations[0].kind = 7; c.reservations[0].ip = NET(9),
	       "reservations");
	REJECT(c.nr_reservations = 1; c.reservations[0].kind = UVN_DHCP_RES_SLOT;
	       c.reservations[0].slot = 32; c.reservations[0].ip = NET(9), "reservations");
	REJECT(c.nr_reservations = 1; c.reservations[0].kind = UVN_DHCP_RES_SLOT;
	       c.reservations[0].ip = HOST_IP, "reservations");
	REJECT(c.nr_reservations = 1; c.reservations[0].kind = UVN_DHCP_RES_SLOT;
	       c.reservations[0].ip = IP(10, 1, 1, 1), "reservations");
	REJECT(c.nr_reservations = 1; c.reservations[0].kind = UVN_DHCP_RES_SERIAL;
	       c.reservations[0].ip = NET(9), "reservations");
	REJECT(c.nr_reservations = 1; c.reservations[0].kind = UVN_DHCP_RES_MAC;
	       c.reservations[0].ip = NET(9), "reservations");	/* zero MAC */
	REJECT(c.nr_reservations = 2; c.reservations[0].kind = UVN_DHCP_RES_SLOT;
	       c.reservations[0].ip = NET(9); c.reservations[1] = c.reservations[0];
	       c.reservations[1].slot = 3, "reservations");	/* same address twice */
	REJECT(c.nr_reservations = 2; c.reservations[0].kind = UVN_DHCP_RES_SLOT;
	       c.reservations[0].ip = NET(9); c.reservations[1] = c.reservations[0];
	       c.reservations[1].ip = NET(10), "reservations");	/* same slot twice */
#undef REJECT
	/* A failed init leaves the server as it was. */
	setup();
	bind(0, NULL, 1, T0);
	c = good;
	c.prefix_len = 31;
	EXPECT_EQ(uvn_dhcp_init(&srv, &c, NULL), -UVN_EINVAL);
	EXPECT_EQ(uvn_dhcp_configure(&srv, &c, NULL), -UVN_EINVAL);
	EXPECT_EQ(state_of(1, T0), UVN_DHCP_BOUND);
}

static void is_request_checks_cheaply(void)
{
	struct df_req q = msg(DF_DISCOVER, 1);
	size_t n = df_build(frame, &q);

	EXPECT(uvn_dhcp_is_request(frame, n));
	EXPECT(uvn_dhcp_is_request(frame, 14 + 20 + 8));
	EXPECT(!uvn_dhcp_is_request(frame, 14 + 20 + 3));
	EXPECT(!uvn_dhcp_is_request(NULL, 0));
	frame[14 + 20 + 3] = 68;		/* to the client port */
	EXPECT(!uvn_dhcp_is_request(frame, n));
	frame[14 + 20 + 3] = 67;
	frame[14 + 9] = 6;			/* TCP */
	EXPECT(!uvn_dhcp_is_request(frame, n));
	frame[14 + 9] = 17;
	frame[14 + 6] = 0x00, frame[14 + 7] = 0x10;	/* a later fragment */
	EXPECT(!uvn_dhcp_is_request(frame, n));
	frame[14 + 7] = 0;
	frame[12] = 0x86, frame[13] = 0xdd;	/* IPv6 */
	EXPECT(!uvn_dhcp_is_request(frame, n));
	frame[12] = 0x08, frame[13] = 0x00;
	frame[14] = 0x4f;			/* 60-byte IP header: UDP beyond the frame */
	EXPECT(!uvn_dhcp_is_request(frame, 14 + 60 + 7));
}

/* ---- exchanges ---------------------------------------------------------------- */

static void discover_offer_request_ack(void)
{
	struct df_req q = msg(DF_DISCOVER, 1);
	struct df_reply r;
	struct uvn_dhcp_config c;

	config(&c);
	c.nr_dns = 2;
	c.dns[0] = IP(9, 9, 9, 9);
	c.dns[1] = IP(1, 1, 1, 1);
	strcpy(c.domain, "usb.lan");
	c.mtu = 1400;
	setup_with(&c);

	EXPECT(send_frame(0, "SER0", &q, &r, T0) > 0);
	EXPECT_EQ(r.type, DF_OFFER);
	EXPECT_EQ(r.yiaddr, NET(2));
	EXPECT(!memcmp(r.eth_dst, q.mac, 6));	/* no broadcast flag: unicast to yiaddr */
	EXPECT_EQ(r.ip_dst, NET(2));
	EXPECT_EQ(r.lease, UVN_DHCP_DEFAULT_LEASE);
	EXPECT_EQ(r.t1, UVN_DHCP_DEFAULT_LEASE / 2);
	EXPECT_EQ(r.t2, UVN_DHCP_DEFAULT_LEASE * 7 / 8);
	EXPECT_EQ(r.mask, 0xffffff00U);
	EXPECT_EQ(r.broadcast, NET(255));
	EXPECT_EQ(r.router, HOST_IP);
	EXPECT_EQ(r.nr_dns, 2);
	EXPECT_EQ(r.dns[1], IP(1, 1, 1, 1));
	EXPECT(!strcmp(r.domain, "usb.lan"));
	EXPECT_EQ(r.mtu, 1400);
	EXPECT_EQ(state_of(1, T0), UVN_DHCP_OFFERED);
	EXPECT_EQ(srv.counters.offer, 1);

	q = msg(DF_REQUEST, 1);
	q.requested = NET(2);
	q.server_id = HOST_IP;
	q.flags = 0x8000;			/* broadcast flag */
	EXPECT(send_frame(0, "SER0", &q, &r, T0 + 1) > 0);
	EXPECT_EQ(r.type, DF_ACK);
	EXPECT_EQ(r.yiaddr, NET(2));
	EXPECT_EQ(r.flags, 0x8000);
	EXPECT(!memcmp(r.eth_dst, bcast, 6));
	EXPECT_EQ(r.ip_dst, 0xffffffffU);
	EXPECT_EQ(state_of(1, T0 + 1), UVN_DHCP_BOUND);
	EXPECT_EQ(state_of(1, T0 + 1 + UVN_DHCP_DEFAULT_LEASE), UVN_DHCP_AVAILABLE);

	/* The next client gets the next address; a DISCOVER again keeps the binding. */
	EXPECT_EQ(bind(0, "SER0", 2, T0 + 2), NET(3));
	q = msg(DF_DISCOVER, 1);
	EXPECT(send_frame(0, "SER0", &q, &r, T0 + 3) > 0);
	EXPECT_EQ(r.yiaddr, NET(2));
	EXPECT_EQ(state_of(1, T0 + 3), UVN_DHCP_BOUND);
}

static void largest_reply_fits(void)
{
	struct df_req q = msg(DF_DISCOVER, 1);
	struct df_reply r;
	struct uvn_dhcp_config c;
	int n;

	config(&c);
	c.nr_dns = 3;
	c.dns[0] = c.dns[1] = c.dns[2] = IP(9, 9, 9, 9);
	memset(c.domain, 'd', UVN_DHCP_DOMAIN_LEN - 1);
	c.mtu = 9000;
	setup_with(&c);
	n = send_frame(0, NULL, &q, &r, T0);
	EXPECT(n > 0 && n <= UVN_DHCP_REPLY_MAX);
	EXPECT_EQ(strlen(r.domain), UVN_DHCP_DOMAIN_LEN - 1);
	c.flags |= UVN_DHCP_RAPID_COMMIT;
	setup_with(&c);
	q.extra = rapid_opt;
	q.extra_len = sizeof(rapid_opt);
	n = send_frame(0, NULL, &q, &r, T0);
	EXPECT(n > 0 && n <= UVN_DHCP_REPLY_MAX && r.rapid_commit);
	q.extra = NULL;
	q.extra_len = 0;
	EXPECT_EQ(r.nr_dns, 3);
	/* Plain replies are padded to the 300-byte BOOTP minimum. */
	setup();
	EXPECT_EQ(send_frame(0, NULL, &q, &r, T0), 14 + 20 + 8 + 300);
}

/* RFC 4039: a DISCOVER with option 80 is ACKed at once when allowed. */
static void rapid_commit_acks_discover(void)
{
	static const uint8_t bad[] = { 80, 1, 0 };
	struct df_req q = msg(DF_DISCOVER, 1);
	struct uvn_dhcp_config c;
	struct df_reply r;
	unsigned int i;

	config(&c);
	c.flags |= UVN_DHCP_RAPID_COMMIT;
	c.per_slot_cap = 2;
	setup_with(&c);
	q.extra = rapid_opt;
	q.extra_len = sizeof(rapid_opt);
	EXPECT(send_frame(0, NULL, &q, &r, T0) > 0);
	EXPECT_EQ(r.type, DF_ACK);
	EXPECT(r.rapid_commit);
	EXPECT_EQ(r.yiaddr, NET(2));
	EXPECT(r.has_lease && r.has_mask && r.has_router);
	EXPECT_EQ(state_of(1, T0 + UVN_DHCP_OFFER_HOLD), UVN_DHCP_BOUND);
	EXPECT_EQ(srv.counters.ack, 1);
	EXPECT_EQ(srv.counters.offer, 0);
	EXPECT_EQ(srv.counters.rapid_commit, 1);
	/* It renews like any bound client, and gets the same address again. */
	q = msg(DF_REQUEST, 1);
	q.ciaddr = q.ip_dst = NET(2);
	EXPECT(send_frame(0, NULL, &q, &r, T0 + 10) > 0);
	EXPECT_EQ(r.type, DF_ACK);
	EXPECT(!r.rapid_commit);
	q = msg(DF_DISCOVER, 1);
	q.extra = rapid_opt;
	q.extra_len = sizeof(rapid_opt);
	EXPECT(send_frame(0, NULL, &q, &r, T0 + 20) > 0);
	EXPECT_EQ(r.yiaddr, NET(2));
	/* The per-slot cap holds: no ACK past it. */
	for (i = 2; i < 5; i++) {
		q = msg(DF_DISCOVER, i);
		q.extra = rapid_opt;
		q.extra_len = sizeof(rapid_opt);
		EXPECT_EQ(send_frame(0, NULL, &q, &r, T0) > 0, i < 3);
	}
	EXPECT_EQ(srv.counters.slot_cap, 2);
	/* The host's own client: the host address, at once. */
	q = msg(DF_DISCOVER, 9);
	q.extra = rapid_opt;
	q.extra_len = sizeof(rapid_opt);
	EXPECT(send_frame(UVN_DHCP_HOST, NULL, &q, &r, T0) > 0);
	EXPECT(r.type == DF_ACK && r.rapid_commit && r.yiaddr == HOST_IP);
	/* Option 80 has no value: one with a length is malformed. */
	q = msg(DF_DISCOVER, 7);
	q.extra = bad;
	q.extra_len = sizeof(bad);
	EXPECT_EQ(send_frame(1, NULL, &q, &r, T0), -UVN_EINVAL);
	EXPECT_EQ(srv.counters.bad_option, 1);
	/* Not allowed: the usual OFFER, without option 80. */
	config(&c);
	setup_with(&c);
	q = msg(DF_DISCOVER, 1);
	q.extra = rapid_opt;
	q.extra_len = sizeof(rapid_opt);
	EXPECT(send_frame(0, NULL, &q, &r, T0) > 0);
	EXPECT(r.type == DF_OFFER && !r.rapid_commit);
	EXPECT_EQ(state_of(1, T0), UVN_DHCP_OFFERED);
	EXPECT_EQ(srv.counters.rapid_commit, 0);
}

static void offer_expires_unless_requested(void)
{
	struct df_req q = msg(DF_DISCOVER, 1);
	struct df_reply r;

	setup();
	EXPECT(send_frame(0, NULL, &q, &r, T0) > 0);
	EXPECT_EQ(state_of(1, T0 + UVN_DHCP_OFFER_HOLD - 1), UVN_DHCP_OFFERED);
	EXPECT_EQ(state_of(1, T0 + UVN_DHCP_OFFER_HOLD), UVN_DHCP_AVAILABLE);
	/* The client picked another server: the offer is withdrawn at once. */
	q = msg(DF_DISCOVER, 2);
	EXPECT(send_frame(0, NULL, &q, &r, T0) > 0);
	q = msg(DF_REQUEST, 2);
	q.requested = r.yiaddr;
	q.server_id = IP(192, 168, 0, 1);
	EXPECT_EQ(send_frame(0, NULL, &q, &r, T0 + 1), 0);
	EXPECT_EQ(state_of(2, T0 + 1), UVN_DHCP_AVAILABLE);
	EXPECT_EQ(srv.counters.other_server, 1);
}

static void init_reboot(void)
{
	struct df_req q;
	struct df_reply r;
	uint32_t ip;

	setup();
	ip = bind(1, NULL, 1, T0);
	EXPECT_EQ(ip, NET(2));
	/* INIT-REBOOT: requested ip, no server id, ciaddr 0. */
	q = msg(DF_REQUEST, 1);
	q.requested = ip;
	EXPECT(send_frame(1, NULL, &q, &r, T0 + 10) > 0);
	EXPECT_EQ(r.type, DF_ACK);
	EXPECT_EQ(r.yiaddr, ip);
	EXPECT_EQ(r.ciaddr, 0);
	/* From another network: NAK, broadcast. */
	q.requested = IP(192, 168, 1, 50);
	EXPECT(send_frame(1, NULL, &q, &r, T0 + 10) > 0);
	EXPECT_EQ(r.type, DF_NAK);
	EXPECT_EQ(r.yiaddr, 0);
	EXPECT(!r.has_lease && !r.has_mask);
	EXPECT(!strcmp(r.message, "requested address not on this network"));
	EXPECT_EQ(r.nr_order, 3);			/* type, server id, message */
	EXPECT(!memcmp(r.eth_dst, bcast, 6));
	EXPECT_EQ(r.ip_dst, 0xffffffffU);
	/* Another client's address: NAK, and that lease is untouched. */
	q = msg(DF_REQUEST, 2);
	q.requested = ip;
	EXPECT(send_frame(1, NULL, &q, &r, T0 + 10) > 0);
	EXPECT_EQ(r.type, DF_NAK);
	EXPECT(!strcmp(r.message, "requested address in use by another client"));
	EXPECT_EQ(state_of(1, T0 + 10), UVN_DHCP_BOUND);
	EXPECT_EQ(srv.counters.nak, 2);
	/* No record at all (e.g. after a reload), but the address is free: ours to give. */
	q = msg(DF_REQUEST, 3);
	q.requested = NET(77);
	EXPECT(send_frame(1, NULL, &q, &r, T0 + 10) > 0);
	EXPECT_EQ(r.type, DF_ACK);
	EXPECT_EQ(r.yiaddr, NET(77));
	/* The host's address or the broadcast address are never given out. */
	q = msg(DF_REQUEST, 4);
	q.requested = HOST_IP;
	EXPECT(send_frame(1, NULL, &q, &r, T0 + 10) > 0);
	EXPECT_EQ(r.type, DF_NAK);
	EXPECT(!strcmp(r.message, "requested address is the server's"));
	q.requested = NET(255);
	EXPECT(send_frame(1, NULL, &q, &r, T0 + 10) > 0);
	EXPECT_EQ(r.type, DF_NAK);
	EXPECT(!strcmp(r.message, "requested address not on this network"));
}

static void renewing_and_rebinding(void)
{
	struct df_req q;
	struct df_reply r;
	uint32_t ip;

	setup();
	ip = bind(2, NULL, 1, T0);
	/* RENEWING: unicast to the server, ciaddr set, no options 50/54. */
	q = msg(DF_REQUEST, 1);
	q.ciaddr = ip;
	q.ip_dst = HOST_IP;
	EXPECT(send_frame(2, NULL, &q, &r, T0 + 1800) > 0);
	EXPECT_EQ(r.type, DF_ACK);
	EXPECT_EQ(r.yiaddr, ip);
	EXPECT_EQ(r.ciaddr, ip);
	EXPECT_EQ(r.ip_dst, ip);			/* unicast to ciaddr */
	EXPECT(!memcmp(r.eth_dst, q.mac, 6));
	EXPECT_EQ(state_of(1, T0 + 1800 + UVN_DHCP_DEFAULT_LEASE - 1), UVN_DHCP_BOUND);
	/* REBINDING: the same, broadcast. */
	q.ip_dst = 0;
	EXPECT(send_frame(2, NULL, &q, &r, T0 + 3000) > 0);
	EXPECT_EQ(r.type, DF_ACK);
	EXPECT_EQ(r.ip_dst, ip);
	/* Renewing an address it does not hold (another client's): NAK. */
	EXPECT_EQ(bind(2, NULL, 2, T0 + 3000), NET(3));
	q.ciaddr = NET(3);
	EXPECT(send_frame(2, NULL, &q, &r, T0 + 3001) > 0);
	EXPECT_EQ(r.type, DF_NAK);
}

static void release_frees(void)
{
	struct uvn_dhcp_config c;
	struct df_req q;
	struct df_reply r;

	config(&c);
	c.pool_end = c.pool_start;		/* one address */
	setup_with(&c);
	EXPECT_EQ(bind(0, NULL, 1, T0), NET(2));
	EXPECT_EQ(bind(1, NULL, 2, T0), 0);	/* exhausted */
	q = msg(DF_RELEASE, 1);
	q.ciaddr = NET(2);
	q.server_id = HOST_IP;
	q.ip_dst = HOST_IP;
	EXPECT_EQ(send_frame(0, NULL, &q, &r, T0 + 5), 0);
	EXPECT_EQ(state_of(1, T0 + 5), UVN_DHCP_AVAILABLE);
	EXPECT_EQ(srv.counters.release, 1);
	/* Released but remembered: the same client gets it back ... */
	EXPECT_EQ(bind(0, NULL, 1, T0 + 6), NET(2));
	/* ... and once released again, another client may have it. */
	EXPECT_EQ(send_frame(0, NULL, &q, &r, T0 + 7), 0);
	EXPECT_EQ(bind(1, NULL, 2, T0 + 8), NET(2));
	EXPECT_EQ(state_of(1, T0 + 8), UVN_DHCP_FREE);
	/* Releasing what it does not hold changes nothing. */
	q = msg(DF_RELEASE, 3);
	q.ciaddr = NET(2);
	q.server_id = HOST_IP;
	EXPECT_EQ(send_frame(1, NULL, &q, &r, T0 + 9), 0);
	EXPECT_EQ(state_of(2, T0 + 9), UVN_DHCP_BOUND);
	EXPECT_EQ(srv.counters.ignored, 1);
}

static void decline_quarantines(void)
{
	struct uvn_dhcp_config c;
	struct df_req q;
	struct df_reply r;

	config(&c);
	c.pool_end = NET(3);			/* two addresses */
	c.decline_seconds = 300;
	setup_with(&c);
	EXPECT_EQ(bind(0, NULL, 1, T0), NET(2));
	q = msg(DF_DECLINE, 1);
	q.requested = NET(2);
	q.server_id = HOST_IP;
	EXPECT_EQ(send_frame(0, NULL, &q, &r, T0 + 1), 0);
	EXPECT_EQ(srv.counters.decline, 1);
	EXPECT_EQ(state_of(1, T0 + 1), UVN_DHCP_FREE);	/* the client is forgotten */
	/* Not offered while quarantined: the client moves on to .3, then nothing is left. */
	EXPECT_EQ(bind(0, NULL, 1, T0 + 2), NET(3));
	EXPECT_EQ(bind(1, NULL, 2, T0 + 2), 0);
	EXPECT_EQ(srv.counters.exhausted, 1);
	q = msg(DF_REQUEST, 2);
	q.requested = NET(2);
	EXPECT(send_frame(1, NULL, &q, &r, T0 + 3) > 0);
	EXPECT_EQ(r.type, DF_NAK);
	/* After the quarantine, it is offered again. */
	EXPECT_EQ(bind(1, NULL, 2, T0 + 1 + 300), NET(2));
}

static void declines_count_against_the_slot(void)
{
	struct uvn_dhcp_config c;
	struct df_req q;
	struct df_reply r;
	unsigned int i;

	config(&c);
	c.per_slot_cap = 3;
	c.decline_seconds = 300;
	setup_with(&c);
	/* One device declining every address it is given parks at most its cap. */
	for (i = 0; i < 3; i++) {
		q = msg(DF_DECLINE, 1);
		q.requested = bind(0, NULL, 1, T0 + i);
		q.server_id = HOST_IP;
		EXPECT(q.requested != 0);
		EXPECT_EQ(send_frame(0, NULL, &q, &r, T0 + i), 0);
	}
	EXPECT_EQ(srv.counters.decline, 3);
	EXPECT_EQ(bind(0, NULL, 1, T0 + 5), 0);
	EXPECT_EQ(srv.counters.slot_cap, 1);
	/* Another slot is not held back. */
	EXPECT_EQ(bind(1, NULL, 2, T0 + 5), NET(5));
	/* Once the quarantine ends, the slot may have addresses again. */
	EXPECT(bind(0, NULL, 1, T0 + 2 + 300) != 0);
}

/* RFC 2131 table 5: RELEASE and DECLINE MUST carry the server id. */
static void release_decline_need_server_id(void)
{
	struct df_req q;
	struct df_reply r;

	setup();
	EXPECT_EQ(bind(0, NULL, 1, T0), NET(2));
	/* Without one: malformed, dropped before anything is looked at. */
	q = msg(DF_RELEASE, 1);
	q.ciaddr = NET(2);
	EXPECT_EQ(send_frame(0, NULL, &q, &r, T0 + 1), -UVN_EINVAL);
	q = msg(DF_DECLINE, 1);
	q.requested = NET(2);
	EXPECT_EQ(send_frame(0, NULL, &q, &r, T0 + 1), -UVN_EINVAL);
	q.ip_dst = HOST_IP;
	EXPECT_EQ(send_frame(UVN_DHCP_HOST, NULL, &q, &r, T0 + 1), -UVN_EINVAL);
	EXPECT_EQ(srv.counters.bad_option, 3);
	EXPECT_EQ(srv.counters.release + srv.counters.decline, 0);
	EXPECT_EQ(state_of(1, T0 + 1), UVN_DHCP_BOUND);
	/* Another server's: not ours to act on. */
	q.server_id = IP(100, 127, 254, 200);
	EXPECT_EQ(send_frame(0, NULL, &q, &r, T0 + 2), 0);
	q = msg(DF_RELEASE, 1);
	q.ciaddr = NET(2);
	q.server_id = IP(10, 0, 0, 1);
	EXPECT_EQ(send_frame(0, NULL, &q, &r, T0 + 2), 0);
	EXPECT_EQ(srv.counters.other_server, 2);
	EXPECT_EQ(state_of(1, T0 + 2), UVN_DHCP_BOUND);
	/* Ours: released. */
	q.server_id = HOST_IP;
	EXPECT_EQ(send_frame(0, NULL, &q, &r, T0 + 3), 0);
	EXPECT_EQ(state_of(1, T0 + 3), UVN_DHCP_AVAILABLE);
	EXPECT_EQ(srv.counters.release, 2);
}

static void request_cannot_take_an_unplugged_devices_lease(void)
{
	struct df_req q;
	struct df_reply r;

	setup();
	EXPECT_EQ(bind(3, NULL, 1, T0), NET(2));
	EXPECT_EQ(uvn_dhcp_slot_gone(&srv, 3), 1);
	/* Another device asks for it (INIT-REBOOT) while its lease runs: NAK. */
	q = msg(DF_REQUEST, 2);
	q.requested = NET(2);
	EXPECT(send_frame(4, NULL, &q, &r, T0 + 10) > 0);
	EXPECT_EQ(r.type, DF_NAK);
	EXPECT(!strcmp(r.message, "requested address in use by another client"));
	/* The device it belongs to comes back and has it. */
	EXPECT_EQ(bind(5, NULL, 1, T0 + 20), NET(2));
	/* Gone again and past its lease's end: anyone may have it. */
	EXPECT_EQ(uvn_dhcp_slot_gone(&srv, 5), 1);
	EXPECT(send_frame(4, NULL, &q, &r, T0 + 20 + UVN_DHCP_DEFAULT_LEASE) > 0);
	EXPECT_EQ(r.type, DF_ACK);
	EXPECT_EQ(r.yiaddr, NET(2));
}

static void inform_gets_options_only(void)
{
	struct df_req q = msg(DF_INFORM, 1);
	struct df_reply r;

	setup();
	q.ciaddr = NET(200);
	q.ip_dst = HOST_IP;
	EXPECT(send_frame(4, NULL, &q, &r, T0) > 0);
	EXPECT_EQ(r.type, DF_ACK);
	EXPECT_EQ(r.yiaddr, 0);
	EXPECT_EQ(r.ciaddr, NET(200));
	EXPECT(!r.has_lease);
	EXPECT(r.has_mask && r.has_router);
	EXPECT_EQ(r.ip_dst, NET(200));
	EXPECT(!memcmp(r.eth_dst, q.mac, 6));
	EXPECT_EQ(state_of(1, T0), UVN_DHCP_FREE);
	EXPECT_EQ(srv.counters.inform, 1);
}

static void host_gets_host_address(void)
{
	struct df_req q = msg(DF_DISCOVER, 9);
	struct df_reply r;
	struct uvn_dhcp_config c;

	config(&c);
	c.nr_dns = 1;
	c.dns[0] = IP(9, 9, 9, 9);
	setup_with(&c);
	memcpy(q.mac, host_mac, 6);
	EXPECT(send_frame(UVN_DHCP_HOST, NULL, &q, &r, T0) > 0);
	EXPECT_EQ(r.type, DF_OFFER);
	EXPECT_EQ(r.yiaddr, HOST_IP);
	EXPECT(r.has_mask && r.has_lease);
	EXPECT(!r.has_router);		/* never a default route pointing at itself */
	EXPECT_EQ(r.nr_dns, 0);
	q.type = DF_REQUEST;
	q.requested = HOST_IP;
	q.server_id = HOST_IP;
	EXPECT(send_frame(UVN_DHCP_HOST, NULL, &q, &r, T0) > 0);
	EXPECT_EQ(r.type, DF_ACK);
	EXPECT_EQ(r.yiaddr, HOST_IP);
	q.requested = NET(2);
	q.server_id = 0;
	EXPECT(send_frame(UVN_DHCP_HOST, NULL, &q, &r, T0) > 0);
	EXPECT_EQ(r.type, DF_NAK);
	/* The host holds no lease, and devices never get its address. */
	EXPECT(uvn_dhcp_lease_of(&srv, host_mac) == NULL);
	EXPECT_EQ(bind(0, NULL, 1, T0), NET(2));
	/* An out-of-range slot is refused. */
	EXPECT_EQ(uvn_dhcp_handle(&srv, 33, NULL, frame, 300, reply, sizeof(reply), T0), -UVN_EINVAL);
}

/* ---- device life cycle ---------------------------------------------------------- */

static void replug_keeps_address(void)
{
	setup();
	EXPECT_EQ(bind(3, "PHONE", 1, T0), NET(2));
	EXPECT_EQ(bind(4, "STICK", 2, T0), NET(3));
	EXPECT_EQ(uvn_dhcp_slot_gone(&srv, 3), 1);
	EXPECT_EQ(state_of(1, T0 + 1), UVN_DHCP_AVAILABLE);
	EXPECT_EQ(state_of(2, T0 + 1), UVN_DHCP_BOUND);	/* other slot untouched */
	/* Newcomers get unused addresses, not the remembered one. */
	EXPECT_EQ(bind(3, "OTHER", 3, T0 + 2), NET(4));
	/* Back on another slot: the same address. */
	EXPECT_EQ(bind(5, "PHONE", 1, T0 + 3), NET(2));
	/* Back with a new MAC (random per boot), same serial: the same address too. */
	uvn_dhcp_slot_gone(&srv, 5);
	EXPECT_EQ(bind(6, "PHONE", 50, T0 + 4), NET(2));
	/* Expired but not reused: still its own. */
	EXPECT_EQ(state_of(2, T0 + 10 * UVN_DHCP_DEFAULT_LEASE), UVN_DHCP_AVAILABLE);
	EXPECT_EQ(bind(4, "STICK", 2, T0 + 10 * UVN_DHCP_DEFAULT_LEASE), NET(3));
}

static void reservations_honoured(void)
{
	struct uvn_dhcp_config c;
	struct uvn_dhcp_reservation *res;
	struct df_req q;
	struct df_reply r;

	config(&c);
	c.pool_end = NET(100);
	c.nr_reservations = 3;
	res = c.reservations;
	res[0].kind = UVN_DHCP_RES_MAC;
	mac_of(res[0].mac, 7);
	res[0].ip = NET(200);			/* outside the pool */
	res[1].kind = UVN_DHCP_RES_SERIAL;
	strcpy(res[1].serial, "CAMERA-1");
	res[1].ip = NET(2);			/* inside the pool */
	res[2].kind = UVN_DHCP_RES_SLOT;
	res[2].slot = 9;
	res[2].ip = NET(201);
	setup_with(&c);

	EXPECT_EQ(bind(0, NULL, 1, T0), NET(3));	/* .2 is reserved */
	EXPECT_EQ(bind(1, NULL, 7, T0), NET(200));
	EXPECT_EQ(bind(2, "CAMERA-1", 8, T0), NET(2));
	EXPECT_EQ(bind(9, "X", 10, T0), NET(201));
	/* The slot reservation goes to the first client only. */
	EXPECT_EQ(bind(9, "X", 11, T0), NET(4));
	/* Nobody else can ask for a reserved address. */
	q = msg(DF_REQUEST, 12);
	q.requested = NET(200);
	EXPECT(send_frame(0, NULL, &q, &r, T0) > 0);
	EXPECT_EQ(r.type, DF_NAK);
	/* A reserved client asking for another address is sent to its own. */
	q = msg(DF_REQUEST, 7);
	q.requested = NET(50);
	EXPECT(send_frame(1, NULL, &q, &r, T0) > 0);
	EXPECT_EQ(r.type, DF_NAK);
	/* Reserved leases survive their device's unplug; the device gets it back. */
	EXPECT_EQ(uvn_dhcp_slot_gone(&srv, 2), 0);
	EXPECT_EQ(state_of(8, T0 + 1), UVN_DHCP_BOUND);
	EXPECT_EQ(bind(4, "CAMERA-1", 8, T0 + 2), NET(2));
	/* Reservations do not count against the slot's cap. */
	EXPECT_EQ(uvn_dhcp_slot_gone(&srv, 9), 1);
	/* Another device on the slot, its holder unplugged: the slot's address
	 * is the new device's; the old one, back elsewhere, takes the pool's. */
	EXPECT_EQ(bind(9, "Y", 13, T0 + 3), NET(201));
	EXPECT_EQ(state_of(10, T0 + 3), UVN_DHCP_FREE);
	EXPECT_EQ(bind(5, NULL, 10, T0 + 4), NET(5));
}

static void per_slot_cap(void)
{
	unsigned int i;
	struct uvn_dhcp_config c;

	config(&c);
	c.per_slot_cap = 3;
	setup_with(&c);
	for (i = 0; i < 3; i++)
		EXPECT(bind(5, NULL, 100 + i, T0) != 0);
	/* A device asking with ever new MACs is capped ... */
	for (i = 3; i < 50; i++)
		EXPECT_EQ(bind(5, NULL, 100 + i, T0), 0);
	EXPECT_EQ(srv.counters.slot_cap, 47);
	EXPECT_EQ(srv.counters.exhausted, 0);
	/* ... existing clients keep renewing, other slots are unaffected. */
	EXPECT_EQ(bind(5, NULL, 100, T0 + 1), NET(2));
	EXPECT_EQ(bind(6, NULL, 200, T0 + 1), NET(5));
	/* Offers count too, until they expire. */
	setup_with(&c);
	{
		struct df_req q;
		struct df_reply r;

		for (i = 0; i < 10; i++) {
			q = msg(DF_DISCOVER, 300 + i);
			EXPECT_EQ(send_frame(7, NULL, &q, &r, T0) > 0, i < 3);
		}
		q = msg(DF_DISCOVER, 400);
		EXPECT(send_frame(7, NULL, &q, &r, T0 + UVN_DHCP_OFFER_HOLD) > 0);
	}
}

static void exhaustion_answers_nothing(void)
{
	struct uvn_dhcp_config c;
	struct df_req q;
	struct df_reply r;
	unsigned int i;

	config(&c);
	c.pool_end = NET(4);			/* three addresses */
	setup_with(&c);
	for (i = 0; i < 3; i++)
		EXPECT_EQ(bind(i, NULL, i, T0), NET(2 + i));
	q = msg(DF_DISCOVER, 9);
	EXPECT_EQ(send_frame(3, NULL, &q, &r, T0), 0);
	EXPECT_EQ(srv.counters.exhausted, 1);
	EXPECT_EQ(srv.counters.offer, 3);
	/* A gone device's address is reused when nothing else is left. */
	uvn_dhcp_slot_gone(&srv, 1);
	EXPECT_EQ(bind(3, NULL, 9, T0 + 1), NET(3));
	EXPECT_EQ(state_of(1, T0 + 1), UVN_DHCP_FREE);
}

static void slot_gone_releases_only_that_slot(void)
{
	unsigned int i;

	setup();
	for (i = 0; i < 4; i++)
		EXPECT(bind(i % 2, NULL, i, T0) != 0);
	EXPECT_EQ(uvn_dhcp_slot_gone(&srv, 0), 2);
	EXPECT_EQ(uvn_dhcp_slot_gone(&srv, 0), 0);
	EXPECT_EQ(uvn_dhcp_slot_gone(&srv, 99), 0);
	for (i = 0; i < 4; i++)
		EXPECT_EQ(state_of(i, T0), i % 2 ? UVN_DHCP_BOUND : UVN_DHCP_AVAILABLE);
}

static void other_slot_cannot_touch_lease(void)
{
	struct df_req q;
	struct df_reply r;
	uint32_t ip;

	setup();
	ip = bind(1, "A", 1, T0);
	q = msg(DF_RELEASE, 1);
	q.ciaddr = ip;
	q.server_id = HOST_IP;
	EXPECT_EQ(send_frame(2, "B", &q, &r, T0), 0);
	q.type = DF_DECLINE;
	q.requested = ip;
	EXPECT_EQ(send_frame(2, "B", &q, &r, T0), 0);
	q = msg(DF_REQUEST, 1);
	q.requested = ip;
	EXPECT_EQ(send_frame(2, "B", &q, &r, T0), 0);
	q.type = DF_DISCOVER;
	EXPECT_EQ(send_frame(2, "B", &q, &r, T0), 0);
	EXPECT_EQ(srv.counters.foreign, 4);
	EXPECT_EQ(state_of(1, T0), UVN_DHCP_BOUND);
	EXPECT_EQ(uvn_dhcp_lease_of(&srv, q.mac)->slot, 1);
}

static void disabled_and_small_buffer(void)
{
	struct uvn_dhcp_config c;
	struct df_req q = msg(DF_DISCOVER, 1);
	size_t n = df_build(frame, &q);
	struct uvn_dhcp_lease before[UVN_DHCP_LEASES];

	setup();
	memcpy(before, srv.leases, sizeof(before));
	EXPECT_EQ(uvn_dhcp_handle(&srv, 0, NULL, frame, n, reply, 341, T0), -UVN_ENOSPC);
	EXPECT_EQ(uvn_dhcp_handle(&srv, 0, NULL, frame, n, NULL, 0, T0), -UVN_ENOSPC);
	EXPECT_EQ(srv.counters.reply_too_small, 2);
	EXPECT(!memcmp(before, srv.leases, sizeof(before)));
	EXPECT_EQ(uvn_dhcp_handle(&srv, 0, NULL, frame, n, reply, 342, T0), 342);

	config(&c);
	c.flags = 0;
	setup_with(&c);
	EXPECT_EQ(uvn_dhcp_handle(&srv, 0, NULL, frame, n, reply, sizeof(reply), T0), 0);
	EXPECT_EQ(srv.counters.disabled, 1);
}

/* Every buffer size either fits the reply or is refused with nothing
 * changed, even where the client id only fits a reply with few options. */
static void small_buffer_never_half_applies(void)
{
	static const uint8_t only_mask[] = { 1 };
	struct uvn_dhcp_config c;
	struct uvn_dhcp_lease before[UVN_DHCP_LEASES];
	uint8_t cid[250], tail[2 + 125];
	struct df_req q = msg(DF_DISCOVER, 1);
	size_t n, cap;
	int got, split;

	config(&c);
	c.nr_dns = 3;
	c.dns[0] = IP(9, 9, 9, 9);
	c.dns[1] = IP(1, 1, 1, 1);
	c.dns[2] = IP(8, 8, 8, 8);
	memset(c.domain, 'd', 63);
	c.domain[63] = '\0';
	c.mtu = 1400;
	memset(cid, 0x42, sizeof(cid));
	cid[0] = 0;
	q.cid = cid;
	q.cid_len = sizeof(cid);
	q.prl = only_mask;
	q.prl_len = sizeof(only_mask);
	/* The same id whole, then in two instances (RFC 3396). */
	tail[0] = 61;
	tail[1] = 125;
	memcpy(tail + 2, cid + 125, 125);
	for (split = 0; split < 2; split++) {
		if (split) {
			q.cid_len = 125;
			q.extra = tail;
			q.extra_len = sizeof(tail);
		}
		n = df_build(frame, &q);
		for (cap = 300; cap <= UVN_DHCP_REPLY_MAX; cap++) {
			setup_with(&c);
			memcpy(before, srv.leases, sizeof(before));
			got = uvn_dhcp_handle(&srv, 0, NULL, frame, n, reply, cap, T0);
			if (got == -UVN_ENOSPC) {
				EXPECT(!memcmp(before, srv.leases, sizeof(before)));
			} else {
				EXPECT(got > 0 && (size_t)got <= cap);
			}
		}
		EXPECT(got > 0);	/* the largest buffer fits */
	}
}

static void configure_keeps_valid_leases(void)
{
	struct uvn_dhcp_config c;

	setup();
	EXPECT_EQ(bind(0, NULL, 1, T0), NET(2));
	EXPECT_EQ(bind(0, NULL, 2, T0), NET(3));
	config(&c);
	c.pool_start = NET(3);
	EXPECT_EQ(uvn_dhcp_configure(&srv, &c, NULL), 0);
	EXPECT_EQ(state_of(1, T0), UVN_DHCP_FREE);
	EXPECT_EQ(state_of(2, T0), UVN_DHCP_BOUND);
	/* An address newly reserved for someone else is taken back ... */
	c.nr_reservations = 2;
	c.reservations[0].kind = UVN_DHCP_RES_SERIAL;
	strcpy(c.reservations[0].serial, "NEW");
	c.reservations[0].ip = NET(3);
	/* ... one reserved for its own client is kept. */
	EXPECT_EQ(bind(1, NULL, 3, T0), NET(4));
	c.reservations[1].kind = UVN_DHCP_RES_SLOT;
	c.reservations[1].slot = 1;
	c.reservations[1].ip = NET(4);
	EXPECT_EQ(uvn_dhcp_configure(&srv, &c, NULL), 0);
	EXPECT_EQ(state_of(2, T0), UVN_DHCP_FREE);
	EXPECT_EQ(state_of(3, T0), UVN_DHCP_BOUND);
	EXPECT_EQ(bind(2, "NEW", 4, T0), NET(3));
}

/* ---- hostile input ------------------------------------------------------------- */

static int handle_raw(size_t n)
{
	return uvn_dhcp_handle(&srv, 0, NULL, frame, n, reply, sizeof(reply), T0);
}

static void truncated_frames_dropped(void)
{
	struct df_req q = msg(DF_DISCOVER, 1);
	size_t n, cut;

	setup();
	n = df_build(frame, &q);
	for (cut = 0; cut < n; cut++)
		EXPECT(handle_raw(cut) < 0);
	EXPECT(srv.counters.truncated > 0);
	EXPECT_EQ(srv.counters.offer, 0);
	/* Ethernet padding after the IP datagram is fine. */
	EXPECT(handle_raw(n + 20) > 0);
}

static void malformed_headers_dropped(void)
{
	struct df_req q = msg(DF_DISCOVER, 1);
	size_t n;

	setup();
#define MANGLE(edit, counter)                                   \
	do {                                                    \
		n = df_build(frame, &q);                        \
		edit;                                           \
		EXPECT_EQ(handle_raw(n), -UVN_EINVAL);          \
		EXPECT_EQ(srv.counters.counter, 1);             \
	} while (0)

	MANGLE(frame[24] ^= 1, bad_ip);				/* IP checksum */
	srv.counters.bad_ip = 0;
	MANGLE(frame[14] = 0x44; df_fix_ip_sum(frame), bad_ip);	/* IHL 16 bytes */
	srv.counters.bad_ip = 0;
	MANGLE(frame[20] = 0x20; df_fix_ip_sum(frame), bad_ip);	/* more fragments */
	MANGLE(frame[36] = 0; frame[37] = 68, bad_udp);		/* to port 68 */
	srv.counters.bad_udp = 0;
	MANGLE(frame[38] = 0xff, bad_udp);			/* UDP length > IP */
	MANGLE(frame[42] = 2, not_request);			/* BOOTREPLY */
	MANGLE(frame[44] = 16, bad_chaddr);			/* hlen 16 */
	srv.counters.bad_chaddr = 0;
	MANGLE(frame[70] = 0x01, bad_chaddr);			/* multicast chaddr */
	MANGLE(frame[42 + 236] = 98, bad_cookie);
	MANGLE(frame[42 + 24] = 10, relayed);			/* giaddr */
#undef MANGLE
}

static void bad_options_dropped(void)
{
	static const uint8_t runs_past_end[] = { 12, 200, 'h', 'o', 's', 't' };
	static const uint8_t type_len2[] = { 53, 2, 1, 1 };
	static const uint8_t bad_overload[] = { 52, 1, 4 };
	struct df_req q = msg(DF_DISCOVER, 1);
	uint8_t huge[2 + 255];
	size_t n;

	setup();
	q.extra = runs_past_end;
	q.extra_len = sizeof(runs_past_end);
	q.no_end = true;
	n = df_build(frame, &q);
	EXPECT_EQ(handle_raw(n), -UVN_EINVAL);
	EXPECT_EQ(srv.counters.bad_option, 1);

	q = msg(0, 1);				/* option 53 only in extra, twice the length */
	q.extra = type_len2;
	q.extra_len = sizeof(type_len2);
	EXPECT_EQ(handle_raw(df_build(frame, &q)), -UVN_EINVAL);
	EXPECT_EQ(srv.counters.bad_option, 2);
	q.extra = bad_overload;
	q.extra_len = sizeof(bad_overload);
	EXPECT_EQ(handle_raw(df_build(frame, &q)), -UVN_EINVAL);
	EXPECT_EQ(srv.counters.bad_option, 3);

	q = msg(0, 1);				/* no message type at all */
	EXPECT_EQ(handle_raw(df_build(frame, &q)), -UVN_EINVAL);
	EXPECT_EQ(srv.counters.no_msg_type, 1);
	q.type = DF_ACK;			/* a server's message */
	EXPECT_EQ(handle_raw(df_build(frame, &q)), -UVN_EINVAL);
	EXPECT_EQ(srv.counters.bad_msg_type, 1);

	/* A 255-byte hostname is just an option; no END is tolerated and counted. */
	q = msg(DF_DISCOVER, 1);
	huge[0] = 12;
	huge[1] = 255;
	memset(huge + 2, 'x', 255);
	q.extra = huge;
	q.extra_len = sizeof(huge);
	q.no_end = true;
	n = df_build(frame, &q);
	EXPECT(handle_raw(n) > 0);
	EXPECT_EQ(srv.counters.no_end, 1);
}

static void overloaded_fields_parsed(void)
{
	static const uint8_t overload_both[] = { 52, 1, 3 };
	struct df_req q = msg(0, 1);
	uint8_t *b = frame + 42;
	size_t n;

	setup();
	q.extra = overload_both;
	q.extra_len = sizeof(overload_both);
	n = df_build(frame, &q);
	/* Message type in file, requested address in sname. */
	b[108] = 53, b[109] = 1, b[110] = DF_DISCOVER, b[111] = 255;
	b[44] = 50, b[45] = 4, b[46] = 100, b[47] = 127, b[48] = 254, b[49] = 42, b[50] = 255;
	EXPECT(handle_raw(n) > 0);
	EXPECT_EQ(srv.counters.overload, 1);
	EXPECT_EQ(uvn_dhcp_lease_of(&srv, q.mac)->ip, NET(42));
	/* An overload option inside file is ignored: no second round, no loop. */
	b[108] = 52, b[109] = 1, b[110] = 3, b[111] = 53, b[112] = 1, b[113] = DF_DISCOVER;
	b[114] = 255;
	EXPECT(handle_raw(n) > 0);
	EXPECT_EQ(srv.counters.overload, 2);
	/* Bad option lengths inside sname are caught like any other. */
	b[44] = 12, b[45] = 100;
	EXPECT_EQ(handle_raw(n), -UVN_EINVAL);
	EXPECT_EQ(srv.counters.bad_option, 1);
}

/* ---- export / import ------------------------------------------------------------ */

static uint32_t fnv(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261U;

	while (n--)
		h = (h ^ *p++) * 16777619U;
	return h;
}

static void fix_sum(uint8_t *buf, size_t len)
{
	uint32_t h = fnv(buf + 16, len - 16);

	buf[12] = (uint8_t)h, buf[13] = (uint8_t)(h >> 8);
	buf[14] = (uint8_t)(h >> 16), buf[15] = (uint8_t)(h >> 24);
}

static uint8_t exported[UVN_DHCP_EXPORT_MAX];

static int populate(void)
{
	struct df_req q;
	struct df_reply r;

	setup();
	bind(0, "AAA", 1, T0);			/* bound */
	bind(1, "BBB", 2, T0);
	uvn_dhcp_slot_gone(&srv, 1);		/* available, remembered */
	q = msg(DF_DISCOVER, 3);		/* offered */
	send_frame(2, NULL, &q, &r, T0);
	bind(3, NULL, 4, T0);
	q = msg(DF_DECLINE, 4);			/* declined */
	q.requested = NET(5);
	q.server_id = HOST_IP;
	send_frame(3, NULL, &q, &r, T0);
	return uvn_dhcp_export(&srv, exported, sizeof(exported), T0 + 100);
}

static void export_import_round_trip(void)
{
	uint8_t again[UVN_DHCP_EXPORT_MAX];
	int n = populate(), i;
	const char *why = NULL;

	EXPECT_EQ(n, 16 + 4 * 148);
	EXPECT(!memcmp(exported, "UVNL\x02\x00\x94\x00\x04\x00\x00\x00", 12));
	EXPECT_EQ(uvn_dhcp_export(&srv, exported, (size_t)n - 1, T0 + 100), -UVN_ENOSPC);
	/* A new server (a reload, another clock) takes it whole. */
	setup();
	EXPECT_EQ(uvn_dhcp_import(&srv, exported, (size_t)n, 50, &why), 0);
	EXPECT_EQ(state_of(1, 50), UVN_DHCP_BOUND);
	EXPECT_EQ(state_of(1, 50 + UVN_DHCP_DEFAULT_LEASE - 101), UVN_DHCP_BOUND);
	EXPECT_EQ(state_of(1, 50 + UVN_DHCP_DEFAULT_LEASE - 100), UVN_DHCP_AVAILABLE);
	EXPECT_EQ(state_of(2, 50), UVN_DHCP_AVAILABLE);
	EXPECT_EQ(state_of(3, 50), UVN_DHCP_AVAILABLE);	/* the offer had run out */
	EXPECT_EQ(state_of(4, 50), UVN_DHCP_FREE);
	for (i = 0; i < UVN_DHCP_LEASES; i++)
		if (srv.leases[i].state == UVN_DHCP_DECLINED)
			EXPECT_EQ(srv.leases[i].ip, NET(5));
	EXPECT(!strcmp(uvn_dhcp_lease_of(&srv, (uint8_t[]){ 2, 0xde, 0xad, 0, 0, 1 })->serial, "AAA"));
	/* Exporting again gives the same records (seconds left move with the
	 * clock), except that no lease is tied to a slot any more. */
	EXPECT_EQ(uvn_dhcp_export(&srv, again, sizeof(again), 50), n);
	EXPECT(!memcmp(again, exported, 12));
	for (i = 0; i < 4; i++) {
		uint8_t *a = again + 16 + 148 * i, *e = exported + 16 + 148 * i;

		EXPECT(!memcmp(a, e, 15));
		EXPECT_EQ(a[15], UVN_DHCP_NO_SLOT);
		EXPECT(!memcmp(a + 16, e + 16, 148 - 16));
	}
	/* The leases are claimed again by their devices, on any slot. */
	EXPECT_EQ(bind(7, "AAA", 1, 60), NET(2));
	EXPECT_EQ(bind(8, "BBB", 2, 60), NET(3));
	/* ... but not by another device with that MAC while the lease runs. */
	setup();
	EXPECT_EQ(uvn_dhcp_import(&srv, exported, (size_t)n, 50, &why), 0);
	EXPECT_EQ(bind(7, "EVIL", 1, 60), 0);
	EXPECT_EQ(srv.counters.foreign, 1);
}

static void import_rejects_corruption(void)
{
	static struct uvn_dhcp_server before;
	uint8_t bad[UVN_DHCP_EXPORT_MAX];
	int n = populate();
	size_t i;
	const char *why;

	/* Any flipped byte: header checks or the checksum catch it. */
	before = srv;
	for (i = 0; i < (size_t)n; i++) {
		memcpy(bad, exported, (size_t)n);
		bad[i] ^= 0x40;
		why = NULL;
		EXPECT_EQ(uvn_dhcp_import(&srv, bad, (size_t)n, T0, &why), -UVN_EINVAL);
		EXPECT(why != NULL);
	}
	EXPECT_EQ(uvn_dhcp_import(&srv, exported, (size_t)n - 1, T0, &why), -UVN_EINVAL);
	EXPECT_EQ(uvn_dhcp_import(&srv, exported, 3, T0, &why), -UVN_EINVAL);
	EXPECT_EQ(uvn_dhcp_import(&srv, NULL, 0, T0, &why), -UVN_EINVAL);

	/* With a valid checksum, the content itself is checked. */
#define BAD_RECORD(edit, what)                                                  \
	do {                                                                    \
		memcpy(bad, exported, (size_t)n);                               \
		edit;                                                           \
		fix_sum(bad, (size_t)n);                                        \
		why = NULL;                                                     \
		EXPECT_EQ(uvn_dhcp_import(&srv, bad, (size_t)n, T0, &why), -UVN_EINVAL); \
		EXPECT(why && strstr(why, what));                               \
	} while (0)

	BAD_RECORD(bad[16 + 14] = 9, "state");
	BAD_RECORD(bad[16 + 14] = 0, "state");
	BAD_RECORD(bad[16 + 2] = 0x7e, "subnet");		/* 100.126.254.x */
	BAD_RECORD(bad[16] = 1, "host");			/* the host's address */
	BAD_RECORD(bad[16] = 255, "subnet");			/* broadcast */
	BAD_RECORD(bad[16 + 148] = bad[16], "duplicate address");
	BAD_RECORD(memcpy(bad + 16 + 148 + 8, bad + 16 + 8, 6), "duplicate MAC");
	BAD_RECORD(bad[16 + 8] = 0x01, "MAC");
	BAD_RECORD(bad[16 + 15] = 40, "slot");
	BAD_RECORD(memset(bad + 16 + 16, 'x', 64), "serial");
	BAD_RECORD(bad[16 + 7] = 0x7f, "time");
	BAD_RECORD(bad[8] = 5, "length");
	BAD_RECORD(bad[4] = 3, "version");
	BAD_RECORD(bad[4] = 1, "record size");
	BAD_RECORD(bad[16 + 80] = 1, "client id length");
	BAD_RECORD(bad[16 + 81] = 1, "reserved");
	BAD_RECORD((bad[16 + 80] = 2, bad[16 + 84 + 2] = 7), "past its length");
#undef BAD_RECORD
	EXPECT(!memcmp(&before.leases, &srv.leases, sizeof(srv.leases)));

	/* Addresses outside the pool are only accepted when reserved. */
	{
		struct uvn_dhcp_config c;

		config(&c);
		c.pool_start = NET(3);
		EXPECT_EQ(uvn_dhcp_configure(&srv, &c, NULL), 0);
		before = srv;
		EXPECT_EQ(uvn_dhcp_import(&srv, exported, (size_t)n, T0, &why), -UVN_EINVAL);
		EXPECT(strstr(why, "pool"));
		EXPECT(!memcmp(&before.leases, &srv.leases, sizeof(srv.leases)));
		c.nr_reservations = 1;
		c.reservations[0].kind = UVN_DHCP_RES_SLOT;
		c.reservations[0].ip = NET(2);
		EXPECT_EQ(uvn_dhcp_configure(&srv, &c, NULL), 0);
		EXPECT_EQ(uvn_dhcp_import(&srv, exported, (size_t)n, T0, &why), 0);
		/* A reserved address in the hands of another client is refused. */
		c.nr_reservations = 2;
		c.reservations[1].kind = UVN_DHCP_RES_MAC;
		mac_of(c.reservations[1].mac, 99);
		c.reservations[1].ip = NET(3);
		EXPECT_EQ(uvn_dhcp_configure(&srv, &c, NULL), 0);
		before = srv;
		EXPECT_EQ(uvn_dhcp_import(&srv, exported, (size_t)n, T0, &why), -UVN_EINVAL);
		EXPECT(strstr(why, "reserved"));
		EXPECT(!memcmp(&before.leases, &srv.leases, sizeof(srv.leases)));
	}
}

/* ---- client identifier (option 61) and parameter request list (55) -------- */

static struct df_req with_cid(uint8_t type, unsigned int macn, const uint8_t *cid, size_t n)
{
	struct df_req q = msg(type, macn);

	q.cid = cid;
	q.cid_len = n;
	return q;
}

/* DISCOVER then REQUEST (SELECTING) with a client id; the bound address or 0. */
static uint32_t bind_cid(uint32_t slot, unsigned int macn, const uint8_t *cid, size_t n,
			 uint32_t now)
{
	return bind_as(slot, NULL, with_cid(DF_DISCOVER, macn, cid, n), now);
}

static void client_id_identifies_client(void)
{
	static const uint8_t x[] = { 0xff, 'x', '1' }, y[] = { 0xff, 'y', '1' };
	uint8_t longa[200], longb[200], big[255];
	struct df_req q;
	struct df_reply r;

	setup();
	EXPECT_EQ(bind_cid(0, 1, x, sizeof(x), T0), NET(2));
	/* Same hardware address, another client id: another client. */
	EXPECT_EQ(bind_cid(0, 1, y, sizeof(y), T0), NET(3));
	/* Same hardware address, no client id: yet another. */
	EXPECT_EQ(bind(0, NULL, 1, T0), NET(4));
	/* Client id x from another hardware address: still x's lease. */
	EXPECT_EQ(bind_cid(0, 2, x, sizeof(x), T0 + 1), NET(2));
	/* The reply goes to the chaddr it came from, and echoes the id (RFC 6842). */
	q = with_cid(DF_REQUEST, 2, x, sizeof(x));
	q.ciaddr = NET(2);
	EXPECT(send_frame(0, NULL, &q, &r, T0 + 2) > 0);
	EXPECT_EQ(r.type, DF_ACK);
	EXPECT_EQ(r.cid_len, sizeof(x));
	EXPECT(!memcmp(r.cid, x, sizeof(x)));
	/* RELEASE by x frees x's address only. */
	q = with_cid(DF_RELEASE, 2, x, sizeof(x));
	q.ciaddr = NET(2);
	q.server_id = HOST_IP;
	EXPECT_EQ(send_frame(0, NULL, &q, &r, T0 + 3), 0);
	EXPECT_EQ(state_of(1, T0 + 3), UVN_DHCP_BOUND);		/* the one without an id */
	EXPECT_EQ(srv.counters.release, 1);
	EXPECT_EQ(srv.counters.ignored, 0);
	/* y keeps its own address. */
	EXPECT_EQ(bind_cid(0, 1, y, sizeof(y), T0 + 4), NET(3));

	/* Long ids are told apart by all their bytes, not just the first 64. */
	memset(longa, 'L', sizeof(longa));
	memcpy(longb, longa, sizeof(longb));
	longb[199] = 'M';
	EXPECT_EQ(bind_cid(1, 5, longa, sizeof(longa), T0 + 5), NET(5));
	EXPECT_EQ(bind_cid(1, 5, longb, sizeof(longb), T0 + 5), NET(6));
	EXPECT_EQ(bind_cid(1, 6, longa, sizeof(longa), T0 + 6), NET(5));

	/* A one-byte id is malformed (RFC 2132 9.14): dropped and counted. */
	q = with_cid(DF_DISCOVER, 9, x, 1);
	EXPECT_EQ(send_frame(2, NULL, &q, &r, T0 + 7), -UVN_EINVAL);
	EXPECT_EQ(srv.counters.bad_option, 1);

	/* The longest id is echoed when the reply stays plain, never past the cap. */
	memset(big, 'B', sizeof(big));
	q = with_cid(DF_DISCOVER, 10, big, sizeof(big));
	EXPECT(send_frame(2, NULL, &q, &r, T0 + 8) <= UVN_DHCP_REPLY_MAX);
	EXPECT_EQ(r.type, DF_OFFER);
	EXPECT_EQ(r.cid_len, sizeof(big));
	{
		struct uvn_dhcp_config c;
		int n;

		config(&c);
		c.nr_dns = 3;
		c.dns[0] = c.dns[1] = c.dns[2] = IP(9, 9, 9, 9);
		memset(c.domain, 'd', UVN_DHCP_DOMAIN_LEN - 1);
		c.mtu = 9000;
		setup_with(&c);
		n = send_frame(2, NULL, &q, &r, T0);
		EXPECT(n > 0 && n <= UVN_DHCP_REPLY_MAX);
		EXPECT_EQ(r.type, DF_OFFER);
		EXPECT_EQ(r.cid_len, 0);		/* would not fit */
	}
}

/* Leases from a table without client ids are claimed by their MAC. */
static void client_id_claims_lease_known_by_mac(void)
{
	static const uint8_t x[] = { 1, 2, 0xde, 0xad, 0, 0, 1 };
	uint8_t buf[UVN_DHCP_EXPORT_MAX], again[UVN_DHCP_EXPORT_MAX];
	const char *why = NULL;
	int n, m;

	setup();
	EXPECT_EQ(bind(0, NULL, 1, T0), NET(2));
	EXPECT_EQ(bind_cid(0, 1, x, sizeof(x), T0 + 1), NET(2));	/* same client now */
	EXPECT_EQ(bind(0, NULL, 3, T0 + 1), NET(3));
	/* The id is recorded and survives export and import. */
	n = uvn_dhcp_export(&srv, buf, sizeof(buf), T0 + 2);
	EXPECT_EQ(n, 16 + 2 * 148);
	setup();
	EXPECT_EQ(uvn_dhcp_import(&srv, buf, (size_t)n, T0, &why), 0);
	EXPECT_EQ(bind_cid(3, 7, x, sizeof(x), T0 + 3), NET(2));	/* another MAC, same id */
	m = uvn_dhcp_export(&srv, again, sizeof(again), T0 + 3);
	EXPECT_EQ(m, n);
}

/* A version 1 table (80-byte records, no client ids) still imports. */
static void import_version_1(void)
{
	static const uint8_t x[] = { 1, 2, 0xde, 0xad, 0, 0, 1 };
	uint8_t v2[UVN_DHCP_EXPORT_MAX], v1[UVN_DHCP_EXPORT_MAX];
	const char *why = NULL;
	int n, i, count;

	setup();
	EXPECT_EQ(bind(0, NULL, 1, T0), NET(2));
	EXPECT_EQ(bind(1, "BBB", 2, T0), NET(3));
	n = uvn_dhcp_export(&srv, v2, sizeof(v2), T0);
	count = (n - 16) / 148;
	EXPECT_EQ(count, 2);
	memcpy(v1, v2, 16);
	v1[4] = 1, v1[6] = 80;
	for (i = 0; i < count; i++)
		memcpy(v1 + 16 + 80 * i, v2 + 16 + 148 * i, 80);
	fix_sum(v1, 16 + 80 * (size_t)count);
	setup();
	EXPECT_EQ(uvn_dhcp_import(&srv, v1, 16 + 80 * (size_t)count, T0, &why), 0);
	EXPECT_EQ(state_of(1, T0), UVN_DHCP_BOUND);
	EXPECT_EQ(state_of(2, T0), UVN_DHCP_BOUND);
	/* Its clients come back, one of them now sending a client id. */
	EXPECT_EQ(bind_cid(4, 1, x, sizeof(x), T0 + 1), NET(2));
	EXPECT_EQ(bind(5, "BBB", 2, T0 + 1), NET(3));
	/* A v1 header with v2-sized records, or the reverse, is refused. */
	v1[6] = 148;
	EXPECT_EQ(uvn_dhcp_import(&srv, v1, 16 + 80 * (size_t)count, T0, &why), -UVN_EINVAL);
	EXPECT(strstr(why, "record size"));
}

/* ---- clones: one client id from several devices ---------------------------- */

/* What systemd-networkd sends (RFC 4361: IAID and DUID from /etc/machine-id):
 * the same from every device made from one image. */
static const uint8_t clone_id[] = { 0xff, 0x5b, 0x6e, 0x2a, 0x1c, 0x00, 0x02, 0x00, 0x00,
				    0xab, 0x11, 0x9d, 0x3e, 0x0c, 0x44, 0x71, 0x2f, 0x58 };

static struct df_req clone_msg(uint8_t type, unsigned int macn)
{
	return with_cid(type, macn, clone_id, sizeof(clone_id));
}

/* DISCOVER then REQUEST (SELECTING) of a clone; the bound address or 0. */
static uint32_t bind_clone(uint32_t slot, const char *serial, unsigned int macn, uint32_t now)
{
	return bind_as(slot, serial, clone_msg(DF_DISCOVER, macn), now);
}

/* The entry of an address (clones' entries are not found by MAC), or NULL. */
static const struct uvn_dhcp_lease *lease_at(uint32_t ip, uint32_t now)
{
	unsigned int i;

	for (i = 0; i < UVN_DHCP_LEASES; i++)
		if (srv.leases[i].ip == ip && uvn_dhcp_lease_state(&srv.leases[i], now) != UVN_DHCP_FREE)
			return &srv.leases[i];
	return NULL;
}

static enum uvn_dhcp_lease_state state_at(uint32_t ip, uint32_t now)
{
	const struct uvn_dhcp_lease *l = lease_at(ip, now);

	return l ? uvn_dhcp_lease_state(l, now) : UVN_DHCP_FREE;
}

/* The slot of an address's entry; -1: no entry. */
static int slot_at(uint32_t ip, uint32_t now)
{
	const struct uvn_dhcp_lease *l = lease_at(ip, now);

	return l ? l->slot : -1;
}

/* Entries not free (the whole table: clones must not leave extra ones). */
static unsigned int entries(uint32_t now)
{
	unsigned int i, n = 0;

	for (i = 0; i < UVN_DHCP_LEASES; i++)
		n += uvn_dhcp_lease_state(&srv.leases[i], now) != UVN_DHCP_FREE;
	return n;
}

/* Renews ip (RENEWING: ciaddr, unicast); the reply's type, or 0. */
static uint8_t renew_clone(uint32_t slot, const char *serial, unsigned int macn, uint32_t ip,
			   uint32_t now)
{
	struct df_req q = clone_msg(DF_REQUEST, macn);
	struct df_reply r;

	q.ciaddr = q.ip_dst = ip;
	if (send_frame(slot, serial, &q, &r, now) <= 0)
		return 0;
	EXPECT(r.type != DF_ACK || r.yiaddr == ip);
	return r.type;
}

static void clones_get_their_own_addresses(void)
{
	const struct uvn_dhcp_lease *a, *b;
	struct uvn_dhcp_config c;
	struct df_req q;
	struct df_reply r;
	unsigned int i;

	setup();
	EXPECT_EQ(bind_clone(1, "SA", 1, T0), NET(2));
	EXPECT_EQ(srv.counters.foreign, 0);
	EXPECT_EQ(bind_clone(2, "SB", 2, T0), NET(3));
	EXPECT_EQ(srv.counters.foreign, 2);	/* A's lease, skipped by DISCOVER and REQUEST */
	/* Both entries hold the id, each with its device's slot, MAC and serial. */
	a = lease_at(NET(2), T0);
	b = lease_at(NET(3), T0);
	EXPECT(a && b);
	if (a && b) {
		EXPECT(a->cid_len == sizeof(clone_id) && b->cid_len == sizeof(clone_id));
		EXPECT(!memcmp(a->cid, b->cid, sizeof(a->cid)));
		EXPECT(a->slot == 1 && b->slot == 2);
		EXPECT(!strcmp(a->serial, "SA") && !strcmp(b->serial, "SB"));
		EXPECT(a->mac[5] == 1 && b->mac[5] == 2);
	}
	EXPECT_EQ(entries(T0), 2);
	/* Each renews its own, again and again; neither gets the other's. */
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(renew_clone(1, "SA", 1, NET(2), T0 + 10 + i), DF_ACK);
		EXPECT_EQ(renew_clone(2, "SB", 2, NET(3), T0 + 10 + i), DF_ACK);
	}
	EXPECT_EQ(renew_clone(2, "SB", 2, NET(2), T0 + 20), DF_NAK);
	EXPECT_EQ(state_at(NET(2), T0 + 20), UVN_DHCP_BOUND);
	EXPECT_EQ(slot_at(NET(2), T0 + 20), 1);
	EXPECT_EQ(srv.counters.foreign, 2 + 6 + 1);
	/* INFORM and the host's client look up no lease: nothing skipped. */
	q = clone_msg(DF_INFORM, 2);
	q.ciaddr = q.ip_dst = NET(3);
	EXPECT(send_frame(2, "SB", &q, &r, T0 + 21) > 0);
	q = clone_msg(DF_DISCOVER, 9);
	EXPECT(send_frame(UVN_DHCP_HOST, NULL, &q, &r, T0 + 21) > 0);
	EXPECT_EQ(r.yiaddr, HOST_IP);
	EXPECT_EQ(srv.counters.foreign, 9);
	EXPECT_EQ(entries(T0 + 21), 2);

	/* Without serials, with Rapid Commit: the slot tells them apart. */
	config(&c);
	c.flags |= UVN_DHCP_RAPID_COMMIT;
	setup_with(&c);
	for (i = 0; i < 6; i++) {
		q = clone_msg(DF_DISCOVER, 1 + i % 3);
		q.extra = rapid_opt;
		q.extra_len = sizeof(rapid_opt);
		EXPECT(send_frame(1 + i % 3, NULL, &q, &r, T0 + i) > 0);
		EXPECT(r.type == DF_ACK && r.rapid_commit);
		EXPECT_EQ(r.yiaddr, NET(2 + i % 3));
	}
	EXPECT_EQ(entries(T0 + 6), 3);
	EXPECT_EQ(srv.counters.rapid_commit, 6);
}

static void clones_release_and_decline_their_own(void)
{
	struct df_req q;
	struct df_reply r;

	setup();
	EXPECT_EQ(bind_clone(1, "SA", 1, T0), NET(2));
	EXPECT_EQ(bind_clone(2, "SB", 2, T0), NET(3));
	/* B releases A's address (a cloned lease file): not its own, ignored. */
	q = clone_msg(DF_RELEASE, 2);
	q.ciaddr = NET(2);
	q.server_id = HOST_IP;
	EXPECT_EQ(send_frame(2, "SB", &q, &r, T0 + 1), 0);
	EXPECT_EQ(srv.counters.ignored, 1);
	EXPECT_EQ(state_at(NET(2), T0 + 1), UVN_DHCP_BOUND);
	/* Its own: released; A's stays bound on its slot. */
	q.ciaddr = NET(3);
	EXPECT_EQ(send_frame(2, "SB", &q, &r, T0 + 2), 0);
	EXPECT_EQ(state_at(NET(3), T0 + 2), UVN_DHCP_AVAILABLE);
	EXPECT_EQ(state_at(NET(2), T0 + 2), UVN_DHCP_BOUND);
	EXPECT_EQ(slot_at(NET(2), T0 + 2), 1);
	/* B asks again: its own address, not A's, and no third entry. */
	EXPECT_EQ(bind_clone(2, "SB", 2, T0 + 3), NET(3));
	EXPECT_EQ(entries(T0 + 3), 2);
	/* A releases: B's untouched. */
	q = clone_msg(DF_RELEASE, 1);
	q.ciaddr = NET(2);
	q.server_id = HOST_IP;
	EXPECT_EQ(send_frame(1, "SA", &q, &r, T0 + 4), 0);
	EXPECT_EQ(state_at(NET(2), T0 + 4), UVN_DHCP_AVAILABLE);
	EXPECT_EQ(state_at(NET(3), T0 + 4), UVN_DHCP_BOUND);
	/* B declines A's address: ignored; then its own: quarantined, A's remembered. */
	q = clone_msg(DF_DECLINE, 2);
	q.requested = NET(2);
	q.server_id = HOST_IP;
	EXPECT_EQ(send_frame(2, "SB", &q, &r, T0 + 5), 0);
	EXPECT_EQ(srv.counters.ignored, 2);
	q.requested = NET(3);
	EXPECT_EQ(send_frame(2, "SB", &q, &r, T0 + 5), 0);
	EXPECT_EQ(state_at(NET(3), T0 + 5), UVN_DHCP_DECLINED);
	EXPECT_EQ(state_at(NET(2), T0 + 5), UVN_DHCP_AVAILABLE);
	/* B gets a new address, not the one A released; A comes back to its own. */
	EXPECT_EQ(bind_clone(2, "SB", 2, T0 + 6), NET(4));
	EXPECT_EQ(bind_clone(1, "SA", 1, T0 + 7), NET(2));
}

static void clones_unplug_and_come_back(void)
{
	setup();
	EXPECT_EQ(bind_clone(1, "SA", 1, T0), NET(2));
	EXPECT_EQ(bind_clone(2, "SB", 2, T0), NET(3));
	EXPECT_EQ(uvn_dhcp_slot_gone(&srv, 1), 1);
	EXPECT_EQ(state_at(NET(3), T0 + 1), UVN_DHCP_BOUND);
	/* B, rebooted with a new MAC, keeps its own, not the one A left. */
	EXPECT_EQ(bind_clone(2, "SB", 12, T0 + 1), NET(3));
	/* A third clone: an address of its own, A's waits for A. */
	EXPECT_EQ(bind_clone(4, "SC", 3, T0 + 2), NET(4));
	/* A back on another slot, then B on the slot A had: their own. */
	EXPECT_EQ(bind_clone(3, "SA", 1, T0 + 3), NET(2));
	EXPECT_EQ(uvn_dhcp_slot_gone(&srv, 2), 1);
	EXPECT_EQ(bind_clone(1, "SB", 2, T0 + 4), NET(3));
	EXPECT_EQ(entries(T0 + 4), 3);
	/* Past its lease's end A's address is still A's entry: it comes back to it. */
	EXPECT_EQ(uvn_dhcp_slot_gone(&srv, 3), 1);
	EXPECT_EQ(bind_clone(5, "SA", 1, T0 + 10 * UVN_DHCP_DEFAULT_LEASE), NET(2));

	/* Without serials: the clone still attached keeps its own, the one
	 * unplugged gets its own back. */
	setup();
	EXPECT_EQ(bind_clone(1, NULL, 1, T0), NET(2));
	EXPECT_EQ(bind_clone(2, NULL, 2, T0), NET(3));
	EXPECT_EQ(uvn_dhcp_slot_gone(&srv, 1), 1);
	EXPECT_EQ(bind_clone(2, NULL, 2, T0 + 1), NET(3));
	EXPECT_EQ(bind_clone(1, NULL, 1, T0 + 2), NET(2));
	EXPECT_EQ(entries(T0 + 2), 2);
}

static void clone_asking_for_the_others_address_is_naked(void)
{
	struct df_req q;
	struct df_reply r;

	setup();
	EXPECT_EQ(bind_clone(1, "SA", 1, T0), NET(2));
	/* B booted with A's lease file: INIT-REBOOT for A's address. */
	q = clone_msg(DF_REQUEST, 2);
	q.requested = NET(2);
	EXPECT(send_frame(2, "SB", &q, &r, T0 + 1) > 0);
	EXPECT_EQ(r.type, DF_NAK);
	EXPECT(!strcmp(r.message, "requested address in use by another client"));
	EXPECT_EQ(slot_at(NET(2), T0 + 1), 1);
	EXPECT(lease_at(NET(2), T0 + 1) && lease_at(NET(2), T0 + 1)->mac[5] == 1);
	EXPECT_EQ(entries(T0 + 1), 1);
	/* It starts over: an address of its own, which it may then reboot with. */
	EXPECT_EQ(bind_clone(2, "SB", 2, T0 + 2), NET(3));
	q.requested = NET(3);
	EXPECT(send_frame(2, "SB", &q, &r, T0 + 3) > 0);
	EXPECT(r.type == DF_ACK && r.yiaddr == NET(3));
	/* A unplugged: its address still waits for it, for B as for anyone. */
	EXPECT_EQ(uvn_dhcp_slot_gone(&srv, 1), 1);
	q.requested = NET(2);
	EXPECT(send_frame(2, "SB", &q, &r, T0 + 4) > 0);
	EXPECT_EQ(r.type, DF_NAK);
	EXPECT_EQ(state_at(NET(3), T0 + 4), UVN_DHCP_BOUND);
	/* A back elsewhere reboots into it. */
	q = clone_msg(DF_REQUEST, 1);
	q.requested = NET(2);
	EXPECT(send_frame(6, "SA", &q, &r, T0 + 5) > 0);
	EXPECT(r.type == DF_ACK && r.yiaddr == NET(2));
	EXPECT_EQ(slot_at(NET(2), T0 + 5), 6);
}

/* Active leases of a slot, reserved or not. */
static unsigned int on_slot(uint32_t slot, uint32_t now)
{
	unsigned int i, n = 0;

	for (i = 0; i < UVN_DHCP_LEASES; i++)
		n += srv.leases[i].slot == slot && (uvn_dhcp_lease_state(&srv.leases[i], now) == UVN_DHCP_OFFERED ||
						    uvn_dhcp_lease_state(&srv.leases[i], now) == UVN_DHCP_BOUND);
	return n;
}

static void clones_keep_to_the_per_slot_cap(void)
{
	struct uvn_dhcp_config c;

	config(&c);
	c.per_slot_cap = 2;
	setup_with(&c);
	EXPECT_EQ(bind_clone(1, "SA", 1, T0), NET(2));
	EXPECT_EQ(bind(1, "SA", 10, T0), NET(3));
	EXPECT_EQ(bind(1, "SA", 11, T0), 0);		/* slot 1 is full */
	EXPECT_EQ(srv.counters.slot_cap, 1);
	/* The id again on slot 1, with another MAC or serial: the same client,
	 * not a new lease. */
	EXPECT_EQ(bind_clone(1, "SA", 12, T0 + 1), NET(2));
	EXPECT_EQ(bind_clone(1, "OTHER", 13, T0 + 1), NET(2));
	EXPECT_EQ(on_slot(1, T0 + 1), 2);
	/* On another slot: another device, on that slot's account. */
	EXPECT_EQ(bind_clone(2, "SB", 2, T0 + 2), NET(4));
	EXPECT_EQ(bind(2, "SB", 20, T0 + 2), NET(5));
	EXPECT_EQ(bind(2, "SB", 21, T0 + 2), 0);
	EXPECT_EQ(bind_clone(3, "SC", 3, T0 + 2), NET(6));
	EXPECT_EQ(srv.counters.slot_cap, 2);
	EXPECT_EQ(on_slot(1, T0 + 2), 2);
	EXPECT_EQ(on_slot(2, T0 + 2), 2);
	EXPECT_EQ(on_slot(3, T0 + 2), 1);
}

static void clones_and_reservations(void)
{
	struct uvn_dhcp_config c;
	struct uvn_dhcp_reservation *res = c.reservations;

	config(&c);
	c.nr_reservations = 3;
	res[0].kind = UVN_DHCP_RES_SERIAL;
	strcpy(res[0].serial, "SA");
	res[0].ip = NET(50);
	res[1].kind = UVN_DHCP_RES_SLOT;
	res[1].slot = 9;
	res[1].ip = NET(201);
	res[2].kind = UVN_DHCP_RES_MAC;
	mac_of(res[2].mac, 7);
	res[2].ip = NET(200);
	setup_with(&c);
	/* Each clone gets what is reserved for its device, the others the pool's. */
	EXPECT_EQ(bind_clone(1, "SA", 1, T0), NET(50));
	EXPECT_EQ(bind_clone(2, "SB", 2, T0), NET(2));
	EXPECT_EQ(bind_clone(9, "SC", 3, T0), NET(201));
	EXPECT_EQ(bind_clone(4, "SD", 7, T0), NET(200));
	EXPECT_EQ(entries(T0), 4);
	/* A's reserved lease outlives its unplug; B still gets its own. */
	EXPECT_EQ(uvn_dhcp_slot_gone(&srv, 1), 0);
	EXPECT_EQ(bind_clone(2, "SB", 2, T0 + 1), NET(2));
	EXPECT_EQ(bind_clone(3, "SA", 1, T0 + 2), NET(50));
	/* The slot's address goes to the next device there; the one that had
	 * it, back elsewhere, gets one of the pool. */
	EXPECT_EQ(uvn_dhcp_slot_gone(&srv, 9), 0);
	EXPECT_EQ(bind_clone(9, "SE", 5, T0 + 3), NET(201));
	EXPECT_EQ(bind_clone(5, "SC", 3, T0 + 4), NET(3));
	EXPECT_EQ(slot_at(NET(201), T0 + 4), 9);
	EXPECT_EQ(entries(T0 + 4), 5);
}

static void clones_survive_export_import(void)
{
	uint8_t buf[UVN_DHCP_EXPORT_MAX], again[UVN_DHCP_EXPORT_MAX];
	const char *why = NULL;
	struct df_req q;
	struct df_reply r;
	uint32_t ipa, ipb;
	int n, i;

	setup();
	EXPECT_EQ(bind_clone(1, "SA", 1, T0), NET(2));
	EXPECT_EQ(bind_clone(2, "SB", 2, T0), NET(3));
	n = uvn_dhcp_export(&srv, buf, sizeof(buf), T0 + 10);
	EXPECT_EQ(n, 16 + 2 * 148);
	/* After a reload: both leases, tied to no slot, each to its serial. */
	setup();
	EXPECT_EQ(uvn_dhcp_import(&srv, buf, (size_t)n, 50, &why), 0);
	EXPECT_EQ(entries(50), 2);
	EXPECT_EQ(slot_at(NET(2), 50), UVN_DHCP_NO_SLOT);
	EXPECT_EQ(slot_at(NET(3), 50), UVN_DHCP_NO_SLOT);
	/* Re-exported: the same records but for the slot; and it imports again. */
	EXPECT_EQ(uvn_dhcp_export(&srv, again, sizeof(again), 50), n);
	for (i = 0; i < 2; i++) {
		EXPECT(!memcmp(again + 16 + 148 * i, buf + 16 + 148 * i, 15));
		EXPECT(!memcmp(again + 16 + 148 * i + 16, buf + 16 + 148 * i + 16, 148 - 16));
	}
	EXPECT_EQ(uvn_dhcp_import(&srv, again, (size_t)n, 50, &why), 0);
	/* B, with A's lease file, may not reboot into A's address ... */
	q = clone_msg(DF_REQUEST, 2);
	q.requested = NET(2);
	EXPECT(send_frame(7, "SB", &q, &r, 55) > 0);
	EXPECT_EQ(r.type, DF_NAK);
	/* ... and each comes back, B first, on other slots, to its own. */
	EXPECT_EQ(bind_clone(7, "SB", 2, 60), NET(3));
	EXPECT_EQ(bind_clone(8, "SA", 1, 60), NET(2));
	EXPECT_EQ(entries(60), 2);
	/* Duplicate addresses are still refused. */
	memcpy(again, buf, (size_t)n);
	memcpy(again + 16 + 148, again + 16, 4);
	fix_sum(again, (size_t)n);
	why = NULL;
	EXPECT_EQ(uvn_dhcp_import(&srv, again, (size_t)n, 60, &why), -UVN_EINVAL);
	EXPECT(why && strstr(why, "duplicate address"));

	/* Without serials: after the reload, each clone gets one of the two
	 * leases, never both the same, whichever comes first. */
	setup();
	EXPECT_EQ(bind_clone(1, NULL, 1, T0), NET(2));
	EXPECT_EQ(bind_clone(2, NULL, 2, T0), NET(3));
	n = uvn_dhcp_export(&srv, buf, sizeof(buf), T0 + 10);
	setup();
	EXPECT_EQ(uvn_dhcp_import(&srv, buf, (size_t)n, 50, &why), 0);
	ipb = bind_clone(5, NULL, 2, 60);
	ipa = bind_clone(6, NULL, 1, 60);
	EXPECT(ipa != ipb);
	EXPECT(ipa == NET(2) || ipa == NET(3));
	EXPECT(ipb == NET(2) || ipb == NET(3));
	EXPECT_EQ(entries(60), 2);
	EXPECT_EQ(slot_at(ipa, 60), 6);
	EXPECT_EQ(slot_at(ipb, 60), 5);
	/* Rebooting (INIT-REBOOT), each asks for the address it had: it gets it. */
	setup();
	EXPECT_EQ(uvn_dhcp_import(&srv, buf, (size_t)n, 50, &why), 0);
	q = clone_msg(DF_REQUEST, 2);
	q.requested = NET(3);
	EXPECT(send_frame(5, NULL, &q, &r, 60) > 0);
	EXPECT(r.type == DF_ACK && r.yiaddr == NET(3));
	q = clone_msg(DF_REQUEST, 1);
	q.requested = NET(2);
	EXPECT(send_frame(6, NULL, &q, &r, 60) > 0);
	EXPECT(r.type == DF_ACK && r.yiaddr == NET(2));
	EXPECT_EQ(entries(60), 2);
}

static void parameter_request_list_honoured(void)
{
	static const uint8_t some[] = { 28, 42, 3, 3, 1 }, all[] = { 15, 6, 26, 3, 28 };
	uint8_t longest[200];
	struct uvn_dhcp_config c;
	struct df_req q;
	struct df_reply r;

	config(&c);
	c.nr_dns = 1;
	c.dns[0] = IP(9, 9, 9, 9);
	strcpy(c.domain, "usb.lan");
	c.mtu = 1400;
	setup_with(&c);

	/* Mandatory ones first, then what was asked for, in its order, each
	 * once, the mask ahead of the router; unknown codes (42: NTP) are
	 * skipped. */
	q = msg(DF_DISCOVER, 1);
	q.prl = some;
	q.prl_len = sizeof(some);
	EXPECT(send_frame(0, NULL, &q, &r, T0) > 0);
	EXPECT_EQ(r.nr_order, 8);
	EXPECT(!memcmp(r.order, (uint8_t[]){ 53, 54, 51, 58, 59, 28, 1, 3 }, 8));
	EXPECT(!r.nr_dns && !r.mtu && !r.domain[0]);
	/* Everything, in the client's order. */
	q.prl = all;
	q.prl_len = sizeof(all);
	EXPECT(send_frame(0, NULL, &q, &r, T0) > 0);
	EXPECT_EQ(r.nr_order, 11);
	EXPECT(!memcmp(r.order + 6, all, sizeof(all)));
	/* A long list of codes we do not have loses none of those we have. */
	memset(longest, 42, sizeof(longest));
	longest[sizeof(longest) - 2] = 6;
	longest[sizeof(longest) - 1] = 3;
	q.prl = longest;
	q.prl_len = sizeof(longest);
	EXPECT(send_frame(0, NULL, &q, &r, T0) > 0);
	EXPECT_EQ(r.nr_order, 8);
	EXPECT(!memcmp(r.order + 6, (uint8_t[]){ 6, 3 }, 2));
	q.prl = all;
	/* An empty list: the mandatory ones and the mask. */
	q.prl_len = 0;
	EXPECT(send_frame(0, NULL, &q, &r, T0) > 0);
	EXPECT_EQ(r.nr_order, 6);
	EXPECT(r.has_mask && r.has_lease);
	/* No list at all: everything we have. */
	q.no_prl = true;
	EXPECT(send_frame(0, NULL, &q, &r, T0) > 0);
	EXPECT_EQ(r.nr_order, 11);
	/* INFORM: no lease options, the rest as asked. */
	q = msg(DF_INFORM, 1);
	q.ciaddr = NET(99);
	q.prl = some;
	q.prl_len = sizeof(some);
	EXPECT(send_frame(0, NULL, &q, &r, T0) > 0);
	EXPECT_EQ(r.nr_order, 5);
	EXPECT(!memcmp(r.order, (uint8_t[]){ 53, 54, 28, 1, 3 }, 5));
	/* The host's client asking for a router still gets none. */
	q = msg(DF_DISCOVER, 2);
	q.prl = all;
	q.prl_len = sizeof(all);
	EXPECT(send_frame(UVN_DHCP_HOST, NULL, &q, &r, T0) > 0);
	EXPECT(!r.has_router && !r.nr_dns && !r.domain[0]);
	EXPECT_EQ(r.mtu, 1400);
	/* Many instances concatenate (RFC 3396). */
	{
		static const uint8_t split[] = { 55, 1, 6, 55, 1, 15 };

		q = msg(DF_DISCOVER, 3);
		q.prl = (const uint8_t[]){ 26 };
		q.prl_len = 1;
		q.extra = split;
		q.extra_len = sizeof(split);
		EXPECT(send_frame(0, NULL, &q, &r, T0) > 0);
		EXPECT_EQ(r.nr_order, 9);
		EXPECT(!memcmp(r.order + 6, (uint8_t[]){ 26, 6, 15 }, 3));
	}
}

/* Sends a DISCOVER with this list from slot; the codes after the 5 mandatory ones. */
static size_t listed_order(uint32_t slot, const uint8_t *prl, size_t n, uint8_t *order)
{
	struct df_req q = msg(DF_DISCOVER, 1);
	struct df_reply r;

	q.prl = prl;
	q.prl_len = n;
	if (send_frame(slot, NULL, &q, &r, T0) <= 0 || r.nr_order < 5)
		return 0;
	EXPECT(!memcmp(r.order, (uint8_t[]){ 53, 54, 51, 58, 59 }, 5));
	memcpy(order, r.order + 5, r.nr_order - 5);
	return r.nr_order - 5;
}

/* RFC 2132/2131: the mask goes where the list asks for it, like the other
 * options, except that it always precedes the router (RFC 2132 3.3). */
static void subnet_mask_in_list_order(void)
{
	struct uvn_dhcp_config c;
	struct df_req q;
	struct df_reply r;
	uint8_t o[64];

	config(&c);
	c.nr_dns = 1;
	c.dns[0] = IP(9, 9, 9, 9);
	c.mtu = 1400;
	setup_with(&c);
#define ORDER(slot, prl, ...)                                                           \
	do {                                                                            \
		static const uint8_t want[] = { __VA_ARGS__ };                          \
		EXPECT_EQ(listed_order(slot, prl, sizeof(prl), o), sizeof(want));       \
		EXPECT(!memcmp(o, want, sizeof(want)));                                 \
	} while (0)
	ORDER(0, ((uint8_t[]){ 28, 1, 6 }), 28, 1, 6);
	ORDER(0, ((uint8_t[]){ 6, 26, 1 }), 6, 26, 1);		/* last, if asked last */
	ORDER(0, ((uint8_t[]){ 1, 1, 28, 1 }), 1, 28);		/* once */
	ORDER(0, ((uint8_t[]){ 3, 1 }), 1, 3);			/* never after the router */
	ORDER(0, ((uint8_t[]){ 28, 3, 6, 1 }), 28, 1, 3, 6);
	ORDER(0, ((uint8_t[]){ 6, 3 }), 1, 6, 3);		/* not asked for: still sent, first */
	/* The host's client gets no router, so nothing moves the mask. */
	ORDER(UVN_DHCP_HOST, ((uint8_t[]){ 3, 26, 1 }), 26, 1);
#undef ORDER
	/* Split in instances (RFC 3396), the list still orders the mask. */
	q = msg(DF_DISCOVER, 2);
	q.prl = (const uint8_t[]){ 28 };
	q.prl_len = 1;
	q.extra = (const uint8_t[]){ 55, 1, 6, 55, 2, 1, 3 };
	q.extra_len = 7;
	EXPECT(send_frame(0, NULL, &q, &r, T0) > 0);
	EXPECT_EQ(r.nr_order, 9);
	EXPECT(!memcmp(r.order + 5, (uint8_t[]){ 28, 6, 1, 3 }, 4));
	/* No list: the mask first, then everything else. */
	q = msg(DF_DISCOVER, 3);
	q.no_prl = true;
	EXPECT(send_frame(0, NULL, &q, &r, T0) > 0);
	EXPECT_EQ(r.nr_order, 10);
	EXPECT(!memcmp(r.order + 5, (uint8_t[]){ 1, 28, 26, 3, 6 }, 5));
	/* INFORM and an empty list: the mask right after the server id. */
	q = msg(DF_INFORM, 4);
	q.ciaddr = NET(99);
	q.prl = (const uint8_t[]){ 26, 1 };
	q.prl_len = 2;
	EXPECT(send_frame(0, NULL, &q, &r, T0) > 0);
	EXPECT_EQ(r.nr_order, 4);
	EXPECT(!memcmp(r.order, (uint8_t[]){ 53, 54, 26, 1 }, 4));
	q.prl_len = 0;
	EXPECT(send_frame(0, NULL, &q, &r, T0) > 0);
	EXPECT_EQ(r.nr_order, 3);
	EXPECT(r.has_mask);
}

/* A client id split in instances (RFC 3396) is one id: echoed whole. */
static void split_client_id_echoed_whole(void)
{
	static const uint8_t whole[] = { 0xff, 'a', 'b', 'c', 'd', 'e' };
	static const uint8_t tail[] = { 61, 3, 'c', 'd', 'e' };
	static const uint8_t empty_first[] = { 61, 0, 61, 6, 0xff, 'a', 'b', 'c', 'd', 'e' };
	static const uint8_t overload_both[] = { 52, 1, 3 };
	uint8_t longest[2 + 55], *b = frame + 42;
	uint8_t id[300];
	struct df_req q;
	struct df_reply r;
	uint32_t offered;
	size_t n;
	int got;

	setup();
	/* Bound with the whole id, then the same id in two instances: the
	 * same client, and the echo is the whole id. */
	EXPECT_EQ(bind_cid(0, 1, whole, sizeof(whole), T0), NET(2));
	q = with_cid(DF_DISCOVER, 2, whole, 3);
	q.extra = tail;
	q.extra_len = sizeof(tail);
	EXPECT(send_frame(0, NULL, &q, &r, T0) > 0);
	EXPECT_EQ(r.type, DF_OFFER);
	EXPECT_EQ(r.yiaddr, NET(2));
	EXPECT_EQ(r.cid_len, sizeof(whole));
	EXPECT(!memcmp(r.cid, whole, sizeof(whole)));
	/* An empty instance adds nothing; only empty ones are no id at all. */
	q = msg(DF_DISCOVER, 3);
	q.extra = empty_first;
	q.extra_len = sizeof(empty_first);
	EXPECT(send_frame(0, NULL, &q, &r, T0) > 0);
	EXPECT_EQ(r.yiaddr, NET(2));
	EXPECT_EQ(r.cid_len, sizeof(whole));
	q.extra_len = 2;
	EXPECT_EQ(send_frame(0, NULL, &q, &r, T0), -UVN_EINVAL);
	EXPECT_EQ(srv.counters.bad_option, 1);
	/* Options, then file, then sname (RFC 3396 5): 0xff 'a' 'b' + 'c' + 'd' 'e'. */
	q = with_cid(DF_DISCOVER, 4, whole, 3);
	q.extra = overload_both;
	q.extra_len = sizeof(overload_both);
	n = df_build(frame, &q);
	b[108] = 61, b[109] = 1, b[110] = 'c', b[111] = 255;
	b[44] = 61, b[45] = 2, b[46] = 'd', b[47] = 'e', b[48] = 255;
	got = uvn_dhcp_handle(&srv, 0, NULL, frame, n, reply, sizeof(reply), T0);
	EXPECT(got > 0);
	EXPECT_EQ(df_parse_reply(reply, (size_t)got, &r), 0);
	EXPECT_EQ(r.yiaddr, NET(2));
	EXPECT_EQ(r.cid_len, sizeof(whole));
	EXPECT(!memcmp(r.cid, whole, sizeof(whole)));

	/* 200 + 55 bytes: the longest id one option holds, echoed as one. */
	memset(id, 'I', sizeof(id));
	id[0] = 0;
	id[254] = 'Z';
	longest[0] = 61;
	longest[1] = 55;
	memcpy(longest + 2, id + 200, 55);
	q = with_cid(DF_DISCOVER, 5, id, 200);
	q.extra = longest;
	q.extra_len = sizeof(longest);
	EXPECT(send_frame(1, NULL, &q, &r, T0) > 0);
	EXPECT_EQ(r.type, DF_OFFER);
	EXPECT_EQ(r.cid_len, 255);
	EXPECT(!memcmp(r.cid, id, 255));
	EXPECT_EQ(bind_cid(1, 6, id, 255, T0 + 1), r.yiaddr);	/* the same id, whole */
	/* 300 bytes: no single option holds it; not echoed, still the client's key. */
	{
		uint8_t more[2 + 100];

		more[0] = 61;
		more[1] = 100;
		memcpy(more + 2, id + 200, 100);
		q = with_cid(DF_DISCOVER, 7, id, 200);
		q.extra = more;
		q.extra_len = sizeof(more);
		EXPECT(send_frame(2, NULL, &q, &r, T0 + 2) > 0);
		EXPECT_EQ(r.type, DF_OFFER);
		EXPECT_EQ(r.cid_len, 0);
		EXPECT(r.yiaddr != 0);
		offered = r.yiaddr;
		EXPECT(send_frame(2, NULL, &q, &r, T0 + 3) > 0);
		EXPECT_EQ(r.yiaddr, offered);
	}
}

/* ---- fuzz seeds ------------------------------------------------------------------ */

/*
 * fuzz_dhcp inputs start with a mode byte: 'F' one frame from a slot
 * (byte 1) then the frame; 'S' a program; 'I' an import. See fuzz_dhcp.c.
 */
static int write_seed(const char *dir, const char *name, const uint8_t *p, size_t n)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n) {
		perror(path);
		return 1;
	}
	return fclose(f) != 0;
}

static int frame_seed(const char *dir, const char *name, const struct df_req *q)
{
	uint8_t seed[2 + DF_MAX];
	size_t n = df_build(seed + 2, q);

	seed[0] = 'F';
	seed[1] = 3;
	return write_seed(dir, name, seed, 2 + n);
}

/* A synthesised message in a fuzz_dhcp program (see synth() there). */
static void synth_op(uint8_t *prog, size_t *n, uint8_t slot, uint8_t type, uint8_t mac,
		     uint8_t bits, uint8_t pick)
{
	uint8_t op[6] = { 3, slot, (uint8_t)(type - 1), mac, bits, pick };

	memcpy(prog + *n, op, sizeof(op));
	*n += sizeof(op);
}

#define S_REQ		0x01	/* option 50 */
#define S_CIADDR	0x02
#define S_OURS		0x08	/* our server id */
#define S_LAST		0x80	/* the address last answered */
#define S_SPLIT		0x10	/* or'ed into the type: the client id in two instances */

static int write_seeds(const char *dir)
{
	uint8_t prog[4096];
	size_t n = 0, len;
	struct df_req q;
	int err = 0;
	int size;
	unsigned int i;

	q = msg(DF_DISCOVER, 1);
	err |= frame_seed(dir, "discover", &q);
	q.extra = rapid_opt;
	q.extra_len = sizeof(rapid_opt);
	err |= frame_seed(dir, "discover-rapid", &q);
	q = msg(DF_REQUEST, 1);
	q.requested = NET(2);
	q.server_id = HOST_IP;
	err |= frame_seed(dir, "request-selecting", &q);
	q = msg(DF_REQUEST, 1);
	q.ciaddr = NET(2);
	q.ip_dst = HOST_IP;
	err |= frame_seed(dir, "request-renewing", &q);
	q = msg(DF_RELEASE, 1);
	q.ciaddr = NET(2);
	q.server_id = HOST_IP;
	err |= frame_seed(dir, "release", &q);
	q = msg(DF_INFORM, 1);
	q.ciaddr = NET(9);
	err |= frame_seed(dir, "inform", &q);
	{
		static const uint8_t cid[] = { 1, 2, 0xde, 0xad, 0, 0, 1 }, prl[] = { 28, 3, 3, 42 };
		static const uint8_t split[] = { 61, 3, 'a', 'b', 'c', 55, 1, 6, 61, 2, 'd', 'e' };

		q = msg(DF_DISCOVER, 1);
		q.cid = cid;
		q.cid_len = sizeof(cid);
		q.prl = prl;
		q.prl_len = sizeof(prl);
		err |= frame_seed(dir, "client-id-params", &q);
		q = msg(DF_REQUEST, 1);
		q.requested = IP(10, 0, 0, 1);		/* a NAK with its message */
		q.extra = split;			/* options split in instances */
		q.extra_len = sizeof(split);
		err |= frame_seed(dir, "nak-split-options", &q);
	}
	q = msg(DF_RELEASE, 1);			/* no server id: malformed */
	q.ciaddr = NET(2);
	err |= frame_seed(dir, "release-no-server-id", &q);
	q = msg(DF_DECLINE, 1);
	q.requested = NET(2);
	q.server_id = HOST_IP;
	err |= frame_seed(dir, "decline", &q);
	q = msg(DF_DISCOVER, 1);		/* the mask placed ahead of the router */
	q.prl = (const uint8_t[]){ 3, 28, 1 };
	q.prl_len = 3;
	err |= frame_seed(dir, "params-router-mask", &q);
	{
		/* A client id split over options, file and sname (RFC 3396). */
		static const uint8_t cid[] = { 0xff, 'a', 'b' }, overload_both[] = { 52, 1, 3 };
		uint8_t seed[2 + DF_MAX], *b = seed + 2 + 42;

		q = msg(DF_DISCOVER, 1);
		q.cid = cid;
		q.cid_len = sizeof(cid);
		q.extra = overload_both;
		q.extra_len = sizeof(overload_both);
		len = df_build(seed + 2, &q);
		b[108] = 61, b[109] = 1, b[110] = 'c', b[111] = 255;
		b[44] = 61, b[45] = 2, b[46] = 'd', b[47] = 'e', b[48] = 255;
		seed[0] = 'F';
		seed[1] = 3;
		err |= write_seed(dir, "client-id-split-overload", seed, 2 + len);
	}

	/* A program: DISCOVER, REQUEST on slot 1, slot 1 gone, DISCOVER on slot 2. */
	prog[n++] = 'S';
	q = msg(DF_DISCOVER, 1);
	prog[n++] = 0, prog[n++] = 1;		/* op frame, slot 1 */
	len = df_build(frame, &q);
	prog[n++] = (uint8_t)len, prog[n++] = (uint8_t)(len >> 8);
	memcpy(prog + n, frame, len), n += len;
	q = msg(DF_REQUEST, 1);
	q.requested = NET(2);
	q.server_id = HOST_IP;
	prog[n++] = 0, prog[n++] = 1;
	len = df_build(frame, &q);
	prog[n++] = (uint8_t)len, prog[n++] = (uint8_t)(len >> 8);
	memcpy(prog + n, frame, len), n += len;
	prog[n++] = 1, prog[n++] = 1;		/* op slot gone, slot 1 */
	q = msg(DF_DISCOVER, 1);
	prog[n++] = 0, prog[n++] = 2;
	len = df_build(frame, &q);
	prog[n++] = (uint8_t)len, prog[n++] = (uint8_t)(len >> 8);
	memcpy(prog + n, frame, len), n += len;
	err |= write_seed(dir, "sequence", prog, n);

	/* Leases through their life: bind, cap, release, decline, unplug, expiry. */
	n = 0;
	prog[n++] = 'S';
	for (i = 1; i < 7; i++) {
		synth_op(prog, &n, (uint8_t)(i / 3), DF_DISCOVER, (uint8_t)i, 0, 0);
		synth_op(prog, &n, (uint8_t)(i / 3), DF_REQUEST, (uint8_t)i, S_LAST | S_REQ | S_OURS, 0);
	}
	synth_op(prog, &n, 2, DF_RELEASE, 6, S_LAST | S_CIADDR, 0);	/* no server id: dropped */
	synth_op(prog, &n, 2, DF_RELEASE, 6, S_LAST | S_CIADDR | S_OURS, 0);
	synth_op(prog, &n, 1, DF_DISCOVER, 4, 0, 0);
	synth_op(prog, &n, 1, DF_REQUEST, 4, S_LAST | S_REQ | S_OURS, 0);
	synth_op(prog, &n, 1, DF_DECLINE, 4, S_LAST | S_REQ | S_OURS, 0);
	synth_op(prog, &n, 1, DF_REQUEST, 2, S_REQ, 5);		/* INIT-REBOOT */
	synth_op(prog, &n, 1, DF_REQUEST, 2, S_CIADDR, 5);	/* RENEWING */
	/* Client ids (see synth() in fuzz_dhcp.c): udhcpc's, shared, long. */
	synth_op(prog, &n, 4, DF_DISCOVER, 0x13, 0, 0);
	synth_op(prog, &n, 4, DF_REQUEST, 0x13, S_LAST | S_REQ | S_OURS, 0);
	synth_op(prog, &n, 4, DF_DISCOVER, 0x23, 0, 0);
	synth_op(prog, &n, 5, DF_DISCOVER, 0x24, 0, 0);
	synth_op(prog, &n, 5, DF_REQUEST, 0x24, S_LAST | S_REQ | S_OURS, 0);
	synth_op(prog, &n, 6, DF_DISCOVER, 0x35, 0, 0);
	synth_op(prog, &n, 6, DF_DISCOVER, 0x75, 0, 0);
	synth_op(prog, &n, 6, DF_RELEASE, 0x35, S_LAST | S_CIADDR | S_OURS, 0);
	synth_op(prog, &n, 4, DF_DISCOVER | S_SPLIT, 0x13, 0, 0);
	synth_op(prog, &n, 4, DF_REQUEST | S_SPLIT, 0x13, S_LAST | S_REQ | S_OURS, 0);
	synth_op(prog, &n, 6, DF_DISCOVER | S_SPLIT, 0x35, 0, 0);
	synth_op(prog, &n, 3, DF_INFORM, 9, S_CIADDR, 9);
	synth_op(prog, &n, 32, DF_DISCOVER, 9, 0, 0);		/* the host */
	prog[n++] = 1, prog[n++] = 0;				/* slot 0 gone */
	prog[n++] = 2, prog[n++] = 250;				/* time passes */
	synth_op(prog, &n, 7, DF_DISCOVER, 5, 0, 0);		/* reserved by MAC and slot */
	synth_op(prog, &n, 8 | 0x80, DF_DISCOVER, 11, 0, 0);	/* reserved by serial */
	prog[n++] = 5, prog[n++] = 2;				/* pool shrinks to three */
	for (i = 0; i < 12; i++)				/* exhaustion */
		synth_op(prog, &n, (uint8_t)(10 + i), DF_DISCOVER, (uint8_t)(i + 1), 0, 0);
	err |= write_seed(dir, "lifecycle", prog, n);

	/* Clones: one client id (0x2X: the shared short one) from two slots,
	 * with serials S1 and S2 (arg bits 6-7), then without any. */
	n = 0;
	prog[n++] = 'S';
	synth_op(prog, &n, 1 | 0x80, DF_DISCOVER, 0x21, 0, 0);
	synth_op(prog, &n, 1 | 0x80, DF_REQUEST, 0x21, S_LAST | S_REQ | S_OURS, 0);
	synth_op(prog, &n, 2 | 0xc0, DF_DISCOVER, 0x22, 0, 0);
	synth_op(prog, &n, 2 | 0xc0, DF_REQUEST, 0x22, S_LAST | S_REQ | S_OURS, 0);
	synth_op(prog, &n, 2 | 0xc0, DF_REQUEST, 0x22, S_REQ, 2);	/* INIT-REBOOT, the other's */
	synth_op(prog, &n, 2 | 0xc0, DF_RELEASE, 0x22, S_CIADDR | S_OURS, 2);
	synth_op(prog, &n, 2 | 0xc0, DF_RELEASE, 0x22, S_CIADDR | S_OURS, 3);
	prog[n++] = 1, prog[n++] = 1;				/* slot 1 gone */
	synth_op(prog, &n, 3 | 0x80, DF_DISCOVER, 0x21, 0, 0);	/* back elsewhere */
	synth_op(prog, &n, 3 | 0x80, DF_REQUEST, 0x21, S_LAST | S_REQ | S_OURS, 0);
	synth_op(prog, &n, 4, DF_DISCOVER, 0x25, 0, 0);
	synth_op(prog, &n, 5, DF_DISCOVER | 8, 0x26, 0, 0);	/* Rapid Commit */
	prog[n++] = 1, prog[n++] = 4;				/* slot 4 gone */
	synth_op(prog, &n, 5, DF_DISCOVER, 0x26, 0, 0);
	err |= write_seed(dir, "clones", prog, n);

	size = populate();
	prog[0] = 'I';
	memcpy(prog + 1, exported, (size_t)size);
	err |= write_seed(dir, "import", prog, 1 + (size_t)size);
	/* The same table as version 1 wrote it. */
	prog[0] = 'I';
	memcpy(prog + 1, exported, 16);
	prog[1 + 4] = 1, prog[1 + 6] = 80;
	for (i = 0; 16 + 148 * i < (unsigned int)size; i++)
		memcpy(prog + 1 + 16 + 80 * i, exported + 16 + 148 * i, 80);
	fix_sum(prog + 1, 16 + 80 * i);
	err |= write_seed(dir, "import-v1", prog, 1 + 16 + 80 * i);
	return err;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--write-seeds"))
		return write_seeds(argv[2]);

	RUN(default_config);
	RUN(config_rejects_bad_settings);
	RUN(is_request_checks_cheaply);
	RUN(discover_offer_request_ack);
	RUN(largest_reply_fits);
	RUN(rapid_commit_acks_discover);
	RUN(offer_expires_unless_requested);
	RUN(init_reboot);
	RUN(renewing_and_rebinding);
	RUN(release_frees);
	RUN(decline_quarantines);
	RUN(declines_count_against_the_slot);
	RUN(release_decline_need_server_id);
	RUN(request_cannot_take_an_unplugged_devices_lease);
	RUN(inform_gets_options_only);
	RUN(host_gets_host_address);
	RUN(replug_keeps_address);
	RUN(reservations_honoured);
	RUN(per_slot_cap);
	RUN(exhaustion_answers_nothing);
	RUN(slot_gone_releases_only_that_slot);
	RUN(other_slot_cannot_touch_lease);
	RUN(disabled_and_small_buffer);
	RUN(small_buffer_never_half_applies);
	RUN(configure_keeps_valid_leases);
	RUN(truncated_frames_dropped);
	RUN(malformed_headers_dropped);
	RUN(bad_options_dropped);
	RUN(overloaded_fields_parsed);
	RUN(export_import_round_trip);
	RUN(import_rejects_corruption);
	RUN(client_id_identifies_client);
	RUN(client_id_claims_lease_known_by_mac);
	RUN(import_version_1);
	RUN(clones_get_their_own_addresses);
	RUN(clones_release_and_decline_their_own);
	RUN(clones_unplug_and_come_back);
	RUN(clone_asking_for_the_others_address_is_naked);
	RUN(clones_keep_to_the_per_slot_cap);
	RUN(clones_and_reservations);
	RUN(clones_survive_export_import);
	RUN(parameter_request_list_honoured);
	RUN(subnet_mask_in_list_order);
	RUN(split_client_id_echoed_whole);
	UNIT_EXIT();
}
