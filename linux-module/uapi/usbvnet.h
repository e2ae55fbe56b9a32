/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * usbvnet control interface: ioctls on the misc device /dev/usbvnet.
 *
 * Every request names its instance by interface name (empty = the default
 * instance, usbvnet0). The size of each argument struct is encoded in the
 * request code; a request whose size does not match is refused with EINVAL,
 * an unknown request with ENOTTY. Reads need no privilege; changes need
 * CAP_NET_ADMIN (EPERM otherwise). A refused request changes nothing.
 *
 * Layouts are fixed-width and explicitly padded so that user space in any
 * language (the TypeScript tools mirror them) sees the same offsets.
 */
#ifndef _UAPI_LINUX_USBVNET_H
#define _UAPI_LINUX_USBVNET_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define USBVNET_API_VERSION	1
#define USBVNET_MAX_SLOTS	32
#define USBVNET_IFNAMSIZ	16
#define USBVNET_SERIAL_LEN	64
#define USBVNET_BUSID_LEN	32
#define USBVNET_DRIVER_LEN	16
#define USBVNET_MAX_RULES	16
#define USBVNET_ANY_SLOT	0xffffffffU

/* Device-to-device forwarding between slots. */
enum usbvnet_mode {
	USBVNET_MODE_BRIDGE = 0,	/* devices reach each other */
	USBVNET_MODE_PRIVATE = 1,	/* devices reach only the host */
};

/* USB network drivers whose netdevs may be attached (usbvnet_config.drivers). */
#define USBVNET_DRV_CDC_ETHER	(1U << 0)
#define USBVNET_DRV_CDC_NCM	(1U << 1)
#define USBVNET_DRV_CDC_EEM	(1U << 2)
#define USBVNET_DRV_RNDIS_HOST	(1U << 3)
#define USBVNET_DRV_ALL		0xfU

/* usbvnet_config.flags */
#define USBVNET_CFG_AUTO_ATTACH	(1U << 0)	/* attach matching netdevs as they register */

/*
 * A match rule: a device whose idVendor/idProduct match (0 = any) is allowed
 * or denied. Rules are tried in order; the first match decides. With no rule
 * matching, the device is allowed.
 */
enum usbvnet_rule_action {
	USBVNET_RULE_ALLOW = 0,
	USBVNET_RULE_DENY = 1,
};

struct usbvnet_rule {
	__u16 vendor;
	__u16 product;
	__u32 action;			/* enum usbvnet_rule_action */
};

/* The settable state of one instance, read and written as one unit. */
struct usbvnet_config {
	char ifname[USBVNET_IFNAMSIZ];	/* in: instance; empty = default */
	__u8 mac[6];
	__u16 reserved0;		/* must be 0 */
	__u32 mode;			/* enum usbvnet_mode */
	__u32 flags;			/* USBVNET_CFG_* */
	__u32 drivers;			/* USBVNET_DRV_* */
	__u32 nr_rules;
	struct usbvnet_rule rules[USBVNET_MAX_RULES];
};

struct usbvnet_info {
	char ifname[USBVNET_IFNAMSIZ];	/* in: instance; out: its name */
	__u32 api_version;
	__u32 ifindex;
	__u8 mac[6];
	__u8 carrier;
	__u8 reserved0;
	__u32 mode;
	__u32 max_slots;
	__u32 slots_used;		/* bitmask of attached slots (not a count) */
	__u32 nr_instances;
	__u64 refused_full;		/* devices not attached: no free slot */
	__u64 refused_rules;		/* devices not attached: denied by rules */
	__u64 spoof_drops;		/* frames whose source MAC belongs to another slot */
	__u64 purged;			/* frames dropped because their slot went away */
	__u64 rx_packets, rx_bytes, tx_packets, tx_bytes, rx_dropped, tx_dropped;
};

struct usbvnet_slot_info {
	char ifname[USBVNET_IFNAMSIZ];	/* in: instance */
	__u32 slot;			/* in: 0..USBVNET_MAX_SLOTS-1 */
	__u32 in_use;			/* out: 0 = free (the rest is zero) */
	char lower[USBVNET_IFNAMSIZ];	/* the device's own netdev */
	__u32 lower_ifindex;
	__u16 vendor;
	__u16 product;
	char driver[USBVNET_DRIVER_LEN];
	char busid[USBVNET_BUSID_LEN];
	char serial[USBVNET_SERIAL_LEN];
	__u8 lower_mac[6];
	__u16 learned;			/* MACs learned on this slot */
	__u64 rx_packets, rx_bytes, rx_dropped;
	__u64 tx_packets, tx_bytes, tx_dropped;
	__u64 spoof_drops, purged;
};

struct usbvnet_attach {
	char ifname[USBVNET_IFNAMSIZ];	/* instance */
	char lower[USBVNET_IFNAMSIZ];	/* netdev to attach, or to detach if slot is ANY */
	__u32 slot;			/* attach: wanted slot or ANY; out: slot taken */
	__u32 reserved0;		/* must be 0 */
};

/*
 * The DHCP server inside the driver. Addresses are __u32 in host byte order
 * (100.127.254.1 is 0x647ffe01). Default: on, rapid commit allowed,
 * 100.127.254.0/24, the host gets .1, devices .2 to .254, an hour's leases,
 * at most 4 per slot.
 */
#define USBVNET_DHCP_ENABLED		(1U << 0)
/* RFC 4039: ACK a DISCOVER that carries Rapid Commit (option 80) at once. */
#define USBVNET_DHCP_RAPID_COMMIT	(1U << 1)
#define USBVNET_DHCP_MAX_RESERVATIONS	32
#define USBVNET_DHCP_MAX_DNS		3
#define USBVNET_DHCP_DOMAIN_LEN		64

enum usbvnet_dhcp_reservation_kind {
	USBVNET_DHCP_RES_MAC = 0,	/* a client hardware address */
	USBVNET_DHCP_RES_SERIAL = 1,	/* the USB device with this serial number */
	USBVNET_DHCP_RES_SLOT = 2,	/* the first client on this slot */
};

struct usbvnet_dhcp_reservation {
	__u32 kind;
	__u32 ip;
	__u32 slot;
	__u8 mac[6];
	__u16 reserved0;		/* must be 0 */
	char serial[USBVNET_SERIAL_LEN];
};

struct usbvnet_dhcp_config {
	char ifname[USBVNET_IFNAMSIZ];	/* in: instance */
	__u32 flags;			/* USBVNET_DHCP_* */
	__u32 subnet;
	__u32 prefix_len;
	__u32 host_ip;			/* what the host's own client gets; the server id */
	__u32 pool_start;
	__u32 pool_end;
	__u32 lease_seconds;
	__u32 decline_seconds;
	__u32 per_slot_cap;
	__u32 router;			/* 0 = none */
	__u32 nr_dns;
	__u32 dns[USBVNET_DHCP_MAX_DNS];
	char domain[USBVNET_DHCP_DOMAIN_LEN];
	__u32 mtu;			/* 0 = not sent */
	__u32 nr_reservations;
	struct usbvnet_dhcp_reservation reservations[USBVNET_DHCP_MAX_RESERVATIONS];
};

/*
 * Counters of the DHCP server, in this order; more may be appended.
 * DHCP_STATS takes the struct with any number of counters (any size from
 * offsetof(counters) up, in steps of 4): nr_counters says how many of them
 * the module filled, at most as many as fit.
 */
#define USBVNET_DHCP_COUNTERS \
	X(received) X(truncated) X(bad_ip) X(bad_udp) X(not_request) X(bad_chaddr) \
	X(bad_cookie) X(bad_option) X(no_end) X(overload) X(no_msg_type) \
	X(bad_msg_type) X(relayed) X(disabled) X(reply_too_small) X(discover) \
	X(request) X(decline) X(release) X(inform) X(offer) X(ack) X(nak) \
	X(exhausted) X(slot_cap) X(foreign) X(other_server) X(ignored) X(rapid_commit)
#define USBVNET_DHCP_NR_COUNTERS 29

struct usbvnet_dhcp_stats {
	char ifname[USBVNET_IFNAMSIZ];	/* in: instance */
	__u32 leases_bound;		/* leases held now */
	__u32 nr_counters;		/* USBVNET_DHCP_NR_COUNTERS */
	__u32 counters[USBVNET_DHCP_NR_COUNTERS];
};

/*
 * The lease table, exported or imported as one opaque, versioned,
 * checksummed blob through a buffer in user memory (layout: core/uvn_dhcp.h;
 * the header gives the version and record size). Version 2, exported now,
 * has 148-byte records: a full table takes USBVNET_LEASES_MAX_V2 bytes.
 * Version 1 (80-byte records, USBVNET_LEASES_MAX) still imports. Export
 * with too small a buffer: ENOSPC, len = size needed. Import checks all of
 * it first and on any error changes nothing (EINVAL).
 */
#define USBVNET_LEASES_MAX	(16 + 256 * 80)
#define USBVNET_LEASES_MAX_V2	(16 + 256 * 148)

struct usbvnet_leases {
	char ifname[USBVNET_IFNAMSIZ];	/* in: instance */
	__u64 buf;			/* user pointer */
	__u32 len;			/* in: buffer size; out: bytes used */
	__u32 reserved0;		/* must be 0 */
};

/* Attributes of IFLA_INFO_DATA for "ip link" (kind "usbvnet"). */
enum {
	IFLA_USBVNET_UNSPEC,
	IFLA_USBVNET_MODE,		/* u32, enum usbvnet_mode */
	IFLA_USBVNET_SLOTS,		/* u32, read only: slot count */
	IFLA_USBVNET_SLOTS_USED,	/* u32, read only: bitmask of attached slots */
	__IFLA_USBVNET_MAX,
};
#define IFLA_USBVNET_MAX (__IFLA_USBVNET_MAX - 1)

/*
 * Requests and their errors, besides EINVAL for a wrong size, an unterminated
 * name or a non-zero reserved field, EFAULT, ENOMEM, and ENODEV for an
 * instance that does not exist:
 *   INFO, SLOT_INFO (EINVAL: slot out of range; a free slot is not an error,
 *     in_use is 0), GET_CONFIG, GET_DHCP, DHCP_STATS: no privilege needed.
 *   SET_CONFIG: EINVAL for any bad field (nothing is applied); errors of
 *     changing the MAC (EADDRNOTAVAIL, EBUSY).
 *   ATTACH: ENODEV (no such netdev), EBUSY (the netdev is already attached,
 *     bridged or bonded), EADDRINUSE (the wanted slot is taken by another
 *     device), ENOSPC (no free slot),
 *     ELOOP (a usbvnet interface), EXDEV (another namespace), EINVAL (not
 *     Ethernet). slot = USBVNET_ANY_SLOT takes the slot this device's USB
 *     serial held before if free, else the lowest free slot no absent device
 *     is pinned to, else the lowest free slot.
 *   DETACH: by slot, or by netdev name with slot = USBVNET_ANY_SLOT; ENOENT
 *     (nothing attached there), ENODEV (no such netdev).
 *   SET_DHCP, LEASES_IMPORT: EINVAL for any bad field or table (nothing is
 *     applied). LEASES_EXPORT: ENOSPC with len set to the size needed.
 *   Every change needs CAP_NET_ADMIN in the caller's network namespace: EPERM.
 */
#define USBVNET_IOC_MAGIC	0xb8
#define USBVNET_IOC_INFO	_IOWR(USBVNET_IOC_MAGIC, 0x01, struct usbvnet_info)
#define USBVNET_IOC_SLOT_INFO	_IOWR(USBVNET_IOC_MAGIC, 0x02, struct usbvnet_slot_info)
#define USBVNET_IOC_GET_CONFIG	_IOWR(USBVNET_IOC_MAGIC, 0x03, struct usbvnet_config)
#define USBVNET_IOC_SET_CONFIG	_IOW(USBVNET_IOC_MAGIC, 0x04, struct usbvnet_config)
#define USBVNET_IOC_ATTACH	_IOWR(USBVNET_IOC_MAGIC, 0x05, struct usbvnet_attach)
#define USBVNET_IOC_DETACH	_IOW(USBVNET_IOC_MAGIC, 0x06, struct usbvnet_attach)
#define USBVNET_IOC_GET_DHCP	_IOWR(USBVNET_IOC_MAGIC, 0x07, struct usbvnet_dhcp_config)
#define USBVNET_IOC_SET_DHCP	_IOW(USBVNET_IOC_MAGIC, 0x08, struct usbvnet_dhcp_config)
#define USBVNET_IOC_DHCP_STATS	_IOWR(USBVNET_IOC_MAGIC, 0x09, struct usbvnet_dhcp_stats)
#define USBVNET_IOC_LEASES_EXPORT _IOWR(USBVNET_IOC_MAGIC, 0x0a, struct usbvnet_leases)
#define USBVNET_IOC_LEASES_IMPORT _IOW(USBVNET_IOC_MAGIC, 0x0b, struct usbvnet_leases)

#endif /* _UAPI_LINUX_USBVNET_H */
