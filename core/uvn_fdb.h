/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The MAC learning table: which slot each device-side MAC address sits
 * behind. Fixed size, open addressing with a bounded probe, no allocation.
 *
 * Each entry is one 64-bit word (valid bit, slot, MAC), so lookups need no
 * lock: a reader sees an entry whole or not at all. Writers (learning,
 * forgetting, expiry) must be serialised by the caller. Deleted entries
 * become tombstones that later insertions reuse; nothing ever moves, which
 * is what keeps lockless readers correct.
 */
#ifndef UVN_FDB_H
#define UVN_FDB_H

#include "uvn_os.h"
#include "uvn_slots.h"

#define UVN_FDB_SIZE		2048	/* power of two */
#define UVN_FDB_PROBES		32	/* longest probe sequence */
#define UVN_FDB_PER_SLOT	32	/* MACs one slot may hold, so one device cannot fill it */

struct uvn_fdb {
	uint64_t entry[UVN_FDB_SIZE];
	uint32_t seen[UVN_FDB_SIZE];	/* caller's clock at the last frame */
	uint16_t count[UVN_MAX_SLOTS];	/* live entries per slot */
	uint32_t live;			/* live entries in all */
};

enum uvn_learn {
	UVN_LEARN_KNOWN,	/* already learned on this slot */
	UVN_LEARN_NEW,		/* added */
	UVN_LEARN_OWNED,	/* learned on another slot: the frame is spoofed */
	UVN_LEARN_FULL,		/* slot's quota or the table is full: not learned */
	UVN_LEARN_INVALID,	/* not a unicast address, or bad slot */
};

void uvn_fdb_init(struct uvn_fdb *f);

/* The slot behind mac, or -1. Lockless. */
int uvn_fdb_lookup(const struct uvn_fdb *f, const uint8_t mac[6]);

/* Notes that a frame from mac arrived at slot; a refresh is lockless. */
static inline void uvn_fdb_touch(struct uvn_fdb *f, unsigned int index, uint32_t now)
{
	if (UVN_READ_ONCE(f->seen[index]) != now)
		UVN_WRITE_ONCE(f->seen[index], now);
}

/* Lookup that also returns the entry's index, for uvn_fdb_touch. */
int uvn_fdb_find(const struct uvn_fdb *f, const uint8_t mac[6], unsigned int *index);

/* Learns mac on slot. Writer. */
enum uvn_learn uvn_fdb_learn(struct uvn_fdb *f, const uint8_t mac[6], uint32_t slot, uint32_t now);

/* Forgets every MAC of a slot; returns how many. Writer. */
unsigned int uvn_fdb_forget_slot(struct uvn_fdb *f, uint32_t slot);

/* Forgets MACs not seen for max_age ticks of the caller's clock. Writer. */
unsigned int uvn_fdb_expire(struct uvn_fdb *f, uint32_t now, uint32_t max_age);

static inline bool uvn_mac_is_group(const uint8_t *mac)
{
	return mac[0] & 1;
}

static inline bool uvn_mac_is_zero(const uint8_t *mac)
{
	return !(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]);
}

static inline bool uvn_mac_equal(const uint8_t *a, const uint8_t *b)
{
	return !uvn_memcmp(a, b, 6);
}

#endif /* UVN_FDB_H */
