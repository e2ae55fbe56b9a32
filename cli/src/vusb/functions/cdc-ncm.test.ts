import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {NtbError, buildNtb16, parseNtb16} from './ncm-ntb.js'
import {CdcNcmFunction} from './cdc-ncm.js'
import type {FrameHandler, FramePort} from './cdc-net.js'
import {UsbDevice} from '../usb/device.js'
import type {UrbCompletion, UrbRequest} from '../usb/device.js'
import {DescriptorType, splitDescriptors} from '../usb/descriptors.js'
import {UrbStatus, encodeSetup} from '../usbip/protocol.js'
import type {SetupPacket} from '../usbip/protocol.js'

const le16 = (n: number): number[] => [n & 0xff, (n >>> 8) & 0xff]
const ascii = (s: string): number[] => [...Buffer.from(s, 'latin1')]
const LAYOUT = {divisor: 4, remainder: 0, ndpAlignment: 4}

function frame(fill: number, length: number): Buffer {
	return Buffer.alloc(length, fill)
}

/**
 * An NTB16 laid out by hand from NCM 1.0 tables 3-1, 3-3: NTH16 at 0, the
 * first NDP16 at 12 chaining to a second NDP16 at 28, datagrams at 44 and 60.
 */
function handNtb(): Buffer {
	const d1 = new Array<number>(14).fill(0x11)
	const d2 = new Array<number>(16).fill(0x22)
	const bytes = [
		...ascii('NCMH'), // 0 dwSignature
		...le16(12), // 4 wHeaderLength
		...le16(5), // 6 wSequence
		...le16(76), // 8 wBlockLength
		...le16(12), // 10 wNdpIndex
		...ascii('NCM0'), // 12 NDP16 dwSignature (no CRC)
		...le16(16), // 16 wLength: header + one pointer + null entry
		...le16(28), // 18 wNextNdpIndex
		...le16(44), ...le16(14), // 20 datagram 0: index, length
		...le16(0), ...le16(0), // 24 null entry
		...ascii('NCM0'), // 28 second NDP16
		...le16(16), // 32 wLength
		...le16(0), // 34 wNextNdpIndex: last
		...le16(60), ...le16(16), // 36 datagram 1
		...le16(0), ...le16(0), // 40 null entry
		...d1, 0, 0, // 44 datagram 0 and padding to 60
		...d2, // 60 datagram 1, ends at 76
	]
	return Buffer.from(bytes)
}

describe('NTB16', () => {
	it('parses a hand-built block with chained NDPs', () => {
		const ntb = handNtb()
		assert.equal(ntb.length, 76)
		const parsed = parseNtb16(ntb)
		assert.equal(parsed.sequence, 5)
		assert.deepEqual(parsed.datagrams, [frame(0x11, 14), frame(0x22, 16)])
	})

	it('builds blocks that follow the layout and parse back', () => {
		const frames = [frame(1, 60), frame(2, 61), frame(3, 1514)]
		const ntb = buildNtb16(frames, 9, LAYOUT)
		assert.deepEqual([...ntb.subarray(0, 4)], ascii('NCMH'))
		assert.equal(ntb.readUInt16LE(4), 12)
		assert.equal(ntb.readUInt16LE(6), 9)
		assert.equal(ntb.readUInt16LE(8), ntb.length)
		const ndp = ntb.readUInt16LE(10)
		assert.equal(ndp % 4, 0)
		assert.deepEqual([...ntb.subarray(ndp, ndp + 4)], ascii('NCM0'))
		assert.equal(ntb.readUInt16LE(ndp + 4), 8 + 4 * 4, 'three pointers and the null entry')
		for (let i = 0; i < 3; i++) assert.equal(ntb.readUInt16LE(ndp + 8 + 4 * i) % 4, 0, 'datagrams start 4-aligned')
		assert.deepEqual(parseNtb16(ntb).datagrams, frames)
	})

	it('rejects blocks whose fields point outside or loop', () => {
		const cases: Array<[string, (b: Buffer) => void]> = [
			['bad signature', (b) => b.writeUInt32LE(0x12345678, 0)],
			['bad header length', (b) => b.writeUInt16LE(16, 4)],
			['block longer than received', (b) => b.writeUInt16LE(200, 8)],
			['block shorter than a header', (b) => b.writeUInt16LE(4, 8)],
			['no NDP', (b) => b.writeUInt16LE(0, 10)],
			['NDP inside the header', (b) => b.writeUInt16LE(8, 10)],
			['misaligned NDP', (b) => b.writeUInt16LE(14, 10)],
			['NDP past the end', (b) => b.writeUInt16LE(72, 10)],
			['bad NDP signature', (b) => b.writeUInt32LE(0, 12)],
			['NDP too short', (b) => b.writeUInt16LE(8, 16)],
			['NDP loop', (b) => b.writeUInt16LE(12, 34)],
			['datagram past the end', (b) => b.writeUInt16LE(70, 36)],
			['datagram over the header', (b) => b.writeUInt16LE(4, 20)],
		]
		for (const [name, corrupt] of cases) {
			const b = handNtb()
			corrupt(b)
			assert.throws(() => parseNtb16(b), NtbError, name)
		}
		assert.throws(() => parseNtb16(handNtb(), 64), NtbError, 'larger than dwNtbOutMaxSize')
	})

	it('skips runt datagrams and strips the CRC of NCM1 tables', () => {
		const b = handNtb()
		b.writeUInt16LE(10, 22) // datagram 0 becomes 10 bytes: shorter than an Ethernet header
		b.write('NCM1', 28, 'latin1') // second NDP carries CRCs
		assert.deepEqual(parseNtb16(b).datagrams, [frame(0x22, 12)])
	})

	it('survives random corruption with NtbError or a result inside the block', () => {
		let seed = 99
		const rand = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 8
		const base = buildNtb16([frame(1, 100), frame(2, 200), frame(3, 50)], 1, LAYOUT)
		for (let round = 0; round < 3000; round++) {
			const b = Buffer.from(base.subarray(0, rand() % 2 === 0 ? base.length : rand() % base.length))
			for (let k = 0; k < 1 + (rand() % 4); k++) if (b.length > 0) b[rand() % b.length] = rand() & 0xff
			try {
				const {datagrams} = parseNtb16(b)
				for (const d of datagrams) assert.ok(d.length <= b.length)
			} catch (err) {
				assert.ok(err instanceof NtbError, `round ${round}: ${String(err)}`)
			}
		}
	})
})

class Frames implements FrameHandler {
	port: FramePort | undefined
	readonly received: Buffer[] = []
	attach(port: FramePort): void {
		this.port = port
	}
	frameFromHost(f: Buffer): void {
		this.received.push(f)
	}
}

let seqnum = 1
function submit(device: UsbDevice, urb: Partial<UrbRequest> & Pick<UrbRequest, 'endpoint' | 'direction'>): UrbCompletion | undefined {
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
		(c) => (result = c),
	)
	return result
}

function control(device: UsbDevice, setup: SetupPacket, data = Buffer.alloc(0)): UrbCompletion {
	const isIn = (setup.requestType & 0x80) !== 0
	return submit(device, {
		endpoint: 0,
		direction: isIn ? 'in' : 'out',
		setup: encodeSetup(setup),
		data,
		transferBufferLength: isIn ? setup.length : data.length,
	})!
}

describe('CDC NCM function', () => {
	function ncmDevice(): {device: UsbDevice; ncm: CdcNcmFunction; frames: Frames} {
		const frames = new Frames()
		const ncm = new CdcNcmFunction({hostMac: '02:00:00:00:00:05', frameHandler: frames})
		const device = new UsbDevice({vendorId: 0x1d6b, productId: 0x0105}, [ncm])
		return {device, ncm, frames}
	}

	it('describes itself the way cdc_ncm expects', () => {
		const {device} = ncmDevice()
		const parts = splitDescriptors(device.configurationDescriptor())
		const interfaces = parts.filter((p) => p.type === DescriptorType.INTERFACE).map((p) => [...p.bytes.subarray(2, 8)])
		assert.deepEqual(interfaces, [
			[0, 0, 1, 0x02, 0x0d, 0],
			[1, 0, 0, 0x0a, 0x00, 0x01],
			[1, 1, 2, 0x0a, 0x00, 0x01],
		])
		const functional = parts.filter((p) => p.type === DescriptorType.CS_INTERFACE).map((p) => p.bytes[2])
		assert.deepEqual(functional, [0x00, 0x06, 0x0f, 0x1a])
	})

	it('answers the NCM class requests cdc_ncm sends during bind', () => {
		const {device, ncm} = ncmDevice()
		control(device, {requestType: 0, request: 9, value: 1, index: 0, length: 0})
		const params = control(device, {requestType: 0xa1, request: 0x80, value: 0, index: 0, length: 28}).data
		assert.equal(params.length, 28)
		assert.equal(params.readUInt16LE(0), 28)
		assert.equal(params.readUInt16LE(2), 1, 'NTB16 only')
		assert.equal(params.readUInt32LE(4), 16384)
		assert.equal(params.readUInt32LE(16), 16384)
		const size = Buffer.alloc(4)
		size.writeUInt32LE(8192, 0)
		assert.equal(control(device, {requestType: 0x21, request: 0x86, value: 0, index: 0, length: 4}, size).status, 0)
		assert.equal(ncm.negotiatedNtbInMaxSize, 8192)
		size.writeUInt32LE(100, 0)
		assert.equal(control(device, {requestType: 0x21, request: 0x86, value: 0, index: 0, length: 4}, size).status, UrbStatus.EPIPE)
		assert.equal(control(device, {requestType: 0x21, request: 0x84, value: 1, index: 0, length: 0}).status, UrbStatus.EPIPE, 'NTB32')
		assert.equal(control(device, {requestType: 0x21, request: 0x84, value: 0, index: 0, length: 0}).status, 0)
		assert.equal(control(device, {requestType: 0x21, request: 0x43, value: 0x0c, index: 0, length: 0}).status, 0)
		// Selecting the data interface's alternate 1 keeps the negotiated size; alternate 0 resets it.
		control(device, {requestType: 0x01, request: 11, value: 1, index: 1, length: 0})
		assert.equal(ncm.negotiatedNtbInMaxSize, 8192)
		control(device, {requestType: 0x01, request: 11, value: 0, index: 1, length: 0})
		assert.equal(ncm.negotiatedNtbInMaxSize, 16384)
	})

	it('announces the speed before the connection, as NCM 1.0 section 7.1 asks', () => {
		const {device, ncm} = ncmDevice()
		control(device, {requestType: 0, request: 9, value: 1, index: 0, length: 0})
		control(device, {requestType: 0x01, request: 11, value: 1, index: 1, length: 0})
		const notify = ncm.endpointAddresses.notify & 0x0f
		const first = submit(device, {endpoint: notify, direction: 'in', transferBufferLength: 16})!
		const second = submit(device, {endpoint: notify, direction: 'in', transferBufferLength: 16})!
		// bNotificationCode: 0x2a CONNECTION_SPEED_CHANGE, then 0x00 NETWORK_CONNECTION (wValue 1).
		assert.deepEqual([first.data[1], first.data.length], [0x2a, 16])
		assert.deepEqual([...second.data], [0xa1, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00])
	})

	it('takes class requests on the communication interface only', () => {
		const {device, ncm} = ncmDevice()
		control(device, {requestType: 0, request: 9, value: 1, index: 0, length: 0})
		const {comm, data} = ncm.interfaceNumbers
		const size = Buffer.alloc(4)
		size.writeUInt32LE(8192, 0)
		const requests: Array<[string, SetupPacket, typeof size?]> = [
			['GET_NTB_PARAMETERS', {requestType: 0xa1, request: 0x80, value: 0, index: data, length: 28}],
			['SET_NTB_INPUT_SIZE', {requestType: 0x21, request: 0x86, value: 0, index: data, length: 4}, size],
			['SET_NTB_FORMAT', {requestType: 0x21, request: 0x84, value: 0, index: data, length: 0}],
			['SET_ETHERNET_PACKET_FILTER', {requestType: 0x21, request: 0x43, value: 0x0c, index: data, length: 0}],
		]
		for (const [name, setup, body] of requests) assert.equal(control(device, setup, body).status, UrbStatus.EPIPE, name)
		assert.equal(ncm.negotiatedNtbInMaxSize, 16384)
		assert.equal(control(device, {requestType: 0x21, request: 0x86, value: 0, index: comm, length: 4}, size).status, 0)
		assert.equal(ncm.negotiatedNtbInMaxSize, 8192)
	})

	it('drops a half-received NTB when the host resets the OUT endpoint', () => {
		const {device, ncm, frames} = ncmDevice()
		control(device, {requestType: 0, request: 9, value: 1, index: 0, length: 0})
		control(device, {requestType: 0x01, request: 11, value: 1, index: 1, length: 0})
		const bulkOut = ncm.endpointAddresses.bulkOut
		const ntb = buildNtb16([frame(0xc1, 1500)], 0, LAYOUT)
		// The first packet of an NTB, then CLEAR_FEATURE(ENDPOINT_HALT) on bulk OUT.
		submit(device, {endpoint: bulkOut, direction: 'out', data: ntb.subarray(0, 512)})
		assert.equal(control(device, {requestType: 0x02, request: 1, value: 0, index: bulkOut, length: 0}).status, 0)
		submit(device, {endpoint: bulkOut, direction: 'out', data: buildNtb16([frame(0xc2, 60)], 1, LAYOUT)})
		assert.deepEqual(frames.received, [frame(0xc2, 60)])
		assert.equal(ncm.ncmStats.badNtbs, 0, 'the new NTB was not read as the old one\'s rest')
	})

	it('unpacks OUT NTBs and packs queued frames into IN NTBs', () => {
		const {device, ncm, frames} = ncmDevice()
		control(device, {requestType: 0, request: 9, value: 1, index: 0, length: 0})
		control(device, {requestType: 0x01, request: 11, value: 1, index: 1, length: 0})
		const bulkOut = ncm.endpointAddresses.bulkOut
		const bulkIn = ncm.endpointAddresses.bulkIn & 0x0f

		const out = buildNtb16([frame(0xa1, 60), frame(0xa2, 1000)], 0, LAYOUT)
		assert.equal(submit(device, {endpoint: bulkOut, direction: 'out', data: out})!.status, 0)
		assert.deepEqual(frames.received, [frame(0xa1, 60), frame(0xa2, 1000)])

		// An NTB that exactly fills whole packets ends by its wBlockLength, without a ZLP.
		const exact = buildNtb16([frame(0xb1, 1024 - 12 - 16)], 1, LAYOUT)
		assert.equal(exact.length, 1024)
		submit(device, {endpoint: bulkOut, direction: 'out', data: exact})
		assert.equal(frames.received.length, 3)

		// Garbage costs only itself.
		submit(device, {endpoint: bulkOut, direction: 'out', data: Buffer.from('NCMH nonsense that is short')})
		assert.equal(ncm.ncmStats.badNtbs, 1)

		for (const f of [frame(1, 60), frame(2, 600), frame(3, 1514)]) frames.port!.sendToHost(f)
		const inNtb = submit(device, {endpoint: bulkIn, direction: 'in', transferBufferLength: 16384})!
		assert.equal(inNtb.status, 0)
		assert.deepEqual(parseNtb16(inNtb.data).datagrams, [frame(1, 60), frame(2, 600), frame(3, 1514)])

		// A small URB takes as many whole frames as fit, leaving the rest queued.
		for (const f of [frame(4, 1200), frame(5, 1200)]) frames.port!.sendToHost(f)
		const first = submit(device, {endpoint: bulkIn, direction: 'in', transferBufferLength: 2048})!
		assert.deepEqual(parseNtb16(first.data).datagrams, [frame(4, 1200)])
		const second = submit(device, {endpoint: bulkIn, direction: 'in', transferBufferLength: 2048})!
		assert.deepEqual(parseNtb16(second.data).datagrams, [frame(5, 1200)])
		assert.equal(parseNtb16(second.data).sequence, parseNtb16(first.data).sequence + 1)
	})
})
