import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {UsbDevice} from './device.js'
import type {UrbCompletion, UrbRequest} from './device.js'
import {DescriptorType, splitDescriptors} from './descriptors.js'
import {UrbFlag, UrbStatus, encodeSetup} from '../usbip/protocol.js'
import type {SetupPacket} from '../usbip/protocol.js'
import {CdcEcmFunction} from '../functions/cdc-ecm.js'
import type {FrameHandler, FramePort} from '../functions/cdc-ecm.js'
import {CdcAcmFunction, decodeLineCoding} from '../functions/cdc-acm.js'
import type {ControlLines, LineCoding, SerialHandler, SerialPort} from '../functions/cdc-acm.js'
import {CdcNotification, PacketFilter} from '../functions/cdc.js'

class RecordingFrames implements FrameHandler {
	port: FramePort | undefined
	readonly received: Buffer[] = []
	readonly activity: boolean[] = []
	attach(port: FramePort): void {
		this.port = port
	}
	frameFromHost(frame: Buffer): void {
		this.received.push(frame)
	}
	activeChanged(active: boolean): void {
		this.activity.push(active)
	}
}

class RecordingSerial implements SerialHandler {
	port: SerialPort | undefined
	readonly received: Buffer[] = []
	codings: LineCoding[] = []
	lines: ControlLines[] = []
	attach(port: SerialPort): void {
		this.port = port
	}
	bytesFromHost(data: Buffer): void {
		this.received.push(data)
	}
	lineCodingChanged(c: LineCoding): void {
		this.codings.push(c)
	}
	controlLinesChanged(l: ControlLines): void {
		this.lines.push(l)
	}
}

let seqnum = 1

/** Submits one URB and returns its completion, or 'pending' if it is still waiting. */
function submit(device: UsbDevice, urb: Partial<UrbRequest> & Pick<UrbRequest, 'endpoint' | 'direction'>): UrbCompletion | 'pending' {
	let result: UrbCompletion | 'pending' = 'pending'
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
	assert.notEqual(result, 'pending', 'control transfers complete at once')
	return result as UrbCompletion
}

const getDescriptor = (type: number, index: number, length: number): SetupPacket => ({
	requestType: 0x80,
	request: 6,
	value: (type << 8) | index,
	index: type === DescriptorType.STRING && index !== 0 ? 0x0409 : 0,
	length,
})
const setConfiguration = (value: number): SetupPacket => ({requestType: 0x00, request: 9, value, index: 0, length: 0})
const setInterface = (iface: number, alt: number): SetupPacket => ({requestType: 0x01, request: 11, value: alt, index: iface, length: 0})

function ecmDevice(speed: 'high' | 'full' = 'high'): {device: UsbDevice; ecm: CdcEcmFunction; frames: RecordingFrames} {
	const frames = new RecordingFrames()
	const ecm = new CdcEcmFunction({hostMac: '02:00:00:00:00:01', frameHandler: frames})
	const device = new UsbDevice(
		{vendorId: 0x1d6b, productId: 0x0104, manufacturer: 'usbvnet', product: 'vusb ECM', serial: 'VUSB0001', speed},
		[ecm],
	)
	return {device, ecm, frames}
}

function expectStall(c: UrbCompletion | 'pending', what: string): void {
	assert.notEqual(c, 'pending', what)
	assert.equal((c as UrbCompletion).status, UrbStatus.EPIPE, what)
}

describe('EP0 standard requests', () => {
	it('answers GET_DESCRIPTOR(DEVICE) truncated to wLength, as in the first 8-byte read', () => {
		const {device} = ecmDevice()
		const first = control(device, getDescriptor(DescriptorType.DEVICE, 0, 8))
		assert.equal(first.status, 0)
		assert.deepEqual([...first.data], [18, 1, 0, 2, 2, 0, 0, 64])
		const full = control(device, getDescriptor(DescriptorType.DEVICE, 0, 64))
		assert.equal(full.actualLength, 18)
		assert.equal(full.data.readUInt16LE(8), 0x1d6b)
	})

	it('fails a short IN transfer with -EREMOTEIO when the URB says URB_SHORT_NOT_OK', () => {
		const {device, ecm, frames} = ecmDevice()
		const setup = getDescriptor(DescriptorType.DEVICE, 0, 64)
		const short = submit(device, {
			endpoint: 0,
			direction: 'in',
			setup: encodeSetup(setup),
			transferBufferLength: 64,
			transferFlags: UrbFlag.SHORT_NOT_OK,
		}) as UrbCompletion
		assert.equal(short.status, UrbStatus.EREMOTEIO)
		assert.equal(short.actualLength, 18, 'the data still arrives')
		control(device, setConfiguration(1))
		control(device, setInterface(1, 1))
		frames.port!.sendToHost(Buffer.alloc(100, 1))
		const bulk = submit(device, {
			endpoint: ecm.endpointAddresses.bulkIn & 0x0f,
			direction: 'in',
			transferBufferLength: 512,
			transferFlags: UrbFlag.SHORT_NOT_OK,
		}) as UrbCompletion
		assert.equal(bulk.status, UrbStatus.EREMOTEIO)
	})

	it('answers GET_DESCRIPTOR(CONFIGURATION) with 9 bytes first, then the whole block', () => {
		const {device} = ecmDevice()
		const head = control(device, getDescriptor(DescriptorType.CONFIGURATION, 0, 9))
		assert.equal(head.data.length, 9)
		const total = head.data.readUInt16LE(2)
		const all = control(device, getDescriptor(DescriptorType.CONFIGURATION, 0, total))
		assert.equal(all.data.length, total)
		assert.doesNotThrow(() => splitDescriptors(all.data))
		expectStall(control(device, getDescriptor(DescriptorType.CONFIGURATION, 1, 9)), 'configuration index 1 does not exist')
	})

	it('serves LANGIDs, strings, and stalls on unknown string indices', () => {
		const {device} = ecmDevice()
		assert.deepEqual([...control(device, getDescriptor(DescriptorType.STRING, 0, 255)).data], [4, 3, 0x09, 0x04])
		const product = control(device, getDescriptor(DescriptorType.STRING, 2, 255)).data
		assert.equal(product.subarray(2).toString('utf16le'), 'vusb ECM')
		assert.equal(control(device, getDescriptor(DescriptorType.STRING, 2, 2)).data.length, 2)
		expectStall(control(device, getDescriptor(DescriptorType.STRING, 99, 255)), 'string 99')
	})

	it('has strings only in the LANGIDs of string 0, and enumerates as Linux reads them', () => {
		const {device} = ecmDevice()
		const string = (index: number, langId: number): UrbCompletion =>
			control(device, {requestType: 0x80, request: 6, value: (DescriptorType.STRING << 8) | index, index: langId, length: 255})
		// usb_get_langid: string 0 with wIndex 0, then every string in its first LANGID.
		const langIds = string(0, 0).data
		const first = langIds.readUInt16LE(2)
		assert.equal(first, 0x0409)
		assert.equal(string(1, first).data.subarray(2).toString('utf16le'), 'usbvnet')
		assert.equal(string(3, first).data.subarray(2).toString('utf16le'), 'VUSB0001')
		expectStall(string(2, 0x0407), 'German, which string 0 does not list')
		expectStall(string(2, 0), 'LANGID 0 for a string other than 0')
		assert.deepEqual([...string(0, 0x0407).data], [...langIds], 'string 0 is the same whatever wIndex says')
	})

	it('has a device qualifier and other-speed configuration only at high speed', () => {
		const high = ecmDevice('high').device
		const q = control(high, getDescriptor(DescriptorType.DEVICE_QUALIFIER, 0, 10))
		assert.deepEqual([q.data[0], q.data[1]], [10, 6])
		const other = control(high, getDescriptor(DescriptorType.OTHER_SPEED_CONFIGURATION, 0, 512)).data
		assert.equal(other[1], DescriptorType.OTHER_SPEED_CONFIGURATION)
		const bulk = splitDescriptors(other).filter((p) => p.type === DescriptorType.ENDPOINT && p.bytes[3] === 2)
		assert.deepEqual(bulk.map((p) => p.bytes.readUInt16LE(4)), [64, 64])

		const full = ecmDevice('full').device
		expectStall(control(full, getDescriptor(DescriptorType.DEVICE_QUALIFIER, 0, 10)), 'full-speed qualifier')
		expectStall(control(full, getDescriptor(DescriptorType.BOS, 0, 5)), 'BOS for a USB 2.0 device')
	})

	it('walks address, configuration and interface state', () => {
		const {device} = ecmDevice()
		assert.equal(control(device, {requestType: 0, request: 5, value: 12, index: 0, length: 0}).status, 0)
		assert.equal(device.deviceAddress, 12)
		expectStall(control(device, {requestType: 0, request: 5, value: 200, index: 0, length: 0}), 'address above 127')
		assert.deepEqual([...control(device, {requestType: 0x80, request: 8, value: 0, index: 0, length: 1}).data], [0])
		expectStall(control(device, {requestType: 0x81, request: 10, value: 0, index: 1, length: 1}), 'GET_INTERFACE before configuration')
		expectStall(control(device, setConfiguration(2)), 'configuration 2')
		assert.equal(control(device, setConfiguration(1)).status, 0)
		assert.deepEqual([...control(device, {requestType: 0x80, request: 8, value: 0, index: 0, length: 1}).data], [1])
		assert.equal(control(device, setInterface(1, 1)).status, 0)
		assert.deepEqual([...control(device, {requestType: 0x81, request: 10, value: 0, index: 1, length: 1}).data], [1])
		expectStall(control(device, setInterface(1, 2)), 'alternate 2 does not exist')
		expectStall(control(device, setInterface(0, 1)), 'the comm interface has only alternate 0')
		expectStall(control(device, setInterface(7, 0)), 'interface 7 does not exist')
		// SET_CONFIGURATION resets alternates to 0.
		control(device, setConfiguration(1))
		assert.deepEqual([...control(device, {requestType: 0x81, request: 10, value: 0, index: 1, length: 1}).data], [0])
	})

	it('reports GET_STATUS and halts endpoints with SET/CLEAR_FEATURE(ENDPOINT_HALT)', () => {
		const {device, ecm} = ecmDevice()
		assert.deepEqual([...control(device, {requestType: 0x80, request: 0, value: 0, index: 0, length: 2}).data], [0, 0])
		control(device, setConfiguration(1))
		control(device, setInterface(1, 1))
		const bulkOut = ecm.endpointAddresses.bulkOut
		const status = (): number[] => [...control(device, {requestType: 0x82, request: 0, value: 0, index: bulkOut, length: 2}).data]
		assert.deepEqual(status(), [0, 0])
		assert.equal(control(device, {requestType: 0x02, request: 3, value: 0, index: bulkOut, length: 0}).status, 0)
		assert.deepEqual(status(), [1, 0])
		expectStall(submit(device, {endpoint: bulkOut, direction: 'out', data: Buffer.from('x')}), 'halted endpoint')
		assert.equal(control(device, {requestType: 0x02, request: 1, value: 0, index: bulkOut, length: 0}).status, 0)
		assert.deepEqual(status(), [0, 0])
		const sent = submit(device, {endpoint: bulkOut, direction: 'out', data: Buffer.from('x')})
		assert.equal((sent as UrbCompletion).status, 0)
		// Halting an IN endpoint fails the URB already waiting on it.
		const bulkIn = ecm.endpointAddresses.bulkIn
		let waiting: UrbCompletion | undefined
		device.submit(
			{seqnum: 4000, endpoint: bulkIn & 0x0f, direction: 'in', setup: Buffer.alloc(8), data: Buffer.alloc(0), transferBufferLength: 2048, transferFlags: 0, isochronous: false},
			(c) => (waiting = c),
		)
		assert.equal(waiting, undefined)
		assert.equal(control(device, {requestType: 0x02, request: 3, value: 0, index: bulkIn, length: 0}).status, 0)
		assert.equal((waiting as UrbCompletion | undefined)?.status, UrbStatus.EPIPE)
		assert.equal(control(device, {requestType: 0x02, request: 1, value: 0, index: bulkIn, length: 0}).status, 0)
		// Neither remote wakeup (USB/IP cannot carry a resume, so it is not offered) nor test mode.
		expectStall(control(device, {requestType: 0x00, request: 3, value: 1, index: 0, length: 0}), 'SET_FEATURE(DEVICE_REMOTE_WAKEUP)')
		expectStall(control(device, {requestType: 0x00, request: 1, value: 1, index: 0, length: 0}), 'CLEAR_FEATURE(DEVICE_REMOTE_WAKEUP)')
		assert.deepEqual([...control(device, {requestType: 0x80, request: 0, value: 0, index: 0, length: 2}).data], [0, 0])
		const config = control(device, {requestType: 0x80, request: 6, value: 0x0200, index: 0, length: 9}).data
		assert.equal(config[7]! & 0x20, 0, 'bmAttributes without remote wakeup')
		expectStall(control(device, {requestType: 0x00, request: 3, value: 2, index: 0x0300, length: 0}), 'TEST_MODE')
		expectStall(control(device, {requestType: 0x82, request: 0, value: 0, index: 0x8f, length: 2}), 'status of a missing endpoint')
	})

	it('resets only the selected interface\'s endpoints on SET_INTERFACE', () => {
		const {device, ecm} = ecmDevice()
		control(device, setConfiguration(1))
		control(device, setInterface(1, 1))
		const {notify, bulkIn} = ecm.endpointAddresses
		const halt = (address: number): number => control(device, {requestType: 0x02, request: 3, value: 0, index: address, length: 0}).status
		const halted = (address: number): number =>
			control(device, {requestType: 0x82, request: 0, value: 0, index: address, length: 2}).data[0]!
		assert.equal(halt(notify), 0)
		assert.equal(halt(bulkIn), 0)
		control(device, setInterface(1, 1))
		assert.equal(halted(bulkIn), 0, 'the data interface\'s own endpoint is reset')
		assert.equal(halted(notify), 1, 'the communication interface\'s notification endpoint stays halted')
		expectStall(submit(device, {endpoint: notify & 0x0f, direction: 'in', transferBufferLength: 16}), 'still halted')
		control(device, setInterface(0, 0))
		assert.equal(halted(notify), 0)
	})

	it('stalls unknown requests, SET_DESCRIPTOR and class requests to the device', () => {
		const {device} = ecmDevice()
		expectStall(control(device, {requestType: 0x00, request: 0x33, value: 0, index: 0, length: 0}), 'unknown standard request')
		expectStall(control(device, {requestType: 0x00, request: 7, value: 0x0100, index: 0, length: 0}), 'SET_DESCRIPTOR')
		control(device, setConfiguration(1))
		expectStall(control(device, {requestType: 0x21, request: 0x43, value: 0, index: 5, length: 0}), 'class request to a missing interface')
		expectStall(control(device, {requestType: 0x20, request: 0x43, value: 0, index: 0, length: 0}), 'class request to the device')
		expectStall(control(device, {requestType: 0x40, request: 0x01, value: 0, index: 0, length: 0}), 'vendor request')
	})

	it('stalls class requests to an endpoint, whose number is no interface', () => {
		const {device, ecm} = ecmDevice()
		control(device, setConfiguration(1))
		control(device, setInterface(1, 1))
		const bulkOut = ecm.endpointAddresses.bulkOut
		// SET_ETHERNET_PACKET_FILTER to the data interface's OUT endpoint (1, like the data interface's number).
		assert.equal(bulkOut & 0x0f, 1)
		expectStall(control(device, {requestType: 0x22, request: 0x43, value: 0x0f, index: bulkOut, length: 0}), 'class request to an endpoint')
		assert.equal(control(device, {requestType: 0x21, request: 0x43, value: 0x0f, index: 0, length: 0}).status, 0)
	})

	it('fails data endpoints before configuration and for isochronous URBs', () => {
		const {device, ecm} = ecmDevice()
		expectStall(submit(device, {endpoint: 2, direction: 'in', transferBufferLength: 512}), 'unconfigured')
		control(device, setConfiguration(1))
		expectStall(submit(device, {endpoint: ecm.endpointAddresses.bulkIn & 0x0f, direction: 'in', transferBufferLength: 512}), 'data alt 0 has no endpoints')
		control(device, setInterface(1, 1))
		expectStall(submit(device, {endpoint: 2, direction: 'in', transferBufferLength: 512, isochronous: true}), 'iso on a bulk endpoint')
		expectStall(submit(device, {endpoint: 9, direction: 'in', transferBufferLength: 512}), 'missing endpoint')
	})
})

describe('CDC ECM function', () => {
	function activeEcm(): ReturnType<typeof ecmDevice> {
		const t = ecmDevice()
		control(t.device, setConfiguration(1))
		control(t.device, setInterface(1, 0))
		control(t.device, setInterface(1, 1))
		return t
	}

	it('announces the link on the notification endpoint after SET_INTERFACE(data, 1)', () => {
		const {device, ecm} = activeEcm()
		const ep = ecm.endpointAddresses.notify & 0x0f
		const connection = submit(device, {endpoint: ep, direction: 'in', transferBufferLength: 16}) as UrbCompletion
		// bmRequestType A1, NETWORK_CONNECTION, wValue 1 (connected), wIndex 0 (comm interface), wLength 0
		assert.deepEqual([...connection.data], [0xa1, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00])
		const speed = submit(device, {endpoint: ep, direction: 'in', transferBufferLength: 16}) as UrbCompletion
		assert.equal(speed.data[1], CdcNotification.CONNECTION_SPEED_CHANGE)
		assert.equal(speed.data.readUInt16LE(6), 8)
		assert.equal(speed.data.readUInt32LE(8), 480_000_000)
		// Nothing more to say: the next interrupt URB waits, and a link change completes it.
		let later: UrbCompletion | undefined
		device.submit(
			{seqnum: 999, endpoint: ep, direction: 'in', setup: Buffer.alloc(8), data: Buffer.alloc(0), transferBufferLength: 16, transferFlags: 0, isochronous: false},
			(c) => (later = c),
		)
		assert.equal(later, undefined)
		ecm.setConnected(false)
		assert.deepEqual([...later!.data.subarray(0, 4)], [0xa1, 0x00, 0x00, 0x00])
	})

	it('handles SET_ETHERNET_PACKET_FILTER and stalls what it declared unsupported', () => {
		const {device, ecm} = activeEcm()
		const filter = PacketFilter.DIRECTED | PacketFilter.BROADCAST | PacketFilter.ALL_MULTICAST
		assert.equal(control(device, {requestType: 0x21, request: 0x43, value: filter, index: 0, length: 0}).status, 0)
		assert.equal(ecm.packetFilter, filter)
		expectStall(control(device, {requestType: 0xa1, request: 0x44, value: 1, index: 0, length: 4}), 'GET_ETHERNET_STATISTIC')
		expectStall(control(device, {requestType: 0x21, request: 0x41, value: 1, index: 0, length: 0}), 'PM pattern filter')
	})

	it('carries frames both ways and waits for the host-bound ones', () => {
		const {device, ecm, frames} = activeEcm()
		const bulkIn = ecm.endpointAddresses.bulkIn & 0x0f
		const bulkOut = ecm.endpointAddresses.bulkOut
		// OUT: a 600-byte frame arrives as one URB ending in a short packet.
		const frame = Buffer.alloc(600, 0xab)
		assert.equal((submit(device, {endpoint: bulkOut, direction: 'out', data: frame}) as UrbCompletion).actualLength, 600)
		assert.deepEqual(frames.received, [frame])
		// OUT: a transfer of whole packets continues until a short one, or ends on URB_ZERO_PACKET.
		submit(device, {endpoint: bulkOut, direction: 'out', data: Buffer.alloc(512, 1)})
		assert.equal(frames.received.length, 1)
		submit(device, {endpoint: bulkOut, direction: 'out', data: Buffer.alloc(10, 2)})
		assert.equal(frames.received[1]!.length, 522)
		submit(device, {endpoint: bulkOut, direction: 'out', data: Buffer.alloc(1024, 3), transferFlags: UrbFlag.ZERO_PACKET})
		assert.equal(frames.received[2]!.length, 1024)
		// IN: a URB submitted before any frame waits, and completes when one is sent.
		let got: UrbCompletion | undefined
		device.submit(
			{seqnum: 5000, endpoint: bulkIn, direction: 'in', setup: Buffer.alloc(8), data: Buffer.alloc(0), transferBufferLength: 2048, transferFlags: 0, isochronous: false},
			(c) => (got = c),
		)
		assert.equal(got, undefined)
		assert.equal(device.pendingUrbCount, 1)
		assert.equal(frames.port!.sendToHost(Buffer.from('frame-for-host')), true)
		assert.equal(got!.data.toString(), 'frame-for-host')
		// A frame larger than the host's buffer spans URBs in whole packets.
		frames.port!.sendToHost(Buffer.alloc(1500, 7))
		const part1 = submit(device, {endpoint: bulkIn, direction: 'in', transferBufferLength: 1024}) as UrbCompletion
		const part2 = submit(device, {endpoint: bulkIn, direction: 'in', transferBufferLength: 1024}) as UrbCompletion
		assert.deepEqual([part1.actualLength, part2.actualLength], [1024, 476])
		// A buffer that is not whole packets (cdc_ether's is wMaxSegmentSize,
		// 1514) would babble on a longer frame: it is dropped, the next one
		// comes whole, and nothing stalls, even for a buffer below one packet.
		frames.port!.sendToHost(Buffer.alloc(1518, 8))
		frames.port!.sendToHost(Buffer.alloc(100, 9))
		const next = submit(device, {endpoint: bulkIn, direction: 'in', transferBufferLength: 1514}) as UrbCompletion
		assert.deepEqual([next.status, next.actualLength, next.data[0]], [0, 100, 9])
		frames.port!.sendToHost(Buffer.alloc(600, 10))
		frames.port!.sendToHost(Buffer.alloc(60, 11))
		const small = submit(device, {endpoint: bulkIn, direction: 'in', transferBufferLength: 200}) as UrbCompletion
		assert.deepEqual([small.status, small.actualLength, small.data[0]], [0, 60, 11])
	})

	it('starts a fresh frame on an endpoint after CLEAR_FEATURE(ENDPOINT_HALT)', () => {
		const {device, ecm, frames} = activeEcm()
		const {bulkIn, bulkOut} = ecm.endpointAddresses
		const clearHalt = (address: number): number => control(device, {requestType: 0x02, request: 1, value: 0, index: address, length: 0}).status
		// OUT: half a frame (a whole packet) arrives, the host resets the endpoint, a new frame follows.
		submit(device, {endpoint: bulkOut, direction: 'out', data: Buffer.alloc(512, 1)})
		frames.port!.sendToHost(Buffer.alloc(1500, 7))
		const part1 = submit(device, {endpoint: bulkIn & 0x0f, direction: 'in', transferBufferLength: 1024}) as UrbCompletion
		assert.equal(part1.actualLength, 1024)
		assert.equal(clearHalt(bulkOut), 0)
		submit(device, {endpoint: bulkOut, direction: 'out', data: Buffer.alloc(60, 2)})
		assert.deepEqual(frames.received, [Buffer.alloc(60, 2)], 'the half frame is not glued to the next one')
		// Resetting OUT left IN alone: the frame there goes on where it was.
		const part2 = submit(device, {endpoint: bulkIn & 0x0f, direction: 'in', transferBufferLength: 1024}) as UrbCompletion
		assert.equal(part2.actualLength, 476)
		// IN: a frame cut off by the reset is dropped, the next URB gets the next frame whole.
		frames.port!.sendToHost(Buffer.alloc(1500, 8))
		frames.port!.sendToHost(Buffer.alloc(100, 9))
		submit(device, {endpoint: bulkIn & 0x0f, direction: 'in', transferBufferLength: 1024})
		const dropped = ecm.stats.framesDropped
		assert.equal(clearHalt(bulkIn), 0)
		assert.equal(ecm.stats.framesDropped, dropped + 1)
		const next = submit(device, {endpoint: bulkIn & 0x0f, direction: 'in', transferBufferLength: 1024}) as UrbCompletion
		assert.deepEqual([next.actualLength, next.data[0]], [100, 9])
	})

	it('takes class requests on the communication interface only', () => {
		const {device, ecm} = activeEcm()
		const {comm, data} = ecm.interfaceNumbers
		const filter = PacketFilter.DIRECTED | PacketFilter.BROADCAST | PacketFilter.PROMISCUOUS
		expectStall(control(device, {requestType: 0x21, request: 0x43, value: filter, index: data, length: 0}), 'packet filter to the data interface')
		assert.notEqual(ecm.packetFilter, filter)
		assert.equal(control(device, {requestType: 0x21, request: 0x43, value: filter, index: comm, length: 0}).status, 0)
		assert.equal(ecm.packetFilter, filter)
	})

	it('stalls SET_ETHERNET_MULTICAST_FILTERS, having announced no perfect filters', () => {
		const {device, ecm} = activeEcm()
		const config = control(device, getDescriptor(DescriptorType.CONFIGURATION, 0, 512)).data
		const ethernet = splitDescriptors(config).find((p) => p.type === DescriptorType.CS_INTERFACE && p.bytes[2] === 0x0f)!
		assert.equal(ethernet.bytes.readUInt16LE(10), 0, 'wNumberMCFilters')
		const group = Buffer.from([0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb])
		expectStall(control(device, {requestType: 0x21, request: 0x40, value: 1, index: 0, length: 6}, group), 'one multicast filter')
		expectStall(control(device, {requestType: 0x21, request: 0x40, value: 0, index: 0, length: 0}), 'an empty list')
		assert.equal(ecm.multicastFilters.length, 0)
	})

	it('lets a waiting URB be unlinked, so it never completes', () => {
		const {device, ecm, frames} = activeEcm()
		let completed = false
		device.submit(
			{seqnum: 6000, endpoint: ecm.endpointAddresses.bulkIn & 0x0f, direction: 'in', setup: Buffer.alloc(8), data: Buffer.alloc(0), transferBufferLength: 2048, transferFlags: 0, isochronous: false},
			() => (completed = true),
		)
		assert.equal(device.unlink(6000), true)
		assert.equal(device.unlink(6000), false)
		frames.port!.sendToHost(Buffer.from('late'))
		assert.equal(completed, false)
	})

	it('drops host-bound frames while the host is not listening and resets on alternate 0', () => {
		const {device, frames} = ecmDevice()
		assert.equal(frames.port!.sendToHost(Buffer.from('x')), false)
		control(device, setConfiguration(1))
		control(device, setInterface(1, 1))
		assert.equal(frames.port!.active, true)
		let failed: UrbCompletion | undefined
		device.submit(
			{seqnum: 7000, endpoint: 2, direction: 'in', setup: Buffer.alloc(8), data: Buffer.alloc(0), transferBufferLength: 2048, transferFlags: 0, isochronous: false},
			(c) => (failed = c),
		)
		control(device, setInterface(1, 0))
		assert.equal(failed!.status, UrbStatus.ESHUTDOWN, 'URBs on endpoints that went away fail')
		assert.equal(frames.port!.active, false)
		assert.deepEqual(frames.activity, [true, false])
	})
})

describe('CDC ACM function', () => {
	function acmDevice(): {device: UsbDevice; acm: CdcAcmFunction; serial: RecordingSerial} {
		const serial = new RecordingSerial()
		const acm = new CdcAcmFunction({handler: serial})
		const device = new UsbDevice({vendorId: 0x1d6b, productId: 0x0106, speed: 'full'}, [acm])
		control(device, setConfiguration(1))
		return {device, acm, serial}
	}

	it('takes and reports line coding', () => {
		const {device, serial} = acmDevice()
		// 9600 baud, 1 stop bit, even parity, 7 data bits.
		const coding = Buffer.from([0x80, 0x25, 0x00, 0x00, 0x00, 0x02, 0x07])
		assert.equal(control(device, {requestType: 0x21, request: 0x20, value: 0, index: 0, length: 7}, coding).status, 0)
		assert.deepEqual(serial.codings, [{baudRate: 9600, stopBits: 0, parity: 2, dataBits: 7}])
		const back = control(device, {requestType: 0xa1, request: 0x21, value: 0, index: 0, length: 7})
		assert.deepEqual(back.data, coding)
		expectStall(
			control(device, {requestType: 0x21, request: 0x20, value: 0, index: 0, length: 7}, Buffer.from([0, 0, 0, 0, 9, 9, 9])),
			'nonsense line coding',
		)
		assert.equal(decodeLineCoding(Buffer.alloc(3)), undefined)
	})

	it('reports control lines and answers DTR with carrier on the notification endpoint', () => {
		const {device, acm, serial} = acmDevice()
		assert.equal(control(device, {requestType: 0x21, request: 0x22, value: 3, index: 0, length: 0}).status, 0)
		assert.deepEqual(serial.lines, [{dtr: true, rts: true}])
		const state = submit(device, {endpoint: acm.endpointAddresses.notify & 0x0f, direction: 'in', transferBufferLength: 16}) as UrbCompletion
		assert.deepEqual([...state.data], [0xa1, 0x20, 0, 0, 0, 0, 2, 0, 0x03, 0x00])
	})

	/** bmCapabilities of the ACM functional descriptor (subtype 2). */
	function acmCapabilities(device: UsbDevice): number {
		const config = control(device, getDescriptor(DescriptorType.CONFIGURATION, 0, 512)).data
		return splitDescriptors(config).find((p) => p.type === DescriptorType.CS_INTERFACE && p.bytes[2] === 0x02)!.bytes[3]!
	}

	it('stalls SEND_BREAK unless bmCapabilities announces it, which only a handler that takes breaks gets', () => {
		const {device} = acmDevice()
		assert.equal(acmCapabilities(device), 0x02, 'D1 only: line coding, control lines, serial state')
		expectStall(control(device, {requestType: 0x21, request: 0x23, value: 250, index: 0, length: 0}), 'SEND_BREAK without D2')
		expectStall(control(device, {requestType: 0x21, request: 0x02, value: 1, index: 0, length: 2}, Buffer.from([1, 0])), 'SET_COMM_FEATURE without D0')

		const breaks: number[] = []
		const breaking = new (class extends RecordingSerial {
			breakRequested(durationMs: number): void {
				breaks.push(durationMs)
			}
		})()
		const withBreak = new UsbDevice({vendorId: 0x1d6b, productId: 0x0106, speed: 'full'}, [new CdcAcmFunction({handler: breaking})])
		control(withBreak, setConfiguration(1))
		assert.equal(acmCapabilities(withBreak), 0x06, 'D1 and D2')
		assert.equal(control(withBreak, {requestType: 0x21, request: 0x23, value: 250, index: 0, length: 0}).status, 0)
		assert.deepEqual(breaks, [250])
	})

	it('takes class requests on the communication interface only', () => {
		const {device, acm, serial} = acmDevice()
		const data = acm.interfaceNumbers.data
		const coding = Buffer.from([0x80, 0x25, 0x00, 0x00, 0x00, 0x00, 0x08])
		expectStall(control(device, {requestType: 0x21, request: 0x20, value: 0, index: data, length: 7}, coding), 'SET_LINE_CODING')
		expectStall(control(device, {requestType: 0xa1, request: 0x21, value: 0, index: data, length: 7}), 'GET_LINE_CODING')
		expectStall(control(device, {requestType: 0x21, request: 0x22, value: 3, index: data, length: 0}), 'SET_CONTROL_LINE_STATE')
		assert.deepEqual([serial.codings, serial.lines], [[], []])
	})

	it('moves bytes both ways, coalescing host-bound writes up to the URB size', () => {
		const {device, acm, serial} = acmDevice()
		submit(device, {endpoint: acm.endpointAddresses.bulkOut, direction: 'out', data: Buffer.from('AT\r')})
		assert.equal(Buffer.concat(serial.received).toString(), 'AT\r')
		serial.port!.writeToHost(Buffer.from('hello '))
		serial.port!.writeToHost(Buffer.from('world'))
		const first = submit(device, {endpoint: acm.endpointAddresses.bulkIn & 0x0f, direction: 'in', transferBufferLength: 8}) as UrbCompletion
		const second = submit(device, {endpoint: acm.endpointAddresses.bulkIn & 0x0f, direction: 'in', transferBufferLength: 64}) as UrbCompletion
		assert.equal(first.data.toString() + second.data.toString(), 'hello world')
		assert.equal(first.data.length, 8)
	})
})
