/**
 * The built `usbvnet vusb ...` commands as child processes: a server started
 * and stopped by signal, its control socket used by list/unplug/set, and the
 * usage and state errors with their exit codes. Attaching through vhci_hcd
 * needs root and the module: test/vm/scenarios/60-vusb.sh covers it.
 */
import assert from 'node:assert/strict'
import {spawn, spawnSync, type ChildProcess} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {fileURLToPath} from 'node:url'
import {parseListen} from './serve.js'

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..')
const bin = join(repoRoot, 'cli/bin/run.js')
const devices = join(repoRoot, 'test/vm/vusb')

function usbvnet(args: string[]): {status: number | null; stdout: string; stderr: string} {
	const r = spawnSync(process.execPath, [bin, ...args], {encoding: 'utf8', timeout: 30_000, env: {...process.env, NO_COLOR: '1'}})
	return {status: r.status, stdout: r.stdout, stderr: r.stderr}
}

describe('vusb serve --listen', () => {
	it('takes ADDRESS[:PORT] with IPv6 in brackets', () => {
		assert.deepEqual(parseListen('127.0.0.1:3241'), {host: '127.0.0.1', port: 3241})
		assert.deepEqual(parseListen('0.0.0.0'), {host: '0.0.0.0', port: 3240})
		assert.deepEqual(parseListen('[::1]:4000'), {host: '::1', port: 4000})
		assert.throws(() => parseListen('::1:4000'), /ADDRESS\[:PORT\]/)
		assert.throws(() => parseListen('127.0.0.1:70000'), /ADDRESS\[:PORT\]/)
	})
})

describe('vusb commands without a server', () => {
	let work = ''
	before(() => {
		work = mkdtempSync(join(tmpdir(), 'usbvnet-vusb-'))
	})
	after(() => rmSync(work, {recursive: true, force: true}))

	it('list exits with 4 and says no server runs; --json carries the code', () => {
		const r = usbvnet(['vusb', 'list', '--control', join(work, 'none.sock')])
		assert.equal(r.status, 4)
		assert.match(r.stderr, /no vusb server is running/)
		const j = usbvnet(['vusb', 'list', '--control', join(work, 'none.sock'), '--json'])
		assert.equal((JSON.parse(j.stdout) as {error: {code: string}}).error.code, 'VUSB_NOT_RUNNING')
	})

	it('set checks its function list before asking anyone (exit 2)', () => {
		const r = usbvnet(['vusb', 'set', '1-1', '--functions', 'ecm,rndis', '--control', join(work, 'none.sock')])
		assert.equal(r.status, 2)
		assert.match(r.stderr, /unknown function "rndis"/)
	})

	it('attach refuses a malformed busid (exit 2), BUSID with --listen, and a bad --listen', () => {
		assert.equal(usbvnet(['vusb', 'attach', 'usb0']).status, 2)
		assert.match(usbvnet(['vusb', 'attach', '1-1', '--listen', '3250']).stderr, /either BUSID or --listen/)
		assert.equal(usbvnet(['vusb', 'attach', '--listen', 'nowhere']).status, 2)
		assert.equal(usbvnet(['vusb', 'attach']).status, 2)
	})

	it('plug checks --to and the device file before asking anyone', () => {
		const r = usbvnet(['vusb', 'plug', join(devices, 'kbd.json'), '--to', '127.0.0.1', '--control', join(work, 'none.sock')])
		assert.equal(r.status, 2)
		assert.match(r.stderr, /HOST:PORT/)
		assert.equal(usbvnet(['vusb', 'plug', join(work, 'missing.json'), '--to', '127.0.0.1:3250', '--control', join(work, 'none.sock')]).status, 3)
		assert.equal(usbvnet(['vusb', 'plug', join(devices, 'kbd.json'), '--to', '127.0.0.1:3250', '--control', join(work, 'none.sock')]).status, 4)
	})

	it('type refuses characters without a key before asking anyone (exit 2)', () => {
		const r = usbvnet(['vusb', 'type', '1-1', 'na\u00efve', '--control', join(work, 'none.sock')])
		assert.equal(r.status, 2)
		assert.match(r.stderr, /no US keyboard key types "\u00ef"/)
	})

	it('serve refuses an invalid device file with 3, naming the problem', () => {
		const bad = join(work, 'bad.json')
		writeFileSync(bad, '{"vendorId": "0x1209", "productId": "0x0001", "functions": [{"type": "cdc-ecn", "hostMac": "02:00:00:00:00:01"}]}')
		const r = usbvnet(['vusb', 'serve', bad, '--control', join(work, 'x.sock')])
		assert.equal(r.status, 3)
		assert.match(r.stderr, /did you mean "cdc-ecm"/)
	})

	it('serve refuses a --listen name that does not resolve with 2', () => {
		const r = usbvnet(['vusb', 'serve', join(devices, 'ecm.json'), '--listen', 'no-such-host.invalid:3240', '--control', join(work, 'l.sock')])
		assert.equal(r.status, 2, r.stderr)
		assert.match(r.stderr, /--listen no-such-host\.invalid:3240: no-such-host\.invalid does not resolve to an address/)
		assert.equal(existsSync(join(work, 'l.sock')), false)
	})

	it('serve never deletes a file given as --control (exit 2)', () => {
		const notes = join(work, 'notes.txt')
		writeFileSync(notes, 'keep me')
		const r = usbvnet(['vusb', 'serve', join(devices, 'ecm.json'), '--listen', '127.0.0.1:0', '--control', notes])
		assert.equal(r.status, 2, r.stderr)
		assert.match(r.stderr, /exists and is not a socket/)
		assert.equal(readFileSync(notes, 'utf8'), 'keep me')
	})

	it('has help with examples', () => {
		const r = usbvnet(['vusb', 'serve', '--help'])
		assert.equal(r.status, 0)
		assert.match(r.stdout, /EXAMPLES/)
		assert.match(r.stdout, /--responder/)
	})
})

describe('a running vusb serve', () => {
	let work = ''
	let sock = ''
	let server: ChildProcess
	let log = ''

	before(async () => {
		work = mkdtempSync(join(tmpdir(), 'usbvnet-vusb-'))
		sock = join(work, 'ctl/vusb.sock')
		server = spawn(
			process.execPath,
			[bin, 'vusb', 'serve', join(devices, 'ecm.json'), join(devices, 'acm.json'), '--listen', '127.0.0.1:0', '--control', sock, '-r', '192.168.77.2'],
			{stdio: ['ignore', 'ignore', 'pipe']},
		)
		server.stderr!.on('data', (c: Buffer) => (log += c.toString()))
		const deadline = Date.now() + 20_000
		while (!log.includes('control socket') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
		assert.match(log, /control socket/, `server did not start:\n${log}`)
	})

	after(() => {
		server.kill('SIGKILL')
		rmSync(work, {recursive: true, force: true})
	})

	it('lists its devices as JSON', () => {
		const r = usbvnet(['vusb', 'list', '--control', sock, '--json'])
		assert.equal(r.status, 0, r.stderr)
		const {devices: listed} = JSON.parse(r.stdout) as {devices: {busid: string; vendorId: string; attachedTo: null; functions: {peer?: {ipv4: string}}[]}[]}
		assert.deepEqual(listed.map((d) => `${d.busid} ${d.vendorId}`), ['1-1 0x1209', '1-2 0x1209'])
		assert.equal(listed[0]!.functions[0]!.peer?.ipv4, '192.168.77.2')
	})

	it('refuses a second server on the same control socket with 7', () => {
		const r = usbvnet(['vusb', 'serve', join(devices, 'ecm.json'), '--listen', '127.0.0.1:0', '--control', sock])
		assert.equal(r.status, 7)
	})

	it('sets, unplugs, and reports unknown busids with 6', () => {
		const set = usbvnet(['vusb', 'set', '1-1', '-f', 'ecm,acm', '--control', sock, '--json'])
		assert.equal(set.status, 0, set.stderr)
		assert.deepEqual((JSON.parse(set.stdout) as {device: {functions: {type: string}[]}}).device.functions.map((f) => f.type), ['cdc-ecm', 'cdc-acm'])
		assert.equal(usbvnet(['vusb', 'unplug', '1-2', '--control', sock]).status, 0)
		assert.equal(usbvnet(['vusb', 'unplug', '1-2', '--control', sock]).status, 6)
		assert.match(usbvnet(['vusb', 'list', '--control', sock]).stdout, /1-1 .*ecm 02:76:00:00:00:01 \(peer 192\.168\.77\.2\), acm/)
	})

	it('stops on SIGTERM with status 0 and removes its socket', async () => {
		const exited = new Promise<number | null>((r) => server.once('exit', (code) => r(code)))
		server.kill('SIGTERM')
		assert.equal(await exited, 0)
		assert.equal(existsSync(sock), false)
	})
})
