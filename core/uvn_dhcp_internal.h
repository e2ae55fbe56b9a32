/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* Shared between the uvn_dhcp*.c files only; the API is uvn_dhcp.h. */
#ifndef UVN_DHCP_INTERNAL_H
#define UVN_DHCP_INTERNAL_H

#include "uvn_dhcp.h"

/* DHCP message types (option 53). */
enum {
	DHCP_DISCOVER = 1,
	DHCP_OFFER = 2,
	DHCP_REQUEST = 3,
	DHCP_DECLINE = 4,
	DHCP_ACK = 5,
	DHCP_NAK = 6,
	DHCP_RELEASE = 7,
	DHCP_INFORM = 8,
};

#define DHCP_BROADCAST_FLAG	0x8000
#define IP_BROADCAST		0xffffffffU

#define DHCP_PRL_MAX		64	/* parameter request list entries kept */
#define DHCP_OPT_MAX		255	/* the most data one option instance holds */
#define DHCP_NAK_MESSAGE_MAX	48	/* longest option 56 text the server sends */

/* What the server needs from a client's frame. */
struct uvn_dhcp_msg {
	uint8_t type;
	uint8_t chaddr[6];
	uint16_t flags;
	uint32_t xid;
	uint32_t ciaddr;
	uint32_t ip_dst;		/* broadcast or unicast: REBINDING or RENEWING */
	uint32_t requested_ip;		/* option 50, 0 if absent */
	uint32_t server_id;		/* option 54, 0 if absent */
	/* Option 61, all its instances concatenated (RFC 3396). */
	bool has_cid;			/* an instance was seen, even an empty one */
	uint32_t cid_total;		/* bytes seen; 0: none */
	uint32_t cid_hash;		/* FNV-1a 32 of them */
	uint8_t cid[UVN_DHCP_CID_KEY];	/* the key (see UVN_DHCP_CID_KEY) once parsed */
	/* The whole id, to echo (RFC 6842); cid_echo_len 0: none, or longer
	 * than one option can carry (then not echoed, see put_options). */
	uint8_t cid_echo_len;
	uint8_t cid_echo[DHCP_OPT_MAX];
	/* Option 55, concatenated; has_prl false: none sent (send everything). */
	bool has_prl;
	uint8_t prl_len;
	uint8_t prl[DHCP_PRL_MAX];
	bool rapid_commit;		/* option 80 (RFC 4039) */
};

/* What to answer. */
struct uvn_dhcp_answer {
	uint8_t type;			/* DHCP_OFFER, DHCP_ACK or DHCP_NAK */
	uint32_t yiaddr;
	uint32_t lease_seconds;		/* 0: no lease options (INFORM, NAK) */
	bool device_options;		/* router, DNS, domain: not for the host itself */
	const char *message;		/* option 56 (NAK): why; NULL: none */
	bool rapid_commit;		/* an ACK to a DISCOVER: carries option 80 */
};

/* The option 61 length kept in a lease: the real one, at most 255. */
static inline uint8_t uvn_dhcp_cid_len(const struct uvn_dhcp_msg *m)
{
	return m->cid_total > 255 ? 255 : (uint8_t)m->cid_total;
}

/* uvn_dhcp_msg.c */
int uvn_dhcp_parse(const uint8_t *frame, size_t len, struct uvn_dhcp_msg *m,
		   struct uvn_dhcp_counters *c);
/* Returns the frame length; out NULL measures only. 0 if it exceeds cap. */
size_t uvn_dhcp_build(const struct uvn_dhcp_config *cfg, const struct uvn_dhcp_msg *req,
		      const struct uvn_dhcp_answer *a, uint8_t *out, size_t cap);

/* uvn_dhcp_config.c */
uint32_t uvn_dhcp_mask(const struct uvn_dhcp_config *c);
/* In the subnet, and neither its network nor its broadcast address. */
bool uvn_dhcp_ip_usable(const struct uvn_dhcp_config *c, uint32_t ip);
bool uvn_dhcp_ip_in_pool(const struct uvn_dhcp_config *c, uint32_t ip);
const struct uvn_dhcp_reservation *uvn_dhcp_reservation_of_ip(const struct uvn_dhcp_config *c,
							      uint32_t ip);
bool uvn_dhcp_reservation_matches(const struct uvn_dhcp_reservation *r, const uint8_t *mac,
				  const char *serial, uint32_t slot);
/* Why a lease (ip, client, stored state) cannot exist under c, or NULL. */
const char *uvn_dhcp_lease_misfit(const struct uvn_dhcp_config *c, uint32_t ip,
				  const uint8_t *mac, const char *serial, uint32_t slot,
				  uint32_t state);
/* Unicast and not zero. */
bool uvn_dhcp_mac_ok(const uint8_t *mac);
/* Bounded strlen: strings from devices or ioctls may lack a terminator. */
size_t uvn_dhcp_strnlen(const char *str, size_t max);
/* A stored serial equals the caller's (NULL counts as ""). */
bool uvn_dhcp_serial_equal(const char *stored, const char *serial);

/* uvn_dhcp_lease.c */
bool uvn_dhcp_lease_active(const struct uvn_dhcp_lease *l, uint32_t now);
/* Offered, bound or available: the entry still names a client. */
bool uvn_dhcp_remembers_client(const struct uvn_dhcp_lease *l);
/* The entry of a client known by its MAC alone (no client id), or NULL. */
struct uvn_dhcp_lease *uvn_dhcp_find_mac(struct uvn_dhcp_server *s, const uint8_t *mac);
/* Does the entry name this client: same client id, or recorded without one
 * and the same hardware address? (See struct uvn_dhcp_lease.) With clones,
 * one id names several clients: find_mine() in uvn_dhcp.c tells them apart. */
bool uvn_dhcp_is_client(const struct uvn_dhcp_lease *l, const uint8_t *mac, uint8_t cid_len,
			const uint8_t *cid);
struct uvn_dhcp_lease *uvn_dhcp_find_ip(struct uvn_dhcp_server *s, uint32_t ip, uint32_t now);
/* Forgets an entry: it becomes free, keeping only ip. */
void uvn_dhcp_clear(struct uvn_dhcp_lease *l, uint32_t ip);
/* An entry for a new client: a never-used pool address first, else the
 * longest-released one; NULL when the pool is exhausted. */
struct uvn_dhcp_lease *uvn_dhcp_alloc(struct uvn_dhcp_server *s, uint32_t now);
/* An unused entry for ip (known to be free), reclaiming the oldest
 * remembered one if needed; NULL if none. */
struct uvn_dhcp_lease *uvn_dhcp_entry_for(struct uvn_dhcp_server *s, uint32_t ip, uint32_t now);
/* Active, unreserved leases on a slot (what per_slot_cap limits). */
unsigned int uvn_dhcp_slot_leases(const struct uvn_dhcp_server *s, uint32_t slot, uint32_t now);

static inline uint16_t uvn_get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t uvn_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void uvn_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)((v >> 8) & 0xff);
	p[1] = (uint8_t)(v & 0xff);
}

static inline void uvn_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)((v >> 24) & 0xff);
	p[1] = (uint8_t)((v >> 16) & 0xff);
	p[2] = (uint8_t)((v >> 8) & 0xff);
	p[3] = (uint8_t)(v & 0xff);
}

/* a is at or after b on a wrapping clock. */
static inline bool uvn_time_reached(uint32_t now, uint32_t t)
{
	return (int32_t)(now - t) >= 0;
}

#endif /* UVN_DHCP_INTERNAL_H */
