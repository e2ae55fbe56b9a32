/**
 * The "dhcp" section of a configuration <-> struct usbvnet_dhcp_config, and
 * the checks across its keys that JSON Schema cannot express (addresses
 * inside the subnet, the pool's size), the same ones the driver makes in
 * core/uvn_dhcp_config.c, so that a file is refused with a JSON path before
 * any request rather than with a bare EINVAL.
 */
import {USBVNET_DHCP_ENABLED, USBVNET_DHCP_RAPID_COMMIT, UsbvnetDhcpReservationKind} from '../driver/constants.js'
import {ProtocolMismatchError} from '../driver/errors.js'
import type {DhcpConfigStruct, DhcpReservationStruct} from '../driver/structs.js'
import {formatIpv4, parseIpv4, prefixMask} from '../dhcp/ipv4.js'
import type {ConfigChange} from './diff.js'
import type {ConfigIssue} from './errors.js'
import {DHCP_KEYS, type DhcpFileSettings, type DhcpReservation, type DhcpSettings} from './types.js'

/** The driver's lease table holds 256 entries; a pool cannot be larger. */
export const DHCP_POOL_MAX = 256
const NO_MAC = '00:00:00:00:00:00'

// ---- struct <-> settings ----------------------------------------------------

function reservationFromStruct(r: DhcpReservationStruct, index: number): DhcpReservation {
	const ip = formatIpv4(r.ip)
	switch (r.kind) {
		case UsbvnetDhcpReservationKind.mac:
			return {ip, mac: r.mac}
		case UsbvnetDhcpReservationKind.serial:
			return {ip, serial: r.serial}
		case UsbvnetDhcpReservationKind.slot:
			return {ip, slot: r.slot}
		default:
			throw new ProtocolMismatchError(`the driver reports reservation kind ${r.kind} in reservation ${index}, unknown to this command`)
	}
}

export function dhcpFromStruct(struct: DhcpConfigStruct): DhcpSettings {
	const unknownFlags = struct.flags & ~(USBVNET_DHCP_ENABLED | USBVNET_DHCP_RAPID_COMMIT)
	if (unknownFlags !== 0) throw new ProtocolMismatchError(`the driver reports DHCP flags 0x${unknownFlags.toString(16)}, unknown to this command`)
	return {
		enabled: (struct.flags & USBVNET_DHCP_ENABLED) !== 0,
		rapidCommit: (struct.flags & USBVNET_DHCP_RAPID_COMMIT) !== 0,
		subnet: `${formatIpv4(struct.subnet)}/${struct.prefixLen}`,
		hostAddress: formatIpv4(struct.hostIp),
		pool: {start: formatIpv4(struct.poolStart), end: formatIpv4(struct.poolEnd)},
		leaseSeconds: struct.leaseSeconds,
		declineSeconds: struct.declineSeconds,
		perSlotCap: struct.perSlotCap,
		router: struct.router === 0 ? null : formatIpv4(struct.router),
		dns: struct.dns.map(formatIpv4),
		domain: struct.domain,
		mtu: struct.mtu === 0 ? null : struct.mtu,
		reservations: struct.reservations.map(reservationFromStruct),
	}
}

function reservationToStruct(r: DhcpReservation): DhcpReservationStruct {
	const ip = parseIpv4(r.ip)
	if ('mac' in r) return {kind: UsbvnetDhcpReservationKind.mac, ip, slot: 0, mac: r.mac.toLowerCase(), serial: ''}
	if ('serial' in r) return {kind: UsbvnetDhcpReservationKind.serial, ip, slot: 0, mac: NO_MAC, serial: r.serial}
	return {kind: UsbvnetDhcpReservationKind.slot, ip, slot: r.slot, mac: NO_MAC, serial: ''}
}

function splitSubnet(subnet: string): {network: number; prefixLen: number} {
	const [address = '', prefix = ''] = subnet.split('/')
	return {network: parseIpv4(address), prefixLen: Number(prefix)}
}

/** `instance` is the interface name the struct addresses; empty = the default instance. */
export function dhcpToStruct(settings: DhcpSettings, instance: string): DhcpConfigStruct {
	const {network, prefixLen} = splitSubnet(settings.subnet)
	return {
		ifname: instance,
		flags: (settings.enabled ? USBVNET_DHCP_ENABLED : 0) | (settings.rapidCommit ? USBVNET_DHCP_RAPID_COMMIT : 0),
		subnet: network,
		prefixLen,
		hostIp: parseIpv4(settings.hostAddress),
		poolStart: parseIpv4(settings.pool.start),
		poolEnd: parseIpv4(settings.pool.end),
		leaseSeconds: settings.leaseSeconds,
		declineSeconds: settings.declineSeconds,
		perSlotCap: settings.perSlotCap,
		router: settings.router === null ? 0 : parseIpv4(settings.router),
		dns: settings.dns.map(parseIpv4),
		domain: settings.domain,
		mtu: settings.mtu ?? 0,
		reservations: settings.reservations.map(reservationToStruct),
	}
}

/** The spelling the driver gives back: lower-case MACs, keys in a fixed order. */
export function normalizeDhcp(settings: DhcpSettings): DhcpSettings {
	return {
		...settings,
		pool: {start: settings.pool.start, end: settings.pool.end},
		dns: [...settings.dns],
		reservations: settings.reservations.map((r) =>
			'mac' in r ? {ip: r.ip, mac: r.mac.toLowerCase()} : 'serial' in r ? {ip: r.ip, serial: r.serial} : {ip: r.ip, slot: r.slot},
		),
	}
}

/** What applying a file's "dhcp" section over the driver's settings sets: keys left out stay. */
export function mergeDhcp(current: DhcpSettings, file: DhcpFileSettings | undefined): DhcpSettings {
	const merged: DhcpSettings = {...current}
	for (const key of DHCP_KEYS) {
		if (file?.[key] !== undefined) Object.assign(merged, {[key]: file[key]})
	}
	return normalizeDhcp(merged)
}

// ---- diff -------------------------------------------------------------------

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b)

/** One change per setting; reservations by index, like rules. Both sides normalized. */
export function diffDhcp(current: DhcpSettings, desired: DhcpSettings): ConfigChange[] {
	const changes: ConfigChange[] = []
	for (const key of DHCP_KEYS) {
		if (key === 'reservations') continue
		if (!same(current[key], desired[key])) changes.push({path: `$.dhcp.${key}`, kind: 'changed', from: current[key], to: desired[key]})
	}
	const count = Math.max(current.reservations.length, desired.reservations.length)
	for (let index = 0; index < count; index++) {
		const from = current.reservations[index]
		const to = desired.reservations[index]
		const path = `$.dhcp.reservations[${index}]`
		if (from && to) {
			if (!same(from, to)) changes.push({path, kind: 'changed', from, to})
		} else if (to) {
			changes.push({path, kind: 'added', to})
		} else if (from) {
			changes.push({path, kind: 'removed', from})
		}
	}
	return changes
}

// ---- checks across keys -----------------------------------------------------

interface Subnet {
	text: string
	network: number
	mask: number
}

/** Inside the subnet and neither its network nor its broadcast address. */
function usable(subnet: Subnet, ip: number): boolean {
	const host = (ip & ~subnet.mask) >>> 0
	return (ip & subnet.mask) >>> 0 === subnet.network && host !== 0 && host !== (~subnet.mask >>> 0)
}

const notHost = (text: string, subnet: Subnet): string =>
	`"${text}" is not a host address of ${subnet.text} (inside it, and neither its network nor its broadcast address)`

function clientOf(r: DhcpReservation): string {
	if ('mac' in r) return `mac "${r.mac.toLowerCase()}"`
	if ('serial' in r) return `serial "${r.serial}"`
	return `slot ${r.slot}`
}

/**
 * The checks of core/uvn_dhcp_config.c that span keys, on whatever keys are
 * present (a file's section may set only some; the driver's values fill in
 * the rest before apply checks again). Expects values that passed the schema.
 */
export function checkDhcp(settings: DhcpFileSettings): ConfigIssue[] {
	const issues: ConfigIssue[] = []
	const issue = (path: string, message: string): void => {
		issues.push({path: `$.dhcp${path}`, message})
	}
	let subnet: Subnet | undefined
	if (settings.subnet !== undefined) {
		const {network, prefixLen} = splitSubnet(settings.subnet)
		const mask = prefixMask(prefixLen)
		if ((network & ~mask) >>> 0 !== 0) {
			issue('.subnet', `host bits set for a /${prefixLen}: the network is "${formatIpv4((network & mask) >>> 0)}/${prefixLen}"`)
		} else {
			subnet = {text: settings.subnet, network, mask}
		}
	}
	const host = settings.hostAddress === undefined ? undefined : parseIpv4(settings.hostAddress)
	if (subnet && settings.hostAddress !== undefined && host !== undefined && !usable(subnet, host)) {
		issue('.hostAddress', notHost(settings.hostAddress, subnet))
	}
	if (settings.pool) {
		const {pool} = settings
		const start = parseIpv4(pool.start)
		const end = parseIpv4(pool.end)
		let inside = true
		for (const which of ['start', 'end'] as const) {
			if (subnet && !usable(subnet, parseIpv4(pool[which]))) {
				issue(`.pool.${which}`, notHost(pool[which], subnet))
				inside = false
			}
		}
		if (start > end) {
			issue('.pool', `start "${pool.start}" comes after end "${pool.end}"`)
		} else if (end - start >= DHCP_POOL_MAX) {
			issue('.pool', `${end - start + 1} addresses, at most ${DHCP_POOL_MAX} (the size of the driver's lease table)`)
		} else if (inside && host !== undefined && host >= start && host <= end) {
			issue('.pool', `contains the host address "${settings.hostAddress}"`)
		}
	}
	if (subnet && settings.router !== undefined && settings.router !== null && !usable(subnet, parseIpv4(settings.router))) {
		issue('.router', notHost(settings.router, subnet))
	}
	settings.dns?.forEach((text, index) => {
		const ip = parseIpv4(text)
		if (ip === 0 || ip >= 0xe0000000) issue(`.dns[${index}]`, `"${text}" is not a unicast address`)
	})
	settings.reservations?.forEach((r, index) => {
		const ip = parseIpv4(r.ip)
		if (subnet && !usable(subnet, ip)) issue(`.reservations[${index}].ip`, notHost(r.ip, subnet))
		else if (host !== undefined && ip === host) issue(`.reservations[${index}].ip`, `"${r.ip}" is the host address`)
		if ('serial' in r && Buffer.byteLength(r.serial, 'utf8') > 63) {
			issue(`.reservations[${index}].serial`, `${Buffer.byteLength(r.serial, 'utf8')} bytes in UTF-8, at most 63`)
		}
		const earlier = settings.reservations?.slice(0, index) ?? []
		const sameIp = earlier.findIndex((o) => o.ip === r.ip)
		if (sameIp !== -1) {
			issue(`.reservations[${index}].ip`, `"${r.ip}" is reserved twice (reservations ${sameIp} and ${index})`)
			return
		}
		const sameClient = earlier.findIndex((o) => clientOf(o) === clientOf(r))
		if (sameClient !== -1) issue(`.reservations[${index}]`, `${clientOf(r)} has two reservations (${sameClient} and ${index})`)
	})
	return issues
}
