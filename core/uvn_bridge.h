/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The bridge's policy, free of any OS: its settings and their validation,
 * which devices may attach, the stable MAC rule, and where each frame goes.
 */
#ifndef UVN_BRIDGE_H
#define UVN_BRIDGE_H

#include "uvn_os.h"
#include "uvn_fdb.h"
#include "uvn_slots.h"

enum uvn_mode {
	UVN_MODE_BRIDGE = 0,	/* devices reach each other */
	UVN_MODE_PRIVATE = 1,	/* devices reach only the host */
};

/* Drivers whose netdevs may attach; the same bits as the uapi. */
#define UVN_DRV_CDC_ETHER	(1U << 0)
#define UVN_DRV_CDC_NCM		(1U << 1)
#define UVN_DRV_CDC_EEM		(1U << 2)
#define UVN_DRV_RNDIS_HOST	(1U << 3)
#define UVN_DRV_ALL		0xfU

#define UVN_CFG_AUTO_ATTACH	(1U << 0)
#define UVN_CFG_ALL		UVN_CFG_AUTO_ATTACH

#define UVN_MAX_RULES		16

enum uvn_rule_action {
	UVN_RULE_ALLOW = 0,
	UVN_RULE_DENY = 1,
};

struct uvn_rule {
	uint16_t vendor;	/* 0 = any */
	uint16_t product;	/* 0 = any */
	uint32_t action;
};

struct uvn_config {
	uint8_t mac[6];
	uint32_t mode;
	uint32_t flags;
	uint32_t drivers;
	uint32_t nr_rules;
	struct uvn_rule rules[UVN_MAX_RULES];
};

/* Default settings: bridge mode, auto-attach, every supported driver. */
void uvn_config_default(struct uvn_config *c);

/*
 * Checks a whole configuration before any of it is applied. Returns 0, or
 * -UVN_EINVAL with *why naming the offending field.
 */
int uvn_config_check(const struct uvn_config *c, const char **why);

/* The UVN_DRV_* bit of a kernel driver name, or 0 if it is not one of ours. */
uint32_t uvn_driver_bit(const char *name);

/*
 * May a device attach automatically? 0 if so; -UVN_ENOENT if its driver is
 * not enabled, -UVN_EPERM if a rule denies it.
 */
int uvn_config_match(const struct uvn_config *c, uint32_t driver_bit,
		     uint16_t vendor, uint16_t product);

/*
 * The stable MAC: FNV-1a (64 bit) over "usbvnet\0" + machine id + "\0" +
 * interface name; its first six bytes, made locally administered unicast.
 * The same machine id gives the same MAC on every boot.
 */
void uvn_mac_derive(const uint8_t *machine_id, size_t id_len, const char *ifname,
		    uint8_t mac[6]);

/* What to do with a frame's source address. */
enum uvn_source {
	UVN_SOURCE_KNOWN,	/* learned on this slot: refresh it */
	UVN_SOURCE_NEW,		/* not learned yet: learn it */
	UVN_SOURCE_SPOOF,	/* another slot's, or the host's own: drop */
	UVN_SOURCE_INVALID,	/* multicast or zero: drop */
};

enum uvn_source uvn_check_source(const struct uvn_fdb *f, const uint8_t *host_mac,
				 uint32_t slot, const uint8_t *src, unsigned int *index);

/* Where a frame goes. */
struct uvn_verdict {
	uint32_t to_slots;	/* transmit a copy on each of these slots */
	bool to_host;		/* deliver up through the virtual interface */
	bool host_unicast;	/* addressed to the host's own MAC */
};

/* A frame that arrived from the device in src_slot. */
void uvn_forward_from_slot(const struct uvn_fdb *f, uint32_t used, uint32_t mode,
			   const uint8_t *host_mac, bool promisc, uint32_t src_slot,
			   const uint8_t *dst, struct uvn_verdict *v);

/* A frame the host sends through the virtual interface. */
void uvn_forward_from_host(const struct uvn_fdb *f, uint32_t used, const uint8_t *dst,
			   struct uvn_verdict *v);

#endif /* UVN_BRIDGE_H */
