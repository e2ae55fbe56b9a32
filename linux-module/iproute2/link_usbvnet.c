// SPDX-License-Identifier: GPL-2.0
/*
 * link_usbvnet.so: the "usbvnet" link kind for iproute2's ip(8).
 *
 * ip loads $IP_LIB_DIR/link_<kind>.so (default /usr/lib/ip) for a kind it
 * does not know and looks up "<kind>_link_util". With this plugin:
 *
 *   ip -d link show usbvnet0        ... usbvnet mode bridge slots 32 used 0x5
 *   ip -j -d link show usbvnet0     "info_data":{"mode":"bridge","slots":32,"used":"0x5"}
 *   ip link add uv1 type usbvnet mode private
 *   ip link set uv1 type usbvnet mode bridge
 *   ip link help usbvnet
 *
 * iproute2 has no stable plugin ABI: struct link_util below mirrors the one
 * of iproute2 6.1 (ip/ip_common.h; Debian 12), the version this is built and
 * tested with. ip's output helpers (the JSON writer) are looked up at run time
 * and, where one is missing, the plugin prints plain text with stdio instead;
 * netlink attributes are appended here, without ip's helpers.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "usbvnet.h"	/* uapi: IFLA_USBVNET_*, enum usbvnet_mode */

/* ---- iproute2 6.1's declarations, mirrored ------------------------------- */

struct link_util {
	struct link_util *next;
	const char *id;
	int maxattr;
	int (*parse_opt)(struct link_util *lu, int argc, char **argv, struct nlmsghdr *n);
	void (*print_opt)(struct link_util *lu, FILE *f, struct rtattr *tb[]);
	void (*print_xstats)(struct link_util *lu, FILE *f, struct rtattr *xstats);
	void (*print_help)(struct link_util *lu, int argc, char **argv, FILE *f);
	int (*parse_ifla_xstats)(struct link_util *lu, int argc, char **argv);
	int (*print_ifla_xstats)(struct nlmsghdr *n, void *arg);
};

/* include/json_print.h and include/color.h */
enum output_type { PRINT_FP = 1, PRINT_JSON = 2, PRINT_ANY = 4 };
#define IP_COLOR_NONE 6

/*
 * ip builds each request in a 1024-byte buffer after the ifinfomsg
 * (struct iplink_req); its own link plugins pass 1024 as the limit too.
 */
#define IP_REQ_MAX 1024

/* ---- ip's output helpers, found at run time ----------------------------- */

static struct {
	bool looked_up;
	bool (*is_json_context)(void);
	int (*print_color_string)(enum output_type t, int color, const char *key,
				  const char *fmt, const char *value);
	int (*print_color_uint)(enum output_type t, int color, const char *key,
				const char *fmt, unsigned int value);
} ip;

/* True when ip exports the helpers its JSON output needs. */
static bool ip_helpers(void)
{
	if (!ip.looked_up) {
		ip.looked_up = true;
		*(void **)&ip.is_json_context = dlsym(RTLD_DEFAULT, "is_json_context");
		*(void **)&ip.print_color_string = dlsym(RTLD_DEFAULT, "print_color_string");
		*(void **)&ip.print_color_uint = dlsym(RTLD_DEFAULT, "print_color_uint");
	}
	return ip.is_json_context && ip.print_color_string && ip.print_color_uint;
}

/* ---- the usbvnet kind ------------------------------------------------------ */

static const char *const usbvnet_modes[] = {
	[USBVNET_MODE_BRIDGE] = "bridge",
	[USBVNET_MODE_PRIVATE] = "private",
};
#define NR_MODES (sizeof(usbvnet_modes) / sizeof(usbvnet_modes[0]))

static void usbvnet_usage(FILE *f)
{
	fprintf(f,
		"Usage: ip link add NAME type usbvnet [ mode MODE ]\n"
		"       ip link set NAME type usbvnet mode MODE\n"
		"\n"
		"MODE := { bridge | private }\n"
		"  bridge   devices in the slots reach each other (default)\n"
		"  private  devices reach only the host\n"
		"\n"
		"ip -d link show reports the mode, the slot count and the bitmask of\n"
		"slots in use (read only). Devices are attached as they register or\n"
		"with the usbvnet command.\n");
}

static int put_u32(struct nlmsghdr *n, int maxlen, unsigned short type, __u32 value)
{
	unsigned int len = RTA_LENGTH(sizeof(value));
	struct rtattr *rta;

	if (NLMSG_ALIGN(n->nlmsg_len) + RTA_ALIGN(len) > (unsigned int)maxlen) {
		fprintf(stderr, "usbvnet: request too large\n");
		return -1;
	}
	rta = (struct rtattr *)((char *)n + NLMSG_ALIGN(n->nlmsg_len));
	rta->rta_type = type;
	rta->rta_len = len;
	memcpy(RTA_DATA(rta), &value, sizeof(value));
	n->nlmsg_len = NLMSG_ALIGN(n->nlmsg_len) + RTA_ALIGN(len);
	return 0;
}

static int usbvnet_parse_opt(struct link_util *lu, int argc, char **argv, struct nlmsghdr *n)
{
	bool have_mode = false;
	unsigned int i;

	(void)lu;
	for (; argc > 0; argc--, argv++) {
		if (!strcmp(*argv, "mode")) {
			if (have_mode) {
				fprintf(stderr, "Error: usbvnet: \"mode\" given twice.\n");
				return -1;
			}
			if (argc < 2) {
				fprintf(stderr, "Error: usbvnet: \"mode\" needs a value: bridge or private.\n");
				return -1;
			}
			argc--, argv++;
			for (i = 0; i < NR_MODES; i++)
				if (!strcmp(*argv, usbvnet_modes[i]))
					break;
			if (i == NR_MODES) {
				fprintf(stderr, "Error: usbvnet: mode \"%s\" is not bridge or private.\n",
					*argv);
				return -1;
			}
			if (put_u32(n, IP_REQ_MAX, IFLA_USBVNET_MODE, i))
				return -1;
			have_mode = true;
		} else if (!strcmp(*argv, "slots") || !strcmp(*argv, "used")) {
			fprintf(stderr, "Error: usbvnet: \"%s\" is read only.\n", *argv);
			return -1;
		} else if (!strcmp(*argv, "help")) {
			usbvnet_usage(stdout);
			return -1;
		} else {
			fprintf(stderr, "Error: usbvnet: unknown option \"%s\".\n", *argv);
			usbvnet_usage(stderr);
			return -1;
		}
	}
	return 0;
}

static bool get_u32(struct rtattr *rta, __u32 *value)
{
	if (!rta || RTA_PAYLOAD(rta) < sizeof(*value))
		return false;
	memcpy(value, RTA_DATA(rta), sizeof(*value));
	return true;
}

static void usbvnet_print_opt(struct link_util *lu, FILE *f, struct rtattr *tb[])
{
	const char *mode = NULL;
	bool json_ok = ip_helpers();
	char used[16] = "";
	__u32 v;

	(void)lu;
	if (!tb)
		return;
	if (get_u32(tb[IFLA_USBVNET_MODE], &v))
		mode = v < NR_MODES ? usbvnet_modes[v] : "unknown";
	/* Always 0x-prefixed, 0 too (ip's own hex helper prints a bare 0). */
	if (get_u32(tb[IFLA_USBVNET_SLOTS_USED], &v))
		snprintf(used, sizeof(used), "0x%x", v);
	if (json_ok) {
		if (mode)
			ip.print_color_string(PRINT_ANY, IP_COLOR_NONE, "mode", "mode %s ", mode);
		if (get_u32(tb[IFLA_USBVNET_SLOTS], &v))
			ip.print_color_uint(PRINT_ANY, IP_COLOR_NONE, "slots", "slots %u ", v);
		if (used[0])
			ip.print_color_string(PRINT_ANY, IP_COLOR_NONE, "used", "used %s ", used);
		return;
	}
	/* An ip without the JSON helpers: plain text only. */
	if (mode)
		fprintf(f, "mode %s ", mode);
	if (get_u32(tb[IFLA_USBVNET_SLOTS], &v))
		fprintf(f, "slots %u ", v);
	if (used[0])
		fprintf(f, "used %s ", used);
}

static void usbvnet_print_help(struct link_util *lu, int argc, char **argv, FILE *f)
{
	(void)lu, (void)argc, (void)argv;
	usbvnet_usage(f);
}

/* ip looks this up by name: "<kind>_link_util". */
struct link_util usbvnet_link_util = {
	.id		= "usbvnet",
	.maxattr	= IFLA_USBVNET_MAX,
	.parse_opt	= usbvnet_parse_opt,
	.print_opt	= usbvnet_print_opt,
	.print_help	= usbvnet_print_help,
};
