import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {LeaseTableFormatError, fnv1a32, parseLeaseTable} from './lease-table.js'

// Tables built byte by byte from the format documented in core/uvn_dhcp.h,
// independently of the parser.

interface RawRecord {
	ip: [number, number, number, number]
	left: number
	mac: number[]
	state: number
	slot: number
	serial: string
	/** Bytes a later version appends to the record. */
	extra?: number[]
}

function record(r: RawRecord, size: number): number[] {
	const bytes = new Array<number>(size).fill(0)
	// u32 ip, little-endian: 100.127.254.2 is 0x647ffe02 -> 02 fe 7f 64
	bytes.splice(0, 4, r.ip[3], r.ip[2], r.ip[1], r.ip[0])
	bytes.splice(4, 4, r.left & 0xff, (r.left >> 8) & 0xff, (r.left >> 16) & 0xff, (r.left >>> 24) & 0xff)
	bytes.splice(8, 6, ...r.mac)
	bytes[14] = r.state
	bytes[15] = r.slot
	const serial = [...Buffer.from(r.serial, 'utf8')]
	bytes.splice(16, serial.length, ...serial)
	if (r.extra) bytes.splice(80, r.extra.length, ...r.extra)
	return bytes.slice(0, size)
}

function table(records: RawRecord[], {version = 1, size = 80, checksum}: {version?: number; size?: number; checksum?: number} = {}): Buffer {
	const body = records.flatMap((r) => record(r, size))
	const sum = checksum ?? fnv1a32(Uint8Array.from(body))
	const header = [
		0x55, 0x56, 0x4e, 0x4c, // "UVNL"
		version & 0xff, version >> 8,
		size & 0xff, size >> 8,
		records.length & 0xff, (records.length >> 8) & 0xff, 0, 0,
		sum & 0xff, (sum >>> 8) & 0xff, (sum >>> 16) & 0xff, sum >>> 24,
	]
	return Buffer.from([...header, ...body])
}

const e1: RawRecord = {ip: [100, 127, 254, 2], left: 3599, mac: [0x02, 0xe1, 0, 0, 0, 1], state: 2, slot: 0, serial: 'E1'}
const n1: RawRecord = {ip: [100, 127, 254, 200], left: 0, mac: [0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xf0], state: 3, slot: 0xff, serial: ''}

describe('FNV-1a 32', () => {
	it('matches the published test vectors', () => {
		assert.equal(fnv1a32(new Uint8Array()), 0x811c9dc5)
		assert.equal(fnv1a32(Buffer.from('a')), 0xe40c292c)
		assert.equal(fnv1a32(Buffer.from('foobar')), 0xbf9cf968)
	})
})

describe('lease table parser', () => {
	it('reads a version 1 table', () => {
		assert.deepEqual(parseLeaseTable(table([e1, n1])), {
			version: 1,
			recordSize: 80,
			leases: [
				{ip: '100.127.254.2', secondsLeft: 3599, mac: '02:e1:00:00:00:01', state: 'bound', slot: 0, serial: 'E1', clientId: null},
				{ip: '100.127.254.200', secondsLeft: 0, mac: 'aa:bb:cc:dd:ee:f0', state: 'available', slot: null, serial: '', clientId: null},
			],
		})
	})

	it('reads an empty table', () => {
		assert.deepEqual(parseLeaseTable(table([])), {version: 1, recordSize: 80, leases: []})
	})

	it('reads a later version whose records append fields, taking the version 1 fields', () => {
		const extra = Array.from({length: 16}, (_, i) => 0x40 + i)
		const parsed = parseLeaseTable(table([{...e1, extra}, n1], {version: 2, size: 96}))
		assert.equal(parsed.version, 2)
		assert.equal(parsed.recordSize, 96)
		assert.deepEqual(
			parsed.leases.map((l) => [l.ip, l.mac, l.state, l.serial]),
			[
				['100.127.254.2', '02:e1:00:00:00:01', 'bound', 'E1'],
				['100.127.254.200', 'aa:bb:cc:dd:ee:f0', 'available', ''],
			],
		)
	})

	it('reads version 2 client ids: none, whole, and a long one kept as its first 60 bytes', () => {
		const whole = [0xff, 0x5c, 0xa1, 0x00, 0x04]
		const long = Array.from({length: 64}, (_, i) => i)
		const parsed = parseLeaseTable(
			table(
				[
					{...e1, extra: [0]},
					{...n1, extra: [whole.length, 0, 0, 0, ...whole]},
					{...e1, ip: [100, 127, 254, 3], mac: [2, 0, 0, 0, 0, 3], extra: [200, 0, 0, 0, ...long]},
				],
				{version: 2, size: 148},
			),
		)
		assert.deepEqual(
			parsed.leases.map((l) => l.clientId),
			[null, 'ff:5c:a1:00:04', `${long.slice(0, 60).map((b) => b.toString(16).padStart(2, '0')).join(':')}...`],
		)
	})

	it('keeps a state it does not know, from a newer module', () => {
		assert.equal(parseLeaseTable(table([{...e1, state: 9}])).leases[0]?.state, 'unknown (9)')
	})

	it('a 63-byte serial fills its field up to the NUL', () => {
		assert.equal(parseLeaseTable(table([{...e1, serial: 'S'.repeat(63)}])).leases[0]?.serial, 'S'.repeat(63))
	})

	const refuses = (blob: Buffer, message: string): void => {
		assert.throws(() => parseLeaseTable(blob), (error: unknown) => error instanceof LeaseTableFormatError && error.message === message)
	}

	it('refuses what is not a table', () => {
		refuses(Buffer.from('{"leases": []}\n'), 'not a usbvnet lease table (no "UVNL" header)')
		refuses(Buffer.from('UVNL'), 'not a usbvnet lease table (no "UVNL" header)')
		refuses(Buffer.alloc(0), 'not a usbvnet lease table (no "UVNL" header)')
	})

	it('refuses version 0 and records shorter than version 1', () => {
		refuses(table([e1], {version: 0}), 'unknown lease table version 0')
		refuses(table([], {size: 79}), 'records of 79 bytes, fewer than the 80 of version 1')
	})

	it('refuses a truncated table and one with bytes left over', () => {
		const whole = table([e1, n1])
		refuses(whole.subarray(0, whole.length - 1), '175 bytes, but the header announces 2 records of 80 bytes (176 bytes): truncated or corrupt')
		refuses(Buffer.concat([whole, Buffer.from([0])]), '177 bytes, but the header announces 2 records of 80 bytes (176 bytes): truncated or corrupt')
	})

	it('refuses a bad checksum and a flipped bit in a record', () => {
		refuses(table([e1], {checksum: 0x12345678}), 'checksum mismatch: the records are corrupt')
		const flipped = table([e1, n1])
		flipped[16 + 80 + 3] = (flipped[16 + 80 + 3] as number) ^ 0x01
		refuses(flipped, 'checksum mismatch: the records are corrupt')
	})

	it('refuses a serial number without its NUL', () => {
		const blob = table([e1])
		blob.fill(0x53, 16 + 16, 16 + 80)
		const fixed = Buffer.concat([blob.subarray(0, 12), Buffer.alloc(4), blob.subarray(16)])
		fixed.writeUInt32LE(fnv1a32(fixed.subarray(16)), 12)
		refuses(fixed, 'record 0: serial number not terminated')
	})
})
