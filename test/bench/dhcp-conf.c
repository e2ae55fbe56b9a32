/*
 * Benchmark helper: changes the in-driver DHCP server's settings through
 * USBVNET_IOC_GET_DHCP / USBVNET_IOC_SET_DHCP (read, modify, write back).
 *
 *   dhcp-conf [cap N] [pool A.B.C.D A.B.C.D] [lease SECS] [enable 0|1] [show]
 *
 * Built by the benchmark scripts in the guest: cc -I linux-module/uapi.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "usbvnet.h"

static __u32 ip(const char *s)
{
	struct in_addr a;

	if (!inet_aton(s, &a)) {
		fprintf(stderr, "dhcp-conf: bad address %s\n", s);
		exit(2);
	}
	return ntohl(a.s_addr);
}

static const char *str(__u32 v)
{
	struct in_addr a = { htonl(v) };

	return inet_ntoa(a);
}

int main(int argc, char **argv)
{
	struct usbvnet_dhcp_config c;
	int fd = open("/dev/usbvnet", O_RDWR), i, set = 0;

	if (fd < 0) {
		perror("/dev/usbvnet");
		return 1;
	}
	memset(&c, 0, sizeof(c));
	strcpy(c.ifname, "usbvnet0");
	if (ioctl(fd, USBVNET_IOC_GET_DHCP, &c)) {
		perror("USBVNET_IOC_GET_DHCP");
		return 1;
	}
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "cap") && i + 1 < argc) {
			c.per_slot_cap = (__u32)atoi(argv[++i]);
			set = 1;
		} else if (!strcmp(argv[i], "pool") && i + 2 < argc) {
			c.pool_start = ip(argv[++i]);
			c.pool_end = ip(argv[++i]);
			set = 1;
		} else if (!strcmp(argv[i], "lease") && i + 1 < argc) {
			c.lease_seconds = (__u32)atoi(argv[++i]);
			set = 1;
		} else if (!strcmp(argv[i], "enable") && i + 1 < argc) {
			if (atoi(argv[++i]))
				c.flags |= USBVNET_DHCP_ENABLED;
			else
				c.flags &= ~USBVNET_DHCP_ENABLED;
			set = 1;
		} else if (strcmp(argv[i], "show")) {
			fprintf(stderr, "usage: dhcp-conf [cap N] [pool FIRST LAST] [lease SECS] "
				"[enable 0|1] [show]\n");
			return 2;
		}
	}
	if (set && ioctl(fd, USBVNET_IOC_SET_DHCP, &c)) {
		perror("USBVNET_IOC_SET_DHCP");
		return 1;
	}
	printf("enabled=%u cap=%u lease=%u pool=%s", c.flags & USBVNET_DHCP_ENABLED ? 1 : 0,
	       c.per_slot_cap, c.lease_seconds, str(c.pool_start));
	printf("-%s", str(c.pool_end));
	printf(" host=%s/%u\n", str(c.host_ip), c.prefix_len);
	return 0;
}
