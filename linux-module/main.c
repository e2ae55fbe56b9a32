// SPDX-License-Identifier: GPL-2.0
/*
 * usbvnet: one virtual Ethernet interface that bridges every USB network
 * device into it through 32 slots. This file only orders init and exit.
 */
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <net/rtnetlink.h>

#include "usbvnet_priv.h"

static int __init usbvnet_init(void)
{
	int err;

	err = usbvnet_device_init();
	if (err)
		return err;
	/* Registering replays NETDEV_REGISTER: devices plugged earlier attach now. */
	err = usbvnet_notifier_init();
	if (err)
		goto err_device;
	err = usbvnet_ctl_init();
	if (err)
		goto err_notifier;
	pr_info("loaded: control interface /dev/usbvnet, API version %d\n", USBVNET_API_VERSION);
	return 0;

err_notifier:
	usbvnet_notifier_uninit();
	usbvnet_dhcp_drop_deferred(NULL);
err_device:
	usbvnet_device_uninit();
	rcu_barrier();
	return err;
}

static void __exit usbvnet_exit(void)
{
	usbvnet_ctl_uninit();
	/* Unregistering replays NETDEV_UNREGISTER: every slot is detached. */
	usbvnet_notifier_uninit();
	/* DHCP replies still waiting for a lower hold it: drop them. */
	usbvnet_dhcp_drop_deferred(NULL);
	usbvnet_device_uninit();
	/* Ports are freed by call_rcu: let those run before the code goes. */
	rcu_barrier();
}

module_init(usbvnet_init);
module_exit(usbvnet_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("One virtual Ethernet interface for every USB network device");
MODULE_ALIAS_RTNL_LINK("usbvnet");
