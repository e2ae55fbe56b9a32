// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <stdio.h>
#include "uvn_slots.h"
#include "unit.h"

static struct uvn_slots s;

static void takes_lowest_free(void)
{
	uvn_slots_init(&s);
	EXPECT_EQ(uvn_slots_take(&s, NULL, UVN_ANY_SLOT), 0);
	EXPECT_EQ(uvn_slots_take(&s, "", UVN_ANY_SLOT), 1);
	EXPECT_EQ(uvn_slots_take(&s, NULL, UVN_ANY_SLOT), 2);
	EXPECT_EQ(uvn_slots_release(&s, 1), 0);
	EXPECT_EQ(uvn_slots_take(&s, NULL, UVN_ANY_SLOT), 1);
	EXPECT_EQ(uvn_slots_count(&s), 3);
}

static void thirty_third_is_refused(void)
{
	int i;

	uvn_slots_init(&s);
	for (i = 0; i < 32; i++)
		EXPECT_EQ(uvn_slots_take(&s, NULL, UVN_ANY_SLOT), i);
	EXPECT_EQ(s.used, 0xffffffffU);
	EXPECT_EQ(uvn_slots_take(&s, "x", UVN_ANY_SLOT), -UVN_ENOSPC);
	EXPECT_EQ(s.used, 0xffffffffU);
}

static void replug_gets_old_slot(void)
{
	uvn_slots_init(&s);
	EXPECT_EQ(uvn_slots_take(&s, "A", UVN_ANY_SLOT), 0);
	EXPECT_EQ(uvn_slots_take(&s, "B", UVN_ANY_SLOT), 1);
	EXPECT_EQ(uvn_slots_take(&s, "C", UVN_ANY_SLOT), 2);
	EXPECT_EQ(uvn_slots_release(&s, 1), 0);
	/* A newcomer avoids the slot B is pinned to... */
	EXPECT_EQ(uvn_slots_take(&s, "D", UVN_ANY_SLOT), 3);
	/* ...so B gets it back. */
	EXPECT_EQ(uvn_slots_take(&s, "B", UVN_ANY_SLOT), 1);
}

static void pinned_slot_used_when_nothing_else(void)
{
	int i;

	uvn_slots_init(&s);
	for (i = 0; i < 32; i++) {
		char serial[8];

		snprintf(serial, sizeof(serial), "s%d", i);
		EXPECT_EQ(uvn_slots_take(&s, serial, UVN_ANY_SLOT), i);
	}
	EXPECT_EQ(uvn_slots_release(&s, 5), 0);
	EXPECT_EQ(uvn_slots_take(&s, "new", UVN_ANY_SLOT), 5);
	EXPECT_EQ(uvn_slots_release(&s, 5), 0);
	/* The pin moved to "new": s5 is now a stranger to slot 5 but still gets it (only free one). */
	EXPECT_EQ(uvn_slots_take(&s, "s5", UVN_ANY_SLOT), 5);
}

static void wanted_slot(void)
{
	uvn_slots_init(&s);
	EXPECT_EQ(uvn_slots_take(&s, NULL, 7), 7);
	EXPECT_EQ(uvn_slots_take(&s, NULL, 7), -UVN_EBUSY);
	EXPECT_EQ(uvn_slots_take(&s, NULL, 32), -UVN_EINVAL);
	EXPECT_EQ(uvn_slots_take(&s, NULL, UVN_ANY_SLOT), 0);
	EXPECT_EQ(uvn_slots_release(&s, 9), -UVN_ENOENT);
	EXPECT_EQ(uvn_slots_release(&s, 99), -UVN_ENOENT);
	EXPECT_EQ(s.used, (1U << 7) | 1U);
}

static void unterminated_long_serial(void)
{
	char serial[200];
	int i;

	for (i = 0; i < (int)sizeof(serial); i++)
		serial[i] = 'x';		/* no NUL at all: must read at most 63 */
	uvn_slots_init(&s);
	EXPECT_EQ(uvn_slots_take(&s, serial, UVN_ANY_SLOT), 0);
	EXPECT_EQ(uvn_slots_release(&s, 0), 0);
	EXPECT_EQ(uvn_slots_take(&s, serial, UVN_ANY_SLOT), 0);
}

static void pin_history_is_bounded(void)
{
	char serial[16];
	int i;

	uvn_slots_init(&s);
	/* 200 devices come and go through slot 0..1: history keeps the newest. */
	for (i = 0; i < 200; i++) {
		snprintf(serial, sizeof(serial), "dev%d", i);
		int slot = uvn_slots_take(&s, serial, UVN_ANY_SLOT);

		EXPECT(slot >= 0 && slot < 32);
		EXPECT_EQ(uvn_slots_release(&s, (uint32_t)slot), 0);
	}
	EXPECT_EQ(s.used, 0);
}

int main(void)
{
	RUN(takes_lowest_free);
	RUN(thirty_third_is_refused);
	RUN(replug_gets_old_slot);
	RUN(pinned_slot_used_when_nothing_else);
	RUN(wanted_slot);
	RUN(unterminated_long_serial);
	RUN(pin_history_is_bounded);
	UNIT_EXIT();
}
