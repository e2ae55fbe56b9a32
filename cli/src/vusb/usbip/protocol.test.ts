import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {
	ISO_PACKET_DESCRIPTOR_LENGTH,
	OpStatus,
	ProtocolError,
	USBIP_VERSION,
	UrbFlag,
	UrbStatus,
	UsbipStreamParser,
	decodeClientUrb,
	decodeOpReply,
	decodeOpRequest,
	decodeServerUrb,
	decodeSetup,
	encodeMessage,
	encodeSetup,
} from './protocol.js'
import type {CmdSubmit, RetSubmit, UsbDeviceInfo, UsbipMessage} from './protocol.js'

// Byte builders: every multi-byte USB/IP field is big-endian.
const be16 = (n: number): number[] => [(n >>> 8) & 0xff, n & 0xff]
const be32 = (n: number): number[] => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]
const field = (text: string, size: number): number[] => {
	const out = new Array<number>(size).fill(0)
	for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i)
	return out
}

/** struct usbip_usb_device, 312 bytes, laid out by hand from usbip_protocol.rst. */
function handDevice(): number[] {
	return [
		...field('/sys/devices/platform/vusb/usb1/1-2', 256), // 0x000 path[256]
		...field('1-2', 32), // 0x100 busid[32]
		...be32(1), // 0x120 busnum
		...be32(2), // 0x124 devnum
		...be32(3), // 0x128 speed: USB_SPEED_HIGH
		...be16(0x1d6b), // 0x12c idVendor
		...be16(0x0104), // 0x12e idProduct
		...be16(0x0100), // 0x130 bcdDevice
		0x02, // 0x132 bDeviceClass (CDC)
		0x00, // 0x133 bDeviceSubClass
		0x00, // 0x134 bDeviceProtocol
		0x00, // 0x135 bConfigurationValue
		0x01, // 0x136 bNumConfigurations
		0x02, // 0x137 bNumInterfaces
	]
}

const handDeviceInfo: UsbDeviceInfo = {
	path: '/sys/devices/platform/vusb/usb1/1-2',
	busid: '1-2',
	busnum: 1,
	devnum: 2,
	speed: 3,
	idVendor: 0x1d6b,
	idProduct: 0x0104,
	bcdDevice: 0x0100,
	deviceClass: 2,
	deviceSubClass: 0,
	deviceProtocol: 0,
	configurationValue: 0,
	numConfigurations: 1,
	numInterfaces: 2,
}

function isProtocolError(reason?: string): (err: unknown) => boolean {
	return (err: unknown) => err instanceof ProtocolError && (reason === undefined || err.reason === reason)
}

/** Deterministic PRNG so a failing fuzz case can be replayed. */
function prng(seed: number): () => number {
	let s = seed >>> 0
	return () => {
		s = (s * 1664525 + 1013904223) >>> 0
		return s
	}
}

const sampleSubmit: CmdSubmit = {
	kind: 'CMD_SUBMIT',
	seqnum: 7,
	devid: 0x00010002,
	direction: 0,
	ep: 2,
	transferFlags: UrbFlag.ZERO_PACKET,
	transferBufferLength: 5,
	startFrame: 0,
	numberOfPackets: 0,
	interval: 0,
	setup: Buffer.alloc(8),
	data: Buffer.from('hello'),
	isoPackets: [],
}

const everyKind: UsbipMessage[] = [
	{kind: 'OP_REQ_DEVLIST', version: USBIP_VERSION},
	{
		kind: 'OP_REP_DEVLIST',
		version: USBIP_VERSION,
		status: 0,
		devices: [
			{
				device: handDeviceInfo,
				interfaces: [
					{interfaceClass: 2, interfaceSubClass: 6, interfaceProtocol: 0},
					{interfaceClass: 10, interfaceSubClass: 0, interfaceProtocol: 0},
				],
			},
		],
	},
	{kind: 'OP_REQ_IMPORT', version: USBIP_VERSION, busid: '1-2'},
	{kind: 'OP_REP_IMPORT', version: USBIP_VERSION, status: 0, device: handDeviceInfo},
	sampleSubmit,
	{
		kind: 'RET_SUBMIT',
		seqnum: 8,
		devid: 0,
		direction: 0,
		ep: 0,
		status: UrbStatus.EPIPE,
		actualLength: 0,
		startFrame: 0,
		numberOfPackets: 0,
		errorCount: 0,
		data: Buffer.alloc(0),
		isoPackets: [],
	},
	{kind: 'CMD_UNLINK', seqnum: 9, devid: 0x00010002, direction: 0, ep: 0, unlinkSeqnum: 7},
	{kind: 'RET_UNLINK', seqnum: 9, devid: 0, direction: 0, ep: 0, status: UrbStatus.ECONNRESET},
]

describe('USB/IP op messages', () => {
	it('decodes OP_REQ_DEVLIST from its 8 documented bytes', () => {
		const bytes = Buffer.from([...be16(0x0111), ...be16(0x8005), ...be32(0)])
		const {message, length} = decodeOpRequest(bytes)
		assert.deepEqual(message, {kind: 'OP_REQ_DEVLIST', version: 0x0111})
		assert.equal(length, 8)
		assert.deepEqual(encodeMessage(message), bytes)
	})

	it('decodes OP_REP_DEVLIST with one device and its interface triples', () => {
		const bytes = Buffer.from([
			...be16(0x0111), // 0x00 version
			...be16(0x0005), // 0x02 reply code
			...be32(0), // 0x04 status OK
			...be32(1), // 0x08 number of devices
			...handDevice(), // 0x0c usbip_usb_device
			0x02, 0x06, 0x00, 0x00, // 0x144 interface 0: class, subclass, protocol, padding
			0x0a, 0x00, 0x00, 0x00, // 0x148 interface 1
		])
		assert.equal(bytes.length, 12 + 312 + 8)
		const {message, length} = decodeOpReply(bytes)
		assert.equal(length, bytes.length)
		assert.equal(message.kind, 'OP_REP_DEVLIST')
		if (message.kind !== 'OP_REP_DEVLIST') return
		assert.equal(message.devices.length, 1)
		assert.deepEqual(message.devices[0]!.device, handDeviceInfo)
		assert.deepEqual(message.devices[0]!.interfaces, [
			{interfaceClass: 2, interfaceSubClass: 6, interfaceProtocol: 0},
			{interfaceClass: 10, interfaceSubClass: 0, interfaceProtocol: 0},
		])
		assert.deepEqual(encodeMessage(message), bytes)
	})

	it('decodes an empty devlist', () => {
		const bytes = Buffer.from([...be16(0x0111), ...be16(0x0005), ...be32(0), ...be32(0)])
		const {message} = decodeOpReply(bytes)
		assert.deepEqual(message, {kind: 'OP_REP_DEVLIST', version: 0x0111, status: 0, devices: []})
	})

	it('decodes OP_REQ_IMPORT with a NUL-padded busid', () => {
		const bytes = Buffer.from([...be16(0x0111), ...be16(0x8003), ...be32(0), ...field('1-2', 32)])
		const {message, length} = decodeOpRequest(bytes)
		assert.deepEqual(message, {kind: 'OP_REQ_IMPORT', version: 0x0111, busid: '1-2'})
		assert.equal(length, 40)
		assert.deepEqual(encodeMessage(message), bytes)
	})

	it('decodes OP_REP_IMPORT: device after an OK status, nothing after an error', () => {
		const ok = Buffer.from([...be16(0x0111), ...be16(0x0003), ...be32(0), ...handDevice()])
		assert.equal(ok.length, 8 + 312)
		const decoded = decodeOpReply(ok)
		assert.deepEqual(decoded.message, {kind: 'OP_REP_IMPORT', version: 0x0111, status: 0, device: handDeviceInfo})
		assert.deepEqual(encodeMessage(decoded.message), ok)

		const refused = Buffer.from([...be16(0x0111), ...be16(0x0003), ...be32(OpStatus.NODEV)])
		const r = decodeOpReply(refused)
		assert.deepEqual(r.message, {kind: 'OP_REP_IMPORT', version: 0x0111, status: OpStatus.NODEV})
		assert.equal(r.length, 8)
	})

	it('rejects a wrong version and unknown codes', () => {
		assert.throws(() => decodeOpRequest(Buffer.from([...be16(0x0106), ...be16(0x8005), ...be32(0)])), isProtocolError('bad-version'))
		assert.throws(() => decodeOpRequest(Buffer.from([...be16(0x0111), ...be16(0x8004), ...be32(0)])), isProtocolError('unknown-code'))
		assert.throws(() => decodeOpReply(Buffer.from([...be16(0x0111), ...be16(0x8005), ...be32(0)])), isProtocolError('unknown-code'))
	})

	it('refuses to encode a busid that leaves no room for its NUL', () => {
		assert.throws(
			() => encodeMessage({kind: 'OP_REQ_IMPORT', version: USBIP_VERSION, busid: 'x'.repeat(32)}),
			isProtocolError('bad-field'),
		)
	})
})

describe('USB/IP URB messages', () => {
	it('decodes an interrupt IN CMD_SUBMIT: header only, no payload', () => {
		const bytes = Buffer.from([
			...be32(1), // 0x00 command CMD_SUBMIT
			...be32(0x0d05), // 0x04 seqnum
			...be32(0x0001000f), // 0x08 devid = busnum 1 << 16 | devnum 15
			...be32(1), // 0x0c direction IN
			...be32(1), // 0x10 ep
			...be32(0x200), // 0x14 transfer_flags: URB_DIR_IN
			...be32(64), // 0x18 transfer_buffer_length
			...be32(0), // 0x1c start_frame
			...be32(0), // 0x20 number_of_packets (Linux sends 0 for non-iso)
			...be32(4), // 0x24 interval
			...new Array<number>(8).fill(0), // 0x28 setup
		])
		const {message, length} = decodeClientUrb(bytes)
		assert.equal(length, 48)
		assert.equal(message.kind, 'CMD_SUBMIT')
		if (message.kind !== 'CMD_SUBMIT') return
		assert.equal(message.seqnum, 0x0d05)
		assert.equal(message.devid, 0x0001000f)
		assert.equal(message.direction, 1)
		assert.equal(message.ep, 1)
		assert.equal(message.transferFlags, UrbFlag.DIR_IN)
		assert.equal(message.transferBufferLength, 64)
		assert.equal(message.interval, 4)
		assert.equal(message.data.length, 0)
		assert.deepEqual(encodeMessage(message), bytes)
	})

	it('decodes an OUT CMD_SUBMIT whose transfer buffer follows the header', () => {
		const payload = [0xde, 0xad, 0xbe, 0xef, 0x01]
		const bytes = Buffer.from([
			...be32(1), ...be32(7), ...be32(0x00010002), ...be32(0), ...be32(2), // basic: OUT to ep 2
			...be32(0x40), // 0x14 URB_ZERO_PACKET
			...be32(payload.length), // 0x18 transfer_buffer_length
			...be32(0), ...be32(0xffffffff), ...be32(0), // start_frame, number_of_packets (doc's non-iso marker), interval
			...new Array<number>(8).fill(0), // 0x28 setup
			...payload, // 0x30 transfer_buffer
		])
		const {message, length} = decodeClientUrb(bytes)
		assert.equal(length, 48 + payload.length)
		assert.equal(message.kind, 'CMD_SUBMIT')
		if (message.kind !== 'CMD_SUBMIT') return
		assert.deepEqual([...message.data], payload)
		assert.equal(message.numberOfPackets, 0xffffffff)
		assert.deepEqual(message.isoPackets, [])
	})

	it('decodes a control CMD_SUBMIT and its little-endian setup packet', () => {
		// GET_DESCRIPTOR(DEVICE), wLength 18: 80 06 00 01 00 00 12 00.
		const setup = [0x80, 0x06, 0x00, 0x01, 0x00, 0x00, 0x12, 0x00]
		const bytes = Buffer.from([
			...be32(1), ...be32(1), ...be32(0x00010002), ...be32(1), ...be32(0),
			...be32(0x200), ...be32(18), ...be32(0), ...be32(0), ...be32(0),
			...setup,
		])
		const {message} = decodeClientUrb(bytes)
		if (message.kind !== 'CMD_SUBMIT') throw new Error('expected CMD_SUBMIT')
		assert.deepEqual(decodeSetup(message.setup), {requestType: 0x80, request: 6, value: 0x0100, index: 0, length: 18})
		assert.deepEqual(encodeSetup(decodeSetup(message.setup)), Buffer.from(setup))
	})

	it('decodes an iso OUT CMD_SUBMIT: payload, then one 16-byte descriptor per packet', () => {
		const payload = [1, 2, 3, 4, 5, 6]
		const bytes = Buffer.from([
			...be32(1), ...be32(3), ...be32(0x00010002), ...be32(0), ...be32(3),
			...be32(0x2), // ISO_ASAP
			...be32(payload.length), ...be32(100) /* start_frame */, ...be32(2) /* packets */, ...be32(1),
			...new Array<number>(8).fill(0),
			...payload,
			...be32(0), ...be32(3), ...be32(0), ...be32(0), // packet 0: offset, length, actual_length, status
			...be32(3), ...be32(3), ...be32(0), ...be32(0), // packet 1
		])
		const {message, length} = decodeClientUrb(bytes)
		assert.equal(length, 48 + 6 + 2 * ISO_PACKET_DESCRIPTOR_LENGTH)
		if (message.kind !== 'CMD_SUBMIT') throw new Error('expected CMD_SUBMIT')
		assert.equal(message.startFrame, 100)
		assert.deepEqual(message.isoPackets, [
			{offset: 0, length: 3, actualLength: 0, status: 0},
			{offset: 3, length: 3, actualLength: 0, status: 0},
		])
		assert.deepEqual(encodeMessage(message), bytes)
	})

	it('decodes RET_SUBMIT for an IN transfer using the direction of the original submit', () => {
		const data = [9, 8, 7]
		const bytes = Buffer.from([
			...be32(3), ...be32(0x0d05), ...be32(0), ...be32(0), ...be32(0), // basic: zeros from a server
			...be32(0), // 0x14 status
			...be32(data.length), // 0x18 actual_length
			...be32(0), ...be32(0), ...be32(0), // start_frame, number_of_packets, error_count
			...new Array<number>(8).fill(0), // 0x28 padding
			...data,
		])
		const {message, length} = decodeServerUrb(bytes, {directionOfSeqnum: () => 1})
		assert.equal(length, 51)
		if (message.kind !== 'RET_SUBMIT') throw new Error('expected RET_SUBMIT')
		assert.deepEqual([...message.data], data)
		assert.deepEqual(encodeMessage(message), bytes)
		// Answering an OUT submit, the same header carries no payload.
		const out = decodeServerUrb(bytes.subarray(0, 48), {directionOfSeqnum: () => 0})
		assert.equal(out.length, 48)
	})

	it('decodes CMD_UNLINK and RET_UNLINK with a negative errno status', () => {
		const unlink = Buffer.from([
			...be32(2), ...be32(11), ...be32(0x00010002), ...be32(0), ...be32(0),
			...be32(10), // 0x14 unlink_seqnum
			...new Array<number>(24).fill(0), // 0x18 padding
		])
		const u = decodeClientUrb(unlink)
		assert.deepEqual(u.message, {kind: 'CMD_UNLINK', seqnum: 11, devid: 0x00010002, direction: 0, ep: 0, unlinkSeqnum: 10})
		assert.deepEqual(encodeMessage(u.message), unlink)

		const ret = Buffer.from([
			...be32(4), ...be32(11), ...be32(0), ...be32(0), ...be32(0),
			0xff, 0xff, 0xff, 0x98, // 0x14 status -104 (-ECONNRESET)
			...new Array<number>(24).fill(0),
		])
		const r = decodeServerUrb(ret)
		assert.deepEqual(r.message, {kind: 'RET_UNLINK', seqnum: 11, devid: 0, direction: 0, ep: 0, status: -104})
		assert.deepEqual(encodeMessage(r.message), ret)
	})

	it('rejects nonsense headers with typed errors', () => {
		const header = (command: number, direction: number, ep: number, tbl: number, packets: number): Buffer =>
			Buffer.from([
				...be32(command), ...be32(1), ...be32(0), ...be32(direction), ...be32(ep),
				...be32(0), ...be32(tbl), ...be32(0), ...be32(packets), ...be32(0), ...new Array<number>(8).fill(0),
			])
		assert.throws(() => decodeClientUrb(header(3, 0, 0, 0, 0)), isProtocolError('unknown-command'))
		assert.throws(() => decodeClientUrb(header(1, 2, 0, 0, 0)), isProtocolError('bad-field'))
		assert.throws(() => decodeClientUrb(header(1, 0, 16, 0, 0)), isProtocolError('bad-field'))
		assert.throws(() => decodeClientUrb(header(1, 0, 1, 0x7fffffff, 0)), isProtocolError('too-large'))
		assert.throws(() => decodeClientUrb(header(1, 1, 1, 0, 5000)), isProtocolError('bad-field'))
		assert.throws(() => decodeServerUrb(header(1, 0, 0, 0, 0)), isProtocolError('unknown-command'))
	})

	it('refuses to encode inconsistent messages', () => {
		assert.throws(() => encodeMessage({...sampleSubmit, transferBufferLength: 6}), isProtocolError('bad-field'))
		assert.throws(() => encodeMessage({...sampleSubmit, numberOfPackets: 2}), isProtocolError('bad-field'))
		const ret: RetSubmit = {...(everyKind[5] as RetSubmit), actualLength: 3, data: Buffer.from([1])}
		assert.throws(() => encodeMessage(ret), isProtocolError('bad-field'))
	})

	it('reports every truncation of every message as a ProtocolError', () => {
		for (const m of everyKind) {
			const bytes = encodeMessage(m)
			const decode = (b: Buffer): unknown => {
				switch (m.kind) {
					case 'OP_REQ_DEVLIST':
					case 'OP_REQ_IMPORT':
						return decodeOpRequest(b)
					case 'OP_REP_DEVLIST':
					case 'OP_REP_IMPORT':
						return decodeOpReply(b)
					case 'CMD_SUBMIT':
					case 'CMD_UNLINK':
						return decodeClientUrb(b)
					default:
						return decodeServerUrb(b)
				}
			}
			for (let cut = 0; cut < bytes.length; cut++) {
				assert.throws(() => decode(bytes.subarray(0, cut)), isProtocolError('truncated'), `${m.kind} cut at ${cut}`)
			}
			const whole = decode(bytes) as {length: number}
			assert.equal(whole.length, bytes.length, m.kind)
		}
	})
})

describe('UsbipStreamParser', () => {
	const clientToServer = everyKind.filter((m) => ['OP_REQ_IMPORT', 'CMD_SUBMIT', 'CMD_UNLINK'].includes(m.kind))
	const serverToClient = everyKind.filter((m) => ['OP_REP_IMPORT', 'RET_SUBMIT', 'RET_UNLINK'].includes(m.kind))

	it('reassembles a whole session fed one byte at a time, switching phase after the import', () => {
		const stream = Buffer.concat(clientToServer.map(encodeMessage))
		const parser = new UsbipStreamParser({role: 'server'})
		const got: UsbipMessage[] = []
		for (const byte of stream) got.push(...parser.push(Buffer.from([byte])))
		assert.deepEqual(got, clientToServer)
		assert.equal(parser.phase, 'urb')
		assert.equal(parser.bufferedBytes, 0)
	})

	it('yields several messages from one chunk, including the URBs after an import', () => {
		const stream = Buffer.concat(clientToServer.map(encodeMessage))
		const parser = new UsbipStreamParser({role: 'server'})
		assert.deepEqual(parser.push(stream), clientToServer)
	})

	it('parses the server side in random chunk sizes', () => {
		const stream = Buffer.concat(serverToClient.map(encodeMessage))
		const rand = prng(42)
		for (let round = 0; round < 50; round++) {
			const parser = new UsbipStreamParser({role: 'client'})
			const got: UsbipMessage[] = []
			for (let at = 0; at < stream.length;) {
				const size = 1 + (rand() % 64)
				got.push(...parser.push(stream.subarray(at, at + size)))
				at += size
			}
			assert.deepEqual(got, serverToClient)
		}
	})

	it('stays in the op phase after a refused import reply', () => {
		const parser = new UsbipStreamParser({role: 'client'})
		parser.push(encodeMessage({kind: 'OP_REP_IMPORT', version: USBIP_VERSION, status: OpStatus.DEV_BUSY}))
		assert.equal(parser.phase, 'op')
	})

	it('stays failed after a ProtocolError', () => {
		const parser = new UsbipStreamParser({role: 'server'})
		const garbage = Buffer.from([0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0])
		assert.throws(() => parser.push(garbage), isProtocolError('bad-version'))
		assert.throws(() => parser.push(encodeMessage(everyKind[0]!)), isProtocolError('bad-version'))
	})

	it('answers random garbage only with ProtocolError or a wait for more bytes', () => {
		const rand = prng(7)
		for (let round = 0; round < 2000; round++) {
			const role = round % 2 === 0 ? 'server' : 'client'
			const parser = new UsbipStreamParser({role, maxTransferLength: 4096})
			const garbage = Buffer.alloc(rand() % 400)
			for (let i = 0; i < garbage.length; i++) garbage[i] = rand() & 0xff
			// Half the rounds start with a valid header so the parser gets past the version check.
			if (round % 4 < 2 && garbage.length >= 4) garbage.writeUInt16BE(USBIP_VERSION, 0)
			if (round % 4 === 1 && garbage.length >= 4) garbage.writeUInt16BE(role === 'server' ? 0x8003 : 0x0005, 2)
			try {
				parser.push(garbage)
			} catch (err) {
				assert.ok(err instanceof ProtocolError, `round ${round}: ${String(err)}`)
			}
		}
	})

	it('rejects absurd lengths before buffering them', () => {
		const parser = new UsbipStreamParser({role: 'server', maxTransferLength: 1024})
		parser.push(encodeMessage({kind: 'OP_REQ_IMPORT', version: USBIP_VERSION, busid: '1-1'}))
		const header = encodeMessage({...sampleSubmit, transferBufferLength: 5}).subarray(0, 48)
		header.writeUInt32BE(2048, 0x18)
		assert.throws(() => parser.push(header), isProtocolError('too-large'))
	})

	it('takes IN URBs longer than the limit: they carry no bytes, the device fills what it has', () => {
		const parser = new UsbipStreamParser({role: 'server', maxTransferLength: 1024})
		parser.push(encodeMessage({kind: 'OP_REQ_IMPORT', version: USBIP_VERSION, busid: '1-1'}))
		const submit = encodeMessage({...sampleSubmit, direction: 1, data: Buffer.alloc(0), transferBufferLength: 16 * 1024 * 1024})
		assert.deepEqual(
			parser.push(submit).map((m) => [m.kind, (m as CmdSubmit).transferBufferLength]),
			[['CMD_SUBMIT', 16 * 1024 * 1024]],
		)
	})
})
