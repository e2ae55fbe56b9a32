// SPDX-License-Identifier: GPL-2.0 OR MIT
#include "uvn_fdb.h"
#include "unit.h"

static struct uvn_fdb f;

static void mac_of(uint8_t mac[6], unsigned int n)
{
	mac[0] = 0x02;
	mac[1] = 0x00;
	mac[2] = (uint8_t)(n >> 24);
	mac[3] = (uint8_t)(n >> 16);
	mac[4] = (uint8_t)(n >> 8);
	mac[5] = (uint8_t)n;
}

static void learn_and_lookup(void)
{
	uint8_t a[6], b[6];

	uvn_fdb_init(&f);
	mac_of(a, 1);
	mac_of(b, 2);
	EXPECT_EQ(uvn_fdb_lookup(&f, a), -1);
	EXPECT_EQ(uvn_fdb_learn(&f, a, 3, 100), UVN_LEARN_NEW);
	EXPECT_EQ(uvn_fdb_learn(&f, a, 3, 101), UVN_LEARN_KNOWN);
	EXPECT_EQ(uvn_fdb_lookup(&f, a), 3);
	EXPECT_EQ(uvn_fdb_lookup(&f, b), -1);
	EXPECT_EQ(f.count[3], 1);
}

static void another_slot_cannot_take_over(void)
{
	uint8_t a[6];

	uvn_fdb_init(&f);
	mac_of(a, 1);
	EXPECT_EQ(uvn_fdb_learn(&f, a, 0, 1), UVN_LEARN_NEW);
	EXPECT_EQ(uvn_fdb_learn(&f, a, 1, 2), UVN_LEARN_OWNED);
	EXPECT_EQ(uvn_fdb_lookup(&f, a), 0);
	/* Once slot 0 is gone, the address is free to move. */
	EXPECT_EQ(uvn_fdb_forget_slot(&f, 0), 1);
	EXPECT_EQ(uvn_fdb_learn(&f, a, 1, 3), UVN_LEARN_NEW);
	EXPECT_EQ(uvn_fdb_lookup(&f, a), 1);
}

static void rejects_group_and_zero(void)
{
	uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0, 0, 1 };
	uint8_t zero[6] = { 0 };
	uint8_t a[6];

	uvn_fdb_init(&f);
	mac_of(a, 9);
	EXPECT_EQ(uvn_fdb_learn(&f, bcast, 0, 1), UVN_LEARN_INVALID);
	EXPECT_EQ(uvn_fdb_learn(&f, mcast, 0, 1), UVN_LEARN_INVALID);
	EXPECT_EQ(uvn_fdb_learn(&f, zero, 0, 1), UVN_LEARN_INVALID);
	EXPECT_EQ(uvn_fdb_learn(&f, a, 32, 1), UVN_LEARN_INVALID);
	EXPECT_EQ(f.live, 0);
}

static void per_slot_quota(void)
{
	uint8_t m[6];
	unsigned int i;

	uvn_fdb_init(&f);
	for (i = 0; i < UVN_FDB_PER_SLOT; i++) {
		mac_of(m, 1000 + i);
		EXPECT_EQ(uvn_fdb_learn(&f, m, 4, 1), UVN_LEARN_NEW);
	}
	mac_of(m, 5000);
	EXPECT_EQ(uvn_fdb_learn(&f, m, 4, 1), UVN_LEARN_FULL);
	/* A flooding slot does not keep another slot from learning. */
	EXPECT_EQ(uvn_fdb_learn(&f, m, 5, 1), UVN_LEARN_NEW);
}

static void every_slot_full_still_finds_all(void)
{
	uint8_t m[6];
	unsigned int slot, i, misses = 0;

	uvn_fdb_init(&f);
	for (slot = 0; slot < UVN_MAX_SLOTS; slot++)
		for (i = 0; i < UVN_FDB_PER_SLOT; i++) {
			mac_of(m, slot * 977 + i * 13);
			if (uvn_fdb_learn(&f, m, slot, 1) != UVN_LEARN_NEW)
				misses++;
		}
	EXPECT_EQ(misses, 0);
	for (slot = 0; slot < UVN_MAX_SLOTS; slot++)
		for (i = 0; i < UVN_FDB_PER_SLOT; i++) {
			mac_of(m, slot * 977 + i * 13);
			EXPECT_EQ(uvn_fdb_lookup(&f, m), (int)slot);
		}
}

static void churn_reuses_tombstones(void)
{
	uint8_t m[6];
	unsigned int round, i;

	uvn_fdb_init(&f);
	for (round = 0; round < 500; round++) {
		/* Keep one MAC on slot 0 alive so the table never sweeps itself. */
		mac_of(m, 7);
		uvn_fdb_learn(&f, m, 0, round);
		for (i = 0; i < 20; i++) {
			mac_of(m, round * 100 + i + 10);
			EXPECT_EQ(uvn_fdb_learn(&f, m, 1, round), UVN_LEARN_NEW);
		}
		EXPECT_EQ(uvn_fdb_forget_slot(&f, 1), 20);
	}
	EXPECT_EQ(f.live, 1);
	mac_of(m, 7);
	EXPECT_EQ(uvn_fdb_lookup(&f, m), 0);
}

static void expiry(void)
{
	uint8_t a[6], b[6];
	unsigned int idx;

	uvn_fdb_init(&f);
	mac_of(a, 1);
	mac_of(b, 2);
	uvn_fdb_learn(&f, a, 0, 100);
	uvn_fdb_learn(&f, b, 1, 100);
	EXPECT_EQ(uvn_fdb_find(&f, b, &idx), 1);
	uvn_fdb_touch(&f, idx, 350);
	EXPECT_EQ(uvn_fdb_expire(&f, 400, 200), 1);
	EXPECT_EQ(uvn_fdb_lookup(&f, a), -1);
	EXPECT_EQ(uvn_fdb_lookup(&f, b), 1);
	/* The clock wraps. */
	uvn_fdb_touch(&f, idx, 0xfffffff0U);
	EXPECT_EQ(uvn_fdb_expire(&f, 0x10, 200), 0);
	EXPECT_EQ(uvn_fdb_expire(&f, 0x1000, 200), 1);
	EXPECT_EQ(f.live, 0);
}

int main(void)
{
	RUN(learn_and_lookup);
	RUN(another_slot_cannot_take_over);
	RUN(rejects_group_and_zero);
	RUN(per_slot_quota);
	RUN(every_slot_full_still_finds_all);
	RUN(churn_reuses_tombstones);
	RUN(expiry);
	UNIT_EXIT();
}
