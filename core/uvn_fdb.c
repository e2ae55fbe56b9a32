// SPDX-License-Identifier: GPL-2.0 OR MIT
#include "uvn_fdb.h"

/* Entry word: bit 63 valid, bits 48..52 slot, bits 0..47 the MAC. */
#define ENTRY_EMPTY	0ULL
#define ENTRY_TOMB	1ULL		/* never a valid entry: valid bit clear */
#define ENTRY_VALID	(1ULL << 63)
#define ENTRY_MAC_MASK	((1ULL << 48) - 1)

static uint64_t mac_key(const uint8_t *mac)
{
	return (uint64_t)mac[0] << 40 | (uint64_t)mac[1] << 32 | (uint64_t)mac[2] << 24 |
	       (uint64_t)mac[3] << 16 | (uint64_t)mac[4] << 8 | mac[5];
}

static unsigned int entry_slot(uint64_t e)
{
	return (unsigned int)(e >> 48) & 0x1f;
}

/* The low bytes of a MAC vary most (vendors share prefixes): mix them all. */
static unsigned int bucket(uint64_t key)
{
	key ^= key >> 29;
	key *= 0xbf58476d1ce4e5b9ULL;
	key ^= key >> 32;
	return (unsigned int)key & (UVN_FDB_SIZE - 1);
}

void uvn_fdb_init(struct uvn_fdb *f)
{
	uvn_memset(f, 0, sizeof(*f));
}

int uvn_fdb_find(const struct uvn_fdb *f, const uint8_t mac[6], unsigned int *index)
{
	uint64_t key = mac_key(mac);
	unsigned int i = bucket(key), n;

	for (n = 0; n < UVN_FDB_PROBES; n++, i = (i + 1) & (UVN_FDB_SIZE - 1)) {
		uint64_t e = UVN_READ_ONCE(f->entry[i]);

		if (e == ENTRY_EMPTY)
			break;
		if ((e & ENTRY_VALID) && (e & ENTRY_MAC_MASK) == key) {
			if (index)
				*index = i;
			return (int)entry_slot(e);
		}
	}
	return -1;
}

int uvn_fdb_lookup(const struct uvn_fdb *f, const uint8_t mac[6])
{
	return uvn_fdb_find(f, mac, NULL);
}

enum uvn_learn uvn_fdb_learn(struct uvn_fdb *f, const uint8_t mac[6], uint32_t slot, uint32_t now)
{
	uint64_t key = mac_key(mac);
	unsigned int i = bucket(key), n, free_at = UVN_FDB_SIZE;

	if (slot >= UVN_MAX_SLOTS || uvn_mac_is_group(mac) || uvn_mac_is_zero(mac))
		return UVN_LEARN_INVALID;

	for (n = 0; n < UVN_FDB_PROBES; n++, i = (i + 1) & (UVN_FDB_SIZE - 1)) {
		uint64_t e = f->entry[i];

		if (e == ENTRY_EMPTY) {
			if (free_at == UVN_FDB_SIZE)
				free_at = i;
			break;
		}
		if (!(e & ENTRY_VALID)) {
			if (free_at == UVN_FDB_SIZE)
				free_at = i;
			continue;
		}
		if ((e & ENTRY_MAC_MASK) == key) {
			if (entry_slot(e) != slot)
				return UVN_LEARN_OWNED;
			uvn_fdb_touch(f, i, now);
			return UVN_LEARN_KNOWN;
		}
	}
	if (free_at == UVN_FDB_SIZE || f->count[slot] >= UVN_FDB_PER_SLOT)
		return UVN_LEARN_FULL;

	UVN_WRITE_ONCE(f->seen[free_at], now);
	UVN_WRITE_ONCE(f->entry[free_at], ENTRY_VALID | (uint64_t)slot << 48 | key);
	f->count[slot]++;
	f->live++;
	return UVN_LEARN_NEW;
}

static void forget(struct uvn_fdb *f, unsigned int i)
{
	f->count[entry_slot(f->entry[i])]--;
	f->live--;
	UVN_WRITE_ONCE(f->entry[i], ENTRY_TOMB);
}

/*
 * With nothing live, tombstones can all turn back into empty entries, which
 * keeps probe sequences short; no reader can miss an entry that is not there.
 */
static void sweep_if_empty(struct uvn_fdb *f)
{
	unsigned int i;

	if (f->live)
		return;
	for (i = 0; i < UVN_FDB_SIZE; i++)
		if (f->entry[i] != ENTRY_EMPTY)
			UVN_WRITE_ONCE(f->entry[i], ENTRY_EMPTY);
}

unsigned int uvn_fdb_forget_slot(struct uvn_fdb *f, uint32_t slot)
{
	unsigned int i, n = 0;

	if (slot >= UVN_MAX_SLOTS)
		return 0;
	for (i = 0; i < UVN_FDB_SIZE && f->count[slot]; i++) {
		uint64_t e = f->entry[i];

		if ((e & ENTRY_VALID) && entry_slot(e) == slot) {
			forget(f, i);
			n++;
		}
	}
	sweep_if_empty(f);
	return n;
}

unsigned int uvn_fdb_expire(struct uvn_fdb *f, uint32_t now, uint32_t max_age)
{
	unsigned int i, n = 0;

	for (i = 0; i < UVN_FDB_SIZE; i++) {
		if ((f->entry[i] & ENTRY_VALID) && now - UVN_READ_ONCE(f->seen[i]) > max_age) {
			forget(f, i);
			n++;
		}
	}
	sweep_if_empty(f);
	return n;
}
