// SPDX-License-Identifier: GPL-2.0
/*
 * The control interface: ioctls on /dev/usbvnet (uapi/usbvnet.h). This file
 * only checks and parses requests; the work is done by device.c and port.c.
 * Every request runs under RTNL, so it sees and leaves a consistent state;
 * user memory beyond the request's struct (lease tables) is copied outside it.
 */
#include <linux/capability.h>
#include <linux/etherdevice.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/nsproxy.h>
#include <linux/rtnetlink.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <net/net_namespace.h>

#include "usbvnet_priv.h"

union usbvnet_ctl_arg {
	struct usbvnet_info info;
	struct usbvnet_slot_info slot;
	struct usbvnet_config config;
	struct usbvnet_attach attach;
	struct usbvnet_dhcp_config dhcp;
	struct usbvnet_dhcp_stats dhcp_stats;
	struct usbvnet_leases leases;
};

/* A request as the handlers see it. */
struct usbvnet_ctl_call {
	union usbvnet_ctl_arg arg;
	u8 *blob;		/* a lease table in kernel memory, or NULL */
};

static u8 *usbvnet_ctl_blob(union usbvnet_ctl_arg *arg)
{
	return container_of(arg, struct usbvnet_ctl_call, arg)->blob;
}

/* Every request starts with the instance name; it must be NUL-terminated. */
static struct usbvnet *usbvnet_ctl_instance(struct net *net, const char *ifname)
{
	if (strnlen(ifname, USBVNET_IFNAMSIZ) == USBVNET_IFNAMSIZ)
		return ERR_PTR(-EINVAL);
	return usbvnet_find(net, ifname) ?: ERR_PTR(-ENODEV);
}

static int usbvnet_ctl_info(struct net *net, struct usbvnet *vn, union usbvnet_ctl_arg *arg)
{
	struct usbvnet_info *info = &arg->info;
	struct usbvnet_stats sum = {};

	usbvnet_stats_add(&sum, vn->stats);
	memset(info, 0, sizeof(*info));
	strscpy(info->ifname, vn->dev->name, sizeof(info->ifname));
	info->api_version = USBVNET_API_VERSION;
	info->ifindex = vn->dev->ifindex;
	ether_addr_copy(info->mac, vn->dev->dev_addr);
	info->carrier = netif_carrier_ok(vn->dev);
	info->mode = vn->config.mode;
	info->max_slots = USBVNET_MAX_SLOTS;
	info->slots_used = vn->active;
	info->nr_instances = list_count_nodes(&usbvnet_instances);
	info->refused_full = atomic64_read(&vn->refused_full);
	info->refused_rules = atomic64_read(&vn->refused_rules);
	info->spoof_drops = sum.spoof_drops;
	info->purged = sum.purged;
	info->rx_packets = sum.rx_packets;
	info->rx_bytes = sum.rx_bytes;
	info->tx_packets = sum.tx_packets;
	info->tx_bytes = sum.tx_bytes;
	info->rx_dropped = sum.rx_dropped;
	info->tx_dropped = sum.tx_dropped;
	return 0;
}

static int usbvnet_ctl_slot_info(struct net *net, struct usbvnet *vn, union usbvnet_ctl_arg *arg)
{
	struct usbvnet_slot_info *si = &arg->slot;
	struct usbvnet_stats sum = {};
	struct usbvnet_port *port;
	u32 slot = si->slot;

	if (slot >= USBVNET_MAX_SLOTS)
		return -EINVAL;
	memset(si, 0, sizeof(*si));
	strscpy(si->ifname, vn->dev->name, sizeof(si->ifname));
	si->slot = slot;
	port = rtnl_dereference(vn->ports[slot]);
	if (!port)
		return 0;

	usbvnet_stats_add(&sum, port->stats);
	si->in_use = 1;
	strscpy(si->lower, port->lower->name, sizeof(si->lower));
	si->lower_ifindex = port->lower->ifindex;
	si->vendor = port->id.vendor;
	si->product = port->id.product;
	memcpy(si->driver, port->id.driver, sizeof(si->driver));
	memcpy(si->busid, port->id.busid, sizeof(si->busid));
	memcpy(si->serial, port->id.serial, sizeof(si->serial));
	ether_addr_copy(si->lower_mac, port->lower->dev_addr);
	si->learned = vn->fdb.count[slot];
	si->rx_packets = sum.rx_packets;
	si->rx_bytes = sum.rx_bytes;
	si->rx_dropped = sum.rx_dropped;
	si->tx_packets = sum.tx_packets;
	si->tx_bytes = sum.tx_bytes;
	si->tx_dropped = sum.tx_dropped;
	si->spoof_drops = sum.spoof_drops;
	si->purged = sum.purged;
	return 0;
}

static int usbvnet_ctl_get_config(struct net *net, struct usbvnet *vn, union usbvnet_ctl_arg *arg)
{
	struct usbvnet_config *uc = &arg->config;
	const struct uvn_config *c = &vn->config;
	u32 i;

	memset(uc, 0, sizeof(*uc));
	strscpy(uc->ifname, vn->dev->name, sizeof(uc->ifname));
	ether_addr_copy(uc->mac, vn->dev->dev_addr);
	uc->mode = c->mode;
	uc->flags = c->flags;
	uc->drivers = c->drivers;
	uc->nr_rules = c->nr_rules;
	for (i = 0; i < c->nr_rules; i++) {
		uc->rules[i].vendor = c->rules[i].vendor;
		uc->rules[i].product = c->rules[i].product;
		uc->rules[i].action = c->rules[i].action;
	}
	return 0;
}

/* Checks everything, then applies: the MAC first, as the one step that can fail. */
static int usbvnet_ctl_set_config(struct net *net, struct usbvnet *vn, union usbvnet_ctl_arg *arg)
{
	const struct usbvnet_config *uc = &arg->config;
	const char *why = NULL;
	struct uvn_config c;
	u32 i;
	int err;

	if (uc->reserved0)
		return -EINVAL;
	memset(&c, 0, sizeof(c));
	ether_addr_copy(c.mac, uc->mac);
	c.mode = uc->mode;
	c.flags = uc->flags;
	c.drivers = uc->drivers;
	c.nr_rules = uc->nr_rules;
	for (i = 0; i < min_t(u32, uc->nr_rules, UVN_MAX_RULES); i++) {
		c.rules[i].vendor = uc->rules[i].vendor;
		c.rules[i].product = uc->rules[i].product;
		c.rules[i].action = uc->rules[i].action;
	}
	err = usbvnet_errno(uvn_config_check(&c, &why));
	if (err) {
		netdev_dbg(vn->dev, "configuration refused: %s\n", why);
		return err;
	}
	if (!ether_addr_equal(c.mac, vn->dev->dev_addr)) {
		struct sockaddr sa = { .sa_family = vn->dev->type };

		memcpy(sa.sa_data, c.mac, ETH_ALEN);
		err = dev_set_mac_address(vn->dev, &sa, NULL);
		if (err)
			return err;
	}
	WRITE_ONCE(vn->config.mode, c.mode);
	vn->config.flags = c.flags;
	vn->config.drivers = c.drivers;
	vn->config.nr_rules = c.nr_rules;
	memcpy(vn->config.rules, c.rules, sizeof(c.rules));
	ether_addr_copy(vn->config.mac, c.mac);
	return 0;
}

static int usbvnet_ctl_attach(struct net *net, struct usbvnet *vn, union usbvnet_ctl_arg *arg)
{
	struct usbvnet_attach *at = &arg->attach;
	struct net_device *lower;
	int slot;

	if (at->reserved0 || strnlen(at->lower, USBVNET_IFNAMSIZ) == USBVNET_IFNAMSIZ)
		return -EINVAL;
	lower = __dev_get_by_name(net, at->lower);
	if (!lower)
		return -ENODEV;
	if (usbvnet_port_of(lower))
		return -EBUSY;
	slot = usbvnet_port_attach(vn, lower, at->slot, NULL);
	if (slot < 0)
		return slot;
	at->slot = slot;
	return 0;
}

static int usbvnet_ctl_detach(struct net *net, struct usbvnet *vn, union usbvnet_ctl_arg *arg)
{
	struct usbvnet_attach *at = &arg->attach;
	struct usbvnet_port *port;

	if (at->reserved0 || strnlen(at->lower, USBVNET_IFNAMSIZ) == USBVNET_IFNAMSIZ)
		return -EINVAL;
	if (at->slot != USBVNET_ANY_SLOT) {
		if (at->slot >= USBVNET_MAX_SLOTS)
			return -EINVAL;
		port = rtnl_dereference(vn->ports[at->slot]);
	} else {
		struct net_device *lower = __dev_get_by_name(net, at->lower);

		if (!lower)
			return -ENODEV;
		port = usbvnet_port_of(lower);
		if (port && port->vn != vn)
			port = NULL;
	}
	if (!port)
		return -ENOENT;
	usbvnet_port_detach(port);
	return 0;
}

static int usbvnet_ctl_get_dhcp(struct net *net, struct usbvnet *vn, union usbvnet_ctl_arg *arg)
{
	return usbvnet_dhcp_get_config(vn, &arg->dhcp);
}

static int usbvnet_ctl_set_dhcp(struct net *net, struct usbvnet *vn, union usbvnet_ctl_arg *arg)
{
	return usbvnet_dhcp_set_config(vn, &arg->dhcp);
}

static int usbvnet_ctl_dhcp_stats(struct net *net, struct usbvnet *vn, union usbvnet_ctl_arg *arg)
{
	usbvnet_dhcp_get_stats(vn, &arg->dhcp_stats);
	return 0;
}

static int usbvnet_ctl_leases_export(struct net *net, struct usbvnet *vn,
				     union usbvnet_ctl_arg *arg)
{
	return usbvnet_dhcp_export(vn, &arg->leases, usbvnet_ctl_blob(arg));
}

static int usbvnet_ctl_leases_import(struct net *net, struct usbvnet *vn,
				     union usbvnet_ctl_arg *arg)
{
	return usbvnet_dhcp_import(vn, &arg->leases, usbvnet_ctl_blob(arg));
}

/* A caller built with fewer or more counters than this module has. */
static void usbvnet_ctl_dhcp_stats_fit(union usbvnet_ctl_arg *arg, unsigned int size)
{
	unsigned int room = (size - offsetof(struct usbvnet_dhcp_stats, counters)) / sizeof(u32);

	arg->dhcp_stats.nr_counters = min(arg->dhcp_stats.nr_counters, room);
}

struct usbvnet_ctl_op {
	unsigned int cmd;
	bool admin;		/* needs CAP_NET_ADMIN */
	int (*handler)(struct net *net, struct usbvnet *vn, union usbvnet_ctl_arg *arg);
	/* Growable structs: any size from min_size up in steps of 4 is taken,
	 * and fit() trims the answer to the caller's size. 0: exact size only. */
	unsigned int min_size;
	void (*fit)(union usbvnet_ctl_arg *arg, unsigned int size);
	/* A lease table to move: USBVNET_CTL_BLOB_IN before, _OUT after RTNL. */
	u8 blob;
};

enum { USBVNET_CTL_NO_BLOB, USBVNET_CTL_BLOB_IN, USBVNET_CTL_BLOB_OUT };

static const struct usbvnet_ctl_op usbvnet_ctl_ops[] = {
	{ USBVNET_IOC_INFO, false, usbvnet_ctl_info },
	{ USBVNET_IOC_SLOT_INFO, false, usbvnet_ctl_slot_info },
	{ USBVNET_IOC_GET_CONFIG, false, usbvnet_ctl_get_config },
	{ USBVNET_IOC_SET_CONFIG, true, usbvnet_ctl_set_config },
	{ USBVNET_IOC_ATTACH, true, usbvnet_ctl_attach },
	{ USBVNET_IOC_DETACH, true, usbvnet_ctl_detach },
	{ USBVNET_IOC_GET_DHCP, false, usbvnet_ctl_get_dhcp },
	{ USBVNET_IOC_SET_DHCP, true, usbvnet_ctl_set_dhcp },
	{ USBVNET_IOC_DHCP_STATS, false, usbvnet_ctl_dhcp_stats,
	  offsetof(struct usbvnet_dhcp_stats, counters), usbvnet_ctl_dhcp_stats_fit },
	{ USBVNET_IOC_LEASES_EXPORT, false, usbvnet_ctl_leases_export,
	  .blob = USBVNET_CTL_BLOB_OUT },
	{ USBVNET_IOC_LEASES_IMPORT, true, usbvnet_ctl_leases_import,
	  .blob = USBVNET_CTL_BLOB_IN },
};

static long usbvnet_ctl_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct net *net = current->nsproxy->net_ns;
	const struct usbvnet_ctl_op *op = NULL;
	void __user *uarg = (void __user *)arg;
	struct usbvnet_ctl_call *call;
	union usbvnet_ctl_arg *buf;
	unsigned int i, size, copy;
	struct usbvnet *vn;
	int err;

	BUILD_BUG_ON(offsetof(struct usbvnet_info, ifname) ||
		     offsetof(struct usbvnet_slot_info, ifname) ||
		     offsetof(struct usbvnet_config, ifname) ||
		     offsetof(struct usbvnet_attach, ifname) ||
		     offsetof(struct usbvnet_dhcp_config, ifname) ||
		     offsetof(struct usbvnet_dhcp_stats, ifname) ||
		     offsetof(struct usbvnet_leases, ifname));
	if (_IOC_TYPE(cmd) != USBVNET_IOC_MAGIC)
		return -ENOTTY;
	for (i = 0; i < ARRAY_SIZE(usbvnet_ctl_ops); i++)
		if (_IOC_NR(usbvnet_ctl_ops[i].cmd) == _IOC_NR(cmd))
			op = &usbvnet_ctl_ops[i];
	if (!op)
		return -ENOTTY;
	/* A known request with another size or direction: a mismatched uapi,
	 * unless its struct may grow. */
	size = _IOC_SIZE(cmd);
	if (cmd != op->cmd &&
	    (!op->min_size || _IOC_DIR(cmd) != _IOC_DIR(op->cmd) || size < op->min_size ||
	     size % 4))
		return -EINVAL;
	if (op->admin && !ns_capable(net->user_ns, CAP_NET_ADMIN))
		return -EPERM;

	/* A bigger struct than ours: its tail is left as the caller had it. */
	copy = min(size, _IOC_SIZE(op->cmd));
	call = kzalloc(sizeof(*call), GFP_KERNEL);
	if (!call)
		return -ENOMEM;
	buf = &call->arg;
	if (copy_from_user(buf, uarg, copy)) {
		err = -EFAULT;
		goto out;
	}
	if (op->blob) {
		err = usbvnet_dhcp_blob_get(&buf->leases, op->blob == USBVNET_CTL_BLOB_IN, &call->blob);
		if (err)
			goto out;
	}
	rtnl_lock();
	/* Every request begins with its instance's name (checked at build time). */
	vn = usbvnet_ctl_instance(net, buf->info.ifname);
	err = IS_ERR(vn) ? PTR_ERR(vn) : op->handler(net, vn, buf);
	rtnl_unlock();
	if (!err && op->fit)
		op->fit(buf, size);
	if (!err && op->blob == USBVNET_CTL_BLOB_OUT)
		err = usbvnet_dhcp_blob_put(&buf->leases, call->blob);
	/* A too-small export buffer still learns the size it needs. */
	if ((!err || (err == -ENOSPC && cmd == USBVNET_IOC_LEASES_EXPORT)) &&
	    (_IOC_DIR(cmd) & _IOC_READ) && copy_to_user(uarg, buf, copy))
		err = -EFAULT;
out:
	kvfree(call->blob);
	kfree(call);
	return err;
}

static const struct file_operations usbvnet_ctl_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= usbvnet_ctl_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice usbvnet_ctl_dev = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "usbvnet",
	.fops	= &usbvnet_ctl_fops,
	.mode	= 0666,		/* reads are for everyone; changes check CAP_NET_ADMIN */
};

int usbvnet_ctl_init(void)
{
	return misc_register(&usbvnet_ctl_dev);
}

void usbvnet_ctl_uninit(void)
{
	misc_deregister(&usbvnet_ctl_dev);
}
