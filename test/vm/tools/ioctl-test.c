// SPDX-License-Identifier: GPL-2.0
/*
 * Sends /dev/usbvnet bad requests and checks each gets the documented errno
 * and changes nothing: wrong sizes, unknown commands, bad slots and names,
 * non-zero reserved fields, invalid settings, and writes without
 * CAP_NET_ADMIN. Prints "PASS ioctl: ..." / "FAIL ioctl: ..." lines.
 *
 *   ioctl-test bad [LOWER [FREE]]
 *                             the bad-request checks; LOWER: a netdev
 *                             attached to usbvnet0 (for the EBUSY check),
 *                             FREE: an Ethernet netdev not attached (for
 *                             the EADDRINUSE check: LOWER's slot is taken)
 *
 * It also gives scenarios plain access to the requests before and beside
 * the real CLI:
 *   ioctl-test info           instance counters as key=value lines
 *   ioctl-test slot N         one slot as key=value lines
 *   ioctl-test mode bridge|private
 *   ioctl-test dhcp           DHCP counters and bound leases as key=value lines
 *   ioctl-test dhcp-enable 0|1
 *   ioctl-test dhcp-reserve mac|serial|slot VALUE IP
 *   ioctl-test dhcp-set KEY=VALUE...  pool_start, pool_end (dotted), lease_seconds,
 *                             decline_seconds, per_slot_cap
 *   ioctl-test leases         the lease table, one "IP STATE LEFT MAC SLOT SERIAL" line each
 *   ioctl-test leases-export FILE | leases-import FILE
 *   ioctl-test state          GET_CONFIG and GET_DHCP in hex, to compare
 *                             the driver's settings byte for byte
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "usbvnet.h"

static int fd, failed;

static void result(int ok, const char *name, int err)
{
	printf("%s ioctl: %s", ok ? "PASS" : "FAIL", name);
	if (!ok)
		printf(" (errno %d: %s)", err, strerror(err));
	printf("\n");
	failed |= !ok;
}

/* Expects the request to fail with want_errno. */
static void expect_errno(const char *name, unsigned long req, void *arg, int want_errno)
{
	int rc = ioctl(fd, req, arg);

	result(rc == -1 && errno == want_errno, name, rc == -1 ? errno : 0);
}

/* Everything readable about the default instance, to compare before/after. */
struct snapshot {
	struct usbvnet_config config;
	struct usbvnet_dhcp_config dhcp;
	struct usbvnet_slot_info slots[USBVNET_MAX_SLOTS];
	__u32 slots_used;
	__u8 mac[6];
};

static void snap(struct snapshot *s)
{
	struct usbvnet_info info;
	unsigned int i;

	memset(s, 0, sizeof(*s));
	memset(&info, 0, sizeof(info));
	if (ioctl(fd, USBVNET_IOC_INFO, &info) || ioctl(fd, USBVNET_IOC_GET_CONFIG, &s->config) ||
	    ioctl(fd, USBVNET_IOC_GET_DHCP, &s->dhcp)) {
		perror("snapshot");
		exit(2);
	}
	s->slots_used = info.slots_used;
	memcpy(s->mac, info.mac, 6);
	for (i = 0; i < USBVNET_MAX_SLOTS; i++) {
		s->slots[i].slot = i;
		if (ioctl(fd, USBVNET_IOC_SLOT_INFO, &s->slots[i])) {
			perror("snapshot slot");
			exit(2);
		}
		/* Counters and learning move with traffic; identity must not. */
		memset(&s->slots[i].learned, 0, sizeof(struct usbvnet_slot_info) -
		       offsetof(struct usbvnet_slot_info, learned));
	}
}

static int print_info(void)
{
	struct usbvnet_info i;

	memset(&i, 0, sizeof(i));
	if (ioctl(fd, USBVNET_IOC_INFO, &i)) {
		perror("USBVNET_IOC_INFO");
		return 1;
	}
	printf("ifname=%s\nslots_used=%u\ncarrier=%u\nmode=%u\nrefused_full=%llu\n"
	       "refused_rules=%llu\nspoof_drops=%llu\npurged=%llu\ntx_dropped=%llu\n",
	       i.ifname, i.slots_used, i.carrier, i.mode, (unsigned long long)i.refused_full,
	       (unsigned long long)i.refused_rules, (unsigned long long)i.spoof_drops,
	       (unsigned long long)i.purged, (unsigned long long)i.tx_dropped);
	return 0;
}

static int print_slot(const char *arg)
{
	struct usbvnet_slot_info s;

	memset(&s, 0, sizeof(s));
	s.slot = (__u32)strtoul(arg, NULL, 0);
	if (ioctl(fd, USBVNET_IOC_SLOT_INFO, &s)) {
		perror("USBVNET_IOC_SLOT_INFO");
		return 1;
	}
	printf("slot=%u\nin_use=%u\nlower=%s\ndriver=%s\nvendor=%04x\nproduct=%04x\n"
	       "serial=%s\nbusid=%s\nlearned=%u\nrx_packets=%llu\ntx_packets=%llu\n"
	       "spoof_drops=%llu\npurged=%llu\nrx_dropped=%llu\ntx_dropped=%llu\n",
	       s.slot, s.in_use, s.lower, s.driver, s.vendor, s.product, s.serial, s.busid,
	       s.learned, (unsigned long long)s.rx_packets, (unsigned long long)s.tx_packets,
	       (unsigned long long)s.spoof_drops, (unsigned long long)s.purged,
	       (unsigned long long)s.rx_dropped, (unsigned long long)s.tx_dropped);
	return 0;
}

/* Prints the slot whose lower is name, or "none": one process, not 32. */
static int print_slot_of(const char *name)
{
	struct usbvnet_slot_info s;
	__u32 slot;

	for (slot = 0; slot < USBVNET_MAX_SLOTS; slot++) {
		memset(&s, 0, sizeof(s));
		s.slot = slot;
		if (ioctl(fd, USBVNET_IOC_SLOT_INFO, &s)) {
			perror("USBVNET_IOC_SLOT_INFO");
			return 1;
		}
		if (s.in_use && !strcmp(s.lower, name)) {
			printf("%u\n", slot);
			return 0;
		}
	}
	printf("none\n");
	return 0;
}

static int set_mode(const char *mode)
{
	struct usbvnet_config c;

	memset(&c, 0, sizeof(c));
	if (ioctl(fd, USBVNET_IOC_GET_CONFIG, &c)) {
		perror("USBVNET_IOC_GET_CONFIG");
		return 1;
	}
	c.mode = !strcmp(mode, "private") ? USBVNET_MODE_PRIVATE : USBVNET_MODE_BRIDGE;
	if (ioctl(fd, USBVNET_IOC_SET_CONFIG, &c)) {
		perror("USBVNET_IOC_SET_CONFIG");
		return 1;
	}
	return 0;
}

static int print_dhcp(void)
{
	static const char *const names[] = {
#define X(name) #name,
		USBVNET_DHCP_COUNTERS
#undef X
	};
	struct usbvnet_dhcp_stats st;
	unsigned int i;

	memset(&st, 0, sizeof(st));
	if (ioctl(fd, USBVNET_IOC_DHCP_STATS, &st)) {
		perror("USBVNET_IOC_DHCP_STATS");
		return 1;
	}
	printf("leases_bound=%u\n", st.leases_bound);
	for (i = 0; i < st.nr_counters && i < USBVNET_DHCP_NR_COUNTERS; i++)
		printf("%s=%u\n", names[i], st.counters[i]);
	return 0;
}

static int dhcp_enable(const char *on)
{
	struct usbvnet_dhcp_config c;

	memset(&c, 0, sizeof(c));
	if (ioctl(fd, USBVNET_IOC_GET_DHCP, &c)) {
		perror("USBVNET_IOC_GET_DHCP");
		return 1;
	}
	c.flags = atoi(on) ? c.flags | USBVNET_DHCP_ENABLED : c.flags & ~USBVNET_DHCP_ENABLED;
	if (ioctl(fd, USBVNET_IOC_SET_DHCP, &c)) {
		perror("USBVNET_IOC_SET_DHCP");
		return 1;
	}
	return 0;
}

static int dhcp_reserve(const char *kind, const char *value, const char *ip)
{
	struct usbvnet_dhcp_config c;
	struct usbvnet_dhcp_reservation *r;
	struct in_addr a;

	memset(&c, 0, sizeof(c));
	if (ioctl(fd, USBVNET_IOC_GET_DHCP, &c) || c.nr_reservations >= USBVNET_DHCP_MAX_RESERVATIONS ||
	    !inet_aton(ip, &a)) {
		fprintf(stderr, "cannot add a reservation\n");
		return 1;
	}
	r = &c.reservations[c.nr_reservations++];
	r->ip = ntohl(a.s_addr);
	if (!strcmp(kind, "mac")) {
		r->kind = USBVNET_DHCP_RES_MAC;
		if (sscanf(value, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &r->mac[0], &r->mac[1], &r->mac[2],
			   &r->mac[3], &r->mac[4], &r->mac[5]) != 6)
			return 1;
	} else if (!strcmp(kind, "serial")) {
		r->kind = USBVNET_DHCP_RES_SERIAL;
		strncpy(r->serial, value, sizeof(r->serial) - 1);
	} else {
		r->kind = USBVNET_DHCP_RES_SLOT;
		r->slot = (__u32)atoi(value);
	}
	if (ioctl(fd, USBVNET_IOC_SET_DHCP, &c)) {
		perror("USBVNET_IOC_SET_DHCP");
		return 1;
	}
	return 0;
}

static int dhcp_set(int argc, char **argv)
{
	struct usbvnet_dhcp_config c;
	struct in_addr a;
	int i;

	memset(&c, 0, sizeof(c));
	if (ioctl(fd, USBVNET_IOC_GET_DHCP, &c)) {
		perror("USBVNET_IOC_GET_DHCP");
		return 1;
	}
	for (i = 0; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');
		const char *v = eq ? eq + 1 : "";
		size_t klen = eq ? (size_t)(eq - argv[i]) : strlen(argv[i]);
		__u32 *ipf = NULL, *nf = NULL;

#define KEY(k) (klen == strlen(k) && !strncmp(argv[i], k, klen))
		if (KEY("pool_start"))
			ipf = &c.pool_start;
		else if (KEY("pool_end"))
			ipf = &c.pool_end;
		else if (KEY("lease_seconds"))
			nf = &c.lease_seconds;
		else if (KEY("decline_seconds"))
			nf = &c.decline_seconds;
		else if (KEY("per_slot_cap"))
			nf = &c.per_slot_cap;
		else if (KEY("flags"))
			nf = &c.flags;
#undef KEY
		if (ipf && inet_aton(v, &a))
			*ipf = ntohl(a.s_addr);
		else if (nf && *v)
			*nf = (__u32)strtoul(v, NULL, 0);
		else {
			fprintf(stderr, "dhcp-set: bad setting %s\n", argv[i]);
			return 2;
		}
	}
	if (ioctl(fd, USBVNET_IOC_SET_DHCP, &c)) {
		perror("USBVNET_IOC_SET_DHCP");
		return 1;
	}
	return 0;
}

static unsigned int le(const unsigned char *p, int n)
{
	unsigned int v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

/* The exported table, decoded: the header says the record size. */
static int print_leases(void)
{
	static const char *const states[] = { "free", "offered", "bound", "available", "declined" };
	static unsigned char buf[USBVNET_LEASES_MAX_V2];
	struct usbvnet_leases ul;
	unsigned int i, n, rsize;

	memset(&ul, 0, sizeof(ul));
	ul.buf = (unsigned long)buf;
	ul.len = sizeof(buf);
	if (ioctl(fd, USBVNET_IOC_LEASES_EXPORT, &ul)) {
		perror("USBVNET_IOC_LEASES_EXPORT");
		return 1;
	}
	rsize = le(buf + 6, 2);
	n = le(buf + 8, 4);
	if (ul.len < 16 || rsize < 80 || 16 + (size_t)n * rsize != ul.len) {
		fprintf(stderr, "leases: malformed export\n");
		return 1;
	}
	for (i = 0; i < n; i++) {
		const unsigned char *r = buf + 16 + (size_t)i * rsize;
		struct in_addr a = { htonl(le(r, 4)) };

		printf("%s %s %u %02x:%02x:%02x:%02x:%02x:%02x %u %.63s\n", inet_ntoa(a),
		       r[14] < 5 ? states[r[14]] : "?", le(r + 4, 4), r[8], r[9], r[10], r[11],
		       r[12], r[13], r[15], (const char *)r + 16);
	}
	return 0;
}

static int leases(const char *how, const char *path)
{
	static unsigned char buf[USBVNET_LEASES_MAX_V2];
	struct usbvnet_leases ul;
	FILE *f;

	memset(&ul, 0, sizeof(ul));
	ul.buf = (unsigned long)buf;
	if (!strcmp(how, "leases-export")) {
		ul.len = sizeof(buf);
		if (ioctl(fd, USBVNET_IOC_LEASES_EXPORT, &ul)) {
			perror("USBVNET_IOC_LEASES_EXPORT");
			return 1;
		}
		f = fopen(path, "wb");
		if (!f || fwrite(buf, 1, ul.len, f) != ul.len || fclose(f)) {
			perror(path);
			return 1;
		}
		return 0;
	}
	f = fopen(path, "rb");
	if (!f) {
		perror(path);
		return 1;
	}
	ul.len = (__u32)fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if (ioctl(fd, USBVNET_IOC_LEASES_IMPORT, &ul)) {
		perror("USBVNET_IOC_LEASES_IMPORT");
		return 1;
	}
	return 0;
}

static int bad_requests(const char *lower, const char *free_if);

static void hex(const char *name, const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	printf("%s=", name);
	for (i = 0; i < n; i++)
		printf("%02x", b[i]);
	printf("\n");
}

static int print_state(void)
{
	struct usbvnet_config c;
	struct usbvnet_dhcp_config d;

	memset(&c, 0, sizeof(c));
	memset(&d, 0, sizeof(d));
	if (ioctl(fd, USBVNET_IOC_GET_CONFIG, &c) || ioctl(fd, USBVNET_IOC_GET_DHCP, &d)) {
		perror("state");
		return 1;
	}
	hex("config", &c, sizeof(c));
	hex("dhcp", &d, sizeof(d));
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	fd = open("/dev/usbvnet", O_RDWR);
	if (fd < 0) {
		perror("/dev/usbvnet");
		return 2;
	}
	if (!strcmp(cmd, "info"))
		return print_info();
	if (!strcmp(cmd, "slot") && argc > 2)
		return print_slot(argv[2]);
	if (!strcmp(cmd, "slot-of") && argc > 2)
		return print_slot_of(argv[2]);
	if (!strcmp(cmd, "mode") && argc > 2)
		return set_mode(argv[2]);
	if (!strcmp(cmd, "dhcp"))
		return print_dhcp();
	if (!strcmp(cmd, "dhcp-enable") && argc > 2)
		return dhcp_enable(argv[2]);
	if (!strcmp(cmd, "dhcp-reserve") && argc > 4)
		return dhcp_reserve(argv[2], argv[3], argv[4]);
	if (!strcmp(cmd, "dhcp-set") && argc > 2)
		return dhcp_set(argc - 2, argv + 2);
	if (!strcmp(cmd, "leases"))
		return print_leases();
	if ((!strcmp(cmd, "leases-export") || !strcmp(cmd, "leases-import")) && argc > 2)
		return leases(cmd, argv[2]);
	if (!strcmp(cmd, "state"))
		return print_state();
	if (!strcmp(cmd, "bad"))
		return bad_requests(argc > 2 ? argv[2] : "", argc > 3 ? argv[3] : "");
	fprintf(stderr, "usage: ioctl-test info | slot N | slot-of LOWER | mode bridge|private | dhcp |\n"
			"       dhcp-enable 0|1 | dhcp-reserve KIND VALUE IP | dhcp-set KEY=VALUE... |\n"
			"       leases | leases-export FILE | leases-import FILE | state |\n"
			"       bad [LOWER [FREE]]\n");
	return 2;
}

/* The slot LOWER is attached in, or -1. */
static int slot_of(const char *lower)
{
	struct usbvnet_slot_info si;
	unsigned int i;

	for (i = 0; i < USBVNET_MAX_SLOTS; i++) {
		memset(&si, 0, sizeof(si));
		si.slot = i;
		if (!ioctl(fd, USBVNET_IOC_SLOT_INFO, &si) && si.in_use && !strcmp(si.lower, lower))
			return (int)i;
	}
	return -1;
}

/* DHCP_STATS takes its struct with as many counters as the caller has. */
static void dhcp_stats_sizes(void)
{
	const size_t head = offsetof(struct usbvnet_dhcp_stats, counters);
	__u32 buf[64];
	struct usbvnet_dhcp_stats *st = (struct usbvnet_dhcp_stats *)buf;
	unsigned int n;
	int rc;

	expect_errno("DHCP_STATS shorter than its header is EINVAL",
		     _IOC(_IOC_READ | _IOC_WRITE, USBVNET_IOC_MAGIC, 0x09, head - 4), buf, EINVAL);
	expect_errno("DHCP_STATS of a size not a multiple of 4 is EINVAL",
		     _IOC(_IOC_READ | _IOC_WRITE, USBVNET_IOC_MAGIC, 0x09, head + 6), buf, EINVAL);
	expect_errno("DHCP_STATS in another direction is EINVAL",
		     _IOC(_IOC_READ, USBVNET_IOC_MAGIC, 0x09, sizeof(*st)), buf, EINVAL);
	/* Fewer counters (an older caller), none, and more (a newer one). */
	for (n = 0; n <= USBVNET_DHCP_NR_COUNTERS + 4; n += n == 2 ? USBVNET_DHCP_NR_COUNTERS - 3 : 1) {
		memset(buf, 0xa5, sizeof(buf));
		memset(st->ifname, 0, sizeof(st->ifname));
		rc = ioctl(fd, _IOC(_IOC_READ | _IOC_WRITE, USBVNET_IOC_MAGIC, 0x09, head + 4 * n), buf);
		if (rc || st->nr_counters != (n < USBVNET_DHCP_NR_COUNTERS ? n : USBVNET_DHCP_NR_COUNTERS) ||
		    buf[head / 4 + n] != 0xa5a5a5a5 ||
		    (n > USBVNET_DHCP_NR_COUNTERS && buf[head / 4 + USBVNET_DHCP_NR_COUNTERS] != 0xa5a5a5a5)) {
			printf("FAIL ioctl: DHCP_STATS with %u counters (rc %d, nr_counters %u)\n", n, rc,
			       st->nr_counters);
			failed = 1;
			return;
		}
	}
	result(1, "DHCP_STATS answers callers with 0 to NR+4 counters within their size", 0);
}

static int bad_requests(const char *lower, const char *free_if)
{
	struct snapshot before, after;
	struct usbvnet_config cfg;
	struct usbvnet_slot_info si;
	struct usbvnet_attach at;
	char big[4096];

	snap(&before);

	memset(big, 0, sizeof(big));
	expect_errno("wrong size is EINVAL", _IOWR(USBVNET_IOC_MAGIC, 0x01, char[100]), big, EINVAL);
	expect_errno("wrong direction is EINVAL", _IOR(USBVNET_IOC_MAGIC, 0x04, struct usbvnet_config), big, EINVAL);
	expect_errno("unknown command is ENOTTY", _IOWR(USBVNET_IOC_MAGIC, 0x7f, struct usbvnet_info), big, ENOTTY);
	expect_errno("other magic is ENOTTY", _IOWR('T', 0x01, struct usbvnet_info), big, ENOTTY);
	expect_errno("bad pointer is EFAULT", USBVNET_IOC_INFO, (void *)16, EFAULT);

	memset(&si, 0, sizeof(si));
	si.slot = 32;
	expect_errno("slot 32 is EINVAL", USBVNET_IOC_SLOT_INFO, &si, EINVAL);
	si.slot = 0xffffffff;
	expect_errno("slot 2^32-1 is EINVAL", USBVNET_IOC_SLOT_INFO, &si, EINVAL);
	memset(&si, 'x', sizeof(si.ifname));
	si.slot = 0;
	expect_errno("unterminated instance name is EINVAL", USBVNET_IOC_SLOT_INFO, &si, EINVAL);
	memset(&si, 0, sizeof(si));
	strcpy(si.ifname, "nosuch0");
	expect_errno("unknown instance is ENODEV", USBVNET_IOC_SLOT_INFO, &si, ENODEV);
	strcpy(si.ifname, "lo");
	expect_errno("an interface of another kind is ENODEV", USBVNET_IOC_SLOT_INFO, &si, ENODEV);

	memset(&cfg, 0, sizeof(cfg));
	if (ioctl(fd, USBVNET_IOC_GET_CONFIG, &cfg))
		return 2;
	cfg.mode = 7;
	expect_errno("mode 7 is EINVAL", USBVNET_IOC_SET_CONFIG, &cfg, EINVAL);
	cfg.mode = USBVNET_MODE_PRIVATE;
	cfg.mac[0] = 0x01;	/* multicast, together with a valid mode change */
	expect_errno("multicast MAC is EINVAL", USBVNET_IOC_SET_CONFIG, &cfg, EINVAL);
	memcpy(cfg.mac, before.mac, 6);
	cfg.nr_rules = 17;
	expect_errno("17 rules is EINVAL", USBVNET_IOC_SET_CONFIG, &cfg, EINVAL);
	cfg.nr_rules = 1;
	cfg.rules[0].action = 9;
	expect_errno("rule action 9 is EINVAL", USBVNET_IOC_SET_CONFIG, &cfg, EINVAL);
	cfg.rules[0].action = 0;
	cfg.drivers = 0x100;
	expect_errno("unknown driver bit is EINVAL", USBVNET_IOC_SET_CONFIG, &cfg, EINVAL);
	cfg.drivers = USBVNET_DRV_ALL;
	cfg.reserved0 = 1;
	expect_errno("non-zero reserved field is EINVAL", USBVNET_IOC_SET_CONFIG, &cfg, EINVAL);

	{
		struct usbvnet_dhcp_config dc;
		struct usbvnet_leases ul;
		static unsigned char junk[64];

		memset(&dc, 0, sizeof(dc));
		if (ioctl(fd, USBVNET_IOC_GET_DHCP, &dc))
			return 2;
		dc.pool_start = dc.subnet - 5;	/* outside its subnet */
		expect_errno("DHCP pool outside the subnet is EINVAL", USBVNET_IOC_SET_DHCP, &dc, EINVAL);
		dc.pool_start = dc.host_ip;
		expect_errno("DHCP pool holding the host address is EINVAL", USBVNET_IOC_SET_DHCP, &dc, EINVAL);
		memset(&ul, 0, sizeof(ul));
		ul.buf = (unsigned long)junk;
		ul.len = sizeof(junk);
		memset(junk, 0x5a, sizeof(junk));
		expect_errno("a corrupt lease table is EINVAL", USBVNET_IOC_LEASES_IMPORT, &ul, EINVAL);
		ul.len = 1 << 20;
		expect_errno("an oversized lease table is EINVAL", USBVNET_IOC_LEASES_IMPORT, &ul, EINVAL);
		ul.len = 4;
		expect_errno("a too-small export buffer is ENOSPC", USBVNET_IOC_LEASES_EXPORT, &ul, ENOSPC);
		result(ul.len >= 16, "and says the size it needs", 0);
		/* The table moves outside RTNL; a bad buffer is only the caller's fault. */
		ul.buf = 16;
		ul.len = USBVNET_LEASES_MAX_V2;
		expect_errno("an export to a bad buffer is EFAULT", USBVNET_IOC_LEASES_EXPORT, &ul, EFAULT);
		ul.len = 64;
		expect_errno("an import from a bad buffer is EFAULT", USBVNET_IOC_LEASES_IMPORT, &ul, EFAULT);
	}
	dhcp_stats_sizes();

	memset(&at, 0, sizeof(at));
	strcpy(at.lower, "nosuch9");
	at.slot = USBVNET_ANY_SLOT;
	expect_errno("attach of a missing netdev is ENODEV", USBVNET_IOC_ATTACH, &at, ENODEV);
	strcpy(at.lower, "lo");
	expect_errno("attach of loopback is EINVAL", USBVNET_IOC_ATTACH, &at, EINVAL);
	strcpy(at.lower, "usbvnet0");
	expect_errno("attach of usbvnet0 to itself is ELOOP", USBVNET_IOC_ATTACH, &at, ELOOP);
	if (*lower) {
		strcpy(at.lower, lower);
		expect_errno("attach of an attached netdev is EBUSY", USBVNET_IOC_ATTACH, &at, EBUSY);
		if (*free_if && slot_of(lower) >= 0) {
			snprintf(at.lower, sizeof(at.lower), "%s", free_if);
			at.slot = (__u32)slot_of(lower);
			expect_errno("attach to a taken slot is EADDRINUSE", USBVNET_IOC_ATTACH, &at, EADDRINUSE);
			at.slot = USBVNET_ANY_SLOT;
		}
	}
	memset(&at, 0, sizeof(at));
	at.slot = 40;
	expect_errno("detach of slot 40 is EINVAL", USBVNET_IOC_DETACH, &at, EINVAL);
	at.slot = 31;
	expect_errno("detach of a free slot is ENOENT", USBVNET_IOC_DETACH, &at, ENOENT);

	/* Without CAP_NET_ADMIN: reads work, writes are EPERM. */
	if (setresuid(65534, 65534, 65534)) {
		perror("setresuid");
		return 2;
	}
	{
		struct usbvnet_info info;

		memset(&info, 0, sizeof(info));
		result(ioctl(fd, USBVNET_IOC_INFO, &info) == 0, "unprivileged read works", errno);
	}
	memcpy(&cfg, &before.config, sizeof(cfg));
	cfg.mode = USBVNET_MODE_PRIVATE;
	expect_errno("unprivileged set-config is EPERM", USBVNET_IOC_SET_CONFIG, &cfg, EPERM);
	memset(&at, 0, sizeof(at));
	at.slot = 0;
	expect_errno("unprivileged detach is EPERM", USBVNET_IOC_DETACH, &at, EPERM);

	snap(&after);
	result(!memcmp(&before, &after, sizeof(before)), "state unchanged after all of them", 0);
	return failed;
}
