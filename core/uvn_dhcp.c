// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The DHCP server's decisions (RFC 2131 4.3): which address a client gets,
 * when to ACK, NAK or stay silent. The server is authoritative: it is the
 * only one on usbvnet0, so a client asking for an address it may have gets
 * it, even without a record of it (e.g. after a reload without import).
 */
#include "uvn_dhcp_internal.h"

/* RFC 4039: may this DISCOVER be ACKed at once? */
static bool rapid(const struct uvn_dhcp_server *s, const struct uvn_dhcp_msg *m)
{
	return m->rapid_commit && (s->cfg.flags & UVN_DHCP_RAPID_COMMIT);
}

/* Who is asking. */
struct client {
	const uint8_t *mac;
	uint8_t cid_len;		/* option 61, 0: none (known by mac) */
	const uint8_t *cid;		/* its key */
	const char *serial;		/* never NULL */
	uint32_t slot;
	struct uvn_dhcp_lease *mine;	/* the entry remembering it, or NULL */
};

/* Option 56 texts of our NAKs (at most DHCP_NAK_MESSAGE_MAX bytes). */
static const char nak_off_net[] = "requested address not on this network";
static const char nak_server[] = "requested address is the server's";
static const char nak_reserved[] = "requested address reserved for another client";
static const char nak_pool[] = "requested address outside the pool";
static const char nak_declined[] = "requested address declined, in quarantine";
static const char nak_in_use[] = "requested address in use by another client";
static const char nak_yours[] = "another address is reserved for this client";
static const char nak_full[] = "lease table full";
static const char nak_host[] = "this client gets the host address only";

int uvn_dhcp_init(struct uvn_dhcp_server *s, const struct uvn_dhcp_config *c, const char **why)
{
	unsigned int i;
	int err = uvn_dhcp_config_check(c, why);

	if (err)
		return err;
	uvn_memset(s, 0, sizeof(*s));
	s->cfg = *c;
	for (i = 0; i < UVN_DHCP_LEASES; i++)
		uvn_dhcp_clear(&s->leases[i], 0);
	return 0;
}

int uvn_dhcp_configure(struct uvn_dhcp_server *s, const struct uvn_dhcp_config *c,
		       const char **why)
{
	unsigned int i;
	int err = uvn_dhcp_config_check(c, why);

	if (err)
		return err;
	s->cfg = *c;
	for (i = 0; i < UVN_DHCP_LEASES; i++) {
		struct uvn_dhcp_lease *l = &s->leases[i];

		if (l->state != UVN_DHCP_FREE &&
		    uvn_dhcp_lease_misfit(c, l->ip, l->mac, l->serial, l->slot, l->state))
			uvn_dhcp_clear(l, 0);
	}
	return 0;
}

/*
 * May this client act on its lease? A lease in use belongs to its slot; one
 * not tied to a slot (imported, or its device gone while reserved) belongs
 * to whoever brings the same USB serial, or to anyone if none was known.
 */
static bool owns(const struct uvn_dhcp_lease *l, const struct client *cl, uint32_t now)
{
	if (!uvn_dhcp_lease_active(l, now) || l->slot == cl->slot)
		return true;
	return l->slot == UVN_DHCP_NO_SLOT &&
	       (!l->serial[0] || uvn_dhcp_serial_equal(l->serial, cl->serial));
}

/*
 * Is an entry of the client's id another device's? Devices cloned from one
 * image send the same id (systemd-networkd derives it from /etc/machine-id),
 * so the id alone does not tell them apart. Stricter than owns(), expired
 * or not: an entry tied to a slot is that slot's device's, one tied to none
 * (unplugged, imported) its USB serial's, if one was known, so that its
 * device still finds it when it comes back.
 */
static bool someone_elses(const struct uvn_dhcp_lease *l, const struct client *cl)
{
	if (l->slot != UVN_DHCP_NO_SLOT)
		return l->slot != cl->slot;
	return l->serial[0] && !uvn_dhcp_serial_equal(l->serial, cl->serial);
}

/*
 * The entry remembering the client (see struct uvn_dhcp_lease): one of its
 * client id, else one recorded without an id for its hardware address. The
 * id's entries that are someone else's are skipped (counted as foreign):
 * each clone is a client of its own. Of the others, the one tied to its
 * slot comes first, then its serial's, then the one with the address it
 * asks for (want), so that clones without serials back after a reload
 * each find their own.
 */
static struct uvn_dhcp_lease *find_mine(struct uvn_dhcp_server *s, const struct client *cl,
					uint32_t want)
{
	struct uvn_dhcp_lease *best = NULL, *by_mac = NULL;
	unsigned int i, rank, best_rank = 0;

	for (i = 0; i < UVN_DHCP_LEASES; i++) {
		struct uvn_dhcp_lease *l = &s->leases[i];

		if (!uvn_dhcp_remembers_client(l) ||
		    !uvn_dhcp_is_client(l, cl->mac, cl->cid_len, cl->cid))
			continue;
		if (!l->cid_len) {
			if (!cl->cid_len)
				return l;
			if (!by_mac)
				by_mac = l;
			continue;
		}
		if (someone_elses(l, cl)) {
			s->counters.foreign++;
			continue;
		}
		rank = 1 + (l->slot == cl->slot ? 4 : 0) + (l->serial[0] ? 2 : 0) +
		       (want && l->ip == want ? 1 : 0);
		if (rank > best_rank) {
			best = l;
			best_rank = rank;
		}
	}
	return best ? best : by_mac;
}

/* Why the client may not have ip now (a NAK's message), or NULL if it may. */
static const char *unusable(struct uvn_dhcp_server *s, uint32_t ip, const struct client *cl,
			    uint32_t now)
{
	const struct uvn_dhcp_reservation *r;
	const struct uvn_dhcp_lease *l;
	enum uvn_dhcp_lease_state st;

	if (!uvn_dhcp_ip_usable(&s->cfg, ip))
		return nak_off_net;
	if (ip == s->cfg.host_ip)
		return nak_server;
	r = uvn_dhcp_reservation_of_ip(&s->cfg, ip);
	if (r && !uvn_dhcp_reservation_matches(r, cl->mac, cl->serial, cl->slot))
		return nak_reserved;
	if (!r && !uvn_dhcp_ip_in_pool(&s->cfg, ip))
		return nak_pool;
	l = uvn_dhcp_find_ip(s, ip, now);
	if (!l)
		return NULL;
	st = uvn_dhcp_lease_state(l, now);
	if (st == UVN_DHCP_DECLINED)
		return nak_declined;
	/* Only the entry found for the client is its own: with client ids, a
	 * hardware address alone may match more than one. */
	if (l == cl->mine)
		return NULL;
	/* A slot's address is for the device on the slot: once its holder
	 * unplugged, the next device there has it. */
	if (r && r->kind == UVN_DHCP_RES_SLOT && l->slot == UVN_DHCP_NO_SLOT)
		return NULL;
	/* Available, yet its lease runs on: its device unplugged and may come
	 * back still using it. Free once the lease would have ended, or to the
	 * same device back with a new MAC (its serial). */
	if (st == UVN_DHCP_AVAILABLE)
		return uvn_time_reached(now, l->expires) ||
		       (cl->serial[0] && uvn_dhcp_serial_equal(l->serial, cl->serial)) ? NULL : nak_in_use;
	return nak_in_use;
}

static bool usable_for(struct uvn_dhcp_server *s, uint32_t ip, const struct client *cl,
		       uint32_t now)
{
	return !unusable(s, ip, cl, now);
}

/* The client's reserved address, by MAC, then serial, then slot; 0 if none. */
static uint32_t reserved_ip(struct uvn_dhcp_server *s, const struct client *cl, uint32_t now)
{
	uint32_t kind, i;

	for (kind = UVN_DHCP_RES_MAC; kind <= UVN_DHCP_RES_SLOT; kind++)
		for (i = 0; i < s->cfg.nr_reservations; i++) {
			const struct uvn_dhcp_reservation *r = &s->cfg.reservations[i];

			if (r->kind == kind &&
			    uvn_dhcp_reservation_matches(r, cl->mac, cl->serial, cl->slot) &&
			    usable_for(s, r->ip, cl, now))
				return r->ip;
		}
	return 0;
}

/* A device back with a new MAC: the address it had, if no one else uses it. */
static uint32_t remembered_by_serial(struct uvn_dhcp_server *s, const struct client *cl,
				     uint32_t now)
{
	unsigned int i;

	if (!cl->serial[0])
		return 0;
	for (i = 0; i < UVN_DHCP_LEASES; i++) {
		const struct uvn_dhcp_lease *l = &s->leases[i];

		if (uvn_dhcp_lease_state(l, now) == UVN_DHCP_AVAILABLE &&
		    uvn_dhcp_serial_equal(l->serial, cl->serial) && usable_for(s, l->ip, cl, now))
			return l->ip;
	}
	return 0;
}

/* Would giving ip to the client exceed its slot's cap? */
static bool over_cap(struct uvn_dhcp_server *s, const struct client *cl,
		     const struct uvn_dhcp_lease *mine, uint32_t ip, uint32_t now)
{
	unsigned int held;

	if (ip && uvn_dhcp_reservation_of_ip(&s->cfg, ip))
		return false;
	held = uvn_dhcp_slot_leases(s, cl->slot, now);
	if (mine && uvn_dhcp_lease_active(mine, now) && mine->slot == cl->slot &&
	    !uvn_dhcp_reservation_of_ip(&s->cfg, mine->ip))
		held--;		/* it gives that one up, or keeps it */
	return held >= s->cfg.per_slot_cap;
}

/* The entry that will hold ip (0: a new pool address) for the client. */
static struct uvn_dhcp_lease *take(struct uvn_dhcp_server *s, const struct client *cl,
				   struct uvn_dhcp_lease *mine, uint32_t ip, uint32_t now)
{
	struct uvn_dhcp_lease *l;

	if (!ip)
		l = uvn_dhcp_alloc(s, now);
	else if (!(l = uvn_dhcp_find_ip(s, ip, now)))
		l = uvn_dhcp_entry_for(s, ip, now);
	if (!l)
		return NULL;
	if (mine && mine != l)
		uvn_dhcp_clear(mine, 0);	/* one entry per client */
	if (l != mine)
		uvn_dhcp_clear(l, l->ip);
	/* The latest hardware address (replies go there) and the client id. */
	uvn_memcpy(l->mac, cl->mac, 6);
	l->cid_len = cl->cid_len;
	uvn_memset(l->cid, 0, sizeof(l->cid));
	if (cl->cid_len)
		uvn_memcpy(l->cid, cl->cid, UVN_DHCP_CID_KEY);
	uvn_memset(l->serial, 0, sizeof(l->serial));
	uvn_memcpy(l->serial, cl->serial, uvn_dhcp_strnlen(cl->serial, UVN_SERIAL_LEN - 1));
	l->slot = (uint8_t)cl->slot;
	return l;
}

static void discover(struct uvn_dhcp_server *s, const struct client *cl,
		     const struct uvn_dhcp_msg *m, struct uvn_dhcp_answer *a, uint32_t now)
{
	struct uvn_dhcp_lease *mine = cl->mine, *l;
	const struct uvn_dhcp_lease *at;
	uint32_t ip;

	if (mine && !owns(mine, cl, now)) {
		s->counters.foreign++;
		return;
	}
	ip = reserved_ip(s, cl, now);
	if (!ip && mine && usable_for(s, mine->ip, cl, now))
		ip = mine->ip;
	if (!ip)
		ip = remembered_by_serial(s, cl, now);
	if (!ip && m->requested_ip && usable_for(s, m->requested_ip, cl, now)) {
		/* Honoured unless that would make another client forget its address. */
		at = uvn_dhcp_find_ip(s, m->requested_ip, now);
		if (!at || at == mine)
			ip = m->requested_ip;
	}
	if (over_cap(s, cl, mine, ip, now)) {
		s->counters.slot_cap++;
		return;
	}
	l = take(s, cl, mine, ip, now);
	if (!l) {
		s->counters.exhausted++;
		return;
	}
	if (rapid(s, m)) {
		/* What a REQUEST for the offer would do: the client asked for
		 * the ACK now and takes no OFFER. */
		l->state = UVN_DHCP_BOUND;
		l->expires = now + s->cfg.lease_seconds;
		a->type = DHCP_ACK;
		a->rapid_commit = true;
	} else {
		if (uvn_dhcp_lease_state(l, now) != UVN_DHCP_BOUND) {
			l->state = UVN_DHCP_OFFERED;
			l->expires = now + UVN_DHCP_OFFER_HOLD;
		}
		a->type = DHCP_OFFER;
	}
	a->yiaddr = l->ip;
	a->lease_seconds = s->cfg.lease_seconds;
}

static void request(struct uvn_dhcp_server *s, const struct client *cl,
		    const struct uvn_dhcp_msg *m, struct uvn_dhcp_answer *a, uint32_t now)
{
	struct uvn_dhcp_lease *mine = cl->mine, *l;
	uint32_t want = m->requested_ip ? m->requested_ip : m->ciaddr, res;
	const char *why;

	if (mine && !owns(mine, cl, now)) {
		s->counters.foreign++;
		return;
	}
	if (m->server_id && m->server_id != s->cfg.host_ip) {
		/* SELECTING another server: our offer is free again. */
		s->counters.other_server++;
		if (mine && uvn_dhcp_lease_state(mine, now) == UVN_DHCP_OFFERED) {
			mine->state = UVN_DHCP_AVAILABLE;
			mine->expires = now;
			mine->slot = UVN_DHCP_NO_SLOT;
		}
		return;
	}
	if (!want) {
		s->counters.ignored++;
		return;
	}
	/* SELECTING (our server id), INIT-REBOOT (requested ip), RENEWING and
	 * REBINDING (ciaddr): all ask for one address, which it may have or not. */
	res = reserved_ip(s, cl, now);
	why = unusable(s, want, cl, now);
	if (!why && res && res != want)
		why = nak_yours;
	if (why) {
		a->type = DHCP_NAK;
		a->message = why;
		return;
	}
	if (over_cap(s, cl, mine, want, now)) {
		s->counters.slot_cap++;
		return;
	}
	l = take(s, cl, mine, want, now);
	if (!l) {
		s->counters.exhausted++;
		a->type = DHCP_NAK;
		a->message = nak_full;
		return;
	}
	l->state = UVN_DHCP_BOUND;
	l->expires = now + s->cfg.lease_seconds;
	a->type = DHCP_ACK;
	a->yiaddr = want;
	a->lease_seconds = s->cfg.lease_seconds;
}

/* RELEASE (ciaddr) and DECLINE (requested ip) of the client's own lease. */
static void give_back(struct uvn_dhcp_server *s, const struct client *cl,
		      const struct uvn_dhcp_msg *m, uint32_t now)
{
	struct uvn_dhcp_lease *mine = cl->mine;
	uint32_t ip = m->type == DHCP_DECLINE ? m->requested_ip : m->ciaddr;

	if (m->server_id != s->cfg.host_ip) {	/* parsing made sure it has one */
		s->counters.other_server++;
		return;
	}
	if (!mine || mine->ip != ip || !uvn_dhcp_lease_active(mine, now)) {
		s->counters.ignored++;
		return;
	}
	if (!owns(mine, cl, now)) {
		s->counters.foreign++;
		return;
	}
	if (m->type == DHCP_DECLINE) {
		/* Someone unknown answers ARP for it: forget the client, park the
		 * address, on the slot's account, so that one device declining
		 * again and again cannot park the whole pool. */
		uvn_dhcp_clear(mine, ip);
		mine->state = UVN_DHCP_DECLINED;
		mine->expires = now + s->cfg.decline_seconds;
		mine->slot = cl->slot;
	} else {
		mine->state = UVN_DHCP_AVAILABLE;	/* still remembered for its client */
		mine->expires = now;
		mine->slot = UVN_DHCP_NO_SLOT;
	}
}

/* The host's own client always gets the host address, and nothing that
 * would point its routes or resolver at itself. */
static void host_request(struct uvn_dhcp_server *s, const struct uvn_dhcp_msg *m,
			 struct uvn_dhcp_answer *a)
{
	uint32_t want = m->requested_ip ? m->requested_ip : m->ciaddr;

	switch (m->type) {
	case DHCP_DISCOVER:
		a->rapid_commit = rapid(s, m);
		a->type = a->rapid_commit ? DHCP_ACK : DHCP_OFFER;
		break;
	case DHCP_REQUEST:
		if (m->server_id && m->server_id != s->cfg.host_ip) {
			s->counters.other_server++;
			return;
		}
		a->type = want == s->cfg.host_ip ? DHCP_ACK : DHCP_NAK;
		if (a->type == DHCP_NAK)
			a->message = nak_host;
		break;
	case DHCP_INFORM:
		a->type = DHCP_ACK;
		return;
	default:
		s->counters.ignored++;
		return;
	}
	if (a->type != DHCP_NAK) {
		a->yiaddr = s->cfg.host_ip;
		a->lease_seconds = s->cfg.lease_seconds;
	}
}

/* A reply measured without the client id echo, with it: no reply is longer than the largest. */
static size_t with_cid_echo(const struct uvn_dhcp_msg *m, size_t len)
{
	if (!m->cid_echo_len)
		return len;
	len += 2 + (size_t)m->cid_echo_len;
	return len < UVN_DHCP_REPLY_MAX ? len : UVN_DHCP_REPLY_MAX;
}

int uvn_dhcp_handle(struct uvn_dhcp_server *s, uint32_t slot, const char *serial,
		    const uint8_t *frame, size_t len, uint8_t *reply, size_t reply_cap,
		    uint32_t now)
{
	static const char longest_message[DHCP_NAK_MESSAGE_MAX + 1] =
		"a NAK message of DHCP_NAK_MESSAGE_MAX characters";
	static const struct uvn_dhcp_answer largest = { DHCP_ACK, 1, 1, true, NULL, true };
	static const struct uvn_dhcp_answer largest_nak = { DHCP_NAK, 0, 0, false, longest_message, false };
	struct uvn_dhcp_answer a = { 0, 0, 0, slot != UVN_DHCP_HOST, NULL, false };
	struct uvn_dhcp_msg m;
	struct client cl;
	size_t n, need;
	uint8_t cid_echo_len;
	bool prl;
	int err;

	if (!s || !frame || (slot >= UVN_MAX_SLOTS && slot != UVN_DHCP_HOST))
		return -UVN_EINVAL;
	s->counters.received++;
	err = uvn_dhcp_parse(frame, len, &m, &s->counters);
	if (err)
		return err;
	switch (m.type) {
	case DHCP_DISCOVER: s->counters.discover++; break;
	case DHCP_REQUEST: s->counters.request++; break;
	case DHCP_DECLINE: s->counters.decline++; break;
	case DHCP_RELEASE: s->counters.release++; break;
	case DHCP_INFORM: s->counters.inform++; break;
	}
	if (!(s->cfg.flags & UVN_DHCP_ENABLED)) {
		s->counters.disabled++;
		return 0;
	}
	/* Refuse before deciding anything, so a short buffer changes nothing:
	 * measured with every option we have, as if no list had been sent,
	 * and the client id it echoes (left out of a reply it would not fit,
	 * so it may only go into a shorter one: counted on top, up to the
	 * largest reply there is). */
	prl = m.has_prl;
	cid_echo_len = m.cid_echo_len;
	m.has_prl = false;
	m.cid_echo_len = 0;
	need = uvn_dhcp_build(&s->cfg, &m, &largest, NULL, 0);
	n = uvn_dhcp_build(&s->cfg, &m, &largest_nak, NULL, 0);
	m.has_prl = prl;
	m.cid_echo_len = cid_echo_len;
	need = with_cid_echo(&m, need);
	n = with_cid_echo(&m, n);
	if (!reply || need > reply_cap || n > reply_cap) {
		s->counters.reply_too_small++;
		return -UVN_ENOSPC;
	}

	cl.mac = m.chaddr;
	cl.cid_len = uvn_dhcp_cid_len(&m);
	cl.cid = m.cid;
	cl.serial = serial ? serial : "";
	cl.slot = slot;
	/* The host's own client and INFORM use no lease. */
	cl.mine = slot == UVN_DHCP_HOST || m.type == DHCP_INFORM ? NULL :
		  find_mine(s, &cl, m.requested_ip ? m.requested_ip : m.ciaddr);
	if (slot == UVN_DHCP_HOST) {
		host_request(s, &m, &a);
	} else {
		switch (m.type) {
		case DHCP_DISCOVER:
			discover(s, &cl, &m, &a, now);
			break;
		case DHCP_REQUEST:
			request(s, &cl, &m, &a, now);
			break;
		case DHCP_DECLINE:
		case DHCP_RELEASE:
			give_back(s, &cl, &m, now);
			break;
		case DHCP_INFORM:
			a.type = DHCP_ACK;	/* options only: yiaddr 0, no lease */
			break;
		}
	}
	if (!a.type)
		return 0;
	n = uvn_dhcp_build(&s->cfg, &m, &a, reply, reply_cap);
	if (!n)		/* cannot happen: the largest reply was measured above */
		return -UVN_ENOSPC;
	switch (a.type) {
	case DHCP_OFFER: s->counters.offer++; break;
	case DHCP_ACK: s->counters.ack++; break;
	case DHCP_NAK: s->counters.nak++; break;
	}
	if (a.rapid_commit)
		s->counters.rapid_commit++;
	return (int)n;
}

unsigned int uvn_dhcp_slot_gone(struct uvn_dhcp_server *s, uint32_t slot)
{
	unsigned int i, n = 0;

	if (slot >= UVN_MAX_SLOTS)
		return 0;
	for (i = 0; i < UVN_DHCP_LEASES; i++) {
		struct uvn_dhcp_lease *l = &s->leases[i];

		if (l->slot != slot || (l->state != UVN_DHCP_OFFERED && l->state != UVN_DHCP_BOUND))
			continue;
		l->slot = UVN_DHCP_NO_SLOT;
		if (uvn_dhcp_reservation_of_ip(&s->cfg, l->ip))
			continue;	/* reserved: stays bound, claimed again on return */
		/* The expiry stays the lease's end: until then no other client
		 * may take the address, and it orders reuse. */
		l->state = UVN_DHCP_AVAILABLE;
		n++;
	}
	return n;
}
