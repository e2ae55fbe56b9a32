/**
 * The argument structs of the /dev/usbvnet ioctls as byte layouts, field for
 * field as in linux-module/uapi/usbvnet.h (same names, same order), with
 * typed encode/decode functions. structs.test.ts compiles the header with the
 * system C compiler and checks every offset and size below against it.
 *
 * All integers are little-endian: libc.ts refuses big-endian machines.
 */
import {
	USBVNET_BUSID_LEN,
	USBVNET_DHCP_DOMAIN_LEN,
	USBVNET_DHCP_MAX_DNS,
	USBVNET_DHCP_MAX_RESERVATIONS,
	USBVNET_DHCP_NR_COUNTERS,
	USBVNET_DRIVER_LEN,
	USBVNET_IFNAMSIZ,
	USBVNET_MAX_RULES,
	USBVNET_SERIAL_LEN,
} from './constants.js'

export interface FieldLayout {
	readonly offset: number
	readonly size: number
}

export interface StructLayout<Field extends string = string> {
	/** The C struct tag, without "struct ". */
	readonly name: string
	readonly size: number
	readonly fields: Readonly<Record<Field, FieldLayout>>
}

const MAC_LEN = 6
const RULE_SIZE = 8

export const usbvnetRuleLayout = {
	name: 'usbvnet_rule',
	size: RULE_SIZE,
	fields: {
		vendor: {offset: 0, size: 2},
		product: {offset: 2, size: 2},
		action: {offset: 4, size: 4},
	},
} as const satisfies StructLayout

export const usbvnetConfigLayout = {
	name: 'usbvnet_config',
	size: 168,
	fields: {
		ifname: {offset: 0, size: USBVNET_IFNAMSIZ},
		mac: {offset: 16, size: MAC_LEN},
		reserved0: {offset: 22, size: 2},
		mode: {offset: 24, size: 4},
		flags: {offset: 28, size: 4},
		drivers: {offset: 32, size: 4},
		nr_rules: {offset: 36, size: 4},
		rules: {offset: 40, size: USBVNET_MAX_RULES * RULE_SIZE},
	},
} as const satisfies StructLayout

export const usbvnetInfoLayout = {
	name: 'usbvnet_info',
	size: 128,
	fields: {
		ifname: {offset: 0, size: USBVNET_IFNAMSIZ},
		api_version: {offset: 16, size: 4},
		ifindex: {offset: 20, size: 4},
		mac: {offset: 24, size: MAC_LEN},
		carrier: {offset: 30, size: 1},
		reserved0: {offset: 31, size: 1},
		mode: {offset: 32, size: 4},
		max_slots: {offset: 36, size: 4},
		slots_used: {offset: 40, size: 4},
		nr_instances: {offset: 44, size: 4},
		refused_full: {offset: 48, size: 8},
		refused_rules: {offset: 56, size: 8},
		spoof_drops: {offset: 64, size: 8},
		purged: {offset: 72, size: 8},
		rx_packets: {offset: 80, size: 8},
		rx_bytes: {offset: 88, size: 8},
		tx_packets: {offset: 96, size: 8},
		tx_bytes: {offset: 104, size: 8},
		rx_dropped: {offset: 112, size: 8},
		tx_dropped: {offset: 120, size: 8},
	},
} as const satisfies StructLayout

export const usbvnetSlotInfoLayout = {
	name: 'usbvnet_slot_info',
	size: 232,
	fields: {
		ifname: {offset: 0, size: USBVNET_IFNAMSIZ},
		slot: {offset: 16, size: 4},
		in_use: {offset: 20, size: 4},
		lower: {offset: 24, size: USBVNET_IFNAMSIZ},
		lower_ifindex: {offset: 40, size: 4},
		vendor: {offset: 44, size: 2},
		product: {offset: 46, size: 2},
		driver: {offset: 48, size: USBVNET_DRIVER_LEN},
		busid: {offset: 64, size: USBVNET_BUSID_LEN},
		serial: {offset: 96, size: USBVNET_SERIAL_LEN},
		lower_mac: {offset: 160, size: MAC_LEN},
		learned: {offset: 166, size: 2},
		rx_packets: {offset: 168, size: 8},
		rx_bytes: {offset: 176, size: 8},
		rx_dropped: {offset: 184, size: 8},
		tx_packets: {offset: 192, size: 8},
		tx_bytes: {offset: 200, size: 8},
		tx_dropped: {offset: 208, size: 8},
		spoof_drops: {offset: 216, size: 8},
		purged: {offset: 224, size: 8},
	},
} as const satisfies StructLayout

export const usbvnetAttachLayout = {
	name: 'usbvnet_attach',
	size: 40,
	fields: {
		ifname: {offset: 0, size: USBVNET_IFNAMSIZ},
		lower: {offset: 16, size: USBVNET_IFNAMSIZ},
		slot: {offset: 32, size: 4},
		reserved0: {offset: 36, size: 4},
	},
} as const satisfies StructLayout

const RESERVATION_SIZE = 84

export const usbvnetDhcpReservationLayout = {
	name: 'usbvnet_dhcp_reservation',
	size: RESERVATION_SIZE,
	fields: {
		kind: {offset: 0, size: 4},
		ip: {offset: 4, size: 4},
		slot: {offset: 8, size: 4},
		mac: {offset: 12, size: MAC_LEN},
		reserved0: {offset: 18, size: 2},
		serial: {offset: 20, size: USBVNET_SERIAL_LEN},
	},
} as const satisfies StructLayout

export const usbvnetDhcpConfigLayout = {
	name: 'usbvnet_dhcp_config',
	size: 2832,
	fields: {
		ifname: {offset: 0, size: USBVNET_IFNAMSIZ},
		flags: {offset: 16, size: 4},
		subnet: {offset: 20, size: 4},
		prefix_len: {offset: 24, size: 4},
		host_ip: {offset: 28, size: 4},
		pool_start: {offset: 32, size: 4},
		pool_end: {offset: 36, size: 4},
		lease_seconds: {offset: 40, size: 4},
		decline_seconds: {offset: 44, size: 4},
		per_slot_cap: {offset: 48, size: 4},
		router: {offset: 52, size: 4},
		nr_dns: {offset: 56, size: 4},
		dns: {offset: 60, size: USBVNET_DHCP_MAX_DNS * 4},
		domain: {offset: 72, size: USBVNET_DHCP_DOMAIN_LEN},
		mtu: {offset: 136, size: 4},
		nr_reservations: {offset: 140, size: 4},
		reservations: {offset: 144, size: USBVNET_DHCP_MAX_RESERVATIONS * RESERVATION_SIZE},
	},
} as const satisfies StructLayout

export const usbvnetDhcpStatsLayout = {
	name: 'usbvnet_dhcp_stats',
	size: 24 + USBVNET_DHCP_NR_COUNTERS * 4,
	fields: {
		ifname: {offset: 0, size: USBVNET_IFNAMSIZ},
		leases_bound: {offset: 16, size: 4},
		nr_counters: {offset: 20, size: 4},
		counters: {offset: 24, size: USBVNET_DHCP_NR_COUNTERS * 4},
	},
} as const satisfies StructLayout

export const usbvnetLeasesLayout = {
	name: 'usbvnet_leases',
	size: 32,
	fields: {
		ifname: {offset: 0, size: USBVNET_IFNAMSIZ},
		buf: {offset: 16, size: 8},
		len: {offset: 24, size: 4},
		reserved0: {offset: 28, size: 4},
	},
} as const satisfies StructLayout

/** Every layout, for the header cross-check. */
export const allLayouts: readonly StructLayout[] = [
	usbvnetRuleLayout,
	usbvnetConfigLayout,
	usbvnetInfoLayout,
	usbvnetSlotInfoLayout,
	usbvnetAttachLayout,
	usbvnetDhcpReservationLayout,
	usbvnetDhcpConfigLayout,
	usbvnetDhcpStatsLayout,
	usbvnetLeasesLayout,
]

// ---- typed views ------------------------------------------------------------
// Plain objects with the C field names in camelCase. Enums and bitmasks stay
// numbers here: turning them into words is the config layer's business, and
// an unknown value from a newer module must survive decoding to be reported.

export interface RuleStruct {
	vendor: number
	product: number
	action: number
}

export interface ConfigStruct {
	ifname: string
	mac: string
	mode: number
	flags: number
	drivers: number
	rules: RuleStruct[]
}

export interface InfoStruct {
	ifname: string
	apiVersion: number
	ifindex: number
	mac: string
	carrier: boolean
	mode: number
	maxSlots: number
	/** Bitmask of attached slots, not a count. */
	slotsUsed: number
	nrInstances: number
	refusedFull: bigint
	refusedRules: bigint
	spoofDrops: bigint
	purged: bigint
	rxPackets: bigint
	rxBytes: bigint
	txPackets: bigint
	txBytes: bigint
	rxDropped: bigint
	txDropped: bigint
}

export interface SlotInfoStruct {
	ifname: string
	slot: number
	inUse: boolean
	lower: string
	lowerIfindex: number
	vendor: number
	product: number
	driver: string
	busid: string
	serial: string
	lowerMac: string
	learned: number
	rxPackets: bigint
	rxBytes: bigint
	rxDropped: bigint
	txPackets: bigint
	txBytes: bigint
	txDropped: bigint
	spoofDrops: bigint
	purged: bigint
}

/** Addresses are u32 in host byte order, as in the header (100.127.254.1 is 0x647ffe01). */
export interface DhcpReservationStruct {
	/** enum usbvnet_dhcp_reservation_kind */
	kind: number
	ip: number
	/** For a slot reservation; 0 otherwise. */
	slot: number
	/** For a MAC reservation; 00:00:00:00:00:00 otherwise. */
	mac: string
	/** For a serial reservation; "" otherwise. */
	serial: string
}

export interface DhcpConfigStruct {
	ifname: string
	flags: number
	subnet: number
	prefixLen: number
	hostIp: number
	poolStart: number
	poolEnd: number
	leaseSeconds: number
	declineSeconds: number
	perSlotCap: number
	/** 0 = none */
	router: number
	dns: number[]
	domain: string
	/** 0 = not sent */
	mtu: number
	reservations: DhcpReservationStruct[]
}

export interface DhcpStatsStruct {
	ifname: string
	leasesBound: number
	/** As many as the driver reports (nr_counters, at most the header's count), in the header's order. */
	counters: number[]
}

export interface LeasesStruct {
	ifname: string
	/** Address of the user buffer. */
	buf: bigint
	len: number
}

export interface AttachStruct {
	ifname: string
	lower: string
	slot: number
}

// ---- field helpers ----------------------------------------------------------

/** Writes a NUL-terminated string; it must leave room for the NUL. */
function writeCString(buf: Buffer, field: FieldLayout, value: string, what: string): void {
	const bytes = Buffer.from(value, 'utf8')
	if (bytes.length >= field.size) {
		throw new RangeError(`${what} "${value}" is too long: at most ${field.size - 1} bytes`)
	}
	if (bytes.includes(0)) throw new RangeError(`${what} contains a NUL byte`)
	buf.fill(0, field.offset, field.offset + field.size)
	bytes.copy(buf, field.offset)
}

/** Reads a string up to its first NUL, or the whole field if the driver filled it. */
function readCString(buf: Buffer, field: FieldLayout): string {
	const raw = buf.subarray(field.offset, field.offset + field.size)
	const end = raw.indexOf(0)
	return raw.subarray(0, end === -1 ? raw.length : end).toString('utf8')
}

export function formatMac(bytes: Uint8Array): string {
	return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(':')
}

const MAC_PATTERN = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/

export function parseMac(text: string): Buffer {
	if (!MAC_PATTERN.test(text)) throw new RangeError(`"${text}" is not a MAC address of the form xx:xx:xx:xx:xx:xx`)
	return Buffer.from(text.split(':').map((octet) => Number.parseInt(octet, 16)))
}

function writeMac(buf: Buffer, field: FieldLayout, mac: string): void {
	parseMac(mac).copy(buf, field.offset)
}

function readMac(buf: Buffer, field: FieldLayout): string {
	return formatMac(buf.subarray(field.offset, field.offset + field.size))
}

const u16 = (buf: Buffer, field: FieldLayout): number => buf.readUInt16LE(field.offset)
const u32 = (buf: Buffer, field: FieldLayout): number => buf.readUInt32LE(field.offset)
const u64 = (buf: Buffer, field: FieldLayout): bigint => buf.readBigUInt64LE(field.offset)

function expectSize(buf: Buffer, layout: StructLayout): void {
	if (buf.length !== layout.size) {
		throw new RangeError(`struct ${layout.name} needs ${layout.size} bytes, got ${buf.length}`)
	}
}

// ---- usbvnet_info -----------------------------------------------------------

export function encodeInfoRequest(ifname: string): Buffer {
	const buf = Buffer.alloc(usbvnetInfoLayout.size)
	writeCString(buf, usbvnetInfoLayout.fields.ifname, ifname, 'instance name')
	return buf
}

export function decodeInfo(buf: Buffer): InfoStruct {
	expectSize(buf, usbvnetInfoLayout)
	const f = usbvnetInfoLayout.fields
	return {
		ifname: readCString(buf, f.ifname),
		apiVersion: u32(buf, f.api_version),
		ifindex: u32(buf, f.ifindex),
		mac: readMac(buf, f.mac),
		carrier: buf.readUInt8(f.carrier.offset) !== 0,
		mode: u32(buf, f.mode),
		maxSlots: u32(buf, f.max_slots),
		slotsUsed: u32(buf, f.slots_used),
		nrInstances: u32(buf, f.nr_instances),
		refusedFull: u64(buf, f.refused_full),
		refusedRules: u64(buf, f.refused_rules),
		spoofDrops: u64(buf, f.spoof_drops),
		purged: u64(buf, f.purged),
		rxPackets: u64(buf, f.rx_packets),
		rxBytes: u64(buf, f.rx_bytes),
		txPackets: u64(buf, f.tx_packets),
		txBytes: u64(buf, f.tx_bytes),
		rxDropped: u64(buf, f.rx_dropped),
		txDropped: u64(buf, f.tx_dropped),
	}
}

/** Test helper and inverse of decodeInfo: builds the bytes a driver would return. */
export function encodeInfo(info: InfoStruct): Buffer {
	const buf = Buffer.alloc(usbvnetInfoLayout.size)
	const f = usbvnetInfoLayout.fields
	writeCString(buf, f.ifname, info.ifname, 'instance name')
	buf.writeUInt32LE(info.apiVersion, f.api_version.offset)
	buf.writeUInt32LE(info.ifindex, f.ifindex.offset)
	writeMac(buf, f.mac, info.mac)
	buf.writeUInt8(info.carrier ? 1 : 0, f.carrier.offset)
	buf.writeUInt32LE(info.mode, f.mode.offset)
	buf.writeUInt32LE(info.maxSlots, f.max_slots.offset)
	buf.writeUInt32LE(info.slotsUsed, f.slots_used.offset)
	buf.writeUInt32LE(info.nrInstances, f.nr_instances.offset)
	buf.writeBigUInt64LE(info.refusedFull, f.refused_full.offset)
	buf.writeBigUInt64LE(info.refusedRules, f.refused_rules.offset)
	buf.writeBigUInt64LE(info.spoofDrops, f.spoof_drops.offset)
	buf.writeBigUInt64LE(info.purged, f.purged.offset)
	buf.writeBigUInt64LE(info.rxPackets, f.rx_packets.offset)
	buf.writeBigUInt64LE(info.rxBytes, f.rx_bytes.offset)
	buf.writeBigUInt64LE(info.txPackets, f.tx_packets.offset)
	buf.writeBigUInt64LE(info.txBytes, f.tx_bytes.offset)
	buf.writeBigUInt64LE(info.rxDropped, f.rx_dropped.offset)
	buf.writeBigUInt64LE(info.txDropped, f.tx_dropped.offset)
	return buf
}

// ---- usbvnet_slot_info ------------------------------------------------------

export function encodeSlotInfoRequest(ifname: string, slot: number): Buffer {
	const buf = Buffer.alloc(usbvnetSlotInfoLayout.size)
	writeCString(buf, usbvnetSlotInfoLayout.fields.ifname, ifname, 'instance name')
	buf.writeUInt32LE(slot, usbvnetSlotInfoLayout.fields.slot.offset)
	return buf
}

export function decodeSlotInfo(buf: Buffer): SlotInfoStruct {
	expectSize(buf, usbvnetSlotInfoLayout)
	const f = usbvnetSlotInfoLayout.fields
	return {
		ifname: readCString(buf, f.ifname),
		slot: u32(buf, f.slot),
		inUse: u32(buf, f.in_use) !== 0,
		lower: readCString(buf, f.lower),
		lowerIfindex: u32(buf, f.lower_ifindex),
		vendor: u16(buf, f.vendor),
		product: u16(buf, f.product),
		driver: readCString(buf, f.driver),
		busid: readCString(buf, f.busid),
		serial: readCString(buf, f.serial),
		lowerMac: readMac(buf, f.lower_mac),
		learned: u16(buf, f.learned),
		rxPackets: u64(buf, f.rx_packets),
		rxBytes: u64(buf, f.rx_bytes),
		rxDropped: u64(buf, f.rx_dropped),
		txPackets: u64(buf, f.tx_packets),
		txBytes: u64(buf, f.tx_bytes),
		txDropped: u64(buf, f.tx_dropped),
		spoofDrops: u64(buf, f.spoof_drops),
		purged: u64(buf, f.purged),
	}
}

/** Test helper and inverse of decodeSlotInfo. */
export function encodeSlotInfo(slot: SlotInfoStruct): Buffer {
	const buf = Buffer.alloc(usbvnetSlotInfoLayout.size)
	const f = usbvnetSlotInfoLayout.fields
	writeCString(buf, f.ifname, slot.ifname, 'instance name')
	buf.writeUInt32LE(slot.slot, f.slot.offset)
	buf.writeUInt32LE(slot.inUse ? 1 : 0, f.in_use.offset)
	writeCString(buf, f.lower, slot.lower, 'network device name')
	buf.writeUInt32LE(slot.lowerIfindex, f.lower_ifindex.offset)
	buf.writeUInt16LE(slot.vendor, f.vendor.offset)
	buf.writeUInt16LE(slot.product, f.product.offset)
	writeCString(buf, f.driver, slot.driver, 'driver name')
	writeCString(buf, f.busid, slot.busid, 'bus id')
	writeCString(buf, f.serial, slot.serial, 'serial number')
	writeMac(buf, f.lower_mac, slot.lowerMac)
	buf.writeUInt16LE(slot.learned, f.learned.offset)
	buf.writeBigUInt64LE(slot.rxPackets, f.rx_packets.offset)
	buf.writeBigUInt64LE(slot.rxBytes, f.rx_bytes.offset)
	buf.writeBigUInt64LE(slot.rxDropped, f.rx_dropped.offset)
	buf.writeBigUInt64LE(slot.txPackets, f.tx_packets.offset)
	buf.writeBigUInt64LE(slot.txBytes, f.tx_bytes.offset)
	buf.writeBigUInt64LE(slot.txDropped, f.tx_dropped.offset)
	buf.writeBigUInt64LE(slot.spoofDrops, f.spoof_drops.offset)
	buf.writeBigUInt64LE(slot.purged, f.purged.offset)
	return buf
}

// ---- usbvnet_config ---------------------------------------------------------

/** The GET_CONFIG argument: only the instance name is read by the driver. */
export function encodeConfigRequest(ifname: string): Buffer {
	const buf = Buffer.alloc(usbvnetConfigLayout.size)
	writeCString(buf, usbvnetConfigLayout.fields.ifname, ifname, 'instance name')
	return buf
}

export function encodeConfig(config: ConfigStruct): Buffer {
	if (config.rules.length > USBVNET_MAX_RULES) {
		throw new RangeError(`at most ${USBVNET_MAX_RULES} rules fit in struct usbvnet_config, got ${config.rules.length}`)
	}
	const buf = Buffer.alloc(usbvnetConfigLayout.size)
	const f = usbvnetConfigLayout.fields
	writeCString(buf, f.ifname, config.ifname, 'instance name')
	writeMac(buf, f.mac, config.mac)
	// reserved0 stays 0: the driver refuses anything else.
	buf.writeUInt32LE(config.mode, f.mode.offset)
	buf.writeUInt32LE(config.flags, f.flags.offset)
	buf.writeUInt32LE(config.drivers, f.drivers.offset)
	buf.writeUInt32LE(config.rules.length, f.nr_rules.offset)
	config.rules.forEach((rule, index) => {
		const base = f.rules.offset + index * usbvnetRuleLayout.size
		const r = usbvnetRuleLayout.fields
		buf.writeUInt16LE(rule.vendor, base + r.vendor.offset)
		buf.writeUInt16LE(rule.product, base + r.product.offset)
		buf.writeUInt32LE(rule.action, base + r.action.offset)
	})
	return buf
}

export function decodeConfig(buf: Buffer): ConfigStruct {
	expectSize(buf, usbvnetConfigLayout)
	const f = usbvnetConfigLayout.fields
	const nrRules = u32(buf, f.nr_rules)
	if (nrRules > USBVNET_MAX_RULES) {
		throw new RangeError(`the driver reported ${nrRules} rules, more than the ${USBVNET_MAX_RULES} that fit`)
	}
	const rules: RuleStruct[] = []
	for (let index = 0; index < nrRules; index++) {
		const base = f.rules.offset + index * usbvnetRuleLayout.size
		const r = usbvnetRuleLayout.fields
		rules.push({
			vendor: buf.readUInt16LE(base + r.vendor.offset),
			product: buf.readUInt16LE(base + r.product.offset),
			action: buf.readUInt32LE(base + r.action.offset),
		})
	}
	return {
		ifname: readCString(buf, f.ifname),
		mac: readMac(buf, f.mac),
		mode: u32(buf, f.mode),
		flags: u32(buf, f.flags),
		drivers: u32(buf, f.drivers),
		rules,
	}
}

// ---- usbvnet_attach ---------------------------------------------------------

export function encodeAttach(request: AttachStruct): Buffer {
	const buf = Buffer.alloc(usbvnetAttachLayout.size)
	const f = usbvnetAttachLayout.fields
	writeCString(buf, f.ifname, request.ifname, 'instance name')
	writeCString(buf, f.lower, request.lower, 'network device name')
	buf.writeUInt32LE(request.slot, f.slot.offset)
	return buf
}

export function decodeAttach(buf: Buffer): AttachStruct {
	expectSize(buf, usbvnetAttachLayout)
	const f = usbvnetAttachLayout.fields
	return {ifname: readCString(buf, f.ifname), lower: readCString(buf, f.lower), slot: u32(buf, f.slot)}
}

// ---- usbvnet_dhcp_config ----------------------------------------------------

export function encodeDhcpConfigRequest(ifname: string): Buffer {
	const buf = Buffer.alloc(usbvnetDhcpConfigLayout.size)
	writeCString(buf, usbvnetDhcpConfigLayout.fields.ifname, ifname, 'instance name')
	return buf
}

export function encodeDhcpConfig(config: DhcpConfigStruct): Buffer {
	if (config.dns.length > USBVNET_DHCP_MAX_DNS) {
		throw new RangeError(`at most ${USBVNET_DHCP_MAX_DNS} DNS servers fit in struct usbvnet_dhcp_config, got ${config.dns.length}`)
	}
	if (config.reservations.length > USBVNET_DHCP_MAX_RESERVATIONS) {
		throw new RangeError(
			`at most ${USBVNET_DHCP_MAX_RESERVATIONS} reservations fit in struct usbvnet_dhcp_config, got ${config.reservations.length}`,
		)
	}
	const buf = Buffer.alloc(usbvnetDhcpConfigLayout.size)
	const f = usbvnetDhcpConfigLayout.fields
	writeCString(buf, f.ifname, config.ifname, 'instance name')
	buf.writeUInt32LE(config.flags, f.flags.offset)
	buf.writeUInt32LE(config.subnet, f.subnet.offset)
	buf.writeUInt32LE(config.prefixLen, f.prefix_len.offset)
	buf.writeUInt32LE(config.hostIp, f.host_ip.offset)
	buf.writeUInt32LE(config.poolStart, f.pool_start.offset)
	buf.writeUInt32LE(config.poolEnd, f.pool_end.offset)
	buf.writeUInt32LE(config.leaseSeconds, f.lease_seconds.offset)
	buf.writeUInt32LE(config.declineSeconds, f.decline_seconds.offset)
	buf.writeUInt32LE(config.perSlotCap, f.per_slot_cap.offset)
	buf.writeUInt32LE(config.router, f.router.offset)
	buf.writeUInt32LE(config.dns.length, f.nr_dns.offset)
	config.dns.forEach((ip, index) => buf.writeUInt32LE(ip, f.dns.offset + index * 4))
	writeCString(buf, f.domain, config.domain, 'DHCP domain')
	buf.writeUInt32LE(config.mtu, f.mtu.offset)
	buf.writeUInt32LE(config.reservations.length, f.nr_reservations.offset)
	const r = usbvnetDhcpReservationLayout.fields
	config.reservations.forEach((reservation, index) => {
		const base = f.reservations.offset + index * usbvnetDhcpReservationLayout.size
		buf.writeUInt32LE(reservation.kind, base + r.kind.offset)
		buf.writeUInt32LE(reservation.ip, base + r.ip.offset)
		buf.writeUInt32LE(reservation.slot, base + r.slot.offset)
		writeMac(buf, {offset: base + r.mac.offset, size: r.mac.size}, reservation.mac)
		// reserved0 stays 0: the driver refuses anything else.
		writeCString(buf, {offset: base + r.serial.offset, size: r.serial.size}, reservation.serial, 'serial number')
	})
	return buf
}

export function decodeDhcpConfig(buf: Buffer): DhcpConfigStruct {
	expectSize(buf, usbvnetDhcpConfigLayout)
	const f = usbvnetDhcpConfigLayout.fields
	const nrDns = u32(buf, f.nr_dns)
	if (nrDns > USBVNET_DHCP_MAX_DNS) throw new RangeError(`the driver reported ${nrDns} DNS servers, more than the ${USBVNET_DHCP_MAX_DNS} that fit`)
	const nrReservations = u32(buf, f.nr_reservations)
	if (nrReservations > USBVNET_DHCP_MAX_RESERVATIONS) {
		throw new RangeError(`the driver reported ${nrReservations} reservations, more than the ${USBVNET_DHCP_MAX_RESERVATIONS} that fit`)
	}
	const r = usbvnetDhcpReservationLayout.fields
	const reservations: DhcpReservationStruct[] = []
	for (let index = 0; index < nrReservations; index++) {
		const base = f.reservations.offset + index * usbvnetDhcpReservationLayout.size
		reservations.push({
			kind: buf.readUInt32LE(base + r.kind.offset),
			ip: buf.readUInt32LE(base + r.ip.offset),
			slot: buf.readUInt32LE(base + r.slot.offset),
			mac: readMac(buf, {offset: base + r.mac.offset, size: r.mac.size}),
			serial: readCString(buf, {offset: base + r.serial.offset, size: r.serial.size}),
		})
	}
	return {
		ifname: readCString(buf, f.ifname),
		flags: u32(buf, f.flags),
		subnet: u32(buf, f.subnet),
		prefixLen: u32(buf, f.prefix_len),
		hostIp: u32(buf, f.host_ip),
		poolStart: u32(buf, f.pool_start),
		poolEnd: u32(buf, f.pool_end),
		leaseSeconds: u32(buf, f.lease_seconds),
		declineSeconds: u32(buf, f.decline_seconds),
		perSlotCap: u32(buf, f.per_slot_cap),
		router: u32(buf, f.router),
		dns: Array.from({length: nrDns}, (_, index) => buf.readUInt32LE(f.dns.offset + index * 4)),
		domain: readCString(buf, f.domain),
		mtu: u32(buf, f.mtu),
		reservations,
	}
}

// ---- usbvnet_dhcp_stats -----------------------------------------------------

export function encodeDhcpStatsRequest(ifname: string): Buffer {
	const buf = Buffer.alloc(usbvnetDhcpStatsLayout.size)
	writeCString(buf, usbvnetDhcpStatsLayout.fields.ifname, ifname, 'instance name')
	return buf
}

export function decodeDhcpStats(buf: Buffer): DhcpStatsStruct {
	expectSize(buf, usbvnetDhcpStatsLayout)
	const f = usbvnetDhcpStatsLayout.fields
	// A newer module may count more than fit here; this struct holds the first ones.
	const count = Math.min(u32(buf, f.nr_counters), USBVNET_DHCP_NR_COUNTERS)
	return {
		ifname: readCString(buf, f.ifname),
		leasesBound: u32(buf, f.leases_bound),
		counters: Array.from({length: count}, (_, index) => buf.readUInt32LE(f.counters.offset + index * 4)),
	}
}

/** Test helper and inverse of decodeDhcpStats. */
export function encodeDhcpStats(stats: DhcpStatsStruct): Buffer {
	const buf = encodeDhcpStatsRequest(stats.ifname)
	const f = usbvnetDhcpStatsLayout.fields
	buf.writeUInt32LE(stats.leasesBound, f.leases_bound.offset)
	buf.writeUInt32LE(stats.counters.length, f.nr_counters.offset)
	stats.counters.forEach((value, index) => buf.writeUInt32LE(value, f.counters.offset + index * 4))
	return buf
}

// ---- usbvnet_leases ---------------------------------------------------------

export function encodeLeases(request: LeasesStruct): Buffer {
	const buf = Buffer.alloc(usbvnetLeasesLayout.size)
	const f = usbvnetLeasesLayout.fields
	writeCString(buf, f.ifname, request.ifname, 'instance name')
	buf.writeBigUInt64LE(request.buf, f.buf.offset)
	buf.writeUInt32LE(request.len, f.len.offset)
	return buf
}

export function decodeLeases(buf: Buffer): LeasesStruct {
	expectSize(buf, usbvnetLeasesLayout)
	const f = usbvnetLeasesLayout.fields
	return {ifname: readCString(buf, f.ifname), buf: u64(buf, f.buf), len: u32(buf, f.len)}
}
