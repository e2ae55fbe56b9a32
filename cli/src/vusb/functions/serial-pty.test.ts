import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {closeSync, constants, lstatSync, mkdtempSync, openSync, readSync, readlinkSync, rmSync, symlinkSync, writeFileSync, writeSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {CdcAcmFunction} from './cdc-acm.js'
import {SerialPty} from './serial-pty.js'

function acm(handler: SerialPty): {fn: CdcAcmFunction; bulkIn: number; bulkOut: number} {
	const fn = new CdcAcmFunction({handler})
	let iface = 0
	let inEp = 0x81
	let outEp = 0x01
	fn.bind({speed: 'full', allocateInterface: () => iface++, allocateEndpoint: (d) => (d === 'in' ? inEp++ : outEp++), addString: () => 1, wakeEndpoint: () => {}})
	fn.configure(true)
	const {bulkIn, bulkOut} = fn.endpointAddresses
	return {fn, bulkIn, bulkOut}
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Non-blocking reads of a pty slave until `length` bytes came. */
async function readSlave(fd: number, length: number): Promise<string> {
	const buffer = Buffer.alloc(4096)
	let text = ''
	for (let i = 0; i < 300 && text.length < length; i++) {
		try {
			const n = readSync(fd, buffer, 0, buffer.length, null)
			text += buffer.subarray(0, n).toString('latin1')
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error
			await sleep(10)
		}
	}
	return text
}

async function readFunction(fn: CdcAcmFunction, bulkIn: number, length: number): Promise<string> {
	let text = ''
	for (let i = 0; i < 300 && text.length < length; i++) {
		const got = fn.handleIn(bulkIn, 64)
		if (Buffer.isBuffer(got)) text += got.toString('latin1')
		else await sleep(10)
	}
	return text
}

describe('SerialPty through a CdcAcmFunction', () => {
	it('carries bytes both ways between the host and a program on the slave, raw, through the link', async () => {
		const dir = mkdtempSync(join(tmpdir(), 'vusb-pty-'))
		const link = join(dir, 'sub', 'ttyVUSB0')
		try {
			const pty = new SerialPty(link)
			const {fn, bulkIn, bulkOut} = acm(pty)
			await pty.start()
			assert.match(pty.slavePath ?? '', /^\/dev\/pts\/\d+$/)
			assert.equal(readlinkSync(link), pty.slavePath)
			const slave = openSync(link, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK)
			// Raw: a CR, ^C and ^D pass as bytes, nothing is echoed or translated.
			fn.handleOut(bulkOut, Buffer.from('host\r\x03\x04\n'))
			assert.equal(await readSlave(slave, 8), 'host\r\x03\x04\n')
			writeSync(slave, 'program\n')
			assert.equal(await readFunction(fn, bulkIn, 8), 'program\n')
			assert.deepEqual(pty.stats, {fromHost: 8, toHost: 8, droppedFromHost: 0, droppedToHost: 0})
			closeSync(slave)
			await pty.close()
			assert.throws(() => lstatSync(link), {code: 'ENOENT'})
		} finally {
			rmSync(dir, {recursive: true, force: true})
		}
	})

	it('drops and counts what the host writes while nobody reads the slave, and never blocks', async () => {
		const pty = new SerialPty(undefined)
		const {fn, bulkOut} = acm(pty)
		await pty.start()
		for (let i = 0; i < 200; i++) fn.handleOut(bulkOut, Buffer.alloc(1024, 0x41))
		assert.equal(pty.stats.fromHost + pty.stats.droppedFromHost, 200 * 1024)
		assert.ok(pty.stats.droppedFromHost > 0, JSON.stringify(pty.stats))
		await pty.close()
	})

	it('replaces a stale symlink but refuses to replace a file, leaving it alone', async () => {
		const dir = mkdtempSync(join(tmpdir(), 'vusb-pty-'))
		try {
			const stale = join(dir, 'stale')
			symlinkSync('/dev/pts/nonexistent', stale)
			const a = new SerialPty(stale)
			await a.start()
			assert.equal(readlinkSync(stale), a.slavePath)
			await a.close()
			const file = join(dir, 'file')
			writeFileSync(file, 'keep')
			const b = new SerialPty(file)
			await assert.rejects(b.start(), /exists and is not a symlink/)
			assert.equal(b.slavePath, null)
			assert.ok(lstatSync(file).isFile())
		} finally {
			rmSync(dir, {recursive: true, force: true})
		}
	})
})
