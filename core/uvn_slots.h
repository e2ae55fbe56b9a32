/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The slot table: 32 slots as a bitmask, plus a short memory of which USB
 * serial number held which slot, so that a device that is unplugged and
 * plugged back gets its old slot while that slot is free.
 */
#ifndef UVN_SLOTS_H
#define UVN_SLOTS_H

#include "uvn_os.h"

#define UVN_MAX_SLOTS		32
#define UVN_ANY_SLOT		0xffffffffU
#define UVN_SERIAL_LEN		64	/* including the terminating NUL */
#define UVN_PIN_HISTORY		64

struct uvn_pin {
	char serial[UVN_SERIAL_LEN];	/* empty = unused entry */
	uint32_t slot;
	uint32_t last_used;		/* uvn_slots.clock when last taken */
};

struct uvn_slots {
	uint32_t used;			/* bit n set = slot n attached */
	uint32_t clock;			/* counts allocations, orders the pins */
	struct uvn_pin pins[UVN_PIN_HISTORY];
};

void uvn_slots_init(struct uvn_slots *s);

/*
 * Takes a slot for a device with the given serial (may be NULL or empty).
 * wanted = UVN_ANY_SLOT picks: the slot this serial held before if it is
 * free; else the lowest free slot that no absent device is pinned to; else
 * the lowest free slot. Returns the slot, or -UVN_EBUSY (wanted slot taken),
 * -UVN_EINVAL (wanted out of range) or -UVN_ENOSPC (all 32 in use).
 */
int uvn_slots_take(struct uvn_slots *s, const char *serial, uint32_t wanted);

/* Frees a slot; its pin is kept so the same device can have it back. */
int uvn_slots_release(struct uvn_slots *s, uint32_t slot);

static inline bool uvn_slots_in_use(const struct uvn_slots *s, uint32_t slot)
{
	return slot < UVN_MAX_SLOTS && (s->used & (1U << slot));
}

static inline unsigned int uvn_slots_count(const struct uvn_slots *s)
{
	return (unsigned int)__builtin_popcount(s->used);
}

#endif /* UVN_SLOTS_H */
