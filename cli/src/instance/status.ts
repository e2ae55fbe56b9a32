/**
 * `usbvnet status`: the instance as a whole, from USBVNET_IOC_INFO, and its
 * DHCP server in brief (what `usbvnet dhcp` reads, over the same descriptor).
 */
import {readDhcp, summarizeDhcp, type DhcpSummary} from '../dhcp/stats.js'
import {USBVNET_API_VERSION, UsbvnetMode} from '../driver/constants.js'
import type {UsbvnetDevice} from '../driver/device.js'
import type {InfoStruct} from '../driver/structs.js'
import {UsbvnetError} from '../errors.js'
import {formatFacts, formatTable} from '../format/table.js'
import {log} from '../log.js'
import {counter, slotsInMask, traffic, type TrafficCounters} from './counters.js'

export interface StatusReport {
	instance: string
	ifindex: number
	mac: string
	/** "bridge", "private", or "unknown (N)" from a newer module. */
	mode: string
	carrier: boolean
	apiVersion: number
	slots: {used: number; max: number; attached: number[]}
	instances: number
	rx: TrafficCounters
	tx: TrafficCounters
	/** Frames whose source MAC belongs to another slot. */
	spoofDrops: number
	/** Frames dropped because their slot went away. */
	purged: number
	/** Devices not attached: no free slot / denied by rules. */
	refused: {full: number; rules: number}
	dhcp: StatusDhcp
}

/**
 * The DHCP server in brief, or why the module could not say (an older one
 * without the DHCP requests, say): status reports the rest all the same.
 */
export type StatusDhcp = ({known: true} & DhcpSummary) | {known: false; error: {code: string; message: string}}

function modeText(mode: number): string {
	const entry = Object.entries(UsbvnetMode).find(([, value]) => value === mode)
	return entry ? entry[0] : `unknown (${mode})`
}

export function statusFromInfo(info: InfoStruct, dhcp: StatusDhcp): StatusReport {
	const attached = slotsInMask(info.slotsUsed, info.maxSlots)
	return {
		instance: info.ifname,
		ifindex: info.ifindex,
		mac: info.mac,
		mode: modeText(info.mode),
		carrier: info.carrier,
		apiVersion: info.apiVersion,
		slots: {used: attached.length, max: info.maxSlots, attached},
		instances: info.nrInstances,
		rx: traffic(info.rxPackets, info.rxBytes, info.rxDropped),
		tx: traffic(info.txPackets, info.txBytes, info.txDropped),
		spoofDrops: counter(info.spoofDrops),
		purged: counter(info.purged),
		refused: {full: counter(info.refusedFull), rules: counter(info.refusedRules)},
		dhcp,
	}
}

/** A failure of the DHCP requests alone leaves the DHCP summary unknown; a bug still throws. */
function readStatusDhcp(device: UsbvnetDevice, instance: string): StatusDhcp {
	try {
		return {known: true, ...summarizeDhcp(readDhcp(device, instance))}
	} catch (error) {
		if (!(error instanceof UsbvnetError)) throw error
		log.debug(`DHCP summary unknown: ${error.message}`)
		return {known: false, error: {code: error.code, message: error.message}}
	}
}

export function readStatus(device: UsbvnetDevice, instance: string): StatusReport {
	const info = device.info(instance)
	if (info.apiVersion !== USBVNET_API_VERSION) {
		log.warn(`the module speaks control API version ${info.apiVersion}, this command version ${USBVNET_API_VERSION}`)
	}
	return statusFromInfo(info, readStatusDhcp(device, instance))
}

const plural = (count: number, noun: string): string => `${count} ${noun}${count === 1 ? '' : 's'}`

/** One or two lines: state, host address and leases; then what was not answered. */
function dhcpFacts(dhcp: StatusDhcp): [string, string][] {
	const see = '(see "usbvnet dhcp")'
	if (!dhcp.known) return [['dhcp', `unknown: ${dhcp.error.message}`]]
	const prefix = dhcp.subnet.split('/')[1] ?? ''
	const first = `${dhcp.enabled ? 'on' : 'off'}, ${dhcp.hostAddress}/${prefix}, ${plural(dhcp.leasesBound, 'lease')} bound`
	const drops = [
		...(dhcp.refused === undefined ? [] : [`${plural(dhcp.refused, 'message')} refused`]),
		...(dhcp.malformed === undefined ? [] : [`${dhcp.malformed} malformed`]),
	]
	return drops.length > 0 ? [['dhcp', first], ['', `${drops.join(', ')} ${see}`]] : [['dhcp', `${first} ${see}`]]
}

export function formatStatus(report: StatusReport): string {
	const slots = report.slots.attached.length > 0 ? `: ${report.slots.attached.join(', ')}` : ''
	const facts = formatFacts(
		[
			['MAC', report.mac],
			['mode', report.mode],
			['carrier', report.carrier ? 'up' : 'down'],
			['slots', `${report.slots.used}/${report.slots.max} used${slots}`],
			['spoof drops', `${report.spoofDrops} (frames with another slot's source MAC)`],
			['purged', `${report.purged} (frames whose slot went away)`],
			['refused', `${report.refused.full} devices for want of a free slot, ${report.refused.rules} denied by rules`],
			...dhcpFacts(report.dhcp),
		],
		'  ',
	)
	const counters = formatTable(
		[{header: ''}, {header: 'PACKETS', numeric: true}, {header: 'BYTES', numeric: true}, {header: 'DROPPED', numeric: true}],
		(['rx', 'tx'] as const).map((direction) => {
			const c = report[direction]
			return [direction, String(c.packets), String(c.bytes), String(c.dropped)]
		}),
		'  ',
	)
	return `${report.instance} (ifindex ${report.ifindex}, control API ${report.apiVersion})\n${facts}\n\n${counters}`
}
