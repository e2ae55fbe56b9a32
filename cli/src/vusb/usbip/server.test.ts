import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import {UsbipServer} from './server.js'
import type {VusbLogger} from './server.js'
import {ImportedDevice, UsbipClientError, importRemoteDevice, listRemoteDevices} from './client.js'
import {OpStatus, USBIP_VERSION, UrbStatus, encodeMessage, encodeSetup} from './protocol.js'
import type {SetupPacket} from './protocol.js'
import {UsbDevice} from '../usb/device.js'
import {DescriptorType, splitDescriptors} from '../usb/descriptors.js'
import {CdcEcmFunction} from '../functions/cdc-ecm.js'
import type {FrameHandler, FramePort} from '../functions/cdc-ecm.js'
import {CdcAcmFunction} from '../functions/cdc-acm.js'
import type {SerialHandler, SerialPort} from '../functions/cdc-acm.js'

class LoopFrames implements FrameHandler {
	port: FramePort | undefined
	readonly received: Buffer[] = []
	attach(port: FramePort): void {
		this.port = port
	}
	frameFromHost(frame: Buffer): void {
		this.received.push(frame)
	}
}

class EchoSerial implements SerialHandler {
	port: SerialPort | undefined
	attach(port: SerialPort): void {
		this.port = port
	}
	bytesFromHost(data: Buffer): void {
		this.port?.writeToHost(Buffer.from(data.toString().toUpperCase()))
	}
}

class CapturingLogger implements VusbLogger {
	readonly lines: string[] = []
	debug(): void {}
	info(m: string): void {
		this.lines.push(m)
	}
	warn(m: string): void {
		this.lines.push(m)
	}
	error(m: string): void {
		this.lines.push(m)
	}
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 2000): Promise<void> {
	const deadline = Date.now() + timeoutMs
	while (!condition()) {
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
		await new Promise((r) => setTimeout(r, 5))
	}
}

function socketClosed(dev: ImportedDevice): Promise<void> {
	return new Promise((resolve) => dev.socket.once('close', () => resolve()))
}

const getDescriptor = (type: number, index: number, length: number): SetupPacket => ({
	requestType: 0x80,
	request: 6,
	value: (type << 8) | index,
	index: type === DescriptorType.STRING && index !== 0 ? 0x0409 : 0,
	length,
})

/** What the Linux hub driver and cdc_ether do before traffic flows, minus SET_ADDRESS (vhci answers that itself). */
async function enumerate(dev: ImportedDevice): Promise<Buffer> {
	const head = await dev.control(getDescriptor(DescriptorType.DEVICE, 0, 64))
	assert.equal(head.status, 0)
	const configHead = await dev.control(getDescriptor(DescriptorType.CONFIGURATION, 0, 9))
	const config = await dev.control(getDescriptor(DescriptorType.CONFIGURATION, 0, configHead.data.readUInt16LE(2)))
	assert.equal((await dev.control({requestType: 0, request: 9, value: 1, index: 0, length: 0})).status, 0)
	return config.data
}

describe('USB/IP server over loopback TCP', () => {
	const logger = new CapturingLogger()
	const server = new UsbipServer({port: 0, logger})
	const frames = new LoopFrames()
	const ecmDevice = new UsbDevice(
		{vendorId: 0x1d6b, productId: 0x0104, manufacturer: 'usbvnet', product: 'vusb ECM', serial: 'E1'},
		[new CdcEcmFunction({hostMac: '02:00:00:00:00:01', frameHandler: frames})],
	)
	const acmDevice = new UsbDevice({vendorId: 0x1d6b, productId: 0x0106, speed: 'full'}, [
		new CdcAcmFunction({handler: new EchoSerial()}),
	])
	let port = 0
	const host = '127.0.0.1'

	before(async () => {
		assert.equal(server.plug(ecmDevice), '1-1')
		assert.equal(server.plug(acmDevice), '1-2')
		port = (await server.listen()).port
	})

	after(() => server.close())

	it('lists the exported devices with their interfaces', async () => {
		const devices = await listRemoteDevices(host, port)
		assert.deepEqual(
			devices.map((d) => [d.device.busid, d.device.busnum, d.device.speed, d.device.idVendor, d.device.idProduct]),
			[
				['1-1', 1, 3, 0x1d6b, 0x0104],
				['1-2', 1, 2, 0x1d6b, 0x0106],
			],
		)
		assert.deepEqual(
			devices[0]!.interfaces.map((i) => [i.interfaceClass, i.interfaceSubClass]),
			[
				[2, 6],
				[10, 0],
			],
		)
	})

	it('imports the ECM device, enumerates it and moves frames both ways', async () => {
		const dev = await importRemoteDevice(host, port, '1-1')
		try {
			assert.equal(dev.info.speed, 3)
			assert.equal(dev.devid, (1 << 16) | dev.info.devnum)
			const config = await enumerate(dev)
			const ethernet = splitDescriptors(config).find((p) => p.type === DescriptorType.CS_INTERFACE && p.bytes[2] === 0x0f)
			const mac = await dev.control(getDescriptor(DescriptorType.STRING, ethernet!.bytes[3]!, 255))
			assert.equal(mac.data.subarray(2).toString('utf16le'), '020000000001')
			assert.equal((await dev.control({requestType: 0x01, request: 11, value: 1, index: 1, length: 0})).status, 0)

			const notification = await dev.submit({endpoint: 1, direction: 'in', length: 16}).result
			assert.deepEqual([...notification.data.subarray(0, 4)], [0xa1, 0x00, 0x01, 0x00])

			const out = Buffer.concat([Buffer.alloc(12, 0xff), Buffer.from([0x08, 0x06]), Buffer.alloc(46, 0x11)])
			const sent = await dev.submit({endpoint: 1, direction: 'out', data: out}).result
			assert.equal(sent.status, 0)
			assert.equal(sent.actualLength, out.length)
			assert.deepEqual(frames.received, [out])

			const waiting = dev.submit({endpoint: 2, direction: 'in', length: 2048})
			await new Promise((r) => setTimeout(r, 20))
			assert.equal(ecmDevice.pendingUrbCount, 1, 'the bulk IN URB waits for a frame')
			const reply = Buffer.from('frame from the emulated network')
			assert.equal(frames.port!.sendToHost(reply), true)
			const received = await waiting.result
			assert.equal(received.status, 0)
			assert.deepEqual(received.data, reply)
		} finally {
			dev.close()
		}
	})

	it('unlinks a waiting URB with -ECONNRESET and a finished one with 0', async () => {
		const dev = await importRemoteDevice(host, port, '1-1')
		try {
			await enumerate(dev)
			await dev.control({requestType: 0x01, request: 11, value: 1, index: 1, length: 0})
			const waiting = dev.submit({endpoint: 2, direction: 'in', length: 2048})
			const unlinked = await dev.unlink(waiting.seqnum)
			assert.equal(unlinked.status, UrbStatus.ECONNRESET)
			dev.forget(waiting.seqnum)
			assert.equal(ecmDevice.pendingUrbCount, 0)

			const done = dev.submit({endpoint: 1, direction: 'out', data: Buffer.alloc(60, 1)})
			await done.result
			assert.equal((await dev.unlink(done.seqnum)).status, 0)
		} finally {
			dev.close()
		}
	})

	it('refuses a second import of a busy device and an unknown busid, and frees a device on disconnect', async () => {
		const first = await importRemoteDevice(host, port, '1-2')
		await assert.rejects(importRemoteDevice(host, port, '1-2'), (e: unknown) => e instanceof UsbipClientError && /status 2/.test(e.message))
		await assert.rejects(importRemoteDevice(host, port, '9-9'), (e: unknown) => e instanceof UsbipClientError && /status 4/.test(e.message))
		first.close()
		await waitFor(() => server.exported().find((e) => e.busid === '1-2')?.attachedTo === undefined, 'release of 1-2')
		const again = await importRemoteDevice(host, port, '1-2')
		try {
			await enumerate(again)
			// ACM alone: notification 0x81, bulk IN 0x82, bulk OUT 0x01.
			const serialOut = await again.submit({endpoint: 1, direction: 'out', data: Buffer.from('ping')}).result
			assert.equal(serialOut.status, 0)
			const echoed = await again.submit({endpoint: 2, direction: 'in', length: 64}).result
			assert.equal(echoed.data.toString(), 'PING')
		} finally {
			again.close()
		}
	})

	it('closes the importer when the device is unplugged, and can plug it again', async () => {
		const extra = new UsbDevice({vendorId: 0x1234, productId: 0x5678}, [
			new CdcAcmFunction({handler: new EchoSerial()}),
		])
		const busid = server.plug(extra)
		assert.equal(busid, '1-3')
		const dev = await importRemoteDevice(host, port, busid)
		const closed = socketClosed(dev)
		assert.equal(server.unplug(busid), true)
		await closed
		assert.equal(dev.closed, true)
		assert.ok(logger.lines.some((l) => l.includes(`device ${busid} unplugged`)))
		assert.equal((await listRemoteDevices(host, port)).length, 2)
		assert.equal(server.plug(extra), '1-3')
		assert.equal(server.unplug('1-3'), true)
	})

	it('closes a connection whose URB names another device than the one it imported', async () => {
		const good = await importRemoteDevice(host, port, '1-1')
		await enumerate(good)
		const bad = await importRemoteDevice(host, port, '1-2')
		const badClosed = socketClosed(bad)
		const wrong = encodeMessage({
			kind: 'CMD_SUBMIT',
			seqnum: 1,
			devid: good.devid,
			direction: 1,
			ep: 0,
			transferFlags: 0,
			transferBufferLength: 18,
			startFrame: 0,
			numberOfPackets: 0,
			interval: 0,
			setup: encodeSetup(getDescriptor(DescriptorType.DEVICE, 0, 18)),
			data: Buffer.alloc(0),
			isoPackets: [],
		})
		bad.socket.write(wrong)
		await badClosed
		assert.ok(logger.lines.some((l) => l.includes(`CMD_SUBMIT for devid 0x${good.devid.toString(16)}, but 1-2 is 0x${bad.devid.toString(16)}`)))
		const still = await good.control(getDescriptor(DescriptorType.DEVICE, 0, 18))
		assert.equal(still.data.length, 18)
		good.close()
	})

	it('closes only the connection that sent a malformed message, with a logged reason', async () => {
		const good = await importRemoteDevice(host, port, '1-1')
		await enumerate(good)
		const bad = await importRemoteDevice(host, port, '1-2')
		const badClosed = socketClosed(bad)
		// Reach into the socket: a URB header with an impossible direction.
		const socket = bad.socket
		const header = Buffer.alloc(48)
		header.writeUInt32BE(1, 0)
		header.writeUInt32BE(2, 12)
		socket.write(header)
		await badClosed
		assert.ok(logger.lines.some((l) => l.includes('malformed message (bad-field)')))
		await waitFor(() => server.exported().find((e) => e.busid === '1-2')?.attachedTo === undefined, 'release of 1-2')
		const still = await good.control(getDescriptor(DescriptorType.DEVICE, 0, 18))
		assert.equal(still.data.length, 18)
		good.close()
	})
})

describe('USB/IP server under garbage', () => {
	it('survives truncated and random input on many connections while a good one keeps working', async () => {
		const logger = new CapturingLogger()
		const server = new UsbipServer({port: 0, logger, maxTransferLength: 64 * 1024})
		const frames = new LoopFrames()
		server.plug(new UsbDevice({vendorId: 1, productId: 2}, [new CdcEcmFunction({hostMac: '02:00:00:00:00:09', frameHandler: frames})]))
		server.plug(new UsbDevice({vendorId: 1, productId: 3}, [new CdcAcmFunction({handler: new EchoSerial()})]))
		const {port} = await server.listen()
		try {
			const good = await importRemoteDevice('127.0.0.1', port, '1-1')
			await enumerate(good)

			let seed = 1234
			const rand = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 8
			const valid = [
				encodeMessage({kind: 'OP_REQ_DEVLIST', version: USBIP_VERSION}),
				encodeMessage({kind: 'OP_REQ_IMPORT', version: USBIP_VERSION, busid: '1-2'}),
			]
			const payloads: Buffer[] = []
			for (let i = 0; i < 24; i++) {
				const kind = i % 4
				if (kind === 0) {
					// Pure noise.
					const b = Buffer.alloc(1 + (rand() % 600))
					for (let j = 0; j < b.length; j++) b[j] = rand() & 0xff
					payloads.push(b)
				} else if (kind === 1) {
					// A valid message cut short, then the connection just ends.
					const m = valid[i % 2]!
					payloads.push(m.subarray(0, rand() % m.length))
				} else if (kind === 2) {
					// An import followed by URB-phase noise.
					const b = Buffer.alloc(48 + (rand() % 200))
					for (let j = 0; j < b.length; j++) b[j] = rand() & 0xff
					payloads.push(Buffer.concat([valid[1]!, b]))
				} else {
					// A correct header promising more than the limit allows.
					const h = Buffer.alloc(48)
					h.writeUInt32BE(1, 0)
					h.writeUInt32BE(0x7fffffff, 0x18)
					payloads.push(Buffer.concat([valid[1]!, h]))
				}
			}
			await Promise.all(
				payloads.map(
					(payload, i) =>
						new Promise<void>((resolve) => {
							const s = net.connect({host: '127.0.0.1', port}, () => {
								// Dribble some of them in small pieces to exercise reassembly.
								if (i % 3 === 0) {
									for (let at = 0; at < payload.length; at += 7) s.write(payload.subarray(at, at + 7))
								} else s.write(payload)
								setTimeout(() => s.end(), 30)
							})
							s.on('data', () => {})
							s.on('error', () => resolve())
							s.on('close', () => resolve())
						}),
				),
			)

			// The good connection and new clients are unaffected.
			const check = await good.control(getDescriptor(DescriptorType.DEVICE, 0, 18))
			assert.equal(check.data.readUInt16LE(10), 2)
			await good.control({requestType: 0x01, request: 11, value: 1, index: 1, length: 0})
			const frame = Buffer.alloc(100, 0x42)
			assert.equal((await good.submit({endpoint: 1, direction: 'out', data: frame}).result).status, 0)
			assert.deepEqual(frames.received.at(-1), frame)
			await waitFor(() => server.connectionCount === 1, 'garbage connections to close')
			const listed = await listRemoteDevices('127.0.0.1', port)
			assert.equal(listed.length, 2)
			assert.ok(logger.lines.some((l) => l.includes('malformed message')))
			good.close()
			assert.equal((await importRemoteDevice('127.0.0.1', port, '1-2').then((d) => (d.close(), OpStatus.OK))), OpStatus.OK)
		} finally {
			await server.close()
		}
	})
})
