// SPDX-License-Identifier: GPL-2.0
/*
 * Slots' lower devices: attaching and detaching them (enslaved the way
 * bonding does it, with an rx_handler the way macvlan does it) and the data
 * path between them and the usbvnet interface.
 */
#include <linux/etherdevice.h>
#include <linux/if_arp.h>
#include <linux/rtnetlink.h>
#include <linux/usb.h>
#include <net/sch_generic.h>

#include "usbvnet_priv.h"

int usbvnet_errno(int uvn_err)
{
	switch (-uvn_err) {
	case UVN_OK:		return 0;
	case UVN_EBUSY:		return -EBUSY;
	case UVN_ENOSPC:	return -ENOSPC;
	case UVN_ENOENT:	return -ENOENT;
	case UVN_EPERM:		return -EPERM;
	default:		return -EINVAL;
	}
}

static rx_handler_result_t usbvnet_handle_frame(struct sk_buff **pskb);

struct usbvnet_port *usbvnet_port_of(const struct net_device *lower)
{
	ASSERT_RTNL();
	if (rcu_access_pointer(lower->rx_handler) != usbvnet_handle_frame)
		return NULL;
	return rtnl_dereference(lower->rx_handler_data);
}

/* Reads the USB identity of a netdev whose parent is a USB interface. */
void usbvnet_port_identify(const struct net_device *lower, struct usbvnet_identity *id)
{
	struct device *parent = lower->dev.parent;
	struct usb_interface *intf;
	struct usb_device *udev;

	memset(id, 0, sizeof(*id));
	/* usb_if_device_type is not exported; its name identifies it. */
	if (!parent || !parent->type || !parent->type->name ||
	    strcmp(parent->type->name, "usb_interface"))
		return;
	intf = to_usb_interface(parent);
	udev = interface_to_usbdev(intf);
	if (parent->driver) {
		strscpy(id->driver, parent->driver->name, sizeof(id->driver));
		id->driver_bit = uvn_driver_bit(id->driver);
	}
	id->vendor = le16_to_cpu(udev->descriptor.idVendor);
	id->product = le16_to_cpu(udev->descriptor.idProduct);
	strscpy(id->busid, dev_name(&udev->dev), sizeof(id->busid));
	if (udev->serial)
		strscpy(id->serial, udev->serial, sizeof(id->serial));
}

/* ---- data path ------------------------------------------------------------ */

static void usbvnet_xmit_one(struct usbvnet_port *port, struct sk_buff *skb)
{
	unsigned int len = skb->len;

	skb->dev = port->lower;
	if (likely(dev_queue_xmit(skb) == NET_XMIT_SUCCESS))
		usbvnet_count_tx(port->stats, len);
	else
		usbvnet_count(port->stats, tx_dropped);
}

/*
 * Sends skb (data at its Ethernet header) to every slot in mask, cloning
 * for all but the last. Consumes skb. Returns how many slots got a copy.
 * A slot in the mask whose port is already gone is being unplugged: its
 * copy is purged and counted.
 */
static unsigned int usbvnet_flood(struct usbvnet *vn, struct sk_buff *skb, u32 mask)
{
	struct usbvnet_port *last = NULL, *port;
	unsigned int sent = 0;

	while (mask) {
		unsigned int slot = __ffs(mask);

		mask &= mask - 1;
		port = rcu_dereference_bh(vn->ports[slot]);
		if (unlikely(!port)) {
			usbvnet_count(vn->stats, purged);
			continue;
		}
		if (last) {
			struct sk_buff *nskb = skb_clone(skb, GFP_ATOMIC);

			if (nskb) {
				usbvnet_xmit_one(last, nskb);
				sent++;
			} else {
				usbvnet_count(last->stats, tx_dropped);
			}
		}
		last = port;
	}
	if (!last) {
		kfree_skb(skb);
		return sent;
	}
	usbvnet_xmit_one(last, skb);
	return sent + 1;
}

/* The host sends through the usbvnet interface (ndo_start_xmit). */
netdev_tx_t usbvnet_port_xmit(struct usbvnet *vn, struct sk_buff *skb)
{
	unsigned int len = skb->len;
	struct uvn_verdict v;

	/* skb->data is the Ethernet header; the MAC header offset may be unset
	 * (packet sockets bypassing the qdisc, AF_XDP), as macvlan learned. */
	if (unlikely(!pskb_may_pull(skb, ETH_HLEN))) {
		usbvnet_count(vn->stats, tx_dropped);
		kfree_skb(skb);
		return NETDEV_TX_OK;
	}
	if (unlikely(usbvnet_dhcp_from_host(vn, skb))) {
		usbvnet_count_tx(vn->stats, len);
		return NETDEV_TX_OK;
	}
	uvn_forward_from_host(&vn->fdb, READ_ONCE(vn->active), skb_eth_hdr(skb)->h_dest, &v);
	if (likely(usbvnet_flood(vn, skb, v.to_slots)))
		usbvnet_count_tx(vn->stats, len);
	else
		usbvnet_count(vn->stats, tx_dropped);	/* no device attached */
	return NETDEV_TX_OK;
}

/* Learns a new source MAC; false if another slot owns it (spoofed). */
static bool usbvnet_learn(struct usbvnet *vn, struct usbvnet_port *port, const u8 *src)
{
	enum uvn_learn res;

	spin_lock(&vn->fdb_lock);
	res = uvn_fdb_learn(&vn->fdb, src, port->slot, (u32)jiffies);
	spin_unlock(&vn->fdb_lock);
	return res != UVN_LEARN_OWNED;
}

/* Forwards a copy of a received frame to other slots (bridge mode). */
static void usbvnet_forward_copy(struct usbvnet *vn, struct sk_buff *skb, u32 mask, bool keep)
{
	struct sk_buff *nskb = keep ? skb_clone(skb, GFP_ATOMIC) : skb;

	if (!nskb) {
		usbvnet_count(vn->stats, rx_dropped);
		return;
	}
	skb_push(nskb, ETH_HLEN);
	skb_forward_csum(nskb);
	usbvnet_flood(vn, nskb, mask);
}

/* Every frame a slot's device sends arrives here first (rx_handler). */
static rx_handler_result_t usbvnet_handle_frame(struct sk_buff **pskb)
{
	struct sk_buff *skb = *pskb;
	struct usbvnet_port *port;
	const struct ethhdr *eth;
	struct net_device *dev;
	struct uvn_verdict v;
	struct usbvnet *vn;
	unsigned int index;

	if (unlikely(skb->pkt_type == PACKET_LOOPBACK))
		return RX_HANDLER_PASS;
	port = rcu_dereference(skb->dev->rx_handler_data);
	vn = port->vn;
	dev = vn->dev;

	skb = skb_share_check(skb, GFP_ATOMIC);
	if (unlikely(!skb)) {
		usbvnet_count(port->stats, rx_dropped);
		return RX_HANDLER_CONSUMED;
	}
	*pskb = skb;
	eth = eth_hdr(skb);
	usbvnet_count_rx(port->stats, skb->len + ETH_HLEN);

	switch (uvn_check_source(&vn->fdb, dev->dev_addr, port->slot, eth->h_source, &index)) {
	case UVN_SOURCE_KNOWN:
		uvn_fdb_touch(&vn->fdb, index, (u32)jiffies);
		break;
	case UVN_SOURCE_NEW:
		if (usbvnet_learn(vn, port, eth->h_source))
			break;
		fallthrough;
	case UVN_SOURCE_SPOOF:
		usbvnet_count(port->stats, spoof_drops);
		usbvnet_count(vn->stats, spoof_drops);
		goto drop;
	case UVN_SOURCE_INVALID:
		usbvnet_count(port->stats, rx_dropped);
		goto drop;
	}

	if (unlikely(usbvnet_dhcp_from_slot(vn, port, skb)))
		return RX_HANDLER_CONSUMED;

	uvn_forward_from_slot(&vn->fdb, READ_ONCE(vn->active), READ_ONCE(vn->config.mode),
			      dev->dev_addr, dev->flags & IFF_PROMISC, port->slot,
			      eth->h_dest, &v);
	if (v.to_slots)
		usbvnet_forward_copy(vn, skb, v.to_slots, v.to_host);
	if (!v.to_host) {
		if (!v.to_slots)
			consume_skb(skb);
		return RX_HANDLER_CONSUMED;
	}
	if (unlikely(!(dev->flags & IFF_UP))) {
		usbvnet_count(vn->stats, rx_dropped);
		goto drop;
	}
	skb->dev = dev;
	if (v.host_unicast)
		skb->pkt_type = PACKET_HOST;
	usbvnet_count_rx(vn->stats, skb->len + ETH_HLEN);
	return RX_HANDLER_ANOTHER;

drop:
	kfree_skb(skb);
	return RX_HANDLER_CONSUMED;
}

/* ---- attach and detach (RTNL) ---------------------------------------------- */

static void usbvnet_update_carrier(struct usbvnet *vn)
{
	if (vn->active)
		netif_carrier_on(vn->dev);
	else
		netif_carrier_off(vn->dev);
}

static int usbvnet_check_lower(struct usbvnet *vn, struct net_device *lower,
			       struct netlink_ext_ack *extack)
{
	if (lower == vn->dev || usbvnet_is_ours(lower)) {
		NL_SET_ERR_MSG(extack, "cannot attach a usbvnet interface to itself or another");
		return -ELOOP;
	}
	if (lower->type != ARPHRD_ETHER || lower->addr_len != ETH_ALEN ||
	    (lower->flags & IFF_LOOPBACK)) {
		NL_SET_ERR_MSG(extack, "only Ethernet devices can be attached");
		return -EINVAL;
	}
	if (!net_eq(dev_net(lower), dev_net(vn->dev))) {
		NL_SET_ERR_MSG(extack, "device is in another network namespace");
		return -EXDEV;
	}
	if (netdev_is_rx_handler_busy(lower)) {
		NL_SET_ERR_MSG(extack, "device is already attached, bridged or bonded");
		return -EBUSY;
	}
	return 0;
}

/* What frames of a slot taught: learned MACs, DHCP leases (they stay remembered). */
static unsigned int usbvnet_slot_forget(struct usbvnet *vn, u32 slot)
{
	unsigned int forgotten;

	spin_lock_bh(&vn->fdb_lock);
	forgotten = uvn_fdb_forget_slot(&vn->fdb, slot);
	spin_unlock_bh(&vn->fdb_lock);
	usbvnet_dhcp_slot_gone(vn, slot);
	return forgotten;
}

/* Attaches lower to slot (or the best free slot: UVN_ANY_SLOT); returns the slot. */
int usbvnet_port_attach(struct usbvnet *vn, struct net_device *lower, u32 wanted,
			struct netlink_ext_ack *extack)
{
	struct usbvnet_port *port;
	int slot, err;

	ASSERT_RTNL();
	err = usbvnet_check_lower(vn, lower, extack);
	if (err)
		return err;

	port = kzalloc(sizeof(*port), GFP_KERNEL);
	if (!port)
		return -ENOMEM;
	port->stats = usbvnet_stats_alloc();
	if (!port->stats) {
		err = -ENOMEM;
		goto err_free_port;
	}
	port->vn = vn;
	port->lower = lower;
	usbvnet_port_identify(lower, &port->id);

	slot = uvn_slots_take(&vn->slots, port->id.serial, wanted);
	if (slot < 0) {
		/* EBUSY already says "this netdev is busy": a taken slot is its own error. */
		if (slot == -UVN_EBUSY) {
			NL_SET_ERR_MSG(extack, "the wanted slot is taken");
			err = -EADDRINUSE;
		} else {
			err = usbvnet_errno(slot);
		}
		goto err_free_stats;
	}
	port->slot = slot;

	err = netdev_rx_handler_register(lower, usbvnet_handle_frame, port);
	if (err)
		goto err_release_slot;
	err = netdev_master_upper_dev_link(lower, vn->dev, NULL, NULL, extack);
	if (err)
		goto err_unregister_handler;
	/* Devices answer for several MACs (the host's, each other's). */
	err = dev_set_promiscuity(lower, 1);
	if (err)
		goto err_unlink;
	/* A slave gets no addresses of its own (IPv6 addrconf skips it). */
	lower->flags |= IFF_SLAVE;
	/* udev names a new netdev after it registers, when auto-attach has
	 * already opened it: a lower that is up may be renamed (as failover's). */
	if (!(lower->priv_flags & IFF_LIVE_RENAME_OK)) {
		lower->priv_flags |= IFF_LIVE_RENAME_OK;
		port->live_rename = true;
	}
	if (!(lower->flags & IFF_UP)) {
		err = dev_open(lower, extack);
		if (err)
			goto err_unslave;
		port->opened = true;
	}

	rcu_assign_pointer(vn->ports[slot], port);
	WRITE_ONCE(vn->active, vn->active | BIT(slot));
	usbvnet_update_carrier(vn);
	netdev_info(vn->dev, "slot %d: attached %s (%s %04x:%04x serial \"%s\" at %s)\n",
		    slot, lower->name, port->id.driver[0] ? port->id.driver : "-",
		    port->id.vendor, port->id.product, port->id.serial,
		    port->id.busid[0] ? port->id.busid : "-");
	return slot;

err_unslave:
	if (port->live_rename)
		lower->priv_flags &= ~IFF_LIVE_RENAME_OK;
	lower->flags &= ~IFF_SLAVE;
	dev_set_promiscuity(lower, -1);
err_unlink:
	netdev_upper_dev_unlink(lower, vn->dev);
err_unregister_handler:
	netdev_rx_handler_unregister(lower);
	/* Its frames flowed meanwhile: the next device in this slot must not
	 * inherit their MACs or leases. */
	usbvnet_slot_forget(vn, slot);
err_release_slot:
	uvn_slots_release(&vn->slots, slot);
err_free_stats:
	free_percpu(port->stats);
err_free_port:
	kfree(port);
	return err;
}

static void usbvnet_port_free(struct rcu_head *head)
{
	struct usbvnet_port *port = container_of(head, struct usbvnet_port, rcu);

	free_percpu(port->stats);
	kfree(port);
}

/*
 * A slot's device is going away (unplug closes it before unregistering):
 * what still waits in its queue is about to be purged, so count it.
 */
void usbvnet_port_going_down(struct usbvnet_port *port)
{
	unsigned int i, backlog = 0;

	ASSERT_RTNL();
	for (i = 0; i < port->lower->num_tx_queues; i++) {
		struct Qdisc *q = rtnl_dereference(netdev_get_tx_queue(port->lower, i)->qdisc);

		if (q)
			backlog += qdisc_qlen_sum(q);
	}
	this_cpu_add(port->stats->purged, backlog);
	this_cpu_add(port->vn->stats->purged, backlog);
}

void usbvnet_port_detach(struct usbvnet_port *port)
{
	struct usbvnet *vn = port->vn;
	struct net_device *lower = port->lower;
	u32 slot = port->slot;
	unsigned int forgotten;

	ASSERT_RTNL();
	/* Stop sending to it first; frames still meant for it are purged. */
	WRITE_ONCE(vn->active, vn->active & ~BIT(slot));
	RCU_INIT_POINTER(vn->ports[slot], NULL);
	/* Waits for receivers (synchronize_net): no frame from it after this. */
	netdev_rx_handler_unregister(lower);
	netdev_upper_dev_unlink(lower, vn->dev);
	lower->flags &= ~IFF_SLAVE;
	if (port->live_rename)
		lower->priv_flags &= ~IFF_LIVE_RENAME_OK;
	dev_set_promiscuity(lower, -1);
	if (port->opened && lower->reg_state == NETREG_REGISTERED && (lower->flags & IFF_UP))
		dev_close(lower);

	forgotten = usbvnet_slot_forget(vn, slot);
	uvn_slots_release(&vn->slots, slot);
	usbvnet_update_carrier(vn);
	netdev_info(vn->dev, "slot %u: detached %s (%u MACs forgotten)\n",
		    slot, lower->name, forgotten);
	/* Senders may still hold it under RCU. */
	call_rcu(&port->rcu, usbvnet_port_free);
}

void usbvnet_port_detach_all(struct usbvnet *vn)
{
	unsigned int slot;

	for (slot = 0; slot < USBVNET_MAX_SLOTS; slot++) {
		struct usbvnet_port *port = rtnl_dereference(vn->ports[slot]);

		if (port)
			usbvnet_port_detach(port);
	}
}
