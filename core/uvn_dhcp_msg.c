// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * DHCP on the wire: parsing a client's Ethernet frame down to the options,
 * and building the reply frame. Every read is checked against the length
 * the enclosing header allows, never against what the next header claims.
 */
#include "uvn_dhcp_internal.h"

#define ETH_HLEN	14
#define ETH_P_IP	0x0800
#define IP_HLEN		20
#define IPPROTO_UDP	17
#define UDP_HLEN	8
#define BOOTP_FIXED	236		/* up to the magic cookie */
#define BOOTP_OPTIONS	240		/* after it */
#define BOOTP_MIN	300		/* RFC 1542: BOOTP relays and clients expect this */
#define BOOTP_SNAME	44
#define BOOTP_FILE	108
#define PORT_SERVER	67
#define PORT_CLIENT	68

enum {
	OPT_PAD = 0,
	OPT_SUBNET_MASK = 1,
	OPT_ROUTER = 3,
	OPT_DNS = 6,
	OPT_DOMAIN = 15,
	OPT_MTU = 26,
	OPT_BROADCAST = 28,
	OPT_REQUESTED_IP = 50,
	OPT_LEASE_TIME = 51,
	OPT_OVERLOAD = 52,
	OPT_MSG_TYPE = 53,
	OPT_SERVER_ID = 54,
	OPT_PARAMS = 55,
	OPT_MESSAGE = 56,
	OPT_T1 = 58,
	OPT_T2 = 59,
	OPT_CLIENT_ID = 61,
	OPT_RAPID_COMMIT = 80,
	OPT_END = 255,
};

static const uint8_t cookie[4] = { 99, 130, 83, 99 };

bool uvn_dhcp_is_request(const uint8_t *frame, size_t len)
{
	size_t ihl;

	if (!frame || len < ETH_HLEN + IP_HLEN)
		return false;
	if (uvn_get_be16(frame + 12) != ETH_P_IP || (frame[14] >> 4) != 4)
		return false;
	ihl = (size_t)(frame[14] & 0xf) * 4;
	if (ihl < IP_HLEN || len < ETH_HLEN + ihl + UDP_HLEN)
		return false;
	if (frame[ETH_HLEN + 9] != IPPROTO_UDP || (uvn_get_be16(frame + ETH_HLEN + 6) & 0x3fff))
		return false;
	return uvn_get_be16(frame + ETH_HLEN + ihl + 2) == PORT_SERVER;
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t acc)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		acc += uvn_get_be16(p + i);
	if (n & 1)
		acc += (uint32_t)p[n - 1] << 8;
	return acc;
}

static uint16_t fold(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)~acc;
}

enum parse_result { PARSE_OK, PARSE_NO_END, PARSE_BAD };

/* Is code among the first n entries of the parameter request list? */
static bool asked_before(const struct uvn_dhcp_msg *req, uint8_t code, uint8_t n)
{
	uint8_t i;

	for (i = 0; i < n; i++)
		if (req->prl[i] == code)
			return true;
	return false;
}

/* An option put_param can send. */
static bool served_param(uint8_t code)
{
	return code == OPT_SUBNET_MASK || code == OPT_BROADCAST || code == OPT_MTU ||
	       code == OPT_ROUTER || code == OPT_DNS || code == OPT_DOMAIN;
}

/*
 * One options field. Only the main field may carry option 52, so an
 * overloaded sname or file cannot point anywhere again: no loops. The
 * variable-length options read here (55, 61) may come in many instances,
 * concatenated in the order met (RFC 3396): options, then file, then sname.
 * The fixed-length ones (50, 53, 54) must come whole.
 */
static enum parse_result parse_options(const uint8_t *p, size_t n, struct uvn_dhcp_msg *m,
				       uint8_t *overload)
{
	size_t i = 0;

	while (i < n) {
		uint8_t code = p[i], olen, j;
		const uint8_t *v;

		if (code == OPT_PAD) {
			i++;
			continue;
		}
		if (code == OPT_END)
			return PARSE_OK;
		if (n - i < 2 || (size_t)p[i + 1] > n - i - 2)
			return PARSE_BAD;
		olen = p[i + 1];
		v = p + i + 2;
		switch (code) {
		case OPT_MSG_TYPE:
			if (olen != 1)
				return PARSE_BAD;
			if (!m->type)
				m->type = v[0];
			break;
		case OPT_REQUESTED_IP:
			if (olen != 4)
				return PARSE_BAD;
			m->requested_ip = uvn_get_be32(v);
			break;
		case OPT_SERVER_ID:
			if (olen != 4)
				return PARSE_BAD;
			m->server_id = uvn_get_be32(v);
			break;
		case OPT_OVERLOAD:
			if (olen != 1 || v[0] < 1 || v[0] > 3)
				return PARSE_BAD;
			if (overload)
				*overload = v[0];
			break;
		case OPT_PARAMS:
			/* RFC 3396: instances concatenate. Only codes we may send are
			 * kept, each once, so a long list of others loses none of them. */
			m->has_prl = true;
			for (j = 0; j < olen && m->prl_len < DHCP_PRL_MAX; j++)
				if (served_param(v[j]) && !asked_before(m, v[j], m->prl_len))
					m->prl[m->prl_len++] = v[j];
			break;
		case OPT_RAPID_COMMIT:
			if (olen != 0)		/* RFC 4039 4: always empty */
				return PARSE_BAD;
			m->rapid_commit = true;
			break;
		case OPT_CLIENT_ID:
			m->has_cid = true;
			for (j = 0; j < olen; j++, m->cid_total++) {
				if (m->cid_total < UVN_DHCP_CID_KEY)
					m->cid[m->cid_total] = v[j];
				if (m->cid_total < DHCP_OPT_MAX)
					m->cid_echo[m->cid_total] = v[j];
				m->cid_hash = (m->cid_hash ^ v[j]) * 16777619U;
			}
			break;
		}
		i += 2 + (size_t)olen;
	}
	return PARSE_NO_END;
}

int uvn_dhcp_parse(const uint8_t *frame, size_t len, struct uvn_dhcp_msg *m,
		   struct uvn_dhcp_counters *c)
{
	const uint8_t *ip, *udp, *b;
	size_t ihl, ip_len, udp_len, blen;
	uint8_t overload = 0;
	enum parse_result r;

	uvn_memset(m, 0, sizeof(*m));
	m->cid_hash = 2166136261U;
	if (len < ETH_HLEN + IP_HLEN)
		goto truncated;
	ip = frame + ETH_HLEN;
	if (uvn_get_be16(frame + 12) != ETH_P_IP || (ip[0] >> 4) != 4 || ip[9] != IPPROTO_UDP)
		goto bad_ip;
	ihl = (size_t)(ip[0] & 0xf) * 4;
	ip_len = uvn_get_be16(ip + 2);
	if (ihl < IP_HLEN || ip_len < ihl || (uvn_get_be16(ip + 6) & 0x3fff))
		goto bad_ip;
	if (ip_len > len - ETH_HLEN)	/* shorter frames are Ethernet padding */
		goto truncated;
	if (fold(sum16(ip, ihl, 0)) != 0)
		goto bad_ip;
	/* The UDP checksum is not checked: the host's own frames may still carry
	 * a partial one for the NIC to finish. */
	if (ip_len - ihl < UDP_HLEN)
		goto truncated;
	udp = ip + ihl;
	udp_len = uvn_get_be16(udp + 4);
	if (uvn_get_be16(udp + 2) != PORT_SERVER || udp_len < UDP_HLEN || udp_len > ip_len - ihl) {
		c->bad_udp++;
		return -UVN_EINVAL;
	}
	b = udp + UDP_HLEN;
	blen = udp_len - UDP_HLEN;
	if (blen < BOOTP_OPTIONS)
		goto truncated;
	if (b[0] != 1 || b[1] != 1) {	/* BOOTREQUEST, Ethernet */
		c->not_request++;
		return -UVN_EINVAL;
	}
	uvn_memcpy(m->chaddr, b + 28, 6);
	if (b[2] != 6 || (m->chaddr[0] & 1) ||
	    !(m->chaddr[0] | m->chaddr[1] | m->chaddr[2] | m->chaddr[3] | m->chaddr[4] | m->chaddr[5])) {
		c->bad_chaddr++;
		return -UVN_EINVAL;
	}
	if (uvn_memcmp(b + BOOTP_FIXED, cookie, 4)) {
		c->bad_cookie++;
		return -UVN_EINVAL;
	}
	m->xid = uvn_get_be32(b + 4);
	m->flags = uvn_get_be16(b + 10);
	m->ciaddr = uvn_get_be32(b + 12);
	m->ip_dst = uvn_get_be32(ip + 16);
	if (uvn_get_be32(b + 24)) {	/* giaddr: a relay, which this link never has */
		c->relayed++;
		return -UVN_EINVAL;
	}

	r = parse_options(b + BOOTP_OPTIONS, blen - BOOTP_OPTIONS, m, &overload);
	if (r == PARSE_NO_END)
		c->no_end++;
	if (r != PARSE_BAD && overload) {
		/* RFC 2131 4.1: file first, then sname. */
		c->overload++;
		if (overload & 1)
			r = parse_options(b + BOOTP_FILE, 128, m, NULL) == PARSE_BAD ? PARSE_BAD : r;
		if (r != PARSE_BAD && (overload & 2))
			r = parse_options(b + BOOTP_SNAME, 64, m, NULL) == PARSE_BAD ? PARSE_BAD : r;
	}
	/* RFC 2132 9.14: a client identifier has at least 2 bytes. */
	if (r == PARSE_BAD || (m->has_cid && m->cid_total < 2)) {
		c->bad_option++;
		return -UVN_EINVAL;
	}
	if (m->cid_total <= DHCP_OPT_MAX)
		m->cid_echo_len = (uint8_t)m->cid_total;
	if (m->cid_total > UVN_DHCP_CID_KEY) {
		uint8_t *h = m->cid + UVN_DHCP_CID_KEY - 4;

		h[0] = (uint8_t)(m->cid_hash & 0xff);
		h[1] = (uint8_t)((m->cid_hash >> 8) & 0xff);
		h[2] = (uint8_t)((m->cid_hash >> 16) & 0xff);
		h[3] = (uint8_t)((m->cid_hash >> 24) & 0xff);
	}
	if (!m->type) {
		c->no_msg_type++;
		return -UVN_EINVAL;
	}
	switch (m->type) {
	case DHCP_DECLINE:
	case DHCP_RELEASE:
		/* RFC 2131 table 5: they MUST name the server (0.0.0.0 names none). */
		if (!m->server_id) {
			c->bad_option++;
			return -UVN_EINVAL;
		}
		return 0;
	case DHCP_DISCOVER:
	case DHCP_REQUEST:
	case DHCP_INFORM:
		return 0;
	}
	c->bad_msg_type++;
	return -UVN_EINVAL;

truncated:
	c->truncated++;
	return -UVN_EINVAL;
bad_ip:
	c->bad_ip++;
	return -UVN_EINVAL;
}

/* Writes at out + len while it fits; with out NULL it only counts. */
struct writer {
	uint8_t *out;
	size_t cap;
	size_t len;
};

static void put(struct writer *w, const void *p, size_t n)
{
	if (n && w->out && n <= w->cap && w->len <= w->cap - n)
		uvn_memcpy(w->out + w->len, p, n);
	w->len += n;
}

static void put_opt(struct writer *w, uint8_t code, const void *v, uint8_t n)
{
	uint8_t head[2] = { code, n };

	put(w, head, 2);
	put(w, v, n);
}

static void put_opt32(struct writer *w, uint8_t code, uint32_t v)
{
	uint8_t b[4];

	uvn_put_be32(b, v);
	put_opt(w, code, b, 4);
}

/* One configurable option, if we have it for this answer. */
static void put_param(struct writer *w, const struct uvn_dhcp_config *cfg,
		      const struct uvn_dhcp_answer *a, uint8_t code)
{
	uint8_t b[4 * UVN_DHCP_MAX_DNS];
	uint32_t i, mask = uvn_dhcp_mask(cfg);
	size_t n;

	switch (code) {
	case OPT_SUBNET_MASK:
		put_opt32(w, OPT_SUBNET_MASK, mask);
		break;
	case OPT_BROADCAST:
		put_opt32(w, OPT_BROADCAST, cfg->subnet | ~mask);
		break;
	case OPT_MTU:
		if (cfg->mtu) {
			uvn_put_be16(b, (uint16_t)cfg->mtu);
			put_opt(w, OPT_MTU, b, 2);
		}
		break;
	case OPT_ROUTER:
		if (a->device_options && cfg->router)
			put_opt32(w, OPT_ROUTER, cfg->router);
		break;
	case OPT_DNS:
		if (a->device_options && cfg->nr_dns && cfg->nr_dns <= UVN_DHCP_MAX_DNS) {
			for (i = 0; i < cfg->nr_dns; i++)
				uvn_put_be32(b + 4 * i, cfg->dns[i]);
			put_opt(w, OPT_DNS, b, (uint8_t)(4 * cfg->nr_dns));
		}
		break;
	case OPT_DOMAIN:
		n = uvn_dhcp_strnlen(cfg->domain, UVN_DHCP_DOMAIN_LEN);
		if (a->device_options && n && n < UVN_DHCP_DOMAIN_LEN)
			put_opt(w, OPT_DOMAIN, cfg->domain, (uint8_t)n);
		break;
	}
}

/* Our options beyond the mandatory ones, in the order used without a list. */
static const uint8_t params[] = { OPT_SUBNET_MASK, OPT_BROADCAST, OPT_MTU, OPT_ROUTER, OPT_DNS,
				  OPT_DOMAIN };

/*
 * The list entry the subnet mask goes before: where the list asks for it,
 * but ahead of a router option we send (RFC 2132 3.3: the mask MUST come
 * first); first when the list does not ask for it (it is always sent).
 */
static uint8_t mask_place(const struct uvn_dhcp_config *cfg, const struct uvn_dhcp_msg *req,
			  const struct uvn_dhcp_answer *a)
{
	bool router = a->device_options && cfg->router;
	uint8_t i;

	if (!asked_before(req, OPT_SUBNET_MASK, req->prl_len))
		return 0;
	for (i = 0; i < req->prl_len; i++)
		if (req->prl[i] == OPT_SUBNET_MASK || (router && req->prl[i] == OPT_ROUTER))
			break;
	return i;
}

/*
 * RFC 2131 4.3.1 and RFC 2132 9.8: message type, server id and the lease
 * times always; the subnet mask always (without it a client would guess
 * one from the address class); the other options we have only if asked
 * for; the mask and those in the order asked (see mask_place); a NAK only
 * its message.
 */
static void put_options(struct writer *w, const struct uvn_dhcp_config *cfg,
			const struct uvn_dhcp_msg *req, const struct uvn_dhcp_answer *a)
{
	uint8_t end = OPT_END, i, mask_at;
	size_t n;

	put_opt(w, OPT_MSG_TYPE, &a->type, 1);
	put_opt32(w, OPT_SERVER_ID, cfg->host_ip);
	if (a->rapid_commit)
		put_opt(w, OPT_RAPID_COMMIT, NULL, 0);
	if (a->type == DHCP_NAK) {
		n = a->message ? uvn_dhcp_strnlen(a->message, DHCP_NAK_MESSAGE_MAX) : 0;
		if (n)
			put_opt(w, OPT_MESSAGE, a->message, (uint8_t)n);
		goto end;
	}
	if (a->lease_seconds) {
		put_opt32(w, OPT_LEASE_TIME, a->lease_seconds);
		put_opt32(w, OPT_T1, a->lease_seconds / 2);
		put_opt32(w, OPT_T2, a->lease_seconds - a->lease_seconds / 8);	/* 0.875 */
	}
	if (!req->has_prl) {
		for (i = 0; i < sizeof(params); i++)
			put_param(w, cfg, a, params[i]);
	} else {
		mask_at = mask_place(cfg, req, a);
		for (i = 0; i <= req->prl_len; i++) {
			if (i == mask_at)
				put_param(w, cfg, a, OPT_SUBNET_MASK);
			/* Each once: the first time it is asked for. */
			if (i < req->prl_len && req->prl[i] != OPT_SUBNET_MASK &&
			    !asked_before(req, req->prl[i], i))
				put_param(w, cfg, a, req->prl[i]);
		}
	}
end:
	/* RFC 6842: the client id goes back, when it fits in a plain reply.
	 * One split by the client (RFC 3396) goes back whole, as one option;
	 * one longer than an option (cid_echo_len 0) would need two, and a
	 * plain reply has room for them beside little else: not echoed. */
	if (req->cid_echo_len >= 2 &&
	    w->len + 2 + req->cid_echo_len + 1 <= UVN_DHCP_REPLY_MAX - (14 + 20 + 8 + BOOTP_OPTIONS))
		put_opt(w, OPT_CLIENT_ID, req->cid_echo, req->cid_echo_len);
	put(w, &end, 1);
}

/* RFC 2131 4.1, for a server with no relay in between. */
static void destination(const struct uvn_dhcp_msg *req, const struct uvn_dhcp_answer *a,
			uint8_t *mac, uint32_t *ip)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	bool broadcast;

	if (a->type == DHCP_NAK) {
		broadcast = true;
	} else if (req->ciaddr) {
		broadcast = false;
		*ip = req->ciaddr;
	} else {
		broadcast = (req->flags & DHCP_BROADCAST_FLAG) || !a->yiaddr;
		*ip = a->yiaddr;
	}
	if (broadcast) {
		*ip = IP_BROADCAST;
		uvn_memcpy(mac, bcast, 6);
	} else {
		uvn_memcpy(mac, req->chaddr, 6);
	}
}

size_t uvn_dhcp_build(const struct uvn_dhcp_config *cfg, const struct uvn_dhcp_msg *req,
		      const struct uvn_dhcp_answer *a, uint8_t *out, size_t cap)
{
	const size_t hdrs = ETH_HLEN + IP_HLEN + UDP_HLEN;
	struct writer w = { NULL, 0, 0 };
	uint8_t *eth, *ip, *udp, *b;
	uint32_t dst_ip = 0;
	size_t blen, total;
	uint32_t acc;

	put_options(&w, cfg, req, a);
	blen = BOOTP_OPTIONS + w.len;
	if (blen < BOOTP_MIN)
		blen = BOOTP_MIN;
	total = hdrs + blen;
	if (!out)
		return total;
	if (total > cap)
		return 0;

	uvn_memset(out, 0, total);
	eth = out;
	ip = eth + ETH_HLEN;
	udp = ip + IP_HLEN;
	b = udp + UDP_HLEN;

	b[0] = 2;			/* BOOTREPLY */
	b[1] = 1;
	b[2] = 6;
	uvn_put_be32(b + 4, req->xid);
	uvn_put_be16(b + 10, req->flags);
	if (a->type == DHCP_ACK)
		uvn_put_be32(b + 12, req->ciaddr);
	uvn_put_be32(b + 16, a->yiaddr);
	uvn_memcpy(b + 28, req->chaddr, 6);
	uvn_memcpy(b + BOOTP_FIXED, cookie, 4);
	w = (struct writer){ b + BOOTP_OPTIONS, blen - BOOTP_OPTIONS, 0 };
	put_options(&w, cfg, req, a);

	destination(req, a, eth, &dst_ip);
	uvn_memcpy(eth + 6, cfg->server_mac, 6);
	uvn_put_be16(eth + 12, ETH_P_IP);

	ip[0] = 0x45;
	uvn_put_be16(ip + 2, (uint16_t)(IP_HLEN + UDP_HLEN + blen));
	ip[8] = 64;
	ip[9] = IPPROTO_UDP;
	uvn_put_be32(ip + 12, cfg->host_ip);
	uvn_put_be32(ip + 16, dst_ip);
	uvn_put_be16(ip + 10, fold(sum16(ip, IP_HLEN, 0)));

	uvn_put_be16(udp, PORT_SERVER);
	uvn_put_be16(udp + 2, PORT_CLIENT);
	uvn_put_be16(udp + 4, (uint16_t)(UDP_HLEN + blen));
	/* Pseudo-header: addresses, protocol, UDP length. */
	acc = sum16(ip + 12, 8, IPPROTO_UDP + (uint32_t)(UDP_HLEN + blen));
	acc = fold(sum16(udp, UDP_HLEN + blen, acc));
	uvn_put_be16(udp + 6, acc ? (uint16_t)acc : 0xffff);
	return total;
}
