/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The DHCPv4 server inside the bridge (RFC 2131/2132). It answers the host's
 * own DHCP client on usbvnet0 with the host address, and every device on the
 * slots with an address from a small pool. Frames in, frames out: the glue
 * hands over whole Ethernet frames and transmits whole Ethernet frames back.
 *
 * Fixed size, no allocation: the caller owns struct uvn_dhcp_server and must
 * serialise every call on one server (one lock around all of them).
 *
 * Addresses are uint32_t in host byte order: 100.127.254.1 is 0x647ffe01.
 * Times are the caller's monotonic clock in seconds; wrap-around is fine.
 *
 * Default network: 100.127.254.0/24, host 100.127.254.1, pool .2 to .254.
 * It sits in the RFC 6598 shared address space (100.64.0.0/10), which is
 * meant for carrier-grade NAT between an ISP and its customers' routers, so
 * it does not appear on home, office or cloud LANs (unlike 10/8, 172.16/12,
 * 192.168/16, and 172.31/16, the AWS default VPC). ChromeOS uses the same
 * space for its internal virtual networks. Carriers number from the bottom
 * of the block, so the default takes the top. Tailscale also draws node
 * addresses from 100.64.0.0/10; on a collision, configure another subnet.
 */
#ifndef UVN_DHCP_H
#define UVN_DHCP_H

#include "uvn_os.h"
#include "uvn_slots.h"

#define UVN_DHCP_HOST		32	/* pseudo-slot: the host's own client on usbvnet0 */
#define UVN_DHCP_NO_SLOT	0xff	/* lease not tied to an attached slot */
#define UVN_DHCP_LEASES		256	/* lease table size; also the largest pool */
#define UVN_DHCP_MAX_RESERVATIONS 32
#define UVN_DHCP_MAX_DNS	3
#define UVN_DHCP_DOMAIN_LEN	64	/* including the terminating NUL */
#define UVN_DHCP_OFFER_HOLD	60	/* seconds an offered address waits for its REQUEST */
#define UVN_DHCP_LEASE_MAX	(365U * 86400U)
/* Client identifiers (option 61) are kept as a key of this many bytes: the
 * identifier itself when it fits, else its first 60 bytes and an FNV-1a 32
 * hash (little-endian) of all of it. */
#define UVN_DHCP_CID_KEY	64

/* Longest reply frame for any valid config: Ethernet + IPv4 + UDP + 548. */
#define UVN_DHCP_REPLY_MAX	(14 + 20 + 8 + 548)

#define UVN_DHCP_ADDR(a, b, c, d) \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
#define UVN_DHCP_DEFAULT_SUBNET	UVN_DHCP_ADDR(100, 127, 254, 0)
#define UVN_DHCP_DEFAULT_PREFIX	24
#define UVN_DHCP_DEFAULT_LEASE	3600
#define UVN_DHCP_DEFAULT_CAP	4	/* 32 slots x 4 < 253 addresses: no slot can starve the rest */
#define UVN_DHCP_DEFAULT_DECLINE 600

#define UVN_DHCP_ENABLED	(1U << 0)
/* RFC 4039: a DISCOVER carrying Rapid Commit (option 80) is ACKed at once,
 * one round trip instead of two. Safe here: the server takes every device's
 * requests, so no other server can have answered too. */
#define UVN_DHCP_RAPID_COMMIT	(1U << 1)
#define UVN_DHCP_FLAGS_ALL	(UVN_DHCP_ENABLED | UVN_DHCP_RAPID_COMMIT)

enum uvn_dhcp_res_kind {
	UVN_DHCP_RES_MAC = 0,		/* a client hardware address */
	UVN_DHCP_RES_SERIAL = 1,	/* any client of the USB device with this serial */
	UVN_DHCP_RES_SLOT = 2,		/* the first client on this slot */
};

struct uvn_dhcp_reservation {
	uint32_t kind;
	uint32_t ip;
	uint32_t slot;			/* UVN_DHCP_RES_SLOT */
	uint8_t mac[6];			/* UVN_DHCP_RES_MAC */
	char serial[UVN_SERIAL_LEN];	/* UVN_DHCP_RES_SERIAL, NUL-terminated */
};

struct uvn_dhcp_config {
	uint32_t flags;			/* UVN_DHCP_ENABLED, UVN_DHCP_RAPID_COMMIT */
	uint8_t server_mac[6];		/* source MAC of replies: usbvnet0's MAC */
	uint32_t subnet;
	uint32_t prefix_len;		/* 8..30 */
	uint32_t host_ip;		/* the host's client gets it; also the server id */
	uint32_t pool_start;		/* inclusive, at most UVN_DHCP_LEASES addresses */
	uint32_t pool_end;
	uint32_t lease_seconds;
	uint32_t decline_seconds;	/* how long a DECLINEd address is not offered */
	uint32_t per_slot_cap;		/* pool leases one slot may hold */
	uint32_t router;		/* sent to devices; 0 = none; default host_ip */
	uint32_t nr_dns;
	uint32_t dns[UVN_DHCP_MAX_DNS];
	char domain[UVN_DHCP_DOMAIN_LEN];	/* "" = none */
	uint32_t mtu;			/* 0 = not sent */
	uint32_t nr_reservations;
	struct uvn_dhcp_reservation reservations[UVN_DHCP_MAX_RESERVATIONS];
};

/* Why frames were dropped, what was answered. Never reset by the core. */
struct uvn_dhcp_counters {
	uint32_t received;
	uint32_t truncated;		/* shorter than its headers say */
	uint32_t bad_ip;		/* not IPv4/UDP, bad header, fragment, bad checksum */
	uint32_t bad_udp;		/* not port 67, bad UDP length */
	uint32_t not_request;		/* BOOTREPLY, or not Ethernet hardware */
	uint32_t bad_chaddr;		/* hlen not 6, or a group/zero chaddr */
	uint32_t bad_cookie;
	uint32_t bad_option;		/* option running past its field, wrong length, or
					 * missing: RELEASE/DECLINE without server id */
	uint32_t no_end;		/* options field without END (accepted) */
	uint32_t overload;		/* option 52: sname/file parsed as options */
	uint32_t no_msg_type;
	uint32_t bad_msg_type;		/* unknown, or a server's type */
	uint32_t relayed;		/* giaddr set: no relays on this link */
	uint32_t disabled;		/* valid request while the server is off */
	uint32_t reply_too_small;	/* reply_cap too small: nothing changed */
	uint32_t discover, request, decline, release, inform;
	uint32_t offer, ack, nak;
	uint32_t exhausted;		/* no address left for a DISCOVER */
	uint32_t slot_cap;		/* a slot hit per_slot_cap */
	uint32_t foreign;		/* touched a lease held on another slot/device;
					 * also a client id in use on another slot or
					 * USB device (served as a client of its own) */
	uint32_t other_server;		/* REQUEST naming another server id */
	uint32_t ignored;		/* RELEASE/DECLINE of no lease of that client */
	uint32_t rapid_commit;		/* DISCOVERs ACKed at once (also counted in ack) */
};

enum uvn_dhcp_lease_state {
	UVN_DHCP_FREE = 0,		/* entry unused */
	UVN_DHCP_OFFERED = 1,		/* held for an OFFER until expires */
	UVN_DHCP_BOUND = 2,		/* leased until expires */
	UVN_DHCP_AVAILABLE = 3,		/* released or expired; remembers its client */
	UVN_DHCP_DECLINED = 4,		/* in use by someone unknown: not offered until expires */
};

/*
 * A client is known by its client identifier (option 61) when it sends one,
 * else by its hardware address (RFC 2131 4.2). A lease recorded without an
 * identifier (from a client that sent none, or a version 1 table) is also
 * its hardware address's when that client now sends one; the next ACK
 * records the identifier. Devices cloned from one image may all send one
 * identifier: each gets an entry of its own, told apart by slot and USB
 * serial, so one identifier may be in several entries (at most one per
 * slot). Two devices with one hardware address and no identifier are not
 * told apart (the second gets nothing while the first's lease runs).
 */
struct uvn_dhcp_lease {
	uint32_t ip;
	uint32_t expires;		/* caller's clock */
	uint8_t mac[6];			/* chaddr of the client's latest message */
	uint8_t state;			/* enum uvn_dhcp_lease_state, as stored */
	uint8_t slot;			/* 0..31, or UVN_DHCP_NO_SLOT */
	char serial[UVN_SERIAL_LEN];	/* of the USB device it was leased through */
	uint8_t cid_len;		/* option 61's length (2..255), 0: none */
	uint8_t cid[UVN_DHCP_CID_KEY];	/* its key, zero-padded */
};

struct uvn_dhcp_server {
	struct uvn_dhcp_config cfg;
	struct uvn_dhcp_counters counters;
	struct uvn_dhcp_lease leases[UVN_DHCP_LEASES];
};

/* Disabled, rapid commit allowed, default network, router = host, no DNS,
 * MTU unset; no MAC yet. */
void uvn_dhcp_config_default(struct uvn_dhcp_config *c);

/*
 * Checks a whole configuration. Returns 0, or -UVN_EINVAL with *why naming
 * the offending field.
 */
int uvn_dhcp_config_check(const struct uvn_dhcp_config *c, const char **why);

/* Empty lease table, zero counters. Fails (changing nothing) like the check. */
int uvn_dhcp_init(struct uvn_dhcp_server *s, const struct uvn_dhcp_config *c, const char **why);

/*
 * Replaces the configuration of a running server, keeping the leases that
 * are still valid under it and dropping the others. Fails like the check,
 * changing nothing.
 */
int uvn_dhcp_configure(struct uvn_dhcp_server *s, const struct uvn_dhcp_config *c,
		       const char **why);

/*
 * Cheap per-frame test for the glue: Ethernet type IPv4, not a fragment,
 * protocol UDP, destination port 67. O(1), bounds-checked.
 */
bool uvn_dhcp_is_request(const uint8_t *frame, size_t len);

/*
 * Handles one client frame from slot (0..31) or UVN_DHCP_HOST; serial is the
 * USB serial of the slot's device (NULL or "" if none). Returns the length
 * of the Ethernet frame written to reply (send it back the way the request
 * came), 0 if nothing is to be sent, or a negative error for a dropped
 * frame: -UVN_EINVAL malformed (see the counters), -UVN_ENOSPC reply_cap
 * below the reply's size (nothing changed; UVN_DHCP_REPLY_MAX always fits).
 */
int uvn_dhcp_handle(struct uvn_dhcp_server *s, uint32_t slot, const char *serial,
		    const uint8_t *frame, size_t len, uint8_t *reply, size_t reply_cap,
		    uint32_t now);

/*
 * A slot's device went away: its leases become available again (still
 * remembered, so the device gets the same address when it comes back),
 * except reserved ones, which stay bound. Returns how many were released.
 */
unsigned int uvn_dhcp_slot_gone(struct uvn_dhcp_server *s, uint32_t slot);

/* The lease of a client hardware address (sent without a client id), or NULL. */
const struct uvn_dhcp_lease *uvn_dhcp_lease_of(const struct uvn_dhcp_server *s,
					       const uint8_t mac[6]);

/* The state of a lease at time now (expiry applied). */
enum uvn_dhcp_lease_state uvn_dhcp_lease_state(const struct uvn_dhcp_lease *l, uint32_t now);

/*
 * Export format, all little-endian:
 *   header (16 bytes): "UVNL", u16 version (2), u16 record size (148),
 *                      u32 record count, u32 FNV-1a 32 of the records
 *   record (148 bytes):
 *     0  u32 ip, u32 seconds left, u8 mac[6], u8 state, u8 slot,
 *    16  char serial[64] (NUL-terminated)          -- the 80 bytes of version 1
 *    80  u8 client id length (0: none, else 2..255), u8 zero[3],
 *    84  u8 client id key[64] (UVN_DHCP_CID_KEY; zero past the length)
 * Version 1 (record size 80, no client ids) still imports. Readers should
 * take the record size from the header: later versions only append fields.
 * Times are exported as seconds left, so a table survives a reboot's clock
 * reset. The slot is for display: import ties no lease to a slot, the next
 * request from its client (with the same serial, if one is remembered)
 * claims it, on whichever slot the device comes back.
 */
#define UVN_DHCP_EXPORT_MAGIC	"UVNL"
#define UVN_DHCP_EXPORT_VERSION	2
#define UVN_DHCP_EXPORT_HEADER	16
#define UVN_DHCP_EXPORT_RECORD	148
#define UVN_DHCP_EXPORT_RECORD_V1 80
#define UVN_DHCP_EXPORT_MAX	(UVN_DHCP_EXPORT_HEADER + UVN_DHCP_LEASES * UVN_DHCP_EXPORT_RECORD)

/* Writes the table; returns its length or -UVN_ENOSPC (UVN_DHCP_EXPORT_MAX fits). */
int uvn_dhcp_export(const struct uvn_dhcp_server *s, uint8_t *buf, size_t cap, uint32_t now);

/*
 * Replaces the lease table with an exported one, after checking all of it
 * against the current config (format, checksum, addresses in the pool or
 * reserved, no duplicate address, nor MAC among leases without a client id,
 * known states, sane times); a client id may repeat (clones, see struct
 * uvn_dhcp_lease). On any error returns -UVN_EINVAL, *why says what, and
 * nothing changes.
 */
int uvn_dhcp_import(struct uvn_dhcp_server *s, const uint8_t *buf, size_t len, uint32_t now,
		    const char **why);

#endif /* UVN_DHCP_H */
