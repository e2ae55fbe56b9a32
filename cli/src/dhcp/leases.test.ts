import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, describe, it} from 'node:test'
import {fnv1a32} from './lease-table.js'
import {LeaseFileError, formatDuration, formatLeases, readLeaseFile, writeFileAtomically} from './leases.js'

const work = mkdtempSync(join(tmpdir(), 'usbvnet-leases-'))
after(() => rmSync(work, {recursive: true, force: true}))

/** A version 1 table with one bound lease, built from the documented format. */
function oneLease(): Buffer {
	const record = Buffer.alloc(80)
	record.writeUInt32LE(0x647ffe05, 0)
	record.writeUInt32LE(90, 4)
	Buffer.from([2, 0, 0, 0, 0, 5]).copy(record, 8)
	record[14] = 2
	record[15] = 3
	record.write('E1', 16)
	const header = Buffer.alloc(16)
	header.write('UVNL', 0, 'latin1')
	header.writeUInt16LE(1, 4)
	header.writeUInt16LE(80, 6)
	header.writeUInt32LE(1, 8)
	header.writeUInt32LE(fnv1a32(record), 12)
	return Buffer.concat([header, record])
}

describe('lease listing', () => {
	it('durations: the two largest units', () => {
		assert.deepEqual([0, 12, 60, 3599, 3600, 90061].map(formatDuration), ['0s', '12s', '1m 0s', '59m 59s', '1h 0m', '1d 1h'])
	})

	it('a table with - for what is absent', () => {
		const text = formatLeases({
			instance: 'usbvnet0',
			leases: [
				{ip: '100.127.254.5', secondsLeft: 90, mac: '02:00:00:00:00:05', state: 'bound', slot: 3, serial: 'E1', clientId: null},
				{ip: '100.127.254.200', secondsLeft: 0, mac: 'aa:bb:cc:dd:ee:f0', state: 'available', slot: null, serial: '', clientId: null},
			],
		})
		assert.equal(
			text,
			[
				'IP               MAC                SLOT  SERIAL  STATE      EXPIRES IN',
				'100.127.254.5    02:00:00:00:00:05     3  E1      bound          1m 30s',
				'100.127.254.200  aa:bb:cc:dd:ee:f0     -  -       available           -',
			].join('\n'),
		)
		assert.equal(formatLeases({instance: 'usbvnet0', leases: []}), 'no leases on usbvnet0')
	})

	it('a CLIENT ID column when some client sent one, long ones cut', () => {
		const text = formatLeases({
			instance: 'usbvnet0',
			leases: [
				{ip: '100.127.254.5', secondsLeft: 90, mac: '02:00:00:00:00:05', state: 'bound', slot: 3, serial: 'E1', clientId: '01:02:00:00:00:00:05'},
				{ip: '100.127.254.6', secondsLeft: 60, mac: '02:00:00:00:00:06', state: 'bound', slot: 4, serial: 'E2', clientId: 'ff:5c:a1:ab:1e:00:04:5c:a1:ab'},
				{ip: '100.127.254.7', secondsLeft: 60, mac: '02:00:00:00:00:07', state: 'bound', slot: 5, serial: 'E3', clientId: null},
			],
		})
		assert.equal(
			text,
			[
				'IP             MAC                CLIENT ID                SLOT  SERIAL  STATE  EXPIRES IN',
				'100.127.254.5  02:00:00:00:00:05  01:02:00:00:00:00:05        3  E1      bound      1m 30s',
				'100.127.254.6  02:00:00:00:00:06  ff:5c:a1:ab:1e:00:04...     4  E2      bound       1m 0s',
				'100.127.254.7  02:00:00:00:00:07  -                           5  E3      bound       1m 0s',
			].join('\n'),
		)
	})
})

describe('lease files', () => {
	it('written atomically: a new directory, mode 0600, no temporary file left', () => {
		const file = join(work, 'var/lib/usbvnet/leases.bin')
		writeFileAtomically(file, oneLease())
		writeFileAtomically(file, oneLease())
		assert.deepEqual(readFileSync(file), oneLease())
		assert.equal(statSync(file).mode & 0o777, 0o600)
		assert.deepEqual(readdirSync(join(work, 'var/lib/usbvnet')), ['leases.bin'])
	})

	it('read back and checked', () => {
		const file = join(work, 'ok.bin')
		writeFileSync(file, oneLease())
		const {blob, leases} = readLeaseFile(file)
		assert.equal(blob.length, 96)
		assert.deepEqual(leases, [{ip: '100.127.254.5', secondsLeft: 90, mac: '02:00:00:00:00:05', state: 'bound', slot: 3, serial: 'E1', clientId: null}])
	})

	it('a missing or corrupt file is a LeaseFileError (exit 3) naming the file', () => {
		const missing = join(work, 'nothing.bin')
		assert.throws(
			() => readLeaseFile(missing),
			(e: unknown) => e instanceof LeaseFileError && e.exitCode === 3 && e.code === 'LEASES_UNREADABLE' && e.message === `${missing}: cannot read the lease table: no such file`,
		)
		const corrupt = join(work, 'corrupt.bin')
		const blob = oneLease()
		blob[40] = 0x58
		writeFileSync(corrupt, blob)
		assert.throws(
			() => readLeaseFile(corrupt),
			(e: unknown) =>
				e instanceof LeaseFileError && e.code === 'LEASES_CORRUPT' && e.message === `${corrupt}: not a valid lease table: checksum mismatch: the records are corrupt`,
		)
	})
})
