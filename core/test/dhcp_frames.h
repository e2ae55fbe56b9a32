/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Test-side DHCP on the wire, written independently of core/uvn_dhcp_msg.c:
 * builds client frames byte by byte and parses the server's replies back,
 * verifying both checksums. Shared by test_dhcp.c and fuzz_dhcp.c.
 */
#ifndef DHCP_FRAMES_H
#define DHCP_FRAMES_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <string.h>

#define DF_DISCOVER	1
#define DF_OFFER	2
#define DF_REQUEST	3
#define DF_DECLINE	4
#define DF_ACK		5
#define DF_NAK		6
#define DF_RELEASE	7
#define DF_INFORM	8

#define DF_MAX		1514

/* A client's message; zero fields are left out (options) or zero (fields). */
struct df_req {
	uint8_t type;			/* 0: no option 53 */
	uint8_t mac[6];
	uint32_t xid;
	uint32_t ciaddr;
	uint32_t giaddr;
	uint32_t requested;		/* option 50 */
	uint32_t server_id;		/* option 54 */
	uint32_t ip_dst;		/* 0: 255.255.255.255 */
	uint16_t flags;
	const uint8_t *extra;		/* raw options placed before END */
	size_t extra_len;
	bool no_end;
	const uint8_t *prl;		/* option 55's codes; NULL: 1 3 6 15 26 28 */
	size_t prl_len;
	bool no_prl;			/* no option 55 at all */
	const uint8_t *cid;		/* option 61 (up to 255 bytes), NULL: none */
	size_t cid_len;
};

static inline void df_be16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void df_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint32_t df_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint32_t df_sum(const uint8_t *p, size_t n, uint32_t acc)
{
	for (size_t i = 0; i < n; i++)
		acc += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return acc;
}

/* Recomputes the IPv4 header checksum of a frame (after a test edits it). */
static inline void df_fix_ip_sum(uint8_t *f)
{
	f[24] = f[25] = 0;
	df_be16(f + 24, ~df_sum(f + 14, 20, 0) & 0xffff);
}

/* Writes the frame into f (DF_MAX bytes); returns its length. */
static inline size_t df_build(uint8_t *f, const struct df_req *r)
{
	uint8_t *ip = f + 14, *udp = ip + 20, *b = udp + 8, *o = b + 240;
	size_t blen;

	memset(f, 0, DF_MAX);
	memset(f, 0xff, 6);
	memcpy(f + 6, r->mac, 6);
	df_be16(f + 12, 0x0800);

	b[0] = 1;
	b[1] = 1;
	b[2] = 6;
	df_be32(b + 4, r->xid);
	df_be16(b + 10, r->flags);
	df_be32(b + 12, r->ciaddr);
	df_be32(b + 24, r->giaddr);
	memcpy(b + 28, r->mac, 6);
	b[236] = 99, b[237] = 130, b[238] = 83, b[239] = 99;
	if (r->type) {
		*o++ = 53, *o++ = 1, *o++ = r->type;
	}
	if (r->requested) {
		*o++ = 50, *o++ = 4;
		df_be32(o, r->requested);
		o += 4;
	}
	if (r->server_id) {
		*o++ = 54, *o++ = 4;
		df_be32(o, r->server_id);
		o += 4;
	}
	if (!r->no_prl) {
		static const uint8_t usual[] = { 1, 3, 6, 15, 26, 28 };
		const uint8_t *p = r->prl ? r->prl : usual;
		size_t n = r->prl ? r->prl_len : sizeof(usual);

		*o++ = 55, *o++ = (uint8_t)n;
		memcpy(o, p, n);
		o += n;
	}
	if (r->cid) {
		*o++ = 61, *o++ = (uint8_t)r->cid_len;
		memcpy(o, r->cid, r->cid_len);
		o += r->cid_len;
	}
	if (r->extra_len) {
		memcpy(o, r->extra, r->extra_len);
		o += r->extra_len;
	}
	if (!r->no_end)
		*o++ = 255;
	blen = (size_t)(o - b);
	if (blen < 300 && !r->no_end)
		blen = 300;

	ip[0] = 0x45;
	df_be16(ip + 2, 20 + 8 + blen);
	ip[8] = 64;
	ip[9] = 17;
	df_be32(ip + 12, r->ciaddr);
	df_be32(ip + 16, r->ip_dst ? r->ip_dst : 0xffffffffU);
	df_fix_ip_sum(f);
	df_be16(udp, 68);
	df_be16(udp + 2, 67);
	df_be16(udp + 4, 8 + blen);
	return 14 + 20 + 8 + blen;
}

/* A server reply, parsed back. */
struct df_reply {
	uint8_t eth_dst[6], eth_src[6];
	uint32_t ip_src, ip_dst;
	uint8_t op;
	uint32_t xid, ciaddr, yiaddr, giaddr;
	uint16_t flags;
	uint8_t chaddr[6];
	uint8_t type;
	uint32_t server_id, lease, t1, t2, mask, router, broadcast;
	uint32_t dns[4];
	unsigned int nr_dns;
	char domain[256];
	uint16_t mtu;
	bool has_lease, has_router, has_mask;
	bool rapid_commit;		/* option 80 */
	char message[256];		/* option 56 */
	uint8_t cid[256];		/* option 61 echoed */
	size_t cid_len;
	uint8_t order[64];		/* option codes in the order sent */
	size_t nr_order;
};

/*
 * Returns 0, or which check failed: 1 headers, 2 IP checksum, 3 UDP length,
 * 4 UDP checksum, 5 BOOTP, 6 options.
 */
static inline int df_parse_reply(const uint8_t *f, size_t n, struct df_reply *r)
{
	const uint8_t *ip = f + 14, *udp, *b;
	size_t ulen, i;
	uint32_t acc;

	memset(r, 0, sizeof(*r));
	if (n < 14 + 20 + 8 || f[12] != 0x08 || f[13] != 0 || ip[0] != 0x45 || ip[9] != 17)
		return 1;
	if ((size_t)(ip[2] << 8 | ip[3]) != n - 14)
		return 1;
	if (df_sum(ip, 20, 0) != 0xffff)
		return 2;
	udp = ip + 20;
	ulen = (size_t)(udp[4] << 8 | udp[5]);
	if (ulen != n - 34 || udp[0] != 0 || udp[1] != 67 || udp[2] != 0 || udp[3] != 68)
		return 3;
	if (udp[6] | udp[7]) {
		acc = df_sum(ip + 12, 8, 17 + (uint32_t)ulen);
		if (df_sum(udp, ulen, acc) != 0xffff)
			return 4;
	}
	b = udp + 8;
	if (ulen - 8 < 240 || b[236] != 99 || b[237] != 130 || b[238] != 83 || b[239] != 99)
		return 5;
	memcpy(r->eth_dst, f, 6);
	memcpy(r->eth_src, f + 6, 6);
	r->ip_src = df_get32(ip + 12);
	r->ip_dst = df_get32(ip + 16);
	r->op = b[0];
	r->xid = df_get32(b + 4);
	r->flags = (uint16_t)(b[10] << 8 | b[11]);
	r->ciaddr = df_get32(b + 12);
	r->yiaddr = df_get32(b + 16);
	r->giaddr = df_get32(b + 24);
	memcpy(r->chaddr, b + 28, 6);
	for (i = 240; i < ulen - 8;) {
		uint8_t code = b[i], len;
		const uint8_t *v;

		if (code == 0) {
			i++;
			continue;
		}
		if (code == 255)
			return 0;
		if (i + 2 > ulen - 8 || i + 2 + b[i + 1] > ulen - 8)
			return 6;
		len = b[i + 1];
		v = b + i + 2;
		if (r->nr_order < sizeof(r->order))
			r->order[r->nr_order++] = code;
		switch (code) {
		case 53: r->type = v[0]; break;
		case 54: r->server_id = df_get32(v); break;
		case 51: r->lease = df_get32(v); r->has_lease = true; break;
		case 58: r->t1 = df_get32(v); break;
		case 59: r->t2 = df_get32(v); break;
		case 1: r->mask = df_get32(v); r->has_mask = true; break;
		case 3: r->router = df_get32(v); r->has_router = true; break;
		case 28: r->broadcast = df_get32(v); break;
		case 26: r->mtu = (uint16_t)(v[0] << 8 | v[1]); break;
		case 6:
			for (r->nr_dns = 0; r->nr_dns < len / 4 && r->nr_dns < 4; r->nr_dns++)
				r->dns[r->nr_dns] = df_get32(v + 4 * r->nr_dns);
			break;
		case 15: memcpy(r->domain, v, len); r->domain[len] = 0; break;
		case 56: memcpy(r->message, v, len); r->message[len] = 0; break;
		case 61: memcpy(r->cid, v, len); r->cid_len = len; break;
		case 80: r->rapid_commit = true; break;
		}
		i += 2 + (size_t)len;
	}
	return 6;	/* no END */
}

#endif
