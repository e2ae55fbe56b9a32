/**
 * The lease table the driver exports and imports (USBVNET_IOC_LEASES_EXPORT
 * and _IMPORT): an opaque blob to the control interface, documented in
 * core/uvn_dhcp.h. All little-endian:
 *
 *   header (16 bytes): "UVNL", u16 version, u16 record size, u32 record
 *                      count, u32 FNV-1a 32 of all the records
 *   record (version 1, 80 bytes): u32 ip, u32 seconds left, u8 mac[6],
 *                      u8 state, u8 slot, char serial[64] (NUL-terminated)
 *   version 2 appends (148 bytes): u8 client id length (0: none, else
 *                      2..255), u8 zero[3], u8 client id key[64]: the id
 *                      itself when it fits, else its first 60 bytes and a
 *                      hash of all of it
 *
 * A later version may only append fields to each record: this parser takes
 * the version 1 fields at their version 1 offsets from records of any size
 * of at least 80 bytes, so it reads newer tables too (for display and for
 * checking a file before it is handed to the driver, which decides).
 */
import {formatIpv4} from './ipv4.js'

export const LEASE_TABLE_MAGIC = 'UVNL'
export const LEASE_TABLE_HEADER = 16
/** Size of a version 1 record, the least any version has. */
export const LEASE_RECORD_V1 = 80
/** 0xff in the slot byte: the lease is not tied to an attached slot. */
export const LEASE_NO_SLOT = 0xff

const R_IP = 0
const R_LEFT = 4
const R_MAC = 8
const R_STATE = 14
const R_SLOT = 15
const R_SERIAL = 16
const SERIAL_LEN = 64
const R_CID_LEN = 80
const R_CID = 84
/** The key field: a client id that fits is kept whole, a longer one as its first 60 bytes and a hash. */
const CID_KEY = 64
const CID_PREFIX = 60

/** enum uvn_dhcp_lease_state, as exported (FREE entries are never exported). */
export const LEASE_STATES = {1: 'offered', 2: 'bound', 3: 'available', 4: 'declined'} as const
export type LeaseStateName = (typeof LEASE_STATES)[keyof typeof LEASE_STATES]

export interface LeaseRecord {
	/** Dotted quad. */
	ip: string
	/** Seconds until it expires (0 for an available one: released or expired, its client remembered). */
	secondsLeft: number
	mac: string
	/** "bound", ..., or "unknown (N)" from a newer module. */
	state: LeaseStateName | `unknown (${number})`
	/** The slot it was leased through, or null if none (imported, or its device gone). */
	slot: number | null
	/** USB serial of the device it was leased through; "" if none. */
	serial: string
	/**
	 * The client identifier (option 61) the lease is keyed by, as hex octets
	 * ("ff:00:..."), or null when the client sent none (keyed by MAC) or the
	 * table predates version 2. One longer than 64 bytes is kept as its first
	 * 60 and a hash: shown as those 60 and "...".
	 */
	clientId: string | null
}

export interface LeaseTable {
	version: number
	recordSize: number
	leases: LeaseRecord[]
}

/** What is wrong with a blob, in words for the user. */
export class LeaseTableFormatError extends Error {}

/** FNV-1a, 32 bits, as core/uvn_dhcp_lease.c computes it. */
export function fnv1a32(bytes: Uint8Array): number {
	let hash = 0x811c9dc5
	for (const byte of bytes) {
		hash ^= byte
		hash = Math.imul(hash, 0x01000193) >>> 0
	}
	return hash >>> 0
}

function formatMacBytes(bytes: Uint8Array): string {
	return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(':')
}

/** Parses and checks a whole table; throws LeaseTableFormatError saying what is wrong. */
export function parseLeaseTable(blob: Uint8Array): LeaseTable {
	const buf = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength)
	if (buf.length < LEASE_TABLE_HEADER || buf.toString('latin1', 0, 4) !== LEASE_TABLE_MAGIC) {
		throw new LeaseTableFormatError('not a usbvnet lease table (no "UVNL" header)')
	}
	const version = buf.readUInt16LE(4)
	const recordSize = buf.readUInt16LE(6)
	const count = buf.readUInt32LE(8)
	const checksum = buf.readUInt32LE(12)
	if (version < 1) throw new LeaseTableFormatError(`unknown lease table version ${version}`)
	if (recordSize < LEASE_RECORD_V1) {
		throw new LeaseTableFormatError(`records of ${recordSize} bytes, fewer than the ${LEASE_RECORD_V1} of version 1`)
	}
	const expected = LEASE_TABLE_HEADER + count * recordSize
	if (buf.length !== expected) {
		throw new LeaseTableFormatError(
			`${buf.length} bytes, but the header announces ${count} records of ${recordSize} bytes (${expected} bytes): truncated or corrupt`,
		)
	}
	if (fnv1a32(buf.subarray(LEASE_TABLE_HEADER)) !== checksum) {
		throw new LeaseTableFormatError('checksum mismatch: the records are corrupt')
	}
	const leases: LeaseRecord[] = []
	for (let index = 0; index < count; index++) {
		leases.push(parseRecord(buf.subarray(LEASE_TABLE_HEADER + index * recordSize, LEASE_TABLE_HEADER + (index + 1) * recordSize), index))
	}
	return {version, recordSize, leases}
}

function parseRecord(r: Buffer, index: number): LeaseRecord {
	const serialField = r.subarray(R_SERIAL, R_SERIAL + SERIAL_LEN)
	const end = serialField.indexOf(0)
	if (end === -1) throw new LeaseTableFormatError(`record ${index}: serial number not terminated`)
	const stateNumber = r[R_STATE] as number
	const slot = r[R_SLOT] as number
	const state = (LEASE_STATES as Record<number, LeaseStateName>)[stateNumber] ?? (`unknown (${stateNumber})` as const)
	return {
		ip: formatIpv4(r.readUInt32LE(R_IP)),
		secondsLeft: r.readUInt32LE(R_LEFT),
		mac: formatMacBytes(r.subarray(R_MAC, R_MAC + 6)),
		state,
		slot: slot === LEASE_NO_SLOT ? null : slot,
		serial: serialField.toString('utf8', 0, end),
		clientId: parseClientId(r),
	}
}

function parseClientId(r: Buffer): string | null {
	if (r.length < R_CID + CID_KEY) return null
	const length = r[R_CID_LEN] as number
	if (length === 0) return null
	if (length <= CID_KEY) return formatMacBytes(r.subarray(R_CID, R_CID + length))
	return `${formatMacBytes(r.subarray(R_CID, R_CID + CID_PREFIX))}...`
}
