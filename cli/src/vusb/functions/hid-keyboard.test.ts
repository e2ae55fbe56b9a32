import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {UsbDevice} from '../usb/device.js'
import type {UrbCompletion, UrbRequest} from '../usb/device.js'
import {DescriptorType, splitDescriptors} from '../usb/descriptors.js'
import {UrbStatus, encodeSetup} from '../usbip/protocol.js'
import type {SetupPacket} from '../usbip/protocol.js'
import {CdcAcmFunction} from './cdc-acm.js'
import {SerialEcho} from './responders.js'
import {
	BOOT_KEYBOARD_REPORT_DESCRIPTOR,
	HidKeyboardError,
	HidKeyboardFunction,
	hidDescriptor,
	keyStrokesFor,
	keyboardReport,
} from './hid-keyboard.js'

let seqnum = 1

function submit(device: UsbDevice, urb: Partial<UrbRequest> & Pick<UrbRequest, 'endpoint' | 'direction'>): UrbCompletion | 'pending' {
	let result: UrbCompletion | 'pending' = 'pending'
	device.submit(
		{seqnum: seqnum++, setup: Buffer.alloc(8), data: Buffer.alloc(0), transferBufferLength: 0, transferFlags: 0, isochronous: false, ...urb},
		(c) => (result = c),
	)
	return result
}

function control(device: UsbDevice, setup: SetupPacket, data: Buffer = Buffer.alloc(0)): UrbCompletion {
	const isIn = (setup.requestType & 0x80) !== 0
	const result = submit(device, {
		endpoint: 0,
		direction: isIn ? 'in' : 'out',
		setup: encodeSetup(setup),
		data,
		transferBufferLength: isIn ? setup.length : data.length,
	})
	assert.notEqual(result, 'pending')
	return result as UrbCompletion
}

const setConfiguration: SetupPacket = {requestType: 0x00, request: 9, value: 1, index: 0, length: 0}
/** Class request to interface 0: 0xa1 IN, 0x21 OUT. */
const hidClass = (request: number, value: number, length: number, isIn: boolean): SetupPacket => ({
	requestType: isIn ? 0xa1 : 0x21,
	request,
	value,
	index: 0,
	length,
})

function keyboard(): {device: UsbDevice; kbd: HidKeyboardFunction} {
	const kbd = new HidKeyboardFunction({interfaceName: 'vusb keyboard'})
	const device = new UsbDevice({vendorId: 0x1209, productId: 0x0005, product: 'vusb keyboard', speed: 'full'}, [kbd])
	return {device, kbd}
}

/** Takes one report from the interrupt IN endpoint. */
function poll(device: UsbDevice, kbd: HidKeyboardFunction): UrbCompletion | 'pending' {
	return submit(device, {endpoint: kbd.endpointAddress & 0x0f, direction: 'in', transferBufferLength: 8})
}

describe('HID boot keyboard descriptors', () => {
	it('has the 63-byte report descriptor of HID 1.11 appendix B.1', () => {
		assert.equal(BOOT_KEYBOARD_REPORT_DESCRIPTOR.length, 63)
		assert.deepEqual([...BOOT_KEYBOARD_REPORT_DESCRIPTOR.subarray(0, 6)], [0x05, 0x01, 0x09, 0x06, 0xa1, 0x01])
		assert.equal(BOOT_KEYBOARD_REPORT_DESCRIPTOR.at(-1), 0xc0)
	})

	it('builds the 9-byte HID descriptor: bcdHID 1.11, one report descriptor of that length', () => {
		assert.deepEqual([...hidDescriptor(63)], [9, 0x21, 0x11, 0x01, 0, 1, 0x22, 63, 0])
		assert.throws(() => hidDescriptor(0), RangeError)
	})

	it('is a per-interface class device: interface 3/1/1, HID descriptor, one 8-byte interrupt IN endpoint', () => {
		const {device} = keyboard()
		const dev = control(device, {requestType: 0x80, request: 6, value: DescriptorType.DEVICE << 8, index: 0, length: 18})
		assert.deepEqual([...dev.data.subarray(4, 7)], [0, 0, 0], 'bDeviceClass/SubClass/Protocol 0')
		const config = control(device, {requestType: 0x80, request: 6, value: DescriptorType.CONFIGURATION << 8, index: 0, length: 255})
		const parts = splitDescriptors(config.data)
		assert.deepEqual(
			parts.map((p) => p.type),
			[DescriptorType.CONFIGURATION, DescriptorType.INTERFACE, 0x21, DescriptorType.ENDPOINT],
		)
		const iface = parts[1]!.bytes
		assert.deepEqual([...iface.subarray(2, 8)], [0, 0, 1, 3, 1, 1], 'interface 0, alt 0, 1 endpoint, class 3/1/1')
		assert.notEqual(iface[8], 0, 'iInterface names it')
		const ep = parts[3]!.bytes
		assert.equal(ep[2], 0x81)
		assert.equal(ep[3], 3, 'interrupt')
		assert.equal(ep.readUInt16LE(4), 8)
		assert.equal(ep[6], 10, 'full speed: 10 ms')
	})

	it('shares a composite with CDC functions behind an IAD', () => {
		const kbd = new HidKeyboardFunction()
		const device = new UsbDevice({vendorId: 1, productId: 2}, [new CdcAcmFunction({handler: new SerialEcho()}), kbd])
		const config = control(device, {requestType: 0x80, request: 6, value: DescriptorType.CONFIGURATION << 8, index: 0, length: 255})
		const iads = splitDescriptors(config.data).filter((p) => p.type === DescriptorType.INTERFACE_ASSOCIATION)
		assert.deepEqual([...iads[1]!.bytes.subarray(2, 7)], [2, 1, 3, 1, 1])
		assert.equal(kbd.endpointAddress, 0x83, 'after ACM notify 0x81 and bulk IN 0x82')
	})
})

describe('HID class requests', () => {
	it('answers GET_DESCRIPTOR(REPORT) and (HID) on the interface once configured, stalls before', () => {
		const {device} = keyboard()
		const report = {requestType: 0x81, request: 6, value: 0x2200, index: 0, length: 255}
		assert.equal(control(device, report).status, UrbStatus.EPIPE, 'not configured yet')
		control(device, setConfiguration)
		const got = control(device, report)
		assert.equal(got.status, 0)
		assert.deepEqual(got.data, BOOT_KEYBOARD_REPORT_DESCRIPTOR)
		assert.deepEqual(control(device, {...report, value: 0x2100}).data, hidDescriptor(63))
		assert.equal(control(device, {...report, value: 0x2300}).status, UrbStatus.EPIPE, 'no physical descriptor')
		assert.equal(control(device, {...report, index: 1}).status, UrbStatus.EPIPE, 'no interface 1')
	})

	it('SET_IDLE/GET_IDLE, SET_PROTOCOL/GET_PROTOCOL, GET_REPORT(input), LED SET_REPORT(output)', () => {
		const {device, kbd} = keyboard()
		control(device, setConfiguration)
		assert.equal(control(device, hidClass(0x0a, 0x0000, 0, false)).status, 0, 'SET_IDLE 0')
		assert.deepEqual([...control(device, hidClass(0x02, 0, 1, true)).data], [0])
		assert.equal(control(device, hidClass(0x0b, 0, 0, false)).status, 0, 'SET_PROTOCOL boot')
		assert.deepEqual([...control(device, hidClass(0x03, 0, 1, true)).data], [0])
		assert.equal(control(device, hidClass(0x0b, 2, 0, false)).status, UrbStatus.EPIPE, 'no protocol 2')
		assert.deepEqual(control(device, hidClass(0x01, 0x0100, 8, true)).data, keyboardReport(0))
		assert.equal(control(device, hidClass(0x09, 0x0200, 1, false), Buffer.from([0x02])).status, 0, 'Caps Lock LED')
		assert.equal(kbd.leds, 0x02)
		assert.deepEqual([...control(device, hidClass(0x01, 0x0200, 1, true)).data], [0x02])
		assert.equal(control(device, hidClass(0x09, 0x0300, 1, false), Buffer.from([1])).status, UrbStatus.EPIPE, 'no feature report')
		assert.equal(control(device, hidClass(0x09, 0x0200, 2, false), Buffer.from([1, 2])).status, UrbStatus.EPIPE, 'LED report is 1 byte')
		assert.equal(control(device, hidClass(0x01, 0x0101, 8, true)).status, UrbStatus.EPIPE, 'no report IDs')
	})
})

describe('typing', () => {
	it('maps US-layout ASCII to usages with shift', () => {
		assert.deepEqual(keyStrokesFor('aZ1!\n'), [
			{modifiers: 0, usage: 0x04},
			{modifiers: 0x02, usage: 0x1d},
			{modifiers: 0, usage: 0x1e},
			{modifiers: 0x02, usage: 0x1e},
			{modifiers: 0, usage: 0x28},
		])
		assert.deepEqual(keyStrokesFor(' -_/?~`'), [
			{modifiers: 0, usage: 0x2c},
			{modifiers: 0, usage: 0x2d},
			{modifiers: 0x02, usage: 0x2d},
			{modifiers: 0, usage: 0x38},
			{modifiers: 0x02, usage: 0x38},
			{modifiers: 0x02, usage: 0x35},
			{modifiers: 0, usage: 0x35},
		])
		// Every printable ASCII character has a key.
		let printable = ''
		for (let c = 0x20; c < 0x7f; c++) printable += String.fromCharCode(c)
		assert.equal(keyStrokesFor(printable).length, 95)
	})

	it('refuses characters without a key, naming them', () => {
		assert.throws(() => keyStrokesFor('café\u0001'), /"é", "\\u0001"/)
	})

	it('delivers a press and a release per character, in order, as the host polls', () => {
		const {device, kbd} = keyboard()
		assert.throws(() => kbd.type('a'), HidKeyboardError, 'not configured')
		control(device, setConfiguration)
		const first: {c?: UrbCompletion} = {}
		device.submit(
			{seqnum: seqnum++, endpoint: 1, direction: 'in', setup: Buffer.alloc(8), data: Buffer.alloc(0), transferBufferLength: 8, transferFlags: 0, isochronous: false},
			(c) => (first.c = c),
		)
		assert.ok(!first.c, 'nothing typed: the URB waits')
		assert.equal(kbd.type('Hi'), 4)
		const pressed = (first as {c?: UrbCompletion}).c
		assert.ok(pressed, 'the waiting URB took the first report')
		const rest = [0, 1, 2].map(() => (poll(device, kbd) as UrbCompletion).data)
		assert.deepEqual(
			[pressed.data, ...rest],
			[keyboardReport(0x02, [0x0b]), keyboardReport(0), keyboardReport(0, [0x0c]), keyboardReport(0)],
		)
		assert.equal(kbd.queuedReports, 0)
		assert.equal(kbd.reportsSent, 4)
		assert.equal(poll(device, kbd), 'pending')
		// GET_REPORT(input) shows the last state: all keys up.
		assert.deepEqual(control(device, hidClass(0x01, 0x0100, 8, true)).data, keyboardReport(0))
	})

	it('repeats the current report when an idle period passes (SET_IDLE non-zero)', async () => {
		const {device, kbd} = keyboard()
		control(device, setConfiguration)
		control(device, hidClass(0x0a, 0x0100, 0, false)) // 4 ms
		let got = undefined as UrbCompletion | undefined
		device.submit(
			{seqnum: seqnum++, endpoint: 1, direction: 'in', setup: Buffer.alloc(8), data: Buffer.alloc(0), transferBufferLength: 8, transferFlags: 0, isochronous: false},
			(c) => (got = c),
		)
		await new Promise((r) => setTimeout(r, 30))
		assert.deepEqual(got?.data, keyboardReport(0))
		control(device, {requestType: 0x00, request: 9, value: 0, index: 0, length: 0})
		assert.equal(kbd.isConfigured, false)
	})

	it('refuses text beyond the queue without queueing any of it', () => {
		const kbd = new HidKeyboardFunction({maxQueuedReports: 4})
		const device = new UsbDevice({vendorId: 1, productId: 2}, [kbd])
		control(device, setConfiguration)
		kbd.type('ab')
		assert.throws(() => kbd.type('c'), /do not fit/)
		assert.throws(() => kbd.type('\u00e9'), RangeError)
		assert.equal(kbd.queuedReports, 4)
	})
})
