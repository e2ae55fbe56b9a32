// SPDX-License-Identifier: GPL-2.0
/* Per-CPU counters: allocation and summing (writers are inline in usbvnet_priv.h). */
#include <linux/percpu.h>

#include "usbvnet_priv.h"

struct usbvnet_pcpu_stats __percpu *usbvnet_stats_alloc(void)
{
	struct usbvnet_pcpu_stats __percpu *stats;
	int cpu;

	stats = alloc_percpu_gfp(struct usbvnet_pcpu_stats, GFP_KERNEL);
	if (!stats)
		return NULL;
	for_each_possible_cpu(cpu)
		u64_stats_init(&per_cpu_ptr(stats, cpu)->syncp);
	return stats;
}

void usbvnet_stats_add(struct usbvnet_stats *sum, struct usbvnet_pcpu_stats __percpu *stats)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		const struct usbvnet_pcpu_stats *s = per_cpu_ptr(stats, cpu);
		u64 rx_packets, rx_bytes, tx_packets, tx_bytes;
		unsigned int start;

		do {
			start = u64_stats_fetch_begin(&s->syncp);
			rx_packets = u64_stats_read(&s->rx_packets);
			rx_bytes = u64_stats_read(&s->rx_bytes);
			tx_packets = u64_stats_read(&s->tx_packets);
			tx_bytes = u64_stats_read(&s->tx_bytes);
		} while (u64_stats_fetch_retry(&s->syncp, start));
		sum->rx_packets += rx_packets;
		sum->rx_bytes += rx_bytes;
		sum->tx_packets += tx_packets;
		sum->tx_bytes += tx_bytes;
		sum->rx_dropped += READ_ONCE(s->rx_dropped);
		sum->tx_dropped += READ_ONCE(s->tx_dropped);
		sum->spoof_drops += READ_ONCE(s->spoof_drops);
		sum->purged += READ_ONCE(s->purged);
	}
}
