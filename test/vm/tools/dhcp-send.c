// SPDX-License-Identifier: GPL-2.0
/*
 * Sends hand-made DHCP client frames out of an interface with a packet
 * socket, to test the server inside usbvnet with input no real client sends.
 *
 *   dhcp-send IFACE KIND [COUNT]
 *
 * KIND: discover (valid; COUNT of them, each from another client MAC, for
 * starvation tests), truncated, bad-cookie, bad-option-length, huge-hostname,
 * overload-loop, no-end, bad-ip-checksum, bad-udp-length, reply (a BOOTREPLY),
 * long-chaddr. Frames carry the interface's own source MAC.
 *
 *   dhcp-send IFACE rebind CIADDR     REBINDING: broadcast REQUEST, ciaddr, no server id
 *   dhcp-send IFACE init-reboot IP    INIT-REBOOT: broadcast REQUEST with option 50 only
 *   dhcp-send IFACE discover-ip IP    DISCOVER with option 50 from a client MAC of its
 *                                     own (02:00:00:00:fe:01), as a newcomer would
 *
 * These carry udhcpc's client identifier (option 61: 1 and the MAC), so they
 * speak for the same client as udhcpc on that link, and wait up to 3 s for
 * the server's answer and print it as one line:
 * "offer|ack|nak YIADDR [MESSAGE]" (MESSAGE from option 56), or "none".
 */
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static uint8_t frame[1600];

static uint16_t csum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* Builds Ethernet + IPv4 + UDP around a BOOTP body of blen bytes at frame+42. */
static size_t wrap(const uint8_t *src, size_t blen, int bad_ip_csum, int bad_udp_len)
{
	uint8_t *ip = frame + 14, *udp = frame + 34;
	uint16_t c;

	memset(frame, 0xff, 6);
	memcpy(frame + 6, src, 6);
	frame[12] = 0x08;
	frame[13] = 0x00;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	ip[2] = (uint8_t)((20 + 8 + blen) >> 8);
	ip[3] = (uint8_t)(20 + 8 + blen);
	ip[8] = 64;
	ip[9] = 17;
	memset(ip + 16, 0xff, 4);
	c = csum(ip, 20);
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)(c ^ (bad_ip_csum ? 0x55 : 0));
	udp[0] = 0;
	udp[1] = 68;
	udp[2] = 0;
	udp[3] = 67;
	udp[4] = (uint8_t)((8 + blen + (bad_udp_len ? 400 : 0)) >> 8);
	udp[5] = (uint8_t)(8 + blen + (bad_udp_len ? 400 : 0));
	udp[6] = udp[7] = 0;	/* no UDP checksum: allowed for IPv4 */
	return 42 + blen;
}

/* A BOOTREQUEST DISCOVER body from chaddr; returns where options end. */
static uint8_t *bootp(const uint8_t *chaddr, uint32_t xid)
{
	uint8_t *b = frame + 42;

	memset(b, 0, 300);
	b[0] = 1;		/* BOOTREQUEST */
	b[1] = 1;		/* Ethernet */
	b[2] = 6;
	memcpy(b + 4, &xid, 4);
	b[10] = 0x80;		/* broadcast reply */
	memcpy(b + 28, chaddr, 6);
	b[236] = 99; b[237] = 130; b[238] = 83; b[239] = 99;
	b[240] = 53; b[241] = 1; b[242] = 1;	/* DISCOVER */
	return b + 243;
}

static const char *const type_names[] = { "?", "discover", "offer", "request", "decline",
					  "ack", "nak", "release", "inform" };

/* Waits for the answer to xid (BOOTREPLY to port 68) and prints it. */
static int print_answer(int fd, uint32_t xid)
{
	struct timeval tv = { 3, 0 };
	uint8_t in[1600];
	ssize_t n;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while ((n = recv(fd, in, sizeof(in), 0)) > 0) {
		const uint8_t *b = in + 42, *o;
		char msg[256] = "";
		int type = 0;

		if (n < 42 + 240 || in[12] != 0x08 || in[13] != 0 || in[14] != 0x45 || in[23] != 17 ||
		    in[36] != 0 || in[37] != 68 || b[0] != 2 || memcmp(b + 4, &xid, 4))
			continue;
		for (o = b + 240; o + 1 < in + n && *o != 255; o += *o ? 2 + o[1] : 1) {
			if (!*o)
				continue;
			if (o + 2 + o[1] > in + n)
				break;
			if (o[0] == 53 && o[1] == 1)
				type = o[2];
			if (o[0] == 56)
				snprintf(msg, sizeof(msg), " %.*s", o[1], (const char *)o + 2);
		}
		printf("%s %u.%u.%u.%u%s\n", type > 0 && type < 9 ? type_names[type] : "?", b[16],
		       b[17], b[18], b[19], msg);
		return 0;
	}
	printf("none\n");
	return 0;
}

static void put_ip(uint8_t *p, const char *dotted)
{
	struct in_addr a;

	if (!inet_aton(dotted, &a)) {
		fprintf(stderr, "not an address: %s\n", dotted);
		exit(2);
	}
	memcpy(p, &a.s_addr, 4);
}

int main(int argc, char **argv)
{
	struct sockaddr_ll sll;
	struct ifreq ifr;
	uint8_t mac[6], chaddr[6];
	const char *kind;
	int fd, count, i, answer;
	size_t len = 0;
	uint8_t *o;

	if (argc < 3) {
		fprintf(stderr, "usage: dhcp-send IFACE KIND [COUNT]\n");
		return 2;
	}
	kind = argv[2];
	answer = !strcmp(kind, "rebind") || !strcmp(kind, "init-reboot") ||
		 !strcmp(kind, "discover-ip");
	if (answer) {
		if (argc < 4) {
			fprintf(stderr, "dhcp-send: %s needs an address\n", kind);
			return 2;
		}
		count = 1;
	} else {
		count = argc > 3 ? atoi(argv[3]) : 1;
	}
	fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, argv[1], IFNAMSIZ - 1);
	if (fd < 0 || ioctl(fd, SIOCGIFHWADDR, &ifr)) {
		perror(argv[1]);
		return 1;
	}
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = (int)if_nametoindex(argv[1]);
	sll.sll_halen = 6;
	memset(sll.sll_addr, 0xff, 6);
	sll.sll_protocol = htons(ETH_P_ALL);
	if (answer && bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		perror("bind");
		return 1;
	}

	for (i = 0; i < count; i++) {
		memcpy(chaddr, mac, 6);
		if (!strcmp(kind, "discover") && count > 1) {
			chaddr[0] = 0x02;
			chaddr[4] = (uint8_t)(i >> 8);
			chaddr[5] = (uint8_t)i;
		}
		if (!strcmp(kind, "discover-ip")) {
			static const uint8_t newcomer[6] = { 0x02, 0, 0, 0, 0xfe, 0x01 };

			memcpy(chaddr, newcomer, 6);
		}
		o = bootp(chaddr, 0x1000 + (uint32_t)i);
		if (answer) {
			*o++ = 61;
			*o++ = 7;
			*o++ = 1;
			memcpy(o, chaddr, 6);
			o += 6;
		}
		if (!strcmp(kind, "rebind")) {
			frame[42 + 242] = 3;		/* REQUEST */
			put_ip(frame + 42 + 12, argv[3]);	/* ciaddr */
			*o++ = 255;
			len = wrap(mac, 300, 0, 0);
			memcpy(frame + 14 + 12, frame + 42 + 12, 4);	/* from ciaddr */
			frame[24] = frame[25] = 0;
			{
				uint16_t c = csum(frame + 14, 20);

				frame[24] = (uint8_t)(c >> 8);
				frame[25] = (uint8_t)c;
			}
		} else if (!strcmp(kind, "init-reboot") || !strcmp(kind, "discover-ip")) {
			if (kind[0] == 'i')
				frame[42 + 242] = 3;	/* REQUEST */
			*o++ = 50;
			*o++ = 4;
			put_ip(o, argv[3]);
			o += 4;
			*o++ = 255;
			len = wrap(mac, 300, 0, 0);
		} else if (!strcmp(kind, "discover")) {
			*o++ = 255;
			len = wrap(mac, 300, 0, 0);
		} else if (!strcmp(kind, "truncated")) {
			*o++ = 255;
			len = wrap(mac, 300, 0, 0) - 200;	/* headers promise 200 more */
		} else if (!strcmp(kind, "bad-cookie")) {
			frame[42 + 236] = 0x63 ^ 0xff;
			*o++ = 255;
			len = wrap(mac, 300, 0, 0);
		} else if (!strcmp(kind, "bad-option-length")) {
			*o++ = 12;
			*o++ = 200;	/* runs past the end */
			memset(o, 'x', 20);
			len = wrap(mac, 270, 0, 0);
		} else if (!strcmp(kind, "huge-hostname")) {
			int k;

			for (k = 0; k < 4; k++) {	/* four maximal hostname options: still within the MTU */
				*o++ = 12;
				*o++ = 255;
				memset(o, 'h', 255);
				o += 255;
			}
			*o++ = 255;
			len = wrap(mac, (size_t)(o - (frame + 42)), 0, 0);
		} else if (!strcmp(kind, "overload-loop")) {
			uint8_t *b = frame + 42;

			*o++ = 52; *o++ = 1; *o++ = 3;	/* options continue in file and sname */
			*o++ = 255;
			b[108] = 52; b[109] = 1; b[110] = 3; b[111] = 255;	/* file says it again */
			b[44] = 52; b[45] = 1; b[46] = 3; b[47] = 255;		/* sname too */
			len = wrap(mac, 300, 0, 0);
		} else if (!strcmp(kind, "no-end")) {
			memset(o, 0, 20);	/* pads to the end, no END option */
			len = wrap(mac, 243 + 20, 0, 0);
		} else if (!strcmp(kind, "bad-ip-checksum")) {
			*o++ = 255;
			len = wrap(mac, 300, 1, 0);
		} else if (!strcmp(kind, "bad-udp-length")) {
			*o++ = 255;
			len = wrap(mac, 300, 0, 1);
		} else if (!strcmp(kind, "reply")) {
			frame[42] = 2;
			*o++ = 255;
			len = wrap(mac, 300, 0, 0);
		} else if (!strcmp(kind, "long-chaddr")) {
			frame[42 + 2] = 40;
			*o++ = 255;
			len = wrap(mac, 300, 0, 0);
		} else {
			fprintf(stderr, "unknown kind %s\n", kind);
			return 2;
		}
		if (sendto(fd, frame, len, 0, (struct sockaddr *)&sll, sizeof(sll)) != (ssize_t)len) {
			perror("sendto");
			return 1;
		}
		if (answer)
			print_answer(fd, 0x1000);
	}
	close(fd);
	return 0;
}
