/* SPDX-License-Identifier: GPL-2.0 */
/* Private types shared by the files of the usbvnet module. */
#ifndef _USBVNET_PRIV_H
#define _USBVNET_PRIV_H

#include <linux/netdevice.h>
#include <linux/spinlock.h>
#include <linux/u64_stats_sync.h>
#include <linux/workqueue.h>

#include "usbvnet.h"	/* uapi, from uapi/ */
#include "uvn_bridge.h"
#include "uvn_dhcp.h"

#define USBVNET_KIND		"usbvnet"
#define USBVNET_DEFAULT_NAME	"usbvnet0"
/* Forget a learned MAC not seen for this long, as the Linux bridge does. */
#define USBVNET_FDB_MAX_AGE	(300 * HZ)

/* Per-CPU counters, of an instance and of each slot. */
struct usbvnet_pcpu_stats {
	u64_stats_t rx_packets;
	u64_stats_t rx_bytes;
	u64_stats_t tx_packets;
	u64_stats_t tx_bytes;
	struct u64_stats_sync syncp;
	/* Rare events: u32 without syncp, summed with READ_ONCE. */
	u32 rx_dropped;
	u32 tx_dropped;
	u32 spoof_drops;
	u32 purged;
};

struct usbvnet_stats {
	u64 rx_packets, rx_bytes, tx_packets, tx_bytes;
	u64 rx_dropped, tx_dropped, spoof_drops, purged;
};

struct usbvnet;

/* What a lower netdev says about the USB device behind it. */
struct usbvnet_identity {
	u32 driver_bit;		/* UVN_DRV_*, 0 if not a driver of ours */
	u16 vendor;
	u16 product;
	char driver[USBVNET_DRIVER_LEN];
	char busid[USBVNET_BUSID_LEN];
	char serial[USBVNET_SERIAL_LEN];
};

/* One attached USB network device: a slot's lower netdev. */
struct usbvnet_port {
	struct usbvnet *vn;
	struct net_device *lower;
	u32 slot;
	struct usbvnet_pcpu_stats __percpu *stats;
	struct usbvnet_identity id;	/* read once at attach */
	/* Saved at attach, restored at detach (as bonding does). */
	bool opened;		/* we brought the lower up */
	bool live_rename;	/* we set IFF_LIVE_RENAME_OK on it */
	struct rcu_head rcu;
};

/* One usbvnet instance (usbvnet0, or one made with ip link add). */
struct usbvnet {
	struct net_device *dev;
	struct list_head list;			/* usbvnet_instances, under RTNL */
	struct usbvnet_port __rcu *ports[USBVNET_MAX_SLOTS];
	struct uvn_slots slots;			/* under RTNL */
	struct uvn_config config;		/* under RTNL; data path reads mode */
	struct uvn_fdb fdb;			/* writers under fdb_lock, readers lockless */
	spinlock_t fdb_lock;
	struct delayed_work fdb_gc;
	u32 active;				/* slots with a port; data path reads it */
	bool dhcp_on;				/* data path reads it; under dhcp_lock */
	spinlock_t dhcp_lock;			/* every call into the DHCP core */
	unsigned int dhcp_deferred;		/* replies waiting for a lower; dhcp.c's lock */
	struct uvn_dhcp_server dhcp;
	struct usbvnet_pcpu_stats __percpu *stats;
	atomic64_t refused_full;
	atomic64_t refused_rules;
};

/* device.c */
extern struct list_head usbvnet_instances;
extern struct rtnl_link_ops usbvnet_link_ops;
int usbvnet_device_init(void);
void usbvnet_device_uninit(void);
struct usbvnet *usbvnet_find(struct net *net, const char *name);
bool usbvnet_is_ours(const struct net_device *dev);

/* port.c */
int usbvnet_port_attach(struct usbvnet *vn, struct net_device *lower, u32 slot,
			struct netlink_ext_ack *extack);
void usbvnet_port_detach(struct usbvnet_port *port);
void usbvnet_port_detach_all(struct usbvnet *vn);
struct usbvnet_port *usbvnet_port_of(const struct net_device *lower);
void usbvnet_port_identify(const struct net_device *lower, struct usbvnet_identity *id);
void usbvnet_port_going_down(struct usbvnet_port *port);
int usbvnet_errno(int uvn_err);
netdev_tx_t usbvnet_port_xmit(struct usbvnet *vn, struct sk_buff *skb);

/* dhcp.c */
void usbvnet_dhcp_setup(struct usbvnet *vn, bool enabled);
void usbvnet_dhcp_drop_deferred(struct usbvnet *vn);
bool usbvnet_dhcp_from_slot(struct usbvnet *vn, struct usbvnet_port *port, struct sk_buff *skb);
bool usbvnet_dhcp_from_host(struct usbvnet *vn, struct sk_buff *skb);
void usbvnet_dhcp_slot_gone(struct usbvnet *vn, u32 slot);
void usbvnet_dhcp_set_mac(struct usbvnet *vn, const u8 *mac);
int usbvnet_dhcp_get_config(struct usbvnet *vn, struct usbvnet_dhcp_config *uc);
int usbvnet_dhcp_set_config(struct usbvnet *vn, const struct usbvnet_dhcp_config *uc);
void usbvnet_dhcp_get_stats(struct usbvnet *vn, struct usbvnet_dhcp_stats *st);
int usbvnet_dhcp_blob_get(const struct usbvnet_leases *ul, bool in, u8 **blob);
int usbvnet_dhcp_blob_put(const struct usbvnet_leases *ul, const u8 *blob);
int usbvnet_dhcp_export(struct usbvnet *vn, struct usbvnet_leases *ul, u8 *blob);
int usbvnet_dhcp_import(struct usbvnet *vn, const struct usbvnet_leases *ul, const u8 *blob);

/* notifier.c */
int usbvnet_notifier_init(void);
void usbvnet_notifier_uninit(void);

/* ctl.c */
int usbvnet_ctl_init(void);
void usbvnet_ctl_uninit(void);

/* stats.c */
struct usbvnet_pcpu_stats __percpu *usbvnet_stats_alloc(void);
void usbvnet_stats_add(struct usbvnet_stats *sum, struct usbvnet_pcpu_stats __percpu *stats);
static inline void usbvnet_count_rx(struct usbvnet_pcpu_stats __percpu *stats, unsigned int len)
{
	struct usbvnet_pcpu_stats *s = this_cpu_ptr(stats);

	u64_stats_update_begin(&s->syncp);
	u64_stats_inc(&s->rx_packets);
	u64_stats_add(&s->rx_bytes, len);
	u64_stats_update_end(&s->syncp);
}

static inline void usbvnet_count_tx(struct usbvnet_pcpu_stats __percpu *stats, unsigned int len)
{
	struct usbvnet_pcpu_stats *s = this_cpu_ptr(stats);

	u64_stats_update_begin(&s->syncp);
	u64_stats_inc(&s->tx_packets);
	u64_stats_add(&s->tx_bytes, len);
	u64_stats_update_end(&s->syncp);
}

#define usbvnet_count(stats, field) this_cpu_inc((stats)->field)

#endif /* _USBVNET_PRIV_H */
