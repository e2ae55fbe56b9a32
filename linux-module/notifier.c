// SPDX-License-Identifier: GPL-2.0
/*
 * Netdevice events: a USB network device registering is attached to the
 * first instance that auto-attaches and accepts it; a slot's device going
 * away frees its slot.
 */
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>

#include "usbvnet_priv.h"

static void usbvnet_auto_attach(struct net_device *lower)
{
	struct usbvnet_identity id;
	bool full = false;
	struct usbvnet *vn;
	int err;

	usbvnet_port_identify(lower, &id);
	if (!id.driver_bit)
		return;		/* not a USB network device of ours */

	list_for_each_entry(vn, &usbvnet_instances, list) {
		if (!(vn->config.flags & UVN_CFG_AUTO_ATTACH) ||
		    !net_eq(dev_net(vn->dev), dev_net(lower)) ||
		    vn->dev->reg_state != NETREG_REGISTERED)
			continue;
		err = uvn_config_match(&vn->config, id.driver_bit, id.vendor, id.product);
		if (err == -UVN_EPERM) {
			atomic64_inc(&vn->refused_rules);
			netdev_info(vn->dev, "%s (%04x:%04x): not attached: denied by a match rule\n",
				    lower->name, id.vendor, id.product);
			continue;
		}
		if (err)
			continue;
		err = usbvnet_port_attach(vn, lower, UVN_ANY_SLOT, NULL);
		if (err >= 0)
			return;
		if (err == -ENOSPC) {
			atomic64_inc(&vn->refused_full);
			full = true;
			netdev_warn(vn->dev, "%s (%s %04x:%04x serial \"%s\" at %s): not attached: all %d slots are in use\n",
				    lower->name, id.driver, id.vendor, id.product, id.serial,
				    id.busid, USBVNET_MAX_SLOTS);
			continue;
		}
		netdev_warn(vn->dev, "%s: not attached: error %d\n", lower->name, err);
		return;
	}
	if (full)
		netdev_info(lower, "left as an ordinary interface\n");
}

static int usbvnet_netdev_event(struct notifier_block *nb, unsigned long event, void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);
	struct usbvnet_port *port;

	if (event == NETDEV_REGISTER) {
		if (!usbvnet_is_ours(dev) && !netdev_is_rx_handler_busy(dev))
			usbvnet_auto_attach(dev);
		return NOTIFY_DONE;
	}

	port = usbvnet_port_of(dev);
	if (!port)
		return NOTIFY_DONE;

	switch (event) {
	case NETDEV_GOING_DOWN:
		usbvnet_port_going_down(port);
		break;
	case NETDEV_UNREGISTER:
		/* Unplugged, or moved to another namespace: free the slot. */
		usbvnet_port_detach(port);
		break;
	case NETDEV_PRE_TYPE_CHANGE:
		/* Only Ethernet devices can be slots. */
		return NOTIFY_BAD;
	}
	return NOTIFY_DONE;
}

static struct notifier_block usbvnet_notifier = {
	.notifier_call = usbvnet_netdev_event,
};

int usbvnet_notifier_init(void)
{
	return register_netdevice_notifier(&usbvnet_notifier);
}

void usbvnet_notifier_uninit(void)
{
	unregister_netdevice_notifier(&usbvnet_notifier);
}
