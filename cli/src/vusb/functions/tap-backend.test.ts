import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {TapFrameHandler, passesPacketFilter} from './tap-backend.js'
import type {TapLink} from './tap-backend.js'
import {CdcEcmFunction} from './cdc-ecm.js'
import {PacketFilter} from './cdc.js'
import {UsbDevice} from '../usb/device.js'
import type {UrbCompletion, UrbRequest} from '../usb/device.js'
import {encodeSetup} from '../usbip/protocol.js'
import type {SetupPacket} from '../usbip/protocol.js'

const HOST = '02:00:00:00:00:01'
const hostMac = Buffer.from('020000000001', 'hex')
const broadcast = Buffer.alloc(6, 0xff)
const multicast = Buffer.from('01005e000001', 'hex')
const other = Buffer.from('020000000002', 'hex')

function ethernet(destination: Buffer, length = 60, fill = 0x5a): Buffer {
	const f = Buffer.alloc(length, fill)
	destination.copy(f, 0)
	Buffer.from('02000000aaaa', 'hex').copy(f, 6)
	f.writeUInt16BE(0x0800, 12)
	return f
}

class FakeTap implements TapLink {
	readonly written: Buffer[] = []
	readonly carrier: boolean[] = []
	refuse = false
	closed = false
	toHost: (frames: Buffer[]) => void = () => {}
	fail: (error: Error) => void = () => {}
	write(frame: Buffer): boolean {
		if (this.refuse) return false
		this.written.push(frame)
		return true
	}
	setCarrier(on: boolean): void {
		this.carrier.push(on)
	}
	close(): Promise<void> {
		this.closed = true
		return Promise.resolve()
	}
}

function handlerWithTap(maxSegmentSize?: number): {handler: TapFrameHandler; tap: FakeTap; errors: Error[]} {
	const tap = new FakeTap()
	const errors: Error[] = []
	const handler = new TapFrameHandler({
		hostMac: HOST,
		...(maxSegmentSize === undefined ? {} : {maxSegmentSize}),
		open: (toHost, fail) => {
			tap.toHost = toHost
			tap.fail = fail
			return tap
		},
		onError: (e) => errors.push(e),
	})
	return {handler, tap, errors}
}

describe('packet filter', () => {
	const none = Buffer.alloc(0)
	it('passes directed frames to the host MAC only with DIRECTED', () => {
		assert.equal(passesPacketFilter(PacketFilter.DIRECTED, hostMac, none, ethernet(hostMac)), true)
		assert.equal(passesPacketFilter(PacketFilter.DIRECTED, hostMac, none, ethernet(other)), false)
		assert.equal(passesPacketFilter(PacketFilter.BROADCAST, hostMac, none, ethernet(hostMac)), false)
	})
	it('passes broadcast only with BROADCAST', () => {
		assert.equal(passesPacketFilter(PacketFilter.BROADCAST, hostMac, none, ethernet(broadcast)), true)
		assert.equal(passesPacketFilter(PacketFilter.DIRECTED | PacketFilter.ALL_MULTICAST, hostMac, none, ethernet(broadcast)), false)
	})
	it('passes multicast with ALL_MULTICAST, or MULTICAST and a listed address', () => {
		assert.equal(passesPacketFilter(PacketFilter.ALL_MULTICAST, hostMac, none, ethernet(multicast)), true)
		assert.equal(passesPacketFilter(PacketFilter.MULTICAST, hostMac, none, ethernet(multicast)), false)
		assert.equal(passesPacketFilter(PacketFilter.MULTICAST, hostMac, Buffer.concat([other, multicast]), ethernet(multicast)), true)
		assert.equal(passesPacketFilter(PacketFilter.DIRECTED | PacketFilter.BROADCAST, hostMac, none, ethernet(multicast)), false)
	})
	it('passes everything when promiscuous', () => {
		for (const d of [hostMac, other, broadcast, multicast]) assert.equal(passesPacketFilter(PacketFilter.PROMISCUOUS, hostMac, none, ethernet(d)), true)
	})
})

let seqnum = 1
function submit(device: UsbDevice, urb: Partial<UrbRequest> & Pick<UrbRequest, 'endpoint' | 'direction'>, done?: (c: UrbCompletion) => void): UrbCompletion | undefined {
	let result: UrbCompletion | undefined
	device.submit(
		{
			seqnum: seqnum++,
			setup: Buffer.alloc(8),
			data: Buffer.alloc(0),
			transferBufferLength: urb.data?.length ?? 0,
			transferFlags: 0,
			isochronous: false,
			...urb,
		},
		(c) => {
			result = c
			done?.(c)
		},
	)
	return result
}

function control(device: UsbDevice, setup: SetupPacket): UrbCompletion {
	return submit(device, {endpoint: 0, direction: 'out', setup: encodeSetup(setup), transferBufferLength: 0})!
}

const SET_CONFIGURATION = {requestType: 0x00, request: 9, value: 1, index: 0, length: 0}
const DATA_ALT = (alt: number): SetupPacket => ({requestType: 0x01, request: 11, value: alt, index: 1, length: 0})
const FILTER = (filter: number): SetupPacket => ({requestType: 0x21, request: 0x43, value: filter, index: 0, length: 0})

describe('TAP backend of an ECM function', () => {
	function ecm(): {device: UsbDevice; fn: CdcEcmFunction; handler: TapFrameHandler; tap: FakeTap} {
		const {handler, tap} = handlerWithTap()
		const fn = new CdcEcmFunction({hostMac: HOST, frameHandler: handler})
		const device = new UsbDevice({vendorId: 0x1209, productId: 0x0010}, [fn])
		return {device, fn, handler, tap}
	}

	it('has carrier while the host has the data interface up with a packet filter', () => {
		const {device, handler, tap} = ecm()
		assert.deepEqual(tap.carrier, [], 'off from the start (the TAP opens with carrier off)')
		control(device, SET_CONFIGURATION)
		assert.equal(handler.linkUp, false, 'configured, data interface at alternate 0')
		control(device, DATA_ALT(1))
		assert.equal(handler.linkUp, true)
		control(device, FILTER(0))
		assert.equal(handler.linkUp, false, 'a zero filter: the host wants nothing')
		control(device, FILTER(PacketFilter.DIRECTED | PacketFilter.BROADCAST))
		assert.equal(handler.linkUp, true)
		control(device, DATA_ALT(0))
		assert.equal(handler.linkUp, false)
		control(device, DATA_ALT(1))
		device.reset() // what detach, unplug and a dropped connection do
		assert.equal(handler.linkUp, false)
		assert.deepEqual(tap.carrier, [true, false, true, false, true, false])
	})

	it('moves frames both ways', () => {
		const {device, fn, tap} = ecm()
		control(device, SET_CONFIGURATION)
		control(device, DATA_ALT(1))
		const {bulkIn, bulkOut} = fn.endpointAddresses
		const out = ethernet(other, 100, 0x33)
		assert.equal(submit(device, {endpoint: bulkOut & 0x0f, direction: 'out', data: out})!.status, 0)
		assert.deepEqual(tap.written, [out])
		const frames = [ethernet(hostMac, 60, 1), ethernet(broadcast, 1514, 2)]
		tap.toHost(frames)
		const got: Buffer[] = []
		for (let i = 0; i < 2; i++) submit(device, {endpoint: bulkIn & 0x0f, direction: 'in', transferBufferLength: 2048}, (c) => got.push(c.data))
		assert.deepEqual(got, frames)
	})

	it('drops and counts runts, oversized, unwanted and early frames without failing', () => {
		const {device, fn, handler, tap} = ecm()
		tap.toHost([ethernet(hostMac)])
		assert.equal(handler.stats.linkDown, 1, 'the host is not listening yet')
		control(device, SET_CONFIGURATION)
		control(device, DATA_ALT(1))
		const {bulkOut} = fn.endpointAddresses
		const send = (frame: Buffer): number => submit(device, {endpoint: bulkOut & 0x0f, direction: 'out', data: frame})!.status
		assert.equal(send(Buffer.alloc(13, 1)), 0, 'a runt from the host still completes its URB')
		assert.equal(send(ethernet(other, 1519)), 0)
		assert.equal(send(ethernet(other, 1518)), 0, 'a VLAN-tagged full frame passes')
		assert.equal(tap.written.length, 1)
		tap.refuse = true
		assert.equal(send(ethernet(other, 200)), 0)
		tap.toHost([Buffer.alloc(10), ethernet(hostMac, 1519), ethernet(other), ethernet(multicast)])
		assert.deepEqual(handler.stats, {toTap: 1, fromTap: 0, runts: 2, tooLong: 2, filtered: 2, linkDown: 1, queueFull: 0, writeErrors: 1})
	})

	it('follows a larger wMaxSegmentSize', () => {
		const {handler, tap} = handlerWithTap(9014)
		handler.frameFromHost(ethernet(other, 9018))
		handler.frameFromHost(ethernet(other, 9019))
		assert.equal(tap.written.length, 1)
		assert.equal(handler.stats.tooLong, 1)
	})

	it('reports a reader failure once and closes the TAP', async () => {
		const {handler, tap, errors} = handlerWithTap()
		tap.fail(new Error('gone'))
		tap.fail(new Error('gone again'))
		assert.deepEqual(errors.map((e) => e.message), ['gone'])
		await handler.close()
		assert.equal(tap.closed, true)
	})

	it('is re-attached by a rebuilt function and follows the new one', () => {
		const {handler, tap} = handlerWithTap()
		const first = new CdcEcmFunction({hostMac: HOST, frameHandler: handler})
		const d1 = new UsbDevice({vendorId: 0x1209, productId: 0x0010}, [first])
		control(d1, SET_CONFIGURATION)
		control(d1, DATA_ALT(1))
		assert.equal(handler.linkUp, true)
		const second = new CdcEcmFunction({hostMac: HOST, frameHandler: handler})
		new UsbDevice({vendorId: 0x1209, productId: 0x0010}, [second])
		assert.equal(handler.linkUp, false, 'the new function is not up yet')
		assert.deepEqual(tap.carrier, [true, false])
	})
})
