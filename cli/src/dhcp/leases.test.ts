import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, describe, it} from 'node:test'
import type {UsbvnetDevice} from '../driver/device.js'
import {ProtocolMismatchError} from '../driver/errors.js'
import {FilePermissionError} from '../errors.js'
import {fnv1a32} from './lease-table.js'
import {LeaseFileError, formatDuration, formatLeases, readLeaseFile, readLeases, saveLeases, writeFileAtomically} from './leases.js'

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

/** A device whose driver exports `blob` (saveLeases and readLeases ask nothing else). */
const exporting = (blob: Buffer): UsbvnetDevice => ({exportLeases: () => blob}) as unknown as UsbvnetDevice

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

	it('saved: the table as exported, with a report', () => {
		const file = join(work, 'saved/leases.bin')
		assert.deepEqual(saveLeases(exporting(oneLease()), '', file), {instance: 'usbvnet0', file, bytes: 96, leases: 1})
		assert.deepEqual(readFileSync(file), oneLease())
	})

	it('a file that cannot be written is a LeaseFileError (exit 3) naming the file and why', () => {
		const file = join(work, 'ok.bin', 'leases.bin')
		writeFileSync(join(work, 'ok.bin'), oneLease())
		assert.throws(
			() => saveLeases(exporting(oneLease()), '', file),
			(e: unknown) =>
				e instanceof LeaseFileError &&
				e.exitCode === 3 &&
				e.code === 'LEASES_UNWRITABLE' &&
				e.message === `${file}: cannot save the lease table: a parent is not a directory`,
		)
	})

	it('a file we may not write is a permission error (exit 5)', (t) => {
		const locked = join(work, 'locked')
		mkdirSync(locked, {mode: 0o500})
		chmodSync(locked, 0o500)
		const file = join(locked, 'leases.bin')
		const expected = {code: 'PERMISSION_DENIED', message: `cannot write ${file}: permission denied (run as root)`, exitCode: 5, file}
		if (process.getuid?.() !== 0) {
			const error = ((): unknown => {
				try {
					saveLeases(exporting(oneLease()), '', file)
				} catch (caught) {
					return caught
				}
			})()
			assert.ok(error instanceof FilePermissionError, String(error))
			assert.deepEqual(error.toJSON(), expected)
			return
		}
		// Root writes anywhere: save as nobody, in a child process.
		if (spawnSync('setpriv', ['--version']).error) return t.skip('running as root without setpriv to drop privileges')
		chmodSync(work, 0o755)
		const script = `const {saveLeases} = await import(process.argv[1])
try { saveLeases({exportLeases: () => Buffer.from(process.argv[2], 'hex')}, '', process.argv[3]); console.log('{}') }
catch (e) { console.log(JSON.stringify({class: e.constructor.name, ...e.toJSON()})) }`
		const child = spawnSync(
			'setpriv',
			['--reuid=65534', '--regid=65534', '--clear-groups', '--', process.execPath, '--input-type=module', '-e', script, new URL('./leases.js', import.meta.url).href, oneLease().toString('hex'), file],
			{encoding: 'utf8', timeout: 30_000},
		)
		// A checkout under a private directory (such as /root) is not readable by nobody.
		if (child.status !== 0 && /EACCES|permission denied/i.test(child.stderr)) return t.skip('the build is not readable by an unprivileged user')
		assert.equal(child.status, 0, child.stderr)
		assert.deepEqual(JSON.parse(child.stdout), {class: 'FilePermissionError', ...expected})
	})

	it('an export the command cannot parse is a protocol mismatch (exit 9), saving nothing', () => {
		const file = join(work, 'never.bin')
		const corrupt = oneLease()
		corrupt[40] = 0x58
		for (const call of [() => saveLeases(exporting(corrupt), '', file), () => readLeases(exporting(Buffer.from('nope')), '')]) {
			assert.throws(call, (e: unknown) => e instanceof ProtocolMismatchError && e.exitCode === 9 && /^the lease table the driver exported: /.test(e.message))
		}
		assert.throws(() => statSync(file), /ENOENT/)
	})
})
