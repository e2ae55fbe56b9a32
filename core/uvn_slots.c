// SPDX-License-Identifier: GPL-2.0 OR MIT
#include "uvn_slots.h"

void uvn_slots_init(struct uvn_slots *s)
{
	uvn_memset(s, 0, sizeof(*s));
}

/* Bounded strlen: serials come from devices and may lack a terminator. */
static size_t serial_len(const char *serial)
{
	size_t n = 0;

	if (!serial)
		return 0;
	while (n < UVN_SERIAL_LEN - 1 && serial[n])
		n++;
	return n;
}

static struct uvn_pin *find_pin(struct uvn_slots *s, const char *serial, size_t len)
{
	unsigned int i;

	for (i = 0; i < UVN_PIN_HISTORY; i++) {
		struct uvn_pin *p = &s->pins[i];

		if (p->serial[0] && !uvn_memcmp(p->serial, serial, len) && p->serial[len] == '\0')
			return p;
	}
	return NULL;
}

static uint32_t pinned_mask(const struct uvn_slots *s)
{
	uint32_t mask = 0;
	unsigned int i;

	for (i = 0; i < UVN_PIN_HISTORY; i++)
		if (s->pins[i].serial[0])
			mask |= 1U << s->pins[i].slot;
	return mask;
}

static int lowest(uint32_t mask)
{
	return mask ? __builtin_ctz(mask) : -1;
}

/* An unused entry, else the one pinned longest ago. */
static struct uvn_pin *free_pin(struct uvn_slots *s)
{
	struct uvn_pin *oldest = &s->pins[0];
	unsigned int i;

	for (i = 0; i < UVN_PIN_HISTORY; i++) {
		struct uvn_pin *p = &s->pins[i];

		if (!p->serial[0])
			return p;
		if ((int32_t)(p->last_used - oldest->last_used) < 0)
			oldest = p;
	}
	return oldest;
}

/* Remembers serial -> slot. A slot is pinned to one serial: the newest. */
static void pin(struct uvn_slots *s, const char *serial, size_t len, uint32_t slot)
{
	struct uvn_pin *p;
	unsigned int i;

	for (i = 0; i < UVN_PIN_HISTORY; i++)
		if (s->pins[i].serial[0] && s->pins[i].slot == slot)
			s->pins[i].serial[0] = '\0';
	p = find_pin(s, serial, len);
	if (!p)
		p = free_pin(s);
	uvn_memcpy(p->serial, serial, len);
	p->serial[len] = '\0';
	p->slot = slot;
	p->last_used = s->clock;
}

int uvn_slots_take(struct uvn_slots *s, const char *serial, uint32_t wanted)
{
	uint32_t free_mask = ~s->used;
	size_t len = serial_len(serial);
	int slot;

	if (wanted != UVN_ANY_SLOT) {
		if (wanted >= UVN_MAX_SLOTS)
			return -UVN_EINVAL;
		if (!(free_mask & (1U << wanted)))
			return -UVN_EBUSY;
		slot = (int)wanted;
	} else {
		const struct uvn_pin *p = len ? find_pin(s, serial, len) : NULL;

		if (!free_mask)
			return -UVN_ENOSPC;
		if (p && (free_mask & (1U << p->slot)))
			slot = (int)p->slot;
		else if ((slot = lowest(free_mask & ~pinned_mask(s))) < 0)
			slot = lowest(free_mask);
	}

	s->clock++;
	s->used |= 1U << slot;
	if (len)
		pin(s, serial, len, (uint32_t)slot);
	return slot;
}

int uvn_slots_release(struct uvn_slots *s, uint32_t slot)
{
	if (!uvn_slots_in_use(s, slot))
		return -UVN_ENOENT;
	s->used &= ~(1U << slot);
	return 0;
}
