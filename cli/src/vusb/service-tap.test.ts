import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {VusbService} from './service.js'
import type {TapFactory} from './service.js'
import {UsbipServer} from './usbip/server.js'
import {parseDeviceConfigText} from './device-config.js'
import type {VusbDeviceConfig} from './device-config.js'
import {TapError} from '../driver/tap.js'
import {ExitCode} from '../errors.js'

/** TAPs that exist only in this list: name, netns and MAC as opened, and whether closed. */
function fakeTaps(refuse?: string): {open: TapFactory; taps: {name: string; netns?: string; mac: string; closed: boolean}[]} {
	const taps: {name: string; netns?: string; mac: string; closed: boolean}[] = []
	const open: TapFactory = (tap) => () => {
		if (tap.name === refuse) throw new TapError(`TAP ${tap.name}: already open by another program`, 'BUSY', ExitCode.busy)
		const entry = {name: tap.name, ...(tap.netns === undefined ? {} : {netns: tap.netns}), mac: tap.mac.toString('hex'), closed: false}
		taps.push(entry)
		return {
			write: () => true,
			setCarrier: () => {},
			close: () => {
				entry.closed = true
				return Promise.resolve()
			},
		}
	}
	return {open, taps}
}

function device(busid: string, functions: unknown[]): VusbDeviceConfig {
	return parseDeviceConfigText(JSON.stringify({busid, vendorId: '0x1209', productId: '0x0010', functions}), `${busid}.json`)
}

describe('TAP backends in the service', () => {
	it('opens a TAP per backed function, with the peer MAC by default, and no responder for it', () => {
		const {open, taps} = fakeTaps()
		const service = new VusbService(new UsbipServer(), ['192.168.77.2'], () => {}, open)
		service.plug(
			device('1-1', [
				{type: 'cdc-ecm', hostMac: '02:76:00:00:00:01', backend: {tap: 'vusb0'}},
				{type: 'cdc-ncm', hostMac: '02:76:00:00:00:02'},
				{type: 'cdc-ecm', hostMac: '02:76:00:00:00:03', backend: {tap: {name: 'web0', netns: 'phone', mac: '02:aa:00:00:00:01'}}},
			]),
			'a.json',
		)
		assert.deepEqual(taps, [
			{name: 'vusb0', mac: '027600000081', closed: false},
			{name: 'web0', netns: 'phone', mac: '02aa00000001', closed: false},
		])
		const [report] = service.list()
		assert.deepEqual(report!.functions.map((f) => [f.type, f.tap?.name ?? null, f.tap?.netns ?? null, f.peer?.ipv4 ?? null]), [
			['cdc-ecm', 'vusb0', null, null],
			['cdc-ncm', null, null, '192.168.77.2'],
			['cdc-ecm', 'web0', 'phone', null],
		])
		assert.equal(report!.functions[0]!.tap!.carrier, false)
	})

	it('refuses a TAP another device uses, and one that cannot open, leaving everything else as it was', () => {
		const {open, taps} = fakeTaps('bad0')
		const server = new UsbipServer()
		const service = new VusbService(server, [], () => {}, open)
		service.plug(device('1-1', [{type: 'cdc-ecm', hostMac: '02:76:00:00:00:01', backend: {tap: 'vusb0'}}]), 'a.json')
		assert.throws(
			() => service.plug(device('1-2', [{type: 'cdc-ecm', hostMac: '02:76:00:00:00:02', backend: {tap: 'vusb0'}}]), 'b.json'),
			(e: unknown) => e instanceof Error && /vusb0 is already the backend of a function of 1-1/.test(e.message),
		)
		assert.throws(
			() =>
				service.plug(
					device('1-3', [
						{type: 'cdc-ecm', hostMac: '02:76:00:00:00:03', backend: {tap: 'ok0'}},
						{type: 'cdc-ecm', hostMac: '02:76:00:00:00:04', backend: {tap: 'bad0'}},
					]),
					'c.json',
				),
			TapError,
		)
		assert.deepEqual(
			taps.map((t) => [t.name, t.closed]),
			[
				['vusb0', false],
				['ok0', true],
			],
			'the half-built device closed what it had opened',
		)
		assert.deepEqual(server.exported().map((e) => e.busid), ['1-1'])
	})

	it('keeps the TAP open across set, closes it on unplug and on close', async () => {
		const {open, taps} = fakeTaps()
		const service = new VusbService(new UsbipServer(), [], () => {}, open)
		service.plug(device('1-1', [{type: 'cdc-ecm', hostMac: '02:76:00:00:00:01', backend: {tap: 'vusb0'}}]), 'a.json')
		service.plug(device('1-2', [{type: 'cdc-ncm', hostMac: '02:76:00:00:00:02', backend: {tap: 'vusb1'}}]), 'b.json')
		const after = await service.set('1-1', ['cdc-acm', 'cdc-ecm'])
		assert.deepEqual(after.functions.map((f) => f.tap?.name ?? null), [null, 'vusb0'])
		assert.equal(taps.length, 2, 'no second open of vusb0')
		await service.set('1-1', ['cdc-acm'])
		assert.deepEqual(taps.map((t) => t.closed), [true, false], 'dropping the network function closed its TAP')
		service.unplug('1-2')
		assert.deepEqual(taps.map((t) => t.closed), [true, true])
		service.plug(device('1-3', [{type: 'cdc-ecm', hostMac: '02:76:00:00:00:03', backend: {tap: 'vusb0'}}]), 'c.json')
		await service.close()
		assert.deepEqual(taps.map((t) => t.closed), [true, true, true])
	})
})

describe('device files with TAP backends', () => {
	it('refuse the same TAP twice in one device and a TAP MAC equal to the hostMac', () => {
		assert.throws(
			() =>
				device('1-1', [
					{type: 'cdc-ecm', hostMac: '02:76:00:00:00:01', backend: {tap: 'vusb0'}},
					{type: 'cdc-ncm', hostMac: '02:76:00:00:00:02', backend: {tap: {name: 'vusb0'}}},
				]),
			/functions\[1\]\.backend\.tap: TAP vusb0 is already the backend of functions\[0\]/,
		)
		assert.throws(
			() => device('1-1', [{type: 'cdc-ecm', hostMac: '02:76:00:00:00:01', backend: {tap: {name: 'v', mac: '02:76:00:00:00:01'}}}]),
			/must differ from the hostMac/,
		)
	})

	it('name what is wrong in a backend, once', () => {
		const problems = (backend: unknown): string[] => {
			try {
				device('1-1', [{type: 'cdc-ecm', hostMac: '02:76:00:00:00:01', backend}])
				return []
			} catch (error) {
				return ((error as {issues?: {message: string}[]}).issues ?? []).map((i) => i.message)
			}
		}
		assert.deepEqual(problems({tap: 'much-too-long-name0'}).length, 1)
		assert.match(problems({tap: 'much-too-long-name0'})[0]!, /interface name/)
		assert.deepEqual(problems({tap: {name: 'ok', netns: 'a b'}}).length, 1)
		assert.match(problems({tap: {name: 'ok', netns: 'a b'}})[0]!, /network namespace/)
		assert.match(problems({tapp: 'x'}).join('\n'), /did you mean "tap"/)
		assert.deepEqual(problems({tap: {name: 'ok', netns: '/proc/1/ns/net', mac: '02:00:00:00:00:09'}}), [])
	})
})
