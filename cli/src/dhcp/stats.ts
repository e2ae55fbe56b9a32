/** `usbvnet dhcp`: the DHCP server's state at a glance, from GET_DHCP and DHCP_STATS. */
import {USBVNET_DHCP_COUNTER_NAMES, type DhcpCounterName} from '../driver/constants.js'
import type {UsbvnetDevice} from '../driver/device.js'
import {dhcpFromStruct} from '../config/dhcp.js'
import {formatFacts, formatTable} from '../format/table.js'
import {instanceLabel} from '../names.js'

export interface DhcpReport {
	instance: string
	enabled: boolean
	rapidCommit: boolean
	subnet: string
	hostAddress: string
	pool: {start: string; end: string}
	reservations: number
	/** Leases held now. */
	leasesBound: number
	/**
	 * By the header's names (USBVNET_DHCP_COUNTERS) in camelCase like the
	 * rest of --json (bad_ip: badIp); a counter an older module lacks is left out.
	 */
	counters: Record<string, number>
}

export const camelCase = (name: string): string => name.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase())

export function readDhcp(device: UsbvnetDevice, instance: string): DhcpReport {
	const settings = dhcpFromStruct(device.getDhcp(instance))
	const stats = device.dhcpStats(instance)
	const counters: Record<string, number> = {}
	stats.counters.forEach((value, index) => {
		const name = USBVNET_DHCP_COUNTER_NAMES[index]
		if (name) counters[camelCase(name)] = value
	})
	return {
		instance: instanceLabel(instance),
		enabled: settings.enabled,
		rapidCommit: settings.rapidCommit,
		subnet: settings.subnet,
		hostAddress: settings.hostAddress,
		pool: settings.pool,
		reservations: settings.reservations.length,
		leasesBound: stats.leasesBound,
		counters,
	}
}

export type DhcpCounterGroup = 'requests' | 'answers' | 'refused' | 'malformed'

/** Messages answered (rapid_commit: the ACKs that answered a DISCOVER), then why frames were dropped. */
const GROUPS: [DhcpCounterGroup, readonly DhcpCounterName[]][] = [
	['requests', ['received', 'discover', 'request', 'decline', 'release', 'inform']],
	['answers', ['offer', 'ack', 'rapid_commit', 'nak']],
	['refused', ['exhausted', 'slot_cap', 'foreign', 'other_server', 'ignored', 'disabled', 'relayed']],
	[
		'malformed',
		['truncated', 'bad_ip', 'bad_udp', 'not_request', 'bad_chaddr', 'bad_cookie', 'bad_option', 'no_end', 'overload', 'no_msg_type', 'bad_msg_type', 'reply_too_small'],
	],
]

/** The sum of a group's counters the module has; undefined if it has none of them. */
export function groupTotal(counters: Record<string, number>, group: DhcpCounterGroup): number | undefined {
	const names = GROUPS.find(([name]) => name === group)?.[1] ?? []
	const values = names.map((name) => counters[camelCase(name)]).filter((value) => value !== undefined)
	return values.length > 0 ? values.reduce((sum, value) => sum + value, 0) : undefined
}

/** The DHCP server in brief, for `usbvnet status`. */
export interface DhcpSummary {
	enabled: boolean
	subnet: string
	hostAddress: string
	leasesBound: number
	/**
	 * Messages not answered (pool exhausted, slot cap, ...) and malformed ones:
	 * the sums of the "refused" and "malformed" groups of `usbvnet dhcp`; left
	 * out if the module has none of the group's counters.
	 */
	refused?: number
	malformed?: number
}

export function summarizeDhcp(report: DhcpReport): DhcpSummary {
	const refused = groupTotal(report.counters, 'refused')
	const malformed = groupTotal(report.counters, 'malformed')
	return {
		enabled: report.enabled,
		subnet: report.subnet,
		hostAddress: report.hostAddress,
		leasesBound: report.leasesBound,
		...(refused === undefined ? {} : {refused}),
		...(malformed === undefined ? {} : {malformed}),
	}
}

export function formatDhcp(report: DhcpReport): string {
	const facts = formatFacts(
		[
			['server', report.enabled ? 'on' : 'off'],
			['rapid commit', report.rapidCommit ? 'on' : 'off'],
			['subnet', report.subnet],
			['host address', report.hostAddress],
			['pool', `${report.pool.start} - ${report.pool.end}`],
			['reservations', String(report.reservations)],
			['leases bound', String(report.leasesBound)],
		],
		'  ',
	)
	const rows = GROUPS.flatMap(([group, names]) =>
		names
			.filter((name) => report.counters[camelCase(name)] !== undefined)
			.map((name, index) => [index === 0 ? group : '', name, String(report.counters[camelCase(name)])]),
	)
	const table = formatTable([{header: ''}, {header: 'COUNTER'}, {header: 'VALUE', numeric: true}], rows, '  ')
	return `DHCP server of ${report.instance}\n${facts}\n\n${table}`
}
