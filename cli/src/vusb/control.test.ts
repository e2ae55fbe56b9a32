import {describe, it, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import net from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {ExitCode} from '../errors.js'
import {ControlError, ControlServer, MAX_REQUEST_BYTES, controlRequest, errorReply, parseControlReply, parseControlRequest} from './control.js'
import {VusbService, functionsForSet, parseFunctionList, parseHostPort, peerMacFor} from './service.js'
import {validateDeviceConfig} from './device-config.js'
import {UsbipServer} from './usbip/server.js'
import {listRemoteDevices} from './usbip/client.js'
import type {VusbDeviceConfig} from './device-config.js'

describe('control requests', () => {
	it('accepts the three operations', () => {
		assert.deepEqual(parseControlRequest('{"op":"list"}'), {op: 'list'})
		assert.deepEqual(parseControlRequest('{"op":"unplug","busid":"1-2"}'), {op: 'unplug', busid: '1-2'})
		assert.deepEqual(parseControlRequest('{"op":"set","busid":"1-1","functions":["ecm","acm"]}'), {
			op: 'set',
			busid: '1-1',
			functions: ['ecm', 'acm'],
		})
		assert.deepEqual(parseControlRequest('{"op":"type","busid":"1-2","text":"hi\\n"}'), {op: 'type', busid: '1-2', text: 'hi\n'})
		assert.deepEqual(parseControlRequest('{"op":"plug","source":"k.json","config":{"a":1},"to":"127.0.0.1:3250"}'), {
			op: 'plug',
			source: 'k.json',
			config: {a: 1},
			to: '127.0.0.1:3250',
		})
	})

	it('says what is wrong with anything else', () => {
		const cases: [string, RegExp][] = [
			['not json', /not JSON/],
			['[1]', /not an object/],
			['null', /not an object/],
			['{"op":"reboot"}', /unknown op "reboot"/],
			['{}', /unknown op null/],
			['{"op":"list","x":1}', /unknown key "x"/],
			['{"op":"unplug"}', /busid/],
			['{"op":"unplug","busid":"../x"}', /busid/],
			['{"op":"set","busid":"1-1","functions":[]}', /non-empty array/],
			['{"op":"set","busid":"1-1","functions":[1]}', /non-empty array/],
			['{"op":"type","busid":"1-1","text":""}', /non-empty string/],
			['{"op":"type","busid":"1-1","text":1}', /non-empty string/],
			[`{"op":"type","busid":"1-1","text":"${'a'.repeat(5000)}"}`, /longer than 4096/],
			['{"op":"plug","source":"k.json","config":[],"to":"h:1"}', /"config"/],
			['{"op":"plug","source":"k.json","config":{}}', /"to"/],
			['{"op":"plug","config":{},"to":"h:1"}', /"source"/],
		]
		for (const [line, pattern] of cases) {
			assert.throws(() => parseControlRequest(line), (e: unknown) => e instanceof ControlError && pattern.test(e.message) && e.exitCode === ExitCode.usage, line)
		}
	})

	it('carries errors with their code and exit code through a reply', () => {
		const reply = errorReply(new ControlError('no device 1-9 is served', 'NO_SUCH_BUSID', ExitCode.noSuchDevice))
		assert.throws(
			() => parseControlReply(JSON.stringify(reply), 'sock'),
			(e: unknown) => e instanceof ControlError && e.code === 'NO_SUCH_BUSID' && e.exitCode === 6 && e.message === 'no device 1-9 is served',
		)
		assert.equal(errorReply(new Error('boom')).ok, false)
		assert.deepEqual(parseControlReply('{"ok":true,"result":[1]}', 'sock'), [1])
		assert.throws(() => parseControlReply('{"ok":false,"error":{"message":"x","exitCode":77}}', 'sock'), (e: unknown) => (e as ControlError).exitCode === ExitCode.internal)
		assert.throws(() => parseControlReply('', 'sock'), /not JSON/)
		assert.throws(() => parseControlReply('{"ok":1}', 'sock'), /neither/)
	})
})

describe('function lists for set', () => {
	it('parses short and long names', () => {
		assert.deepEqual(parseFunctionList('ecm, ACM,cdc-ncm'), ['cdc-ecm', 'cdc-acm', 'cdc-ncm'])
		assert.throws(() => parseFunctionList('ecm,,acm'), /comma-separated/)
		assert.throws(() => parseFunctionList('ecm,rndis'), /unknown function "rndis"/)
		assert.deepEqual(parseFunctionList('ecm,kbd,keyboard'), ['cdc-ecm', 'hid-keyboard', 'hid-keyboard'])
		assert.throws(() => parseFunctionList('acm,acm,acm,acm,acm,acm,acm,acm'), /at most 7/)
	})

	it('keeps the old hostMacs in order and makes unused ones for extra network functions', () => {
		const old = [{type: 'cdc-ncm' as const, hostMac: '02:00:00:00:00:01'}, {type: 'cdc-acm' as const}]
		assert.deepEqual(functionsForSet(old, ['cdc-acm', 'cdc-ecm', 'cdc-ecm'], '1-4'), [
			{type: 'cdc-acm'},
			{type: 'cdc-ecm', hostMac: '02:00:00:00:00:01'},
			{type: 'cdc-ecm', hostMac: '02:76:75:01:04:10'},
		])
		const clash = [{type: 'cdc-ecm' as const, hostMac: '02:76:75:01:04:10'}]
		assert.deepEqual(
			functionsForSet(clash, ['cdc-ecm', 'cdc-ecm'], '1-4').map((f) => ('hostMac' in f ? f.hostMac : '')),
			['02:76:75:01:04:10', '02:76:75:01:04:11'],
		)
	})

	it('derives the ping peer MAC from the hostMac', () => {
		assert.equal(peerMacFor('02:76:00:00:00:01'), '02:76:00:00:00:81')
		assert.equal(peerMacFor('00:11:22:33:44:ff'), '02:11:22:33:44:7f')
	})
})

const ecm: VusbDeviceConfig = {vendorId: '0x1209', productId: '0x0001', product: 'ECM', functions: [{type: 'cdc-ecm', hostMac: '02:76:00:00:00:01'}]}
const acm: VusbDeviceConfig = {vendorId: '0x1209', productId: '0x0003', busid: '2-5', functions: [{type: 'cdc-acm'}]}
const kbd: VusbDeviceConfig = {vendorId: '0x1209', productId: '0x0005', busid: '3-1', functions: [{type: 'hid-keyboard'}]}

describe('plug --to targets', () => {
	it('takes HOST:PORT and [IPV6]:PORT', () => {
		assert.deepEqual(parseHostPort('127.0.0.1:3250'), {host: '127.0.0.1', port: 3250})
		assert.deepEqual(parseHostPort('[::1]:3250'), {host: '::1', port: 3250})
		assert.deepEqual(parseHostPort('guest:3250'), {host: 'guest', port: 3250})
		for (const bad of ['127.0.0.1', '3250', 'h:0', 'h:70000', '::1:3250', 'a b:1']) assert.throws(() => parseHostPort(bad), /HOST:PORT/, bad)
	})
})

describe('the control socket of a running service', () => {
	let dir = ''
	let path = ''
	let server: UsbipServer
	let control: ControlServer
	let port = 0

	before(async () => {
		dir = mkdtempSync(join(tmpdir(), 'vusb-control-'))
		path = join(dir, 'run/vusb.sock')
		server = new UsbipServer({port: 0})
		const service = new VusbService(server, ['192.168.77.2'])
		service.plug(ecm, 'ecm.json')
		service.plug(acm, 'acm.json')
		service.plug(kbd, 'kbd.json')
		control = new ControlServer(path, (request) => {
			switch (request.op) {
				case 'list':
					return service.list()
				case 'unplug':
					return service.unplug(request.busid)
				case 'set':
					return service.set(request.busid, parseFunctionList(request.functions.join(',')))
				case 'plug':
					return service.push(validateDeviceConfig(request.config, request.source), request.source, parseHostPort(request.to))
				case 'type':
					return service.type(request.busid, request.text)
			}
		})
		await control.listen()
		port = (await server.listen()).port
	})

	after(async () => {
		await control.close()
		await server.close()
		rmSync(dir, {recursive: true, force: true})
	})

	it('creates its directory and a socket only its owner may use', () => {
		assert.equal(statSync(path).mode & 0o777, 0o600)
	})

	it('lists the devices with their functions and peers', async () => {
		const devices = (await controlRequest(path, {op: 'list'})) as {busid: string; functions: {peer?: {ipv4: string}}[]}[]
		assert.deepEqual(devices.map((d) => d.busid), ['1-1', '2-5', '3-1'])
		assert.equal(devices[0]!.functions[0]!.peer?.ipv4, '192.168.77.2')
	})

	it('refuses a second server on the same socket', async () => {
		const second = new ControlServer(path, () => null)
		await assert.rejects(second.listen(), /another vusb server is running/)
	})

	it('re-defines a device under the same busid', async () => {
		const device = (await controlRequest(path, {op: 'set', busid: '1-1', functions: ['ecm', 'acm']})) as {functions: {type: string}[]; dropped: null}
		assert.deepEqual(device.functions.map((f) => f.type), ['cdc-ecm', 'cdc-acm'])
		const listed = await listRemoteDevices('127.0.0.1', port)
		assert.equal(listed.find((d) => d.device.busid === '1-1')?.device.numInterfaces, 4)
	})

	it('types only on a keyboard a host has configured; says why not', async () => {
		await assert.rejects(controlRequest(path, {op: 'type', busid: '3-1', text: 'hi'}), (e: unknown) => (e as ControlError).code === 'NOT_CONFIGURED' && (e as ControlError).exitCode === 6)
		await assert.rejects(controlRequest(path, {op: 'type', busid: '2-5', text: 'hi'}), (e: unknown) => (e as ControlError).code === 'NO_KEYBOARD' && (e as ControlError).exitCode === 2)
		await assert.rejects(controlRequest(path, {op: 'type', busid: '3-1', text: 'caf\u00e9'}), /no US keyboard key types "\u00e9"/)
	})

	it('refuses to push an invalid definition, or to an agent nobody runs, keeping nothing', async () => {
		await assert.rejects(
			controlRequest(path, {op: 'plug', source: 'bad.json', config: {vendorId: '0x1209', functions: []}, to: '127.0.0.1:1'}),
			(e: unknown) => (e as ControlError).exitCode === ExitCode.configInvalid && /bad\.json/.test((e as Error).message),
		)
		await assert.rejects(
			controlRequest(path, {op: 'plug', source: 'k.json', config: {...kbd, busid: '4-1'}, to: '127.0.0.1:1'}),
			(e: unknown) => (e as ControlError).code === 'UNREACHABLE' && (e as ControlError).exitCode === 6,
		)
		const devices = (await controlRequest(path, {op: 'list'})) as {busid: string}[]
		assert.ok(!devices.some((d) => d.busid === '4-1'), 'the refused device is not kept')
	})

	it('reports an unknown busid as exit code 6 and keeps serving', async () => {
		await assert.rejects(controlRequest(path, {op: 'unplug', busid: '9-9'}), (e: unknown) => (e as ControlError).exitCode === ExitCode.noSuchDevice)
		await assert.rejects(controlRequest(path, {op: 'set', busid: '1-1', functions: ['rndis']}), /unknown function/)
		const unplugged = (await controlRequest(path, {op: 'unplug', busid: '2-5'})) as {busid: string}
		assert.equal(unplugged.busid, '2-5')
		assert.deepEqual((await listRemoteDevices('127.0.0.1', port)).map((d) => d.device.busid).sort(), ['1-1', '3-1'])
	})

	it('answers garbage and oversized requests with an error, then closes', async () => {
		const ask = (payload: string): Promise<string> =>
			new Promise((resolve) => {
				const socket = net.connect(path, () => socket.write(payload))
				let text = ''
				socket.on('data', (c) => (text += c.toString()))
				socket.on('close', () => resolve(text))
				socket.on('error', () => resolve(text))
			})
		assert.match(await ask('hello\n'), /"ok":false.*not JSON/)
		assert.match(await ask('x'.repeat(MAX_REQUEST_BYTES + 10)), /longer than/)
		assert.equal(((await controlRequest(path, {op: 'list'})) as unknown[]).length, 2)
	})

	it('says no server runs when nobody listens', async () => {
		await assert.rejects(controlRequest(join(dir, 'none.sock'), {op: 'list'}), (e: unknown) => (e as ControlError).code === 'VUSB_NOT_RUNNING' && (e as ControlError).exitCode === 4)
	})
})

describe('where the control socket may be made', () => {
	const dir = mkdtempSync(join(tmpdir(), 'vusb-control-path-'))
	after(() => rmSync(dir, {recursive: true, force: true}))
	const refusal = async (path: string): Promise<{code: string; exitCode: number; message: string}> => {
		const error = await new ControlServer(path, () => null).listen().then(
			() => assert.fail(`${path}: listened`),
			(e: unknown) => e,
		)
		assert.ok(error instanceof ControlError, String(error))
		return {code: error.code, exitCode: error.exitCode, message: error.message}
	}

	it('never replaces a file that is not a socket', async () => {
		const file = join(dir, 'notes.txt')
		writeFileSync(file, 'keep me')
		assert.deepEqual(await refusal(file), {code: 'USAGE', exitCode: ExitCode.usage, message: `--control ${file}: exists and is not a socket; not replacing it`})
		assert.equal(readFileSync(file, 'utf8'), 'keep me')
	})

	it('replaces a stale socket nobody answers on', async () => {
		const path = join(dir, 'stale.sock')
		// What a server killed while listening leaves behind (close() unlinks).
		const script = "require('net').createServer().listen(process.argv[1], () => process.kill(process.pid, 'SIGKILL'))"
		spawnSync(process.execPath, ['-e', script, path], {timeout: 20_000})
		assert.ok(lstatSync(path).isSocket())
		const control = new ControlServer(path, () => 'pong')
		await control.listen()
		assert.equal(await controlRequest(path, {op: 'list'}), 'pong')
		await control.close()
	})

	it('says why not: a parent that is a file, a path too long, no permission', async () => {
		const file = join(dir, 'plain')
		writeFileSync(file, '')
		assert.deepEqual(await refusal(join(file, 'vusb.sock')), {code: 'USAGE', exitCode: ExitCode.usage, message: `--control ${join(file, 'vusb.sock')}: a parent is not a directory`})
		const long = join(dir, 'x'.repeat(120))
		assert.equal((await refusal(long)).message, `--control ${long}: too long for a socket path (at most 107 bytes)`)
		if (process.getuid?.() !== 0) {
			const locked = join(dir, 'locked')
			mkdirSync(locked, {mode: 0o500})
			const denied = await refusal(join(locked, 'vusb.sock'))
			assert.deepEqual([denied.code, denied.exitCode], ['PERMISSION_DENIED', ExitCode.permissionDenied])
		}
	})
})
