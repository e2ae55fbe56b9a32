// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libFuzzer harness for the slot and MAC tables: the input is a program of
 * operations (take/release slots, learn/forget/expire MACs, forward frames)
 * run against the real tables and a simple model of them; any disagreement,
 * broken invariant or out-of-bounds access aborts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uvn_bridge.h"

#define MODEL_MACS 64	/* the fuzzer picks MACs from a small set, so they collide */

static struct uvn_fdb fdb;
static struct uvn_slots slots;
static int model_owner[MODEL_MACS];	/* slot, or -1 */

static void mac_of(uint8_t mac[6], unsigned int n)
{
	static const uint8_t base[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x00 };

	memcpy(mac, base, 6);
	mac[5] = (uint8_t)n;
	mac[4] = (uint8_t)(n * 7);	/* spread the buckets a little */
}

static void fail(const char *what)
{
	fprintf(stderr, "invariant broken: %s\n", what);
	abort();
}

static void check_invariants(void)
{
	unsigned int slot, n, counted[UVN_MAX_SLOTS] = { 0 }, live = 0;
	uint8_t mac[6];

	for (n = 0; n < MODEL_MACS; n++) {
		mac_of(mac, n);
		if (uvn_fdb_lookup(&fdb, mac) != model_owner[n])
			fail("lookup disagrees with the model");
		if (model_owner[n] >= 0)
			counted[model_owner[n]]++;
	}
	for (slot = 0; slot < UVN_MAX_SLOTS; slot++) {
		if (fdb.count[slot] != counted[slot])
			fail("per-slot count");
		if (fdb.count[slot] > UVN_FDB_PER_SLOT)
			fail("per-slot quota");
		live += counted[slot];
	}
	if (fdb.live != live)
		fail("live count");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t now = 0;
	size_t i;

	uvn_fdb_init(&fdb);
	uvn_slots_init(&slots);
	for (i = 0; i < MODEL_MACS; i++)
		model_owner[i] = -1;

	for (i = 0; i + 2 < size; i += 3) {
		unsigned int op = data[i] % 6, a = data[i + 1], b = data[i + 2];
		unsigned int slot = a % UVN_MAX_SLOTS, n = b % MODEL_MACS;
		uint8_t mac[6];
		struct uvn_verdict v;
		char serial[4] = { 'S', (char)('a' + b % 20), 0, 0 };
		int r;

		mac_of(mac, n);
		switch (op) {
		case 0:
			r = uvn_fdb_learn(&fdb, mac, slot, now);
			if (r == UVN_LEARN_NEW)
				model_owner[n] = (int)slot;
			else if (r == UVN_LEARN_OWNED && model_owner[n] == (int)slot)
				fail("owned by itself");
			else if (r == UVN_LEARN_KNOWN && model_owner[n] != (int)slot)
				fail("known on the wrong slot");
			break;
		case 1:
			uvn_fdb_forget_slot(&fdb, slot);
			for (n = 0; n < MODEL_MACS; n++)
				if (model_owner[n] == (int)slot)
					model_owner[n] = -1;
			break;
		case 2:
			now += a;
			if (uvn_fdb_expire(&fdb, now, 128))
				for (n = 0; n < MODEL_MACS; n++) {
					mac_of(mac, n);
					model_owner[n] = uvn_fdb_lookup(&fdb, mac);
				}
			break;
		case 3:
			r = uvn_slots_take(&slots, b & 1 ? serial : NULL, a & 0x80 ? UVN_ANY_SLOT : slot);
			if (r >= 0 && !(slots.used & (1U << r)))
				fail("taken slot not marked used");
			break;
		case 4:
			uvn_slots_release(&slots, slot);
			break;
		case 5:
			uvn_forward_from_slot(&fdb, slots.used, a & 1, mac, b & 1, slot, mac, &v);
			if (v.to_slots & (1U << slot))
				fail("hairpin");
			uvn_forward_from_host(&fdb, slots.used, mac, &v);
			if (v.to_slots & ~slots.used)
				fail("sent to a free slot");
			break;
		}
	}
	check_invariants();
	return 0;
}
