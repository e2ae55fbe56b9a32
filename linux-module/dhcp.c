// SPDX-License-Identifier: GPL-2.0
/*
 * The DHCP server of an instance: catches DHCP requests on their way in
 * (from a slot's device, or from the host's own client on the usbvnet
 * interface), lets the portable core answer them, and sends each answer
 * back the way its request came. Also its settings and lease table for the
 * control interface. Every call into the core holds dhcp_lock.
 */
#include <linux/etherdevice.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/timer.h>
#include <linux/uaccess.h>
#include <net/sch_generic.h>

#include "usbvnet_priv.h"

static u32 usbvnet_dhcp_now(void)
{
	return (u32)ktime_get_boottime_seconds();
}

/* vn is zeroed: an empty lease table. The config is built in place (2.8 KiB). */
void usbvnet_dhcp_setup(struct usbvnet *vn, bool enabled)
{
	struct uvn_dhcp_config *c = &vn->dhcp.cfg;

	spin_lock_init(&vn->dhcp_lock);
	uvn_dhcp_config_default(c);
	if (enabled)
		c->flags |= UVN_DHCP_ENABLED;
	/* A placeholder until register time gives the real MAC. */
	c->server_mac[0] = 0x02;
	c->server_mac[5] = 0x01;
	WARN_ON(uvn_dhcp_configure(&vn->dhcp, c, NULL));
	vn->dhcp_on = enabled;
}

void usbvnet_dhcp_set_mac(struct usbvnet *vn, const u8 *mac)
{
	spin_lock_bh(&vn->dhcp_lock);
	ether_addr_copy(vn->dhcp.cfg.server_mac, mac);
	spin_unlock_bh(&vn->dhcp_lock);
}

/* Is this a frame for the server? Cheap: only looks at the headers. */
static bool usbvnet_dhcp_wanted(struct usbvnet *vn, struct sk_buff *skb, unsigned int offset)
{
	u8 head[ETH_HLEN + 60 + 8];	/* Ethernet, longest IPv4 header, UDP */
	unsigned int len = min_t(unsigned int, sizeof(head), skb->len + offset);
	const u8 *p;

	if (!READ_ONCE(vn->dhcp_on))
		return false;
	/* offset: how far skb->data is past the Ethernet header. */
	p = skb_header_pointer(skb, -(int)offset, len, head);
	return p && uvn_dhcp_is_request(p, len);
}

/*
 * Runs the core on a frame whose Ethernet header starts offset bytes before
 * skb->data, and returns the reply in a new skb (data at its Ethernet
 * header), or NULL.
 */
static struct sk_buff *usbvnet_dhcp_answer(struct usbvnet *vn, struct sk_buff *skb,
					   unsigned int offset, u32 slot, const char *serial)
{
	struct sk_buff *reply;
	int len;

	if (skb_linearize(skb))
		return NULL;
	reply = alloc_skb(NET_IP_ALIGN + UVN_DHCP_REPLY_MAX, GFP_ATOMIC);
	if (!reply)
		return NULL;
	skb_reserve(reply, NET_IP_ALIGN);

	spin_lock_bh(&vn->dhcp_lock);
	len = uvn_dhcp_handle(&vn->dhcp, slot, serial, skb->data - offset, skb->len + offset,
			      reply->data, UVN_DHCP_REPLY_MAX, usbvnet_dhcp_now());
	spin_unlock_bh(&vn->dhcp_lock);
	if (len <= 0) {
		kfree_skb(reply);
		return NULL;
	}
	skb_put(reply, len);
	skb_reset_mac_header(reply);
	skb_set_network_header(reply, ETH_HLEN);
	reply->protocol = htons(ETH_P_IP);
	return reply;
}

/*
 * A reply for a lower that cannot send yet. A device's first DISCOVER often
 * arrives the moment the host side opens, before the lower's carrier (a
 * CDC notification on another endpoint) is up and its qdisc attached:
 * dev_queue_xmit would drop the reply there, and the client would only
 * retransmit after its own timeout (seconds). So the reply waits, checked
 * every USBVNET_DHCP_DEFER_MS, for at most USBVNET_DHCP_DEFER_WAIT_MS; one
 * that never goes is counted as tx_dropped on its slot, as one dropped at
 * once is. Each holds its lower; its instance's end, or the module's,
 * cancels what is left. Budgets per instance and per lower: a device (or a namespace's
 * own instance) that never gets carrier cannot keep another's replies
 * from waiting.
 */
#define USBVNET_DHCP_DEFER_MS		5
#define USBVNET_DHCP_DEFER_WAIT_MS	2000
#define USBVNET_DHCP_DEFER_MAX		64	/* replies waiting at once, per instance */
#define USBVNET_DHCP_DEFER_PER_LOWER	4	/* a client's first DISCOVERs */

struct usbvnet_dhcp_deferred {
	struct timer_list timer;
	struct list_head list;		/* on deferred_list; empty once taken off */
	struct sk_buff *skb;		/* skb->dev: the lower, held */
	struct usbvnet *vn;		/* outlives the entry while it is listed */
	netdevice_tracker tracker;
	unsigned long deadline;		/* jiffies */
	u32 slot;
};

static LIST_HEAD(deferred_list);
static DEFINE_SPINLOCK(deferred_lock);	/* the list and every vn->dhcp_deferred */

static bool usbvnet_dhcp_can_send(const struct net_device *lower)
{
	return netif_running(lower) && !qdisc_tx_is_noop(lower);
}

static bool usbvnet_dhcp_lower_gone(const struct net_device *lower)
{
	return READ_ONCE(lower->reg_state) != NETREG_REGISTERED || !netif_running(lower);
}

static void usbvnet_dhcp_retry(struct timer_list *t)
{
	struct usbvnet_dhcp_deferred *d = from_timer(d, t, timer);
	struct net_device *lower = d->skb->dev;
	struct usbvnet_port *port;
	unsigned int len = d->skb->len;
	bool send;

	spin_lock_bh(&deferred_lock);
	if (list_empty(&d->list)) {	/* the module's exit took it */
		spin_unlock_bh(&deferred_lock);
		return;
	}
	send = usbvnet_dhcp_can_send(lower);
	if (!send && !usbvnet_dhcp_lower_gone(lower) && time_before(jiffies, d->deadline)) {
		mod_timer(&d->timer, jiffies + msecs_to_jiffies(USBVNET_DHCP_DEFER_MS));
		spin_unlock_bh(&deferred_lock);
		return;
	}
	/*
	 * Counted on the slot's port if the lower still has it (RCU keeps its
	 * stats), else on the instance, whose stats only live while the entry
	 * is listed: its uninit waits for this lock.
	 */
	rcu_read_lock();
	port = rcu_dereference(d->vn->ports[d->slot]);
	if (port && port->lower != lower)
		port = NULL;
	if (!send)
		usbvnet_count(port ? port->stats : d->vn->stats, tx_dropped);
	list_del_init(&d->list);
	d->vn->dhcp_deferred--;
	spin_unlock_bh(&deferred_lock);

	if (!send) {
		kfree_skb(d->skb);
	} else {
		int rc = dev_queue_xmit(d->skb);

		if (port && rc == NET_XMIT_SUCCESS)
			usbvnet_count_tx(port->stats, len);
		else if (port)
			usbvnet_count(port->stats, tx_dropped);
	}
	rcu_read_unlock();
	netdev_put(lower, &d->tracker);
	kfree(d);
}

/* Takes reply (reply->dev set) to send later; false if it cannot wait. */
static bool usbvnet_dhcp_defer(struct usbvnet *vn, u32 slot, struct sk_buff *reply)
{
	struct usbvnet_dhcp_deferred *d = kzalloc(sizeof(*d), GFP_ATOMIC), *other;
	unsigned int same_lower = 0;

	if (!d)
		return false;
	d->skb = reply;
	d->vn = vn;
	d->slot = slot;
	d->deadline = jiffies + msecs_to_jiffies(USBVNET_DHCP_DEFER_WAIT_MS);
	timer_setup(&d->timer, usbvnet_dhcp_retry, 0);
	spin_lock_bh(&deferred_lock);
	list_for_each_entry(other, &deferred_list, list)
		same_lower += other->skb->dev == reply->dev;
	if (vn->dhcp_deferred >= USBVNET_DHCP_DEFER_MAX ||
	    same_lower >= USBVNET_DHCP_DEFER_PER_LOWER) {
		spin_unlock_bh(&deferred_lock);
		kfree(d);
		return false;
	}
	vn->dhcp_deferred++;
	netdev_hold(reply->dev, &d->tracker, GFP_ATOMIC);
	list_add_tail(&d->list, &deferred_list);
	mod_timer(&d->timer, jiffies + msecs_to_jiffies(USBVNET_DHCP_DEFER_MS));
	spin_unlock_bh(&deferred_lock);
	return true;
}

/* An instance's end (vn), or the module's (NULL): drops the replies still waiting. */
void usbvnet_dhcp_drop_deferred(struct usbvnet *vn)
{
	struct usbvnet_dhcp_deferred *d, *it;

	for (;;) {
		d = NULL;
		spin_lock_bh(&deferred_lock);
		list_for_each_entry(it, &deferred_list, list) {
			if (!vn || it->vn == vn) {
				d = it;
				break;
			}
		}
		if (d) {
			list_del_init(&d->list);
			d->vn->dhcp_deferred--;
		}
		spin_unlock_bh(&deferred_lock);
		if (!d)
			return;
		/* A running callback sees the entry off the list and leaves it. */
		del_timer_sync(&d->timer);
		netdev_put(d->skb->dev, &d->tracker);
		kfree_skb(d->skb);
		kfree(d);
	}
}

/*
 * A frame from a slot's device (skb->data past the Ethernet header). True
 * if the server took it; its answer goes back to the same slot, at once or
 * as soon as the slot's lower can send.
 */
bool usbvnet_dhcp_from_slot(struct usbvnet *vn, struct usbvnet_port *port, struct sk_buff *skb)
{
	struct sk_buff *reply;
	unsigned int len;

	if (likely(!usbvnet_dhcp_wanted(vn, skb, ETH_HLEN)))
		return false;
	reply = usbvnet_dhcp_answer(vn, skb, ETH_HLEN, port->slot, port->id.serial);
	consume_skb(skb);
	if (!reply)
		return true;
	len = reply->len;
	reply->dev = port->lower;
	if (unlikely(!usbvnet_dhcp_can_send(port->lower)) && usbvnet_dhcp_defer(vn, port->slot, reply))
		return true;
	if (dev_queue_xmit(reply) == NET_XMIT_SUCCESS)
		usbvnet_count_tx(port->stats, len);
	else
		usbvnet_count(port->stats, tx_dropped);
	return true;
}

/*
 * A frame the host sends on the usbvnet interface (skb->data at the
 * Ethernet header). True if the server took it; its answer is received by
 * the host as if a device had sent it.
 */
bool usbvnet_dhcp_from_host(struct usbvnet *vn, struct sk_buff *skb)
{
	struct sk_buff *reply;

	if (likely(!usbvnet_dhcp_wanted(vn, skb, 0)))
		return false;
	reply = usbvnet_dhcp_answer(vn, skb, 0, UVN_DHCP_HOST, NULL);
	consume_skb(skb);
	if (!reply)
		return true;
	reply->protocol = eth_type_trans(reply, vn->dev);
	usbvnet_count_rx(vn->stats, reply->len + ETH_HLEN);
	netif_rx(reply);
	return true;
}

void usbvnet_dhcp_slot_gone(struct usbvnet *vn, u32 slot)
{
	spin_lock_bh(&vn->dhcp_lock);
	uvn_dhcp_slot_gone(&vn->dhcp, slot);
	spin_unlock_bh(&vn->dhcp_lock);
}

/* ---- control interface (RTNL held) ------------------------------------------ */

int usbvnet_dhcp_get_config(struct usbvnet *vn, struct usbvnet_dhcp_config *uc)
{
	struct uvn_dhcp_config *c;
	u32 i;

	c = kmalloc(sizeof(*c), GFP_KERNEL);
	if (!c)
		return -ENOMEM;
	spin_lock_bh(&vn->dhcp_lock);
	*c = vn->dhcp.cfg;
	spin_unlock_bh(&vn->dhcp_lock);

	memset(uc, 0, sizeof(*uc));
	strscpy(uc->ifname, vn->dev->name, sizeof(uc->ifname));
	uc->flags = c->flags;
	uc->subnet = c->subnet;
	uc->prefix_len = c->prefix_len;
	uc->host_ip = c->host_ip;
	uc->pool_start = c->pool_start;
	uc->pool_end = c->pool_end;
	uc->lease_seconds = c->lease_seconds;
	uc->decline_seconds = c->decline_seconds;
	uc->per_slot_cap = c->per_slot_cap;
	uc->router = c->router;
	uc->nr_dns = c->nr_dns;
	memcpy(uc->dns, c->dns, sizeof(uc->dns));
	memcpy(uc->domain, c->domain, sizeof(uc->domain));
	uc->mtu = c->mtu;
	uc->nr_reservations = c->nr_reservations;
	for (i = 0; i < c->nr_reservations && i < USBVNET_DHCP_MAX_RESERVATIONS; i++) {
		const struct uvn_dhcp_reservation *r = &c->reservations[i];

		uc->reservations[i].kind = r->kind;
		uc->reservations[i].ip = r->ip;
		uc->reservations[i].slot = r->slot;
		ether_addr_copy(uc->reservations[i].mac, r->mac);
		memcpy(uc->reservations[i].serial, r->serial, sizeof(r->serial));
	}
	kfree(c);
	return 0;
}

int usbvnet_dhcp_set_config(struct usbvnet *vn, const struct usbvnet_dhcp_config *uc)
{
	struct uvn_dhcp_config *c;
	const char *why = NULL;
	u32 i;
	int err;

	if (uc->nr_reservations > USBVNET_DHCP_MAX_RESERVATIONS || uc->nr_dns > USBVNET_DHCP_MAX_DNS)
		return -EINVAL;
	for (i = 0; i < uc->nr_reservations; i++)
		if (uc->reservations[i].reserved0)
			return -EINVAL;
	BUILD_BUG_ON(USBVNET_DHCP_ENABLED != UVN_DHCP_ENABLED ||
		     USBVNET_DHCP_RAPID_COMMIT != UVN_DHCP_RAPID_COMMIT);
	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (!c)
		return -ENOMEM;
	c->flags = uc->flags;
	ether_addr_copy(c->server_mac, vn->dev->dev_addr);
	c->subnet = uc->subnet;
	c->prefix_len = uc->prefix_len;
	c->host_ip = uc->host_ip;
	c->pool_start = uc->pool_start;
	c->pool_end = uc->pool_end;
	c->lease_seconds = uc->lease_seconds;
	c->decline_seconds = uc->decline_seconds;
	c->per_slot_cap = uc->per_slot_cap;
	c->router = uc->router;
	c->nr_dns = uc->nr_dns;
	memcpy(c->dns, uc->dns, sizeof(c->dns));
	memcpy(c->domain, uc->domain, sizeof(c->domain));
	c->mtu = uc->mtu;
	c->nr_reservations = uc->nr_reservations;
	for (i = 0; i < uc->nr_reservations; i++) {
		const struct usbvnet_dhcp_reservation *r = &uc->reservations[i];

		c->reservations[i].kind = r->kind;
		c->reservations[i].ip = r->ip;
		c->reservations[i].slot = r->slot;
		ether_addr_copy(c->reservations[i].mac, r->mac);
		memcpy(c->reservations[i].serial, r->serial, sizeof(r->serial));
	}

	spin_lock_bh(&vn->dhcp_lock);
	err = usbvnet_errno(uvn_dhcp_configure(&vn->dhcp, c, &why));
	if (!err)
		WRITE_ONCE(vn->dhcp_on, !!(c->flags & UVN_DHCP_ENABLED));
	spin_unlock_bh(&vn->dhcp_lock);
	if (err)
		netdev_dbg(vn->dev, "DHCP settings refused: %s\n", why);
	kfree(c);
	return err;
}

void usbvnet_dhcp_get_stats(struct usbvnet *vn, struct usbvnet_dhcp_stats *st)
{
	const struct uvn_dhcp_counters *c = &vn->dhcp.counters;
	u32 now = usbvnet_dhcp_now(), i, n = 0;

	memset(st, 0, sizeof(*st));
	strscpy(st->ifname, vn->dev->name, sizeof(st->ifname));
	st->nr_counters = USBVNET_DHCP_NR_COUNTERS;
	spin_lock_bh(&vn->dhcp_lock);
#define X(name) st->counters[n++] = c->name;
	USBVNET_DHCP_COUNTERS
#undef X
	for (i = 0; i < UVN_DHCP_LEASES; i++)
		if (uvn_dhcp_lease_state(&vn->dhcp.leases[i], now) == UVN_DHCP_BOUND)
			st->leases_bound++;
	spin_unlock_bh(&vn->dhcp_lock);
}

/*
 * A lease table moves between user memory and a kernel buffer outside RTNL
 * (a fault on a user page may block for as long as its owner likes), and
 * between the buffer and the server under it. in: an import's table is
 * copied in; else an export's buffer is only allocated.
 */
int usbvnet_dhcp_blob_get(const struct usbvnet_leases *ul, bool in, u8 **blob)
{
	u32 size = in ? ul->len : UVN_DHCP_EXPORT_MAX;

	if (ul->reserved0 || (in && ul->len > UVN_DHCP_EXPORT_MAX))
		return -EINVAL;
	*blob = kvmalloc(max_t(u32, size, 1), GFP_KERNEL);
	if (!*blob)
		return -ENOMEM;
	if (in && copy_from_user(*blob, u64_to_user_ptr(ul->buf), size))
		return -EFAULT;		/* the caller frees *blob */
	return 0;
}

/* An exported table (ul->len bytes) out to the caller's buffer. */
int usbvnet_dhcp_blob_put(const struct usbvnet_leases *ul, const u8 *blob)
{
	return copy_to_user(u64_to_user_ptr(ul->buf), blob, ul->len) ? -EFAULT : 0;
}

/* Into blob (UVN_DHCP_EXPORT_MAX bytes); ul->len: its length, or the size needed. */
int usbvnet_dhcp_export(struct usbvnet *vn, struct usbvnet_leases *ul, u8 *blob)
{
	int len;

	spin_lock_bh(&vn->dhcp_lock);
	len = uvn_dhcp_export(&vn->dhcp, blob, UVN_DHCP_EXPORT_MAX, usbvnet_dhcp_now());
	spin_unlock_bh(&vn->dhcp_lock);
	if (len < 0)
		return usbvnet_errno(len);
	if ((u32)len > ul->len) {
		ul->len = len;
		return -ENOSPC;
	}
	ul->len = len;
	return 0;
}

int usbvnet_dhcp_import(struct usbvnet *vn, const struct usbvnet_leases *ul, const u8 *blob)
{
	const char *why = NULL;
	int err;

	spin_lock_bh(&vn->dhcp_lock);
	err = usbvnet_errno(uvn_dhcp_import(&vn->dhcp, blob, ul->len, usbvnet_dhcp_now(), &why));
	spin_unlock_bh(&vn->dhcp_lock);
	if (err)
		netdev_dbg(vn->dev, "lease table refused: %s\n", why);
	return err;
}
