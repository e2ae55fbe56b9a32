// SPDX-License-Identifier: GPL-2.0
/*
 * The usbvnet netdev: one Ethernet interface per instance, its netdev ops,
 * its rtnl_link_ops ("ip link add NAME type usbvnet") and its stable MAC.
 */
#include <linux/dmi.h>
#include <linux/etherdevice.h>
#include <linux/if_arp.h>
#include <linux/module.h>
#include <net/rtnetlink.h>

#include "usbvnet_priv.h"

static char *mac;
module_param(mac, charp, 0444);
MODULE_PARM_DESC(mac, "MAC address of usbvnet0 (default: derived from the DMI product UUID)");

static bool dhcp = true;
module_param(dhcp, bool, 0444);
MODULE_PARM_DESC(dhcp, "Start each instance with its DHCP server on (default: on)");

/* All instances in all namespaces; changed and walked under RTNL. */
LIST_HEAD(usbvnet_instances);

#define USBVNET_GC_INTERVAL	(30 * HZ)

static void usbvnet_fdb_gc(struct work_struct *work)
{
	struct usbvnet *vn = container_of(to_delayed_work(work), struct usbvnet, fdb_gc);

	spin_lock_bh(&vn->fdb_lock);
	uvn_fdb_expire(&vn->fdb, (u32)jiffies, USBVNET_FDB_MAX_AGE);
	spin_unlock_bh(&vn->fdb_lock);
	schedule_delayed_work(&vn->fdb_gc, USBVNET_GC_INTERVAL);
}

static int usbvnet_open(struct net_device *dev)
{
	struct usbvnet *vn = netdev_priv(dev);

	if (vn->slots.used)
		netif_carrier_on(dev);
	else
		netif_carrier_off(dev);
	return 0;
}

static int usbvnet_stop(struct net_device *dev)
{
	return 0;
}

static netdev_tx_t usbvnet_start_xmit(struct sk_buff *skb, struct net_device *dev)
{
	return usbvnet_port_xmit(netdev_priv(dev), skb);
}

static void usbvnet_get_stats64(struct net_device *dev, struct rtnl_link_stats64 *out)
{
	struct usbvnet *vn = netdev_priv(dev);
	struct usbvnet_stats sum = {};

	usbvnet_stats_add(&sum, vn->stats);
	out->rx_packets = sum.rx_packets;
	out->rx_bytes = sum.rx_bytes;
	out->tx_packets = sum.tx_packets;
	out->tx_bytes = sum.tx_bytes;
	out->rx_dropped = sum.rx_dropped + sum.spoof_drops;
	out->tx_dropped = sum.tx_dropped + sum.purged;
}

static int usbvnet_dev_init(struct net_device *dev)
{
	struct usbvnet *vn = netdev_priv(dev);

	ASSERT_RTNL();
	list_add_tail(&vn->list, &usbvnet_instances);
	schedule_delayed_work(&vn->fdb_gc, USBVNET_GC_INTERVAL);
	return 0;
}

/* Runs on unregister (and on a register that failed after ndo_init). */
static void usbvnet_dev_uninit(struct net_device *dev)
{
	struct usbvnet *vn = netdev_priv(dev);

	ASSERT_RTNL();
	usbvnet_port_detach_all(vn);
	/* No slot can defer a reply any more: drop those still waiting. */
	usbvnet_dhcp_drop_deferred(vn);
	list_del(&vn->list);
	cancel_delayed_work_sync(&vn->fdb_gc);
}

static void usbvnet_dev_free(struct net_device *dev)
{
	struct usbvnet *vn = netdev_priv(dev);

	free_percpu(vn->stats);
}

static int usbvnet_set_mac_address(struct net_device *dev, void *addr)
{
	struct usbvnet *vn = netdev_priv(dev);
	int err;

	err = eth_mac_addr(dev, addr);
	if (err)
		return err;
	ether_addr_copy(vn->config.mac, dev->dev_addr);
	usbvnet_dhcp_set_mac(vn, dev->dev_addr);
	return 0;
}

/* "ip link set LOWER master usbvnet0", as for a bridge or a bond: any free slot. */
static int usbvnet_add_slave(struct net_device *dev, struct net_device *lower,
			     struct netlink_ext_ack *extack)
{
	int slot = usbvnet_port_attach(netdev_priv(dev), lower, UVN_ANY_SLOT, extack);

	return slot < 0 ? slot : 0;
}

/* "ip link set LOWER nomaster". */
static int usbvnet_del_slave(struct net_device *dev, struct net_device *lower)
{
	struct usbvnet_port *port = usbvnet_port_of(lower);

	if (!port || port->vn != netdev_priv(dev))
		return -EINVAL;
	usbvnet_port_detach(port);
	return 0;
}

static const struct net_device_ops usbvnet_netdev_ops = {
	.ndo_init		= usbvnet_dev_init,
	.ndo_uninit		= usbvnet_dev_uninit,
	.ndo_open		= usbvnet_open,
	.ndo_stop		= usbvnet_stop,
	.ndo_start_xmit		= usbvnet_start_xmit,
	.ndo_get_stats64	= usbvnet_get_stats64,
	.ndo_set_mac_address	= usbvnet_set_mac_address,
	.ndo_validate_addr	= eth_validate_addr,
	.ndo_add_slave		= usbvnet_add_slave,
	.ndo_del_slave		= usbvnet_del_slave,
};

#define USBVNET_FEATURES (NETIF_F_SG | NETIF_F_HW_CSUM | NETIF_F_HIGHDMA | \
			  NETIF_F_FRAGLIST | NETIF_F_GSO_SOFTWARE)

static void usbvnet_setup(struct net_device *dev)
{
	struct usbvnet *vn = netdev_priv(dev);

	ether_setup(dev);
	dev->netdev_ops = &usbvnet_netdev_ops;
	dev->rtnl_link_ops = &usbvnet_link_ops;
	dev->needs_free_netdev = true;
	/* No queue of our own: frames go straight to a slot's own queue. */
	dev->priv_flags |= IFF_NO_QUEUE | IFF_LIVE_ADDR_CHANGE;
	dev->priv_flags &= ~IFF_TX_SKB_SHARING;
	/* Offloads are resolved per lower at its own transmit (late GSO). */
	/* Slots are netdevs of this namespace: the instance stays with them. */
	dev->features |= USBVNET_FEATURES | NETIF_F_LLTX | NETIF_F_NETNS_LOCAL;
	dev->hw_features |= USBVNET_FEATURES;
	dev->hw_enc_features |= USBVNET_FEATURES;
	dev->max_mtu = ETH_MAX_MTU;

	INIT_LIST_HEAD(&vn->list);
	INIT_DELAYED_WORK(&vn->fdb_gc, usbvnet_fdb_gc);
	spin_lock_init(&vn->fdb_lock);
	uvn_slots_init(&vn->slots);
	uvn_fdb_init(&vn->fdb);
	uvn_config_default(&vn->config);
	usbvnet_dhcp_setup(vn, dhcp);
}

/*
 * The MAC an instance gets when none is given: derived from the machine's
 * DMI product UUID and the interface name (uvn_mac_derive), so the same on
 * every boot; random, with a warning, on machines that have no UUID.
 */
static void usbvnet_stable_mac(const char *ifname, u8 *addr)
{
	const char *uuid = dmi_get_system_info(DMI_PRODUCT_UUID);

	if (uuid && *uuid && strspn(uuid, "0-") != strlen(uuid) &&
	    strspn(uuid, "fF-") != strlen(uuid)) {
		uvn_mac_derive((const u8 *)uuid, strlen(uuid), ifname, addr);
		return;
	}
	eth_random_addr(addr);
	pr_warn("%s: no DMI product UUID: random MAC %pM until one is configured\n",
		ifname, addr);
}

/* Registers a set-up instance; the caller holds RTNL and frees dev on error. */
static int usbvnet_register(struct net_device *dev, bool has_addr)
{
	struct usbvnet *vn = netdev_priv(dev);
	u8 addr[ETH_ALEN];
	int err;

	vn->dev = dev;
	vn->stats = usbvnet_stats_alloc();
	if (!vn->stats)
		return -ENOMEM;

	/* The MAC derives from the final name: resolve "usbvnet%d" now. */
	if (strchr(dev->name, '%')) {
		err = dev_alloc_name(dev, dev->name);
		if (err < 0)
			goto err_free_stats;
	}
	if (!has_addr) {
		usbvnet_stable_mac(dev->name, addr);
		eth_hw_addr_set(dev, addr);
	}
	ether_addr_copy(vn->config.mac, dev->dev_addr);
	usbvnet_dhcp_set_mac(vn, dev->dev_addr);

	netif_carrier_off(dev);
	err = register_netdevice(dev);
	if (err)
		goto err_free_stats;
	/* Only now: a failed register must not run the destructor too. */
	dev->priv_destructor = usbvnet_dev_free;
	return 0;

err_free_stats:
	free_percpu(vn->stats);
	vn->stats = NULL;
	return err;
}

static const struct nla_policy usbvnet_policy[IFLA_USBVNET_MAX + 1] = {
	[IFLA_USBVNET_MODE]		= NLA_POLICY_MAX(NLA_U32, USBVNET_MODE_PRIVATE),
	[IFLA_USBVNET_SLOTS]		= { .type = NLA_REJECT },
	[IFLA_USBVNET_SLOTS_USED]	= { .type = NLA_REJECT },
};

static int usbvnet_validate(struct nlattr *tb[], struct nlattr *data[],
			    struct netlink_ext_ack *extack)
{
	if (tb[IFLA_ADDRESS]) {
		if (nla_len(tb[IFLA_ADDRESS]) != ETH_ALEN) {
			NL_SET_ERR_MSG_ATTR(extack, tb[IFLA_ADDRESS], "address must be 6 bytes");
			return -EINVAL;
		}
		if (!is_valid_ether_addr(nla_data(tb[IFLA_ADDRESS]))) {
			NL_SET_ERR_MSG_ATTR(extack, tb[IFLA_ADDRESS], "address must be unicast and non-zero");
			return -EADDRNOTAVAIL;
		}
	}
	return 0;
}

static int usbvnet_newlink(struct net *src_net, struct net_device *dev,
			   struct nlattr *tb[], struct nlattr *data[],
			   struct netlink_ext_ack *extack)
{
	struct usbvnet *vn = netdev_priv(dev);

	/* Devices are attached with the ioctl or as they register. */
	vn->config.flags &= ~UVN_CFG_AUTO_ATTACH;
	if (data && data[IFLA_USBVNET_MODE])
		vn->config.mode = nla_get_u32(data[IFLA_USBVNET_MODE]);
	return usbvnet_register(dev, !!tb[IFLA_ADDRESS]);
}

static int usbvnet_changelink(struct net_device *dev, struct nlattr *tb[],
			      struct nlattr *data[], struct netlink_ext_ack *extack)
{
	struct usbvnet *vn = netdev_priv(dev);

	if (data && data[IFLA_USBVNET_MODE])
		WRITE_ONCE(vn->config.mode, nla_get_u32(data[IFLA_USBVNET_MODE]));
	return 0;
}

static size_t usbvnet_get_size(const struct net_device *dev)
{
	return 3 * nla_total_size(sizeof(u32));
}

static int usbvnet_fill_info(struct sk_buff *skb, const struct net_device *dev)
{
	const struct usbvnet *vn = netdev_priv(dev);

	if (nla_put_u32(skb, IFLA_USBVNET_MODE, vn->config.mode) ||
	    nla_put_u32(skb, IFLA_USBVNET_SLOTS, USBVNET_MAX_SLOTS) ||
	    nla_put_u32(skb, IFLA_USBVNET_SLOTS_USED, vn->slots.used))
		return -EMSGSIZE;
	return 0;
}

struct rtnl_link_ops usbvnet_link_ops __read_mostly = {
	.kind		= USBVNET_KIND,
	.priv_size	= sizeof(struct usbvnet),
	.setup		= usbvnet_setup,
	.maxtype	= IFLA_USBVNET_MAX,
	.policy		= usbvnet_policy,
	.validate	= usbvnet_validate,
	.newlink	= usbvnet_newlink,
	.changelink	= usbvnet_changelink,
	.get_size	= usbvnet_get_size,
	.fill_info	= usbvnet_fill_info,
};

bool usbvnet_is_ours(const struct net_device *dev)
{
	return dev->rtnl_link_ops == &usbvnet_link_ops;
}

/* An instance by name in net; empty name = the default instance. */
struct usbvnet *usbvnet_find(struct net *net, const char *name)
{
	struct net_device *dev;

	ASSERT_RTNL();
	dev = __dev_get_by_name(net, name[0] ? name : USBVNET_DEFAULT_NAME);
	if (!dev || !usbvnet_is_ours(dev))
		return NULL;
	return netdev_priv(dev);
}

/* Creates usbvnet0 in the initial namespace, with auto-attach on. */
static int usbvnet_create_default(void)
{
	struct net_device *dev;
	u8 addr[ETH_ALEN];
	int err;

	dev = alloc_netdev(sizeof(struct usbvnet), USBVNET_DEFAULT_NAME,
			   NET_NAME_PREDICTABLE, usbvnet_setup);
	if (!dev)
		return -ENOMEM;
	if (mac) {
		if (!mac_pton(mac, addr) || !is_valid_ether_addr(addr)) {
			pr_err("mac=%s is not a unicast MAC address\n", mac);
			err = -EINVAL;
			goto err_free;
		}
		eth_hw_addr_set(dev, addr);
	}
	rtnl_lock();
	err = usbvnet_register(dev, !!mac);
	rtnl_unlock();
	if (err)
		goto err_free;
	return 0;

err_free:
	free_netdev(dev);
	return err;
}

int usbvnet_device_init(void)
{
	int err;

	err = rtnl_link_register(&usbvnet_link_ops);
	if (err)
		return err;
	err = usbvnet_create_default();
	if (err)
		goto err_unregister;
	return 0;

err_unregister:
	rtnl_link_unregister(&usbvnet_link_ops);
	return err;
}

/* Removes every instance (rtnl_link_unregister deletes them) and the kind. */
void usbvnet_device_uninit(void)
{
	rtnl_link_unregister(&usbvnet_link_ops);
}
