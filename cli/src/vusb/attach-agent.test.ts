/**
 * The push exchange end to end, without a kernel: a real UsbipServer pushes
 * to a real AttachAgent (in a child process: its handshakes block, as they
 * may in a process of its own) whose vhci_hcd is a directory with a status
 * file and an attach file (what the agent writes there is checked). The
 * refusals use a raw node socket as a misbehaving server.
 */
import assert from 'node:assert/strict'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import net, {isIP} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {spawn, type ChildProcess} from 'node:child_process'
import {createInterface} from 'node:readline'
import {fileURLToPath} from 'node:url'
import {after, before, describe, it} from 'node:test'
import {
	MAX_PUSH_DEVLIST_BYTES,
	PushRefusedError,
	checkDevlistHead,
	checkListedInterfaces,
	describeUnsolicited,
	parseAgentListen,
	resolveAgentListen,
} from './attach-agent.js'
import {HidKeyboardFunction} from './functions/hid-keyboard.js'
import {UsbDevice} from './usb/device.js'
import {USB_DEVICE_INFO_LENGTH, encodeMessage} from './usbip/protocol.js'
import {PushError, UsbipServer} from './usbip/server.js'
import {UsbvnetError} from '../errors.js'

const STATUS = `hub port sta spd dev      sockfd local_busid
hs  0000 004 000 00000000 000000 0-0
hs  0001 004 000 00000000 000000 0-0
ss  0002 004 000 00000000 000000 0-0
`

function head(version: number, code: number, status: number, count: number): Buffer {
	const b = Buffer.alloc(12)
	b.writeUInt16BE(version, 0)
	b.writeUInt16BE(code, 2)
	b.writeUInt32BE(status, 4)
	b.writeUInt32BE(count, 8)
	return b
}

describe('attach agent: checks on what a pushing server sends', () => {
	it('accepts a device list of exactly one device', () => {
		checkDevlistHead(head(0x0111, 0x0005, 0, 1))
		assert.throws(() => checkDevlistHead(head(0x0111, 0x0005, 0, 0)), /empty/)
		assert.throws(() => checkDevlistHead(head(0x0111, 0x0005, 0, 2)), /2 devices; a push carries exactly one/)
		assert.throws(() => checkDevlistHead(head(0x0106, 0x0005, 0, 1)), /version 0x0106/)
		assert.throws(() => checkDevlistHead(head(0x0111, 0x0003, 0, 1)), /got code 0x0003/)
		assert.throws(() => checkDevlistHead(head(0x0111, 0x0005, 1, 1)), /status 1/)
		assert.throws(() => checkDevlistHead(Buffer.alloc(4)), PushRefusedError)
	})

	it('bounds the listed interfaces, so the first message stays small', () => {
		const info = Buffer.alloc(USB_DEVICE_INFO_LENGTH)
		info[USB_DEVICE_INFO_LENGTH - 1] = 3
		assert.equal(checkListedInterfaces(info), 3)
		info[USB_DEVICE_INFO_LENGTH - 1] = 200
		assert.throws(() => checkListedInterfaces(info), /200 interfaces .* oversized/)
		assert.equal(MAX_PUSH_DEVLIST_BYTES, 12 + 312 + 4 * 32)
	})

	it('names unsolicited bytes', () => {
		assert.equal(describeUnsolicited(head(0x0111, 0x0005, 0, 1)), 'a device list it was not asked for')
		assert.equal(describeUnsolicited(Buffer.from('GET / HTTP/1.0\r\n')), '16 bytes that are no USB/IP reply')
	})

	it('takes --listen as [ADDRESS:]PORT, loopback by default', () => {
		assert.deepEqual(parseAgentListen('3250'), {host: '127.0.0.1', port: 3250})
		assert.deepEqual(parseAgentListen('0.0.0.0:3250'), {host: '0.0.0.0', port: 3250})
		assert.deepEqual(parseAgentListen('[::1]:3250'), {host: '::1', port: 3250})
		assert.throws(() => parseAgentListen('localhost'), /\[ADDRESS:\]PORT/)
		assert.throws(() => parseAgentListen('99999'), /\[ADDRESS:\]PORT/)
	})

	it('resolves a name in --listen to an address the listener can bind, or says it does not resolve (exit 2)', async () => {
		const local = await resolveAgentListen('localhost:3250')
		assert.ok(isIP(local.host), local.host)
		assert.equal(local.port, 3250)
		assert.deepEqual(await resolveAgentListen('[::1]:3250'), {host: '::1', port: 3250})
		await assert.rejects(
			resolveAgentListen('no-such-host.invalid:3250'),
			(e: unknown) => e instanceof UsbvnetError && e.exitCode === 2 && e.message === '--listen no-such-host.invalid:3250: no-such-host.invalid does not resolve to an address',
		)
	})
})

describe('attach agent and server push, over loopback with a stand-in vhci_hcd', () => {
	let root = ''
	let vhci = ''
	let agent: ChildProcess
	let port = 0
	const refused: string[] = []
	const attached: string[] = []
	/** usbip's connection record of each attach, as the agent wrote it. */
	const records: string[] = []
	let event: (() => void) | undefined
	/** Resolves at the agent's next attach or refusal. */
	const nextEvent = (): Promise<void> => new Promise((resolve) => (event = resolve))

	before(async () => {
		root = mkdtempSync(join(tmpdir(), 'usbvnet-agent-'))
		vhci = join(root, 'sys/devices/platform/vhci_hcd.0')
		mkdirSync(vhci, {recursive: true})
		writeFileSync(join(vhci, 'status'), STATUS)
		writeFileSync(join(vhci, 'attach'), '')
		const module = fileURLToPath(new URL('./attach-agent.js', import.meta.url))
		const script = `
			import {AttachAgent} from ${JSON.stringify(module)}
			import {readFileSync} from 'node:fs'
			const say = (o) => process.stdout.write(JSON.stringify(o) + '\\n')
			const agent = new AttachAgent({
				host: '127.0.0.1', port: 0, handshakeTimeoutMs: 1000,
				paths: {sysfsRoot: ${JSON.stringify(join(root, 'sys'))}, stateDir: ${JSON.stringify(join(root, 'run'))}},
				// The record as written at attach: the stand-in's status never shows the
				// port taken, so the agent's next tidy (every 500 ms) removes it again.
				onAttached: (a) => say({
					attached: a.busid + ' ' + a.vendorId + ':' + a.productId + ' ' + a.speed + ' port ' + a.vhciPort,
					record: readFileSync(${JSON.stringify(join(root, 'run'))} + '/port' + a.vhciPort, 'utf8'),
				}),
				onRefused: (peer, reason) => say({refused: reason}),
			})
			say({listen: agent.listen()})
			process.once('SIGTERM', () => agent.stop())
			await agent.run()`
		agent = spawn(process.execPath, ['--input-type=module', '-e', script], {stdio: ['ignore', 'pipe', 'inherit']})
		const lines = createInterface({input: agent.stdout!})
		port = await new Promise<number>((resolve) => {
			lines.on('line', (line) => {
				const o = JSON.parse(line) as {listen?: string; attached?: string; record?: string; refused?: string}
				if (o.listen) resolve(Number(o.listen.split(':').pop()))
				if (o.attached) attached.push(o.attached)
				if (o.record !== undefined) records.push(o.record)
				if (o.refused) refused.push(o.refused)
				if (!o.listen) event?.()
			})
		})
	})

	after(async () => {
		const exited = new Promise((r) => agent.once('exit', r))
		agent.kill('SIGTERM')
		await exited
		rmSync(root, {recursive: true, force: true})
	})

	/** Connects as a server would, sends `bytes` (after the agent's request if `answer`), waits for the close. */
	async function rogue(bytes: Buffer, answer: boolean): Promise<void> {
		const refusal = nextEvent()
		await new Promise<Buffer>((resolve) => {
			const socket = net.connect(port, '127.0.0.1')
			const got: Buffer[] = []
			socket.on('connect', () => {
				if (!answer) socket.write(bytes)
			})
			socket.on('data', (d) => {
				got.push(d)
				if (answer && got.length === 1) socket.write(bytes)
			})
			socket.on('error', () => {})
			socket.on('close', () => resolve(Buffer.concat(got)))
		})
		await refusal
	}

	it('imports a pushed keyboard and writes the attach line with its devid and speed', async () => {
		const server = new UsbipServer({port: 0})
		server.plug(new UsbDevice({vendorId: 0x1209, productId: 0x0005, speed: 'full'}, [new HidKeyboardFunction()]), '1-1')
		server.plug(new UsbDevice({vendorId: 0x1209, productId: 0x0006}, [new HidKeyboardFunction()]), '1-2')
		const attach = nextEvent()
		// The stand-in vhci_hcd takes no reference and runs no URB: the agent's close ends the connection after the import.
		await assert.rejects(
			server.push('1-2', {host: '127.0.0.1', port}),
			(e: unknown) => e instanceof PushError && e.reason === 'REFUSED' && /imported 1-2 but closed the connection before its first URB/.test(e.message),
		)
		await attach
		assert.deepEqual(attached, ['1-2 0x1209:0x0006 high port 0'], 'only the pushed device, though the server has two')
		const line = readFileSync(join(vhci, 'attach'), 'utf8').split(' ')
		assert.equal(line[0], '0')
		assert.equal(line[2], String((1 << 16) | 3), 'devid: bus 1, devnum 3')
		assert.equal(line[3], '3', 'high speed')
		assert.match(records.at(-1) ?? '', /^127\.0\.0\.1 \d+ 1-2\n$/, "usbip's record: the server's address and port")
		assert.equal(server.exported().find((e) => e.busid === '1-2')?.attachedTo, undefined)
		await server.close()
	})

	it('refuses an unsolicited device list, garbage, two devices, and an oversized list; the agent carries on', async () => {
		refused.length = 0
		await rogue(head(0x0111, 0x0005, 0, 1), false)
		await rogue(Buffer.from('GET / HTTP/1.0\r\n\r\n'), false)
		await rogue(head(0x0111, 0x0005, 0, 2), true)
		const info = Buffer.alloc(USB_DEVICE_INFO_LENGTH)
		info[USB_DEVICE_INFO_LENGTH - 1] = 255
		await rogue(Buffer.concat([head(0x0111, 0x0005, 0, 1), info]), true)
		await rogue(encodeMessage({kind: 'OP_REQ_DEVLIST', version: 0x0111}), true)
		assert.equal(refused.length, 5, refused.join('\n'))
		assert.match(refused[0]!, /a device list it was not asked for before being asked/)
		assert.match(refused[1]!, /bytes that are no USB\/IP reply/)
		assert.match(refused[2]!, /2 devices/)
		assert.match(refused[3]!, /255 interfaces/)
		assert.match(refused[4]!, /expected a device list reply/)
		// Still accepting.
		const server = new UsbipServer({port: 0})
		server.plug(new UsbDevice({vendorId: 0x1209, productId: 0x0007}, [new HidKeyboardFunction()]), '2-1')
		const attach = nextEvent()
		await assert.rejects(server.push('2-1', {host: '127.0.0.1', port}), PushError)
		await attach
		assert.match(attached.at(-1)!, /^2-1 0x1209:0x0007/)
		await server.close()
	})

	it('bounds the whole handshake: a peer dribbling its answer is cut off in time', async () => {
		refused.length = 0
		const refusal = nextEvent()
		const started = Date.now()
		const socket = net.connect(port, '127.0.0.1')
		socket.on('error', () => {})
		socket.once('data', () => {
			// A valid device list header, one byte every 200 ms: each read alone would be in time.
			const bytes = head(0x0111, 0x0005, 0, 1)
			let i = 0
			const timer = setInterval(() => {
				if (i >= bytes.length || socket.destroyed) return clearInterval(timer)
				socket.write(bytes.subarray(i, ++i))
			}, 200)
			socket.once('close', () => clearInterval(timer))
		})
		await refusal
		socket.destroy()
		assert.match(refused[0]!, /in time/)
		assert.ok(Date.now() - started < 2500, `refused after ${Date.now() - started} ms, the bound is 1000 ms`)
	})

	it('push rejects when nobody listens, and when the agent refuses', async () => {
		const server = new UsbipServer({port: 0})
		server.plug(new UsbDevice({vendorId: 1, productId: 2}, [new HidKeyboardFunction()]), '1-1')
		const closedPort = await new Promise<number>((resolve) => {
			const s = net.createServer().listen(0, '127.0.0.1', () => {
				const p = (s.address() as net.AddressInfo).port
				s.close(() => resolve(p))
			})
		})
		await assert.rejects(server.push('1-1', {host: '127.0.0.1', port: closedPort}), (e: unknown) => e instanceof PushError && e.reason === 'UNREACHABLE')
		writeFileSync(join(vhci, 'status'), STATUS.replace(/ 004 /g, ' 006 '))
		const refusal = nextEvent()
		await assert.rejects(
			server.push('1-1', {host: '127.0.0.1', port}),
			(e: unknown) => e instanceof PushError && e.reason === 'REFUSED' && /imported 1-1 but closed/.test(e.message),
		)
		await refusal
		assert.match(refused.at(-1)!, /no free vhci_hcd port/)
		writeFileSync(join(vhci, 'status'), STATUS)
		await server.close()
	})
})
