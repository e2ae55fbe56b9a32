// USB/IP 1.1.1 wire format: encoders, decoders and an incremental stream parser.
//
// Everything on the wire is big-endian. Before an import succeeds a connection
// carries "op" messages (8-byte common header); afterwards it carries "URB"
// messages (48-byte header, then the transfer buffer, then iso descriptors).
// Every decoder here reads through a bounds-checked reader, so malformed input
// surfaces as a ProtocolError and nothing else.

export const USBIP_VERSION = 0x0111

export const OP_REQ_DEVLIST = 0x8005
export const OP_REP_DEVLIST = 0x0005
export const OP_REQ_IMPORT = 0x8003
export const OP_REP_IMPORT = 0x0003

export const USBIP_CMD_SUBMIT = 0x00000001
export const USBIP_CMD_UNLINK = 0x00000002
export const USBIP_RET_SUBMIT = 0x00000003
export const USBIP_RET_UNLINK = 0x00000004

export const USBIP_DIR_OUT = 0
export const USBIP_DIR_IN = 1

export const OP_HEADER_LENGTH = 8
export const URB_HEADER_LENGTH = 48
export const PATH_FIELD_LENGTH = 256
export const BUSID_FIELD_LENGTH = 32
/** struct usbip_usb_device: path[256], busid[32], then 24 bytes of numbers. */
export const USB_DEVICE_INFO_LENGTH = 312
export const USB_INTERFACE_INFO_LENGTH = 4
export const ISO_PACKET_DESCRIPTOR_LENGTH = 16
export const OP_REQ_IMPORT_LENGTH = OP_HEADER_LENGTH + BUSID_FIELD_LENGTH

/** The kernel's own limit for iso packets per URB (usbip_common.h). */
export const MAX_ISO_PACKETS = 1024
/** number_of_packets value the protocol document gives for non-iso URBs (Linux sends 0). */
export const NON_ISO_PACKETS = 0xffffffff
/** Default cap on one OUT URB's transfer buffer (the bytes it carries); larger claims are treated as garbage. */
export const DEFAULT_MAX_TRANSFER_LENGTH = 4 * 1024 * 1024
/** A devlist reply claiming more devices than this is nonsense, not a big server. */
export const MAX_DEVLIST_DEVICES = 1024

/** op_common.status values (usbip_network.h ST_*). */
export const OpStatus = {
	OK: 0,
	NA: 1,
	DEV_BUSY: 2,
	DEV_ERR: 3,
	NODEV: 4,
	ERROR: 5,
} as const

/** enum usb_device_speed, as carried in usbip_usb_device.speed and vhci's attach file. */
export const UsbipSpeed = {
	UNKNOWN: 0,
	LOW: 1,
	FULL: 2,
	HIGH: 3,
	WIRELESS: 4,
	SUPER: 5,
	SUPER_PLUS: 6,
} as const

/** Negative errno values used as URB status on the wire (Linux numbering). */
export const UrbStatus = {
	OK: 0,
	ENOENT: -2,
	EINVAL: -22,
	EPIPE: -32,
	EPROTO: -71,
	EOVERFLOW: -75,
	ECONNRESET: -104,
	/** A short transfer on an URB flagged URB_SHORT_NOT_OK. */
	EREMOTEIO: -121,
	ESHUTDOWN: -108,
} as const

/** USBIP_URB_* transfer_flags (include/uapi/linux/usbip.h). */
export const UrbFlag = {
	SHORT_NOT_OK: 0x0001,
	ISO_ASAP: 0x0002,
	NO_TRANSFER_DMA_MAP: 0x0004,
	ZERO_PACKET: 0x0040,
	NO_INTERRUPT: 0x0080,
	FREE_BUFFER: 0x0100,
	DIR_IN: 0x0200,
} as const

export type ProtocolErrorReason =
	| 'truncated'
	| 'bad-version'
	| 'unknown-code'
	| 'unknown-command'
	| 'bad-field'
	| 'too-large'
	| 'trailing-bytes'

/** The only error type decoding produces; the server closes the connection on it. */
export class ProtocolError extends Error {
	constructor(
		readonly reason: ProtocolErrorReason,
		message: string,
	) {
		super(message)
		this.name = 'ProtocolError'
	}
}

// ---- message shapes ----------------------------------------------------------

export interface UsbInterfaceInfo {
	interfaceClass: number
	interfaceSubClass: number
	interfaceProtocol: number
}

/** struct usbip_usb_device. */
export interface UsbDeviceInfo {
	path: string
	busid: string
	busnum: number
	devnum: number
	speed: number
	idVendor: number
	idProduct: number
	bcdDevice: number
	deviceClass: number
	deviceSubClass: number
	deviceProtocol: number
	configurationValue: number
	numConfigurations: number
	numInterfaces: number
}

export interface DevlistEntry {
	device: UsbDeviceInfo
	/** Exactly device.numInterfaces entries. */
	interfaces: UsbInterfaceInfo[]
}

export interface OpReqDevlist {
	kind: 'OP_REQ_DEVLIST'
	version: number
}

export interface OpRepDevlist {
	kind: 'OP_REP_DEVLIST'
	version: number
	status: number
	/** Present on the wire only when status is OK. */
	devices: DevlistEntry[]
}

export interface OpReqImport {
	kind: 'OP_REQ_IMPORT'
	version: number
	busid: string
}

export interface OpRepImport {
	kind: 'OP_REP_IMPORT'
	version: number
	status: number
	/** Present on the wire only when status is OK. */
	device?: UsbDeviceInfo
}

export interface IsoPacketDescriptor {
	offset: number
	length: number
	actualLength: number
	status: number
}

/** usbip_header_basic; devid/direction/ep are zero in server replies. */
export interface UrbHeaderBasic {
	seqnum: number
	devid: number
	direction: number
	ep: number
}

export interface CmdSubmit extends UrbHeaderBasic {
	kind: 'CMD_SUBMIT'
	transferFlags: number
	transferBufferLength: number
	startFrame: number
	/** 0 or 0xffffffff for non-iso URBs. */
	numberOfPackets: number
	interval: number
	/** 8 bytes of SETUP packet; zeros for non-control transfers. */
	setup: Buffer
	/** OUT: transferBufferLength bytes; IN: empty. */
	data: Buffer
	isoPackets: IsoPacketDescriptor[]
}

export interface RetSubmit extends UrbHeaderBasic {
	kind: 'RET_SUBMIT'
	status: number
	actualLength: number
	startFrame: number
	numberOfPackets: number
	errorCount: number
	/** IN: actualLength bytes; OUT: empty. */
	data: Buffer
	isoPackets: IsoPacketDescriptor[]
}

export interface CmdUnlink extends UrbHeaderBasic {
	kind: 'CMD_UNLINK'
	unlinkSeqnum: number
}

export interface RetUnlink extends UrbHeaderBasic {
	kind: 'RET_UNLINK'
	status: number
}

export type OpMessage = OpReqDevlist | OpRepDevlist | OpReqImport | OpRepImport
export type UrbMessage = CmdSubmit | RetSubmit | CmdUnlink | RetUnlink
export type UsbipMessage = OpMessage | UrbMessage

export interface Decoded<T> {
	message: T
	/** Bytes consumed from the start of the input. */
	length: number
}

// ---- bounds-checked access ---------------------------------------------------

class Reader {
	constructor(private readonly buf: Buffer) {}

	private need(offset: number, size: number, what: string): void {
		if (offset < 0 || offset + size > this.buf.length) {
			throw new ProtocolError(
				'truncated',
				`truncated message: ${what} needs bytes ${offset}..${offset + size - 1}, have ${this.buf.length}`,
			)
		}
	}

	u8(offset: number, what: string): number {
		this.need(offset, 1, what)
		return this.buf.readUInt8(offset)
	}

	u16(offset: number, what: string): number {
		this.need(offset, 2, what)
		return this.buf.readUInt16BE(offset)
	}

	u32(offset: number, what: string): number {
		this.need(offset, 4, what)
		return this.buf.readUInt32BE(offset)
	}

	i32(offset: number, what: string): number {
		this.need(offset, 4, what)
		return this.buf.readInt32BE(offset)
	}

	bytes(offset: number, size: number, what: string): Buffer {
		this.need(offset, size, what)
		// Copy, so decoded messages never alias the parser's reusable buffer.
		return Buffer.from(this.buf.subarray(offset, offset + size))
	}

	/** A NUL-padded fixed-size string field. */
	cstring(offset: number, size: number, what: string): string {
		this.need(offset, size, what)
		const field = this.buf.subarray(offset, offset + size)
		const end = field.indexOf(0)
		return field.subarray(0, end < 0 ? size : end).toString('latin1')
	}
}

function checkUint(value: number, bits: 8 | 16 | 32, what: string): number {
	const max = 2 ** bits - 1
	if (!Number.isInteger(value) || value < 0 || value > max) {
		throw new ProtocolError('bad-field', `${what} must be an integer in 0..${max}, got ${value}`)
	}
	return value
}

function checkInt32(value: number, what: string): number {
	if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) {
		throw new ProtocolError('bad-field', `${what} must be a 32-bit signed integer, got ${value}`)
	}
	return value
}

function writeCString(buf: Buffer, offset: number, size: number, text: string, what: string): void {
	const bytes = Buffer.from(text, 'latin1')
	// One byte is kept for the terminating NUL the kernel's tools rely on.
	if (bytes.length >= size) {
		throw new ProtocolError('bad-field', `${what} is ${bytes.length} bytes, the field holds ${size - 1}`)
	}
	bytes.copy(buf, offset)
}

function isIsoPacketCount(numberOfPackets: number): boolean {
	return numberOfPackets !== 0 && numberOfPackets !== NON_ISO_PACKETS
}

function checkIsoPacketCount(numberOfPackets: number): number {
	if (!isIsoPacketCount(numberOfPackets)) return 0
	if (numberOfPackets > MAX_ISO_PACKETS) {
		throw new ProtocolError(
			'bad-field',
			`number_of_packets ${numberOfPackets} exceeds ${MAX_ISO_PACKETS} and is not the non-iso marker`,
		)
	}
	return numberOfPackets
}

// ---- op messages -------------------------------------------------------------

function encodeOpHeader(buf: Buffer, version: number, code: number, status: number): void {
	buf.writeUInt16BE(checkUint(version, 16, 'version'), 0)
	buf.writeUInt16BE(code, 2)
	buf.writeUInt32BE(checkUint(status, 32, 'status'), 4)
}

function encodeDeviceInfo(buf: Buffer, offset: number, d: UsbDeviceInfo): void {
	writeCString(buf, offset, PATH_FIELD_LENGTH, d.path, 'path')
	writeCString(buf, offset + 0x100, BUSID_FIELD_LENGTH, d.busid, 'busid')
	buf.writeUInt32BE(checkUint(d.busnum, 32, 'busnum'), offset + 0x120)
	buf.writeUInt32BE(checkUint(d.devnum, 32, 'devnum'), offset + 0x124)
	buf.writeUInt32BE(checkUint(d.speed, 32, 'speed'), offset + 0x128)
	buf.writeUInt16BE(checkUint(d.idVendor, 16, 'idVendor'), offset + 0x12c)
	buf.writeUInt16BE(checkUint(d.idProduct, 16, 'idProduct'), offset + 0x12e)
	buf.writeUInt16BE(checkUint(d.bcdDevice, 16, 'bcdDevice'), offset + 0x130)
	buf.writeUInt8(checkUint(d.deviceClass, 8, 'bDeviceClass'), offset + 0x132)
	buf.writeUInt8(checkUint(d.deviceSubClass, 8, 'bDeviceSubClass'), offset + 0x133)
	buf.writeUInt8(checkUint(d.deviceProtocol, 8, 'bDeviceProtocol'), offset + 0x134)
	buf.writeUInt8(checkUint(d.configurationValue, 8, 'bConfigurationValue'), offset + 0x135)
	buf.writeUInt8(checkUint(d.numConfigurations, 8, 'bNumConfigurations'), offset + 0x136)
	buf.writeUInt8(checkUint(d.numInterfaces, 8, 'bNumInterfaces'), offset + 0x137)
}

function decodeDeviceInfo(r: Reader, offset: number): UsbDeviceInfo {
	return {
		path: r.cstring(offset, PATH_FIELD_LENGTH, 'path'),
		busid: r.cstring(offset + 0x100, BUSID_FIELD_LENGTH, 'busid'),
		busnum: r.u32(offset + 0x120, 'busnum'),
		devnum: r.u32(offset + 0x124, 'devnum'),
		speed: r.u32(offset + 0x128, 'speed'),
		idVendor: r.u16(offset + 0x12c, 'idVendor'),
		idProduct: r.u16(offset + 0x12e, 'idProduct'),
		bcdDevice: r.u16(offset + 0x130, 'bcdDevice'),
		deviceClass: r.u8(offset + 0x132, 'bDeviceClass'),
		deviceSubClass: r.u8(offset + 0x133, 'bDeviceSubClass'),
		deviceProtocol: r.u8(offset + 0x134, 'bDeviceProtocol'),
		configurationValue: r.u8(offset + 0x135, 'bConfigurationValue'),
		numConfigurations: r.u8(offset + 0x136, 'bNumConfigurations'),
		numInterfaces: r.u8(offset + 0x137, 'bNumInterfaces'),
	}
}

function encodeOpReqDevlist(m: OpReqDevlist): Buffer {
	const buf = Buffer.alloc(OP_HEADER_LENGTH)
	encodeOpHeader(buf, m.version, OP_REQ_DEVLIST, 0)
	return buf
}

function encodeOpRepDevlist(m: OpRepDevlist): Buffer {
	if (m.status !== OpStatus.OK) {
		const buf = Buffer.alloc(OP_HEADER_LENGTH)
		encodeOpHeader(buf, m.version, OP_REP_DEVLIST, m.status)
		return buf
	}
	let size = OP_HEADER_LENGTH + 4
	for (const entry of m.devices) {
		if (entry.interfaces.length !== entry.device.numInterfaces) {
			throw new ProtocolError(
				'bad-field',
				`device ${entry.device.busid}: numInterfaces ${entry.device.numInterfaces} but ${entry.interfaces.length} interfaces given`,
			)
		}
		size += USB_DEVICE_INFO_LENGTH + USB_INTERFACE_INFO_LENGTH * entry.interfaces.length
	}
	const buf = Buffer.alloc(size)
	encodeOpHeader(buf, m.version, OP_REP_DEVLIST, m.status)
	buf.writeUInt32BE(m.devices.length, 8)
	let offset = 12
	for (const entry of m.devices) {
		encodeDeviceInfo(buf, offset, entry.device)
		offset += USB_DEVICE_INFO_LENGTH
		for (const i of entry.interfaces) {
			buf.writeUInt8(checkUint(i.interfaceClass, 8, 'bInterfaceClass'), offset)
			buf.writeUInt8(checkUint(i.interfaceSubClass, 8, 'bInterfaceSubClass'), offset + 1)
			buf.writeUInt8(checkUint(i.interfaceProtocol, 8, 'bInterfaceProtocol'), offset + 2)
			// offset + 3 is the padding byte, left zero.
			offset += USB_INTERFACE_INFO_LENGTH
		}
	}
	return buf
}

function encodeOpReqImport(m: OpReqImport): Buffer {
	const buf = Buffer.alloc(OP_REQ_IMPORT_LENGTH)
	encodeOpHeader(buf, m.version, OP_REQ_IMPORT, 0)
	writeCString(buf, 8, BUSID_FIELD_LENGTH, m.busid, 'busid')
	return buf
}

function encodeOpRepImport(m: OpRepImport): Buffer {
	if (m.status !== OpStatus.OK) {
		const buf = Buffer.alloc(OP_HEADER_LENGTH)
		encodeOpHeader(buf, m.version, OP_REP_IMPORT, m.status)
		return buf
	}
	if (!m.device) {
		throw new ProtocolError('bad-field', 'OP_REP_IMPORT with status OK needs a device')
	}
	const buf = Buffer.alloc(OP_HEADER_LENGTH + USB_DEVICE_INFO_LENGTH)
	encodeOpHeader(buf, m.version, OP_REP_IMPORT, m.status)
	encodeDeviceInfo(buf, OP_HEADER_LENGTH, m.device)
	return buf
}

function readOpHeader(r: Reader): {version: number; code: number; status: number} {
	const version = r.u16(0, 'version')
	const code = r.u16(2, 'code')
	const status = r.u32(4, 'status')
	if (version !== USBIP_VERSION) {
		throw new ProtocolError(
			'bad-version',
			`USB/IP version 0x${version.toString(16).padStart(4, '0')}, expected 0x${USBIP_VERSION.toString(16).padStart(4, '0')}`,
		)
	}
	return {version, code, status}
}

/** Total length of the op request at the start of buf, or undefined until the header is in. */
function measureOpRequest(buf: Buffer): number | undefined {
	if (buf.length < OP_HEADER_LENGTH) return undefined
	const {code} = readOpHeader(new Reader(buf))
	switch (code) {
		case OP_REQ_DEVLIST:
			return OP_HEADER_LENGTH
		case OP_REQ_IMPORT:
			return OP_REQ_IMPORT_LENGTH
		default:
			throw new ProtocolError('unknown-code', `unknown op request code 0x${code.toString(16)}`)
	}
}

/** Decodes an op request (client to server) at the start of buf. */
export function decodeOpRequest(buf: Buffer): Decoded<OpReqDevlist | OpReqImport> {
	const r = new Reader(buf)
	const {version, code} = readOpHeader(r)
	if (code === OP_REQ_DEVLIST) {
		return {message: {kind: 'OP_REQ_DEVLIST', version}, length: OP_HEADER_LENGTH}
	}
	if (code === OP_REQ_IMPORT) {
		const busid = r.cstring(8, BUSID_FIELD_LENGTH, 'busid')
		return {message: {kind: 'OP_REQ_IMPORT', version, busid}, length: OP_REQ_IMPORT_LENGTH}
	}
	throw new ProtocolError('unknown-code', `unknown op request code 0x${code.toString(16)}`)
}

/** Total length of the op reply at the start of buf, or undefined until enough is in to tell. */
function measureOpReply(buf: Buffer): number | undefined {
	if (buf.length < OP_HEADER_LENGTH) return undefined
	const r = new Reader(buf)
	const {code, status} = readOpHeader(r)
	if (code === OP_REP_IMPORT) {
		return status === OpStatus.OK ? OP_HEADER_LENGTH + USB_DEVICE_INFO_LENGTH : OP_HEADER_LENGTH
	}
	if (code !== OP_REP_DEVLIST) {
		throw new ProtocolError('unknown-code', `unknown op reply code 0x${code.toString(16)}`)
	}
	if (status !== OpStatus.OK) return OP_HEADER_LENGTH
	if (buf.length < 12) return undefined
	const count = r.u32(8, 'number of devices')
	if (count > MAX_DEVLIST_DEVICES) {
		throw new ProtocolError('too-large', `devlist claims ${count} devices`)
	}
	let offset = 12
	for (let i = 0; i < count; i++) {
		const numInterfacesAt = offset + USB_DEVICE_INFO_LENGTH - 1
		if (buf.length <= numInterfacesAt) return undefined
		offset += USB_DEVICE_INFO_LENGTH + USB_INTERFACE_INFO_LENGTH * r.u8(numInterfacesAt, 'bNumInterfaces')
	}
	return offset
}

/** Decodes an op reply (server to client) at the start of buf. */
export function decodeOpReply(buf: Buffer): Decoded<OpRepDevlist | OpRepImport> {
	const r = new Reader(buf)
	const {version, code, status} = readOpHeader(r)
	if (code === OP_REP_IMPORT) {
		if (status !== OpStatus.OK) {
			return {message: {kind: 'OP_REP_IMPORT', version, status}, length: OP_HEADER_LENGTH}
		}
		const device = decodeDeviceInfo(r, OP_HEADER_LENGTH)
		return {
			message: {kind: 'OP_REP_IMPORT', version, status, device},
			length: OP_HEADER_LENGTH + USB_DEVICE_INFO_LENGTH,
		}
	}
	if (code !== OP_REP_DEVLIST) {
		throw new ProtocolError('unknown-code', `unknown op reply code 0x${code.toString(16)}`)
	}
	if (status !== OpStatus.OK) {
		return {message: {kind: 'OP_REP_DEVLIST', version, status, devices: []}, length: OP_HEADER_LENGTH}
	}
	const count = r.u32(8, 'number of devices')
	if (count > MAX_DEVLIST_DEVICES) {
		throw new ProtocolError('too-large', `devlist claims ${count} devices`)
	}
	const devices: DevlistEntry[] = []
	let offset = 12
	for (let i = 0; i < count; i++) {
		const device = decodeDeviceInfo(r, offset)
		offset += USB_DEVICE_INFO_LENGTH
		const interfaces: UsbInterfaceInfo[] = []
		for (let j = 0; j < device.numInterfaces; j++) {
			r.u8(offset + 3, 'interface padding')
			interfaces.push({
				interfaceClass: r.u8(offset, 'bInterfaceClass'),
				interfaceSubClass: r.u8(offset + 1, 'bInterfaceSubClass'),
				interfaceProtocol: r.u8(offset + 2, 'bInterfaceProtocol'),
			})
			offset += USB_INTERFACE_INFO_LENGTH
		}
		devices.push({device, interfaces})
	}
	return {message: {kind: 'OP_REP_DEVLIST', version, status, devices}, length: offset}
}

// ---- URB messages ------------------------------------------------------------

function encodeBasic(buf: Buffer, command: number, h: UrbHeaderBasic): void {
	buf.writeUInt32BE(command, 0)
	buf.writeUInt32BE(checkUint(h.seqnum, 32, 'seqnum'), 4)
	buf.writeUInt32BE(checkUint(h.devid, 32, 'devid'), 8)
	if (h.direction !== USBIP_DIR_OUT && h.direction !== USBIP_DIR_IN) {
		throw new ProtocolError('bad-field', `direction must be 0 or 1, got ${h.direction}`)
	}
	buf.writeUInt32BE(h.direction, 12)
	buf.writeUInt32BE(checkUint(h.ep, 32, 'ep'), 16)
}

function readBasic(r: Reader): UrbHeaderBasic & {command: number} {
	const command = r.u32(0, 'command')
	const seqnum = r.u32(4, 'seqnum')
	const devid = r.u32(8, 'devid')
	const direction = r.u32(12, 'direction')
	const ep = r.u32(16, 'ep')
	if (direction !== USBIP_DIR_OUT && direction !== USBIP_DIR_IN) {
		throw new ProtocolError('bad-field', `direction must be 0 or 1, got ${direction}`)
	}
	if (ep > 15) {
		throw new ProtocolError('bad-field', `endpoint number ${ep} is above 15`)
	}
	return {command, seqnum, devid, direction, ep}
}

function encodeIsoPackets(buf: Buffer, offset: number, packets: IsoPacketDescriptor[]): void {
	for (const p of packets) {
		buf.writeUInt32BE(checkUint(p.offset, 32, 'iso offset'), offset)
		buf.writeUInt32BE(checkUint(p.length, 32, 'iso length'), offset + 4)
		buf.writeUInt32BE(checkUint(p.actualLength, 32, 'iso actual_length'), offset + 8)
		buf.writeInt32BE(checkInt32(p.status, 'iso status'), offset + 12)
		offset += ISO_PACKET_DESCRIPTOR_LENGTH
	}
}

function decodeIsoPackets(r: Reader, offset: number, count: number): IsoPacketDescriptor[] {
	const packets: IsoPacketDescriptor[] = []
	for (let i = 0; i < count; i++) {
		packets.push({
			offset: r.u32(offset, 'iso offset'),
			length: r.u32(offset + 4, 'iso length'),
			actualLength: r.u32(offset + 8, 'iso actual_length'),
			status: r.i32(offset + 12, 'iso status'),
		})
		offset += ISO_PACKET_DESCRIPTOR_LENGTH
	}
	return packets
}

function checkIsoList(numberOfPackets: number, packets: IsoPacketDescriptor[]): void {
	const expected = checkIsoPacketCount(numberOfPackets)
	if (packets.length !== expected) {
		throw new ProtocolError(
			'bad-field',
			`number_of_packets says ${expected} iso descriptors, ${packets.length} given`,
		)
	}
}

function encodeCmdSubmit(m: CmdSubmit): Buffer {
	checkIsoList(m.numberOfPackets, m.isoPackets)
	const payload = m.direction === USBIP_DIR_OUT ? m.data : Buffer.alloc(0)
	if (m.direction === USBIP_DIR_OUT && payload.length !== m.transferBufferLength) {
		throw new ProtocolError(
			'bad-field',
			`OUT submit carries ${payload.length} bytes but transfer_buffer_length is ${m.transferBufferLength}`,
		)
	}
	if (m.setup.length !== 8) throw new ProtocolError('bad-field', 'setup must be 8 bytes')
	const buf = Buffer.alloc(URB_HEADER_LENGTH + payload.length + ISO_PACKET_DESCRIPTOR_LENGTH * m.isoPackets.length)
	encodeBasic(buf, USBIP_CMD_SUBMIT, m)
	buf.writeUInt32BE(checkUint(m.transferFlags, 32, 'transfer_flags'), 0x14)
	buf.writeUInt32BE(checkUint(m.transferBufferLength, 32, 'transfer_buffer_length'), 0x18)
	buf.writeUInt32BE(checkUint(m.startFrame, 32, 'start_frame'), 0x1c)
	buf.writeUInt32BE(checkUint(m.numberOfPackets, 32, 'number_of_packets'), 0x20)
	buf.writeUInt32BE(checkUint(m.interval, 32, 'interval'), 0x24)
	m.setup.copy(buf, 0x28)
	payload.copy(buf, URB_HEADER_LENGTH)
	encodeIsoPackets(buf, URB_HEADER_LENGTH + payload.length, m.isoPackets)
	return buf
}

function encodeRetSubmit(m: RetSubmit): Buffer {
	checkIsoList(m.numberOfPackets, m.isoPackets)
	if (m.data.length !== 0 && m.data.length !== m.actualLength) {
		throw new ProtocolError('bad-field', `RET_SUBMIT data is ${m.data.length} bytes, actual_length ${m.actualLength}`)
	}
	const buf = Buffer.alloc(URB_HEADER_LENGTH + m.data.length + ISO_PACKET_DESCRIPTOR_LENGTH * m.isoPackets.length)
	encodeBasic(buf, USBIP_RET_SUBMIT, m)
	buf.writeInt32BE(checkInt32(m.status, 'status'), 0x14)
	buf.writeUInt32BE(checkUint(m.actualLength, 32, 'actual_length'), 0x18)
	buf.writeUInt32BE(checkUint(m.startFrame, 32, 'start_frame'), 0x1c)
	buf.writeUInt32BE(checkUint(m.numberOfPackets, 32, 'number_of_packets'), 0x20)
	buf.writeUInt32BE(checkUint(m.errorCount, 32, 'error_count'), 0x24)
	// 0x28..0x2f: padding, zero.
	m.data.copy(buf, URB_HEADER_LENGTH)
	encodeIsoPackets(buf, URB_HEADER_LENGTH + m.data.length, m.isoPackets)
	return buf
}

function encodeCmdUnlink(m: CmdUnlink): Buffer {
	const buf = Buffer.alloc(URB_HEADER_LENGTH)
	encodeBasic(buf, USBIP_CMD_UNLINK, m)
	buf.writeUInt32BE(checkUint(m.unlinkSeqnum, 32, 'unlink_seqnum'), 0x14)
	return buf
}

function encodeRetUnlink(m: RetUnlink): Buffer {
	const buf = Buffer.alloc(URB_HEADER_LENGTH)
	encodeBasic(buf, USBIP_RET_UNLINK, m)
	buf.writeInt32BE(checkInt32(m.status, 'status'), 0x14)
	return buf
}

export interface UrbDecodeOptions {
	/** Transfer buffers claimed larger than this are rejected as garbage. */
	maxTransferLength?: number
}

export interface ServerUrbDecodeOptions extends UrbDecodeOptions {
	/**
	 * RET_SUBMIT's direction field is zero on the wire, so whether a transfer
	 * buffer follows depends on the submit it answers. Defaults to the header's
	 * direction field.
	 */
	directionOfSeqnum?: (seqnum: number) => number | undefined
}

function checkTransferLength(length: number, what: string, options: UrbDecodeOptions): void {
	const max = options.maxTransferLength ?? DEFAULT_MAX_TRANSFER_LENGTH
	if (length > max) {
		throw new ProtocolError('too-large', `${what} ${length} exceeds the limit of ${max}`)
	}
}

/** Total length of the client URB message at the start of buf, or undefined until the header is in. */
function measureClientUrb(buf: Buffer, options: UrbDecodeOptions): number | undefined {
	if (buf.length < URB_HEADER_LENGTH) return undefined
	const r = new Reader(buf)
	const basic = readBasic(r)
	if (basic.command === USBIP_CMD_UNLINK) return URB_HEADER_LENGTH
	if (basic.command !== USBIP_CMD_SUBMIT) {
		throw new ProtocolError('unknown-command', `unexpected command 0x${basic.command.toString(16)} from client`)
	}
	const transferBufferLength = r.u32(0x18, 'transfer_buffer_length')
	// Only OUT carries the bytes: an IN URB's length is room the device
	// fills from what it has (usbfs allows 16 MB reads).
	if (basic.direction === USBIP_DIR_OUT) checkTransferLength(transferBufferLength, 'transfer_buffer_length', options)
	const packets = checkIsoPacketCount(r.u32(0x20, 'number_of_packets'))
	const payload = basic.direction === USBIP_DIR_OUT ? transferBufferLength : 0
	return URB_HEADER_LENGTH + payload + packets * ISO_PACKET_DESCRIPTOR_LENGTH
}

/** Decodes CMD_SUBMIT or CMD_UNLINK (client to server) at the start of buf. */
export function decodeClientUrb(buf: Buffer, options: UrbDecodeOptions = {}): Decoded<CmdSubmit | CmdUnlink> {
	const r = new Reader(buf)
	const basic = readBasic(r)
	const header = {seqnum: basic.seqnum, devid: basic.devid, direction: basic.direction, ep: basic.ep}
	if (basic.command === USBIP_CMD_UNLINK) {
		r.u32(URB_HEADER_LENGTH - 4, 'padding')
		const unlinkSeqnum = r.u32(0x14, 'unlink_seqnum')
		return {message: {kind: 'CMD_UNLINK', ...header, unlinkSeqnum}, length: URB_HEADER_LENGTH}
	}
	if (basic.command !== USBIP_CMD_SUBMIT) {
		throw new ProtocolError('unknown-command', `unexpected command 0x${basic.command.toString(16)} from client`)
	}
	const transferFlags = r.u32(0x14, 'transfer_flags')
	const transferBufferLength = r.u32(0x18, 'transfer_buffer_length')
	if (basic.direction === USBIP_DIR_OUT) checkTransferLength(transferBufferLength, 'transfer_buffer_length', options)
	const startFrame = r.u32(0x1c, 'start_frame')
	const numberOfPackets = r.u32(0x20, 'number_of_packets')
	const packetCount = checkIsoPacketCount(numberOfPackets)
	const interval = r.u32(0x24, 'interval')
	const setup = r.bytes(0x28, 8, 'setup')
	const payloadLength = basic.direction === USBIP_DIR_OUT ? transferBufferLength : 0
	const data = r.bytes(URB_HEADER_LENGTH, payloadLength, 'transfer_buffer')
	const isoPackets = decodeIsoPackets(r, URB_HEADER_LENGTH + payloadLength, packetCount)
	return {
		message: {
			kind: 'CMD_SUBMIT',
			...header,
			transferFlags,
			transferBufferLength,
			startFrame,
			numberOfPackets,
			interval,
			setup,
			data,
			isoPackets,
		},
		length: URB_HEADER_LENGTH + payloadLength + packetCount * ISO_PACKET_DESCRIPTOR_LENGTH,
	}
}

function retSubmitPayloadLength(r: Reader, basic: UrbHeaderBasic, options: ServerUrbDecodeOptions): number {
	const actualLength = r.u32(0x18, 'actual_length')
	checkTransferLength(actualLength, 'actual_length', options)
	const direction = options.directionOfSeqnum?.(basic.seqnum) ?? basic.direction
	return direction === USBIP_DIR_IN ? actualLength : 0
}

/** Total length of the server URB message at the start of buf, or undefined until the header is in. */
function measureServerUrb(buf: Buffer, options: ServerUrbDecodeOptions): number | undefined {
	if (buf.length < URB_HEADER_LENGTH) return undefined
	const r = new Reader(buf)
	const basic = readBasic(r)
	if (basic.command === USBIP_RET_UNLINK) return URB_HEADER_LENGTH
	if (basic.command !== USBIP_RET_SUBMIT) {
		throw new ProtocolError('unknown-command', `unexpected command 0x${basic.command.toString(16)} from server`)
	}
	const payload = retSubmitPayloadLength(r, basic, options)
	const packets = checkIsoPacketCount(r.u32(0x20, 'number_of_packets'))
	return URB_HEADER_LENGTH + payload + packets * ISO_PACKET_DESCRIPTOR_LENGTH
}

/** Decodes RET_SUBMIT or RET_UNLINK (server to client) at the start of buf. */
export function decodeServerUrb(buf: Buffer, options: ServerUrbDecodeOptions = {}): Decoded<RetSubmit | RetUnlink> {
	const r = new Reader(buf)
	const basic = readBasic(r)
	const header = {seqnum: basic.seqnum, devid: basic.devid, direction: basic.direction, ep: basic.ep}
	if (basic.command === USBIP_RET_UNLINK) {
		r.u32(URB_HEADER_LENGTH - 4, 'padding')
		return {message: {kind: 'RET_UNLINK', ...header, status: r.i32(0x14, 'status')}, length: URB_HEADER_LENGTH}
	}
	if (basic.command !== USBIP_RET_SUBMIT) {
		throw new ProtocolError('unknown-command', `unexpected command 0x${basic.command.toString(16)} from server`)
	}
	const status = r.i32(0x14, 'status')
	const actualLength = r.u32(0x18, 'actual_length')
	const payloadLength = retSubmitPayloadLength(r, basic, options)
	const startFrame = r.u32(0x1c, 'start_frame')
	const numberOfPackets = r.u32(0x20, 'number_of_packets')
	const packetCount = checkIsoPacketCount(numberOfPackets)
	const errorCount = r.u32(0x24, 'error_count')
	const data = r.bytes(URB_HEADER_LENGTH, payloadLength, 'transfer_buffer')
	const isoPackets = decodeIsoPackets(r, URB_HEADER_LENGTH + payloadLength, packetCount)
	return {
		message: {
			kind: 'RET_SUBMIT',
			...header,
			status,
			actualLength,
			startFrame,
			numberOfPackets,
			errorCount,
			data,
			isoPackets,
		},
		length: URB_HEADER_LENGTH + payloadLength + packetCount * ISO_PACKET_DESCRIPTOR_LENGTH,
	}
}

/** Encodes any USB/IP message to its wire bytes. Throws ProtocolError for values that do not fit. */
export function encodeMessage(m: UsbipMessage): Buffer {
	switch (m.kind) {
		case 'OP_REQ_DEVLIST':
			return encodeOpReqDevlist(m)
		case 'OP_REP_DEVLIST':
			return encodeOpRepDevlist(m)
		case 'OP_REQ_IMPORT':
			return encodeOpReqImport(m)
		case 'OP_REP_IMPORT':
			return encodeOpRepImport(m)
		case 'CMD_SUBMIT':
			return encodeCmdSubmit(m)
		case 'RET_SUBMIT':
			return encodeRetSubmit(m)
		case 'CMD_UNLINK':
			return encodeCmdUnlink(m)
		case 'RET_UNLINK':
			return encodeRetUnlink(m)
	}
}

// ---- incremental stream parser -----------------------------------------------

/** Which end of the connection this parser sits on: a server reads client messages. */
export type UsbipRole = 'server' | 'client'
export type UsbipPhase = 'op' | 'urb'

export interface StreamParserOptions extends ServerUrbDecodeOptions {
	role: UsbipRole
}

/**
 * Reassembles whole messages from TCP chunks of any size. It switches from the
 * op phase to the URB phase by itself right after an import request (server
 * role) or a successful import reply (client role), because the bytes that
 * follow in the same chunk already belong to the URB phase. After a
 * ProtocolError the parser stays failed: the stream has lost its framing.
 */
export class UsbipStreamParser {
	private chunks: Buffer[] = []
	private buffered = 0
	private failure: ProtocolError | undefined
	private currentPhase: UsbipPhase = 'op'

	constructor(private readonly options: StreamParserOptions) {}

	get phase(): UsbipPhase {
		return this.currentPhase
	}

	get bufferedBytes(): number {
		return this.buffered
	}

	/** Adds bytes and returns every message they complete, in order. */
	push(chunk: Buffer): UsbipMessage[] {
		if (this.failure) throw this.failure
		if (chunk.length > 0) {
			this.chunks.push(chunk)
			this.buffered += chunk.length
		}
		const messages: UsbipMessage[] = []
		try {
			for (; ;) {
				const message = this.next()
				if (!message) break
				messages.push(message)
			}
		} catch (err) {
			this.failure =
				err instanceof ProtocolError ? err : new ProtocolError('bad-field', `undecodable message: ${String(err)}`)
			throw this.failure
		}
		return messages
	}

	private pending(): Buffer {
		if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.buffered)]
		return this.chunks[0] ?? Buffer.alloc(0)
	}

	private measure(buf: Buffer): number | undefined {
		const {role} = this.options
		if (this.currentPhase === 'op') return role === 'server' ? measureOpRequest(buf) : measureOpReply(buf)
		return role === 'server' ? measureClientUrb(buf, this.options) : measureServerUrb(buf, this.options)
	}

	private next(): UsbipMessage | undefined {
		if (this.buffered === 0) return undefined
		const buf = this.pending()
		const needed = this.measure(buf)
		if (needed === undefined || buf.length < needed) return undefined
		const slice = buf.subarray(0, needed)
		const {message, length} = this.decode(slice)
		if (length !== needed) {
			throw new ProtocolError('bad-field', `framing disagreement: measured ${needed}, decoded ${length}`)
		}
		const rest = buf.subarray(needed)
		this.chunks = rest.length > 0 ? [rest] : []
		this.buffered = rest.length
		if (message.kind === 'OP_REQ_IMPORT' || (message.kind === 'OP_REP_IMPORT' && message.status === OpStatus.OK)) {
			this.currentPhase = 'urb'
		}
		return message
	}

	private decode(buf: Buffer): Decoded<UsbipMessage> {
		const {role} = this.options
		if (this.currentPhase === 'op') return role === 'server' ? decodeOpRequest(buf) : decodeOpReply(buf)
		return role === 'server' ? decodeClientUrb(buf, this.options) : decodeServerUrb(buf, this.options)
	}
}

/** Splits the 8-byte SETUP packet (little-endian fields, USB 2.0 9.3). */
export interface SetupPacket {
	requestType: number
	request: number
	value: number
	index: number
	length: number
}

export function decodeSetup(setup: Buffer): SetupPacket {
	if (setup.length !== 8) throw new ProtocolError('bad-field', `setup packet is ${setup.length} bytes, expected 8`)
	return {
		requestType: setup.readUInt8(0),
		request: setup.readUInt8(1),
		value: setup.readUInt16LE(2),
		index: setup.readUInt16LE(4),
		length: setup.readUInt16LE(6),
	}
}

export function encodeSetup(s: SetupPacket): Buffer {
	const buf = Buffer.alloc(8)
	buf.writeUInt8(checkUint(s.requestType, 8, 'bmRequestType'), 0)
	buf.writeUInt8(checkUint(s.request, 8, 'bRequest'), 1)
	buf.writeUInt16LE(checkUint(s.value, 16, 'wValue'), 2)
	buf.writeUInt16LE(checkUint(s.index, 16, 'wIndex'), 4)
	buf.writeUInt16LE(checkUint(s.length, 16, 'wLength'), 6)
	return buf
}
