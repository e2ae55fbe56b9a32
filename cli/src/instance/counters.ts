/**
 * Counters for output. The driver's u64 counters arrive as bigint; JSON gets
 * plain numbers, which stay exact up to 2^53 (9 PB of traffic), far beyond
 * what an interface counts between reboots.
 */

export interface TrafficCounters {
	packets: number
	bytes: number
	dropped: number
}

export function counter(value: bigint): number {
	return Number(value)
}

export function traffic(packets: bigint, bytes: bigint, dropped: bigint): TrafficCounters {
	return {packets: counter(packets), bytes: counter(bytes), dropped: counter(dropped)}
}

/** Slot numbers whose bit is set in a slots_used bitmask, ascending. */
export function slotsInMask(mask: number, maxSlots: number): number[] {
	const slots: number[] = []
	for (let slot = 0; slot < Math.min(maxSlots, 32); slot++) {
		if ((mask >>> slot) & 1) slots.push(slot)
	}
	return slots
}
