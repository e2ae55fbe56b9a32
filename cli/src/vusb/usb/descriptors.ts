// USB 2.0 chapter 9 and CDC 1.2 descriptor builders. Descriptors are
// little-endian byte strings; each builder checks its field ranges so a bad
// device definition fails when it is built, not when a host parses it.

export const DescriptorType = {
	DEVICE: 0x01,
	CONFIGURATION: 0x02,
	STRING: 0x03,
	INTERFACE: 0x04,
	ENDPOINT: 0x05,
	DEVICE_QUALIFIER: 0x06,
	OTHER_SPEED_CONFIGURATION: 0x07,
	INTERFACE_POWER: 0x08,
	INTERFACE_ASSOCIATION: 0x0b,
	BOS: 0x0f,
	CS_INTERFACE: 0x24,
	CS_ENDPOINT: 0x25,
} as const

export const UsbClass = {
	PER_INTERFACE: 0x00,
	CDC: 0x02,
	HID: 0x03,
	CDC_DATA: 0x0a,
	MISC: 0xef,
	VENDOR: 0xff,
} as const

export const CdcSubclass = {
	ACM: 0x02,
	ECM: 0x06,
	NCM: 0x0d,
} as const

/** CDC functional descriptor subtypes (bDescriptorSubtype of CS_INTERFACE). */
export const CdcDescriptorSubtype = {
	HEADER: 0x00,
	CALL_MANAGEMENT: 0x01,
	ACM: 0x02,
	UNION: 0x06,
	ETHERNET: 0x0f,
	NCM: 0x1a,
} as const

export const EndpointType = {
	CONTROL: 0,
	ISOCHRONOUS: 1,
	BULK: 2,
	INTERRUPT: 3,
} as const
export type EndpointTypeValue = (typeof EndpointType)[keyof typeof EndpointType]

export const ENDPOINT_DIR_IN = 0x80

/** bmAttributes bit 7 must always be set in USB 2.0 configuration descriptors. */
export const CONFIG_ATTR_RESERVED = 0x80
export const CONFIG_ATTR_SELF_POWERED = 0x40
export const CONFIG_ATTR_REMOTE_WAKEUP = 0x20

export const LANGID_EN_US = 0x0409

function u8(value: number, what: string): number {
	if (!Number.isInteger(value) || value < 0 || value > 0xff) {
		throw new RangeError(`${what} must be in 0..255, got ${value}`)
	}
	return value
}

function u16(value: number, what: string): number {
	if (!Number.isInteger(value) || value < 0 || value > 0xffff) {
		throw new RangeError(`${what} must be in 0..65535, got ${value}`)
	}
	return value
}

function u32(value: number, what: string): number {
	if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
		throw new RangeError(`${what} must be a 32-bit unsigned integer, got ${value}`)
	}
	return value
}

export interface DeviceDescriptorFields {
	bcdUSB: number
	deviceClass: number
	deviceSubClass: number
	deviceProtocol: number
	maxPacketSize0: number
	idVendor: number
	idProduct: number
	bcdDevice: number
	manufacturerIndex: number
	productIndex: number
	serialNumberIndex: number
	numConfigurations: number
}

/** Standard device descriptor, 18 bytes (USB 2.0 9.6.1). */
export function deviceDescriptor(f: DeviceDescriptorFields): Buffer {
	if (![8, 16, 32, 64, 9].includes(f.maxPacketSize0)) {
		throw new RangeError(`bMaxPacketSize0 must be 8, 16, 32 or 64 (or 9 for SuperSpeed), got ${f.maxPacketSize0}`)
	}
	const b = Buffer.alloc(18)
	b[0] = 18
	b[1] = DescriptorType.DEVICE
	b.writeUInt16LE(u16(f.bcdUSB, 'bcdUSB'), 2)
	b[4] = u8(f.deviceClass, 'bDeviceClass')
	b[5] = u8(f.deviceSubClass, 'bDeviceSubClass')
	b[6] = u8(f.deviceProtocol, 'bDeviceProtocol')
	b[7] = f.maxPacketSize0
	b.writeUInt16LE(u16(f.idVendor, 'idVendor'), 8)
	b.writeUInt16LE(u16(f.idProduct, 'idProduct'), 10)
	b.writeUInt16LE(u16(f.bcdDevice, 'bcdDevice'), 12)
	b[14] = u8(f.manufacturerIndex, 'iManufacturer')
	b[15] = u8(f.productIndex, 'iProduct')
	b[16] = u8(f.serialNumberIndex, 'iSerialNumber')
	b[17] = u8(f.numConfigurations, 'bNumConfigurations')
	return b
}

export interface DeviceQualifierFields {
	bcdUSB: number
	deviceClass: number
	deviceSubClass: number
	deviceProtocol: number
	maxPacketSize0: number
	numConfigurations: number
}

/** Device qualifier, 10 bytes (USB 2.0 9.6.2): the device at its other speed. */
export function deviceQualifierDescriptor(f: DeviceQualifierFields): Buffer {
	const b = Buffer.alloc(10)
	b[0] = 10
	b[1] = DescriptorType.DEVICE_QUALIFIER
	b.writeUInt16LE(u16(f.bcdUSB, 'bcdUSB'), 2)
	b[4] = u8(f.deviceClass, 'bDeviceClass')
	b[5] = u8(f.deviceSubClass, 'bDeviceSubClass')
	b[6] = u8(f.deviceProtocol, 'bDeviceProtocol')
	b[7] = u8(f.maxPacketSize0, 'bMaxPacketSize0')
	b[8] = u8(f.numConfigurations, 'bNumConfigurations')
	b[9] = 0 // bReserved
	return b
}

export interface ConfigurationFields {
	configurationValue: number
	configurationIndex: number
	/** Bits 6 (self powered) and 5 (remote wakeup); bit 7 is added here. */
	attributes: number
	maxPowerMilliamps: number
	numInterfaces: number
	/** OTHER_SPEED_CONFIGURATION shares this layout. */
	descriptorType?: number
}

/**
 * Configuration descriptor followed by everything that belongs to it
 * (USB 2.0 9.6.3); wTotalLength covers the whole block.
 */
export function configurationDescriptor(f: ConfigurationFields, body: Buffer[]): Buffer {
	const head = Buffer.alloc(9)
	const total = 9 + body.reduce((sum, part) => sum + part.length, 0)
	head[0] = 9
	head[1] = f.descriptorType ?? DescriptorType.CONFIGURATION
	head.writeUInt16LE(u16(total, 'wTotalLength'), 2)
	head[4] = u8(f.numInterfaces, 'bNumInterfaces')
	head[5] = u8(f.configurationValue, 'bConfigurationValue')
	head[6] = u8(f.configurationIndex, 'iConfiguration')
	head[7] = CONFIG_ATTR_RESERVED | (u8(f.attributes, 'bmAttributes') & 0x7f)
	// bMaxPower counts 2 mA units at USB 2.0 speeds.
	head[8] = u8(Math.ceil(f.maxPowerMilliamps / 2), 'bMaxPower')
	return Buffer.concat([head, ...body], total)
}

export interface InterfaceFields {
	interfaceNumber: number
	alternateSetting: number
	numEndpoints: number
	interfaceClass: number
	interfaceSubClass: number
	interfaceProtocol: number
	interfaceIndex: number
}

/** Interface descriptor, 9 bytes (USB 2.0 9.6.5). */
export function interfaceDescriptor(f: InterfaceFields): Buffer {
	const b = Buffer.alloc(9)
	b[0] = 9
	b[1] = DescriptorType.INTERFACE
	b[2] = u8(f.interfaceNumber, 'bInterfaceNumber')
	b[3] = u8(f.alternateSetting, 'bAlternateSetting')
	b[4] = u8(f.numEndpoints, 'bNumEndpoints')
	b[5] = u8(f.interfaceClass, 'bInterfaceClass')
	b[6] = u8(f.interfaceSubClass, 'bInterfaceSubClass')
	b[7] = u8(f.interfaceProtocol, 'bInterfaceProtocol')
	b[8] = u8(f.interfaceIndex, 'iInterface')
	return b
}

export interface EndpointFields {
	/** Endpoint address: number in bits 3..0, bit 7 set for IN. */
	address: number
	type: EndpointTypeValue
	maxPacketSize: number
	interval: number
}

/** Endpoint descriptor, 7 bytes (USB 2.0 9.6.6). */
export function endpointDescriptor(f: EndpointFields): Buffer {
	const number = f.address & 0x0f
	if (number === 0 || (f.address & 0x70) !== 0 || f.address > 0xff) {
		throw new RangeError(`endpoint address 0x${f.address.toString(16)} is not a valid non-zero endpoint`)
	}
	const b = Buffer.alloc(7)
	b[0] = 7
	b[1] = DescriptorType.ENDPOINT
	b[2] = f.address
	b[3] = f.type
	b.writeUInt16LE(u16(f.maxPacketSize, 'wMaxPacketSize'), 4)
	b[6] = u8(f.interval, 'bInterval')
	return b
}

export interface InterfaceAssociationFields {
	firstInterface: number
	interfaceCount: number
	functionClass: number
	functionSubClass: number
	functionProtocol: number
	functionIndex: number
}

/** Interface association descriptor, 8 bytes (USB IAD ECN). */
export function interfaceAssociationDescriptor(f: InterfaceAssociationFields): Buffer {
	const b = Buffer.alloc(8)
	b[0] = 8
	b[1] = DescriptorType.INTERFACE_ASSOCIATION
	b[2] = u8(f.firstInterface, 'bFirstInterface')
	b[3] = u8(f.interfaceCount, 'bInterfaceCount')
	b[4] = u8(f.functionClass, 'bFunctionClass')
	b[5] = u8(f.functionSubClass, 'bFunctionSubClass')
	b[6] = u8(f.functionProtocol, 'bFunctionProtocol')
	b[7] = u8(f.functionIndex, 'iFunction')
	return b
}

/** String descriptor zero: the supported LANGIDs. */
export function languageIdsDescriptor(langIds: number[] = [LANGID_EN_US]): Buffer {
	const b = Buffer.alloc(2 + 2 * langIds.length)
	b[0] = u8(b.length, 'bLength')
	b[1] = DescriptorType.STRING
	langIds.forEach((id, i) => b.writeUInt16LE(u16(id, 'wLANGID'), 2 + 2 * i))
	return b
}

/** String descriptor in UTF-16LE (USB 2.0 9.6.7); at most 126 code units fit. */
export function stringDescriptor(text: string): Buffer {
	const utf16 = Buffer.from(text, 'utf16le')
	if (utf16.length > 252) {
		throw new RangeError(`string "${text.slice(0, 20)}..." is ${utf16.length / 2} UTF-16 units, at most 126 fit`)
	}
	return Buffer.concat([Buffer.from([2 + utf16.length, DescriptorType.STRING]), utf16])
}

// ---- CDC functional descriptors (CDC 1.2 5.2.3, ECM 1.2 5.4, NCM 1.0 5.2) ---

/** Header functional descriptor, 5 bytes; bcdCDC 1.10 is what hosts expect. */
export function cdcHeaderDescriptor(bcdCDC = 0x0110): Buffer {
	const b = Buffer.alloc(5)
	b[0] = 5
	b[1] = DescriptorType.CS_INTERFACE
	b[2] = CdcDescriptorSubtype.HEADER
	b.writeUInt16LE(u16(bcdCDC, 'bcdCDC'), 3)
	return b
}

/** Union functional descriptor: the control interface and its subordinates. */
export function cdcUnionDescriptor(controlInterface: number, subordinateInterfaces: number[]): Buffer {
	if (subordinateInterfaces.length === 0) throw new RangeError('a CDC union needs at least one subordinate interface')
	const b = Buffer.alloc(4 + subordinateInterfaces.length)
	b[0] = b.length
	b[1] = DescriptorType.CS_INTERFACE
	b[2] = CdcDescriptorSubtype.UNION
	b[3] = u8(controlInterface, 'bControlInterface')
	subordinateInterfaces.forEach((n, i) => (b[4 + i] = u8(n, 'bSubordinateInterface')))
	return b
}

export interface EthernetNetworkingFields {
	/** String index of the 12-hex-digit MAC address string. */
	macAddressIndex: number
	ethernetStatistics: number
	maxSegmentSize: number
	numberMcFilters: number
	numberPowerFilters: number
}

/** Ethernet networking functional descriptor, 13 bytes (ECM 1.2 5.4). */
export function cdcEthernetDescriptor(f: EthernetNetworkingFields): Buffer {
	const b = Buffer.alloc(13)
	b[0] = 13
	b[1] = DescriptorType.CS_INTERFACE
	b[2] = CdcDescriptorSubtype.ETHERNET
	b[3] = u8(f.macAddressIndex, 'iMACAddress')
	b.writeUInt32LE(u32(f.ethernetStatistics, 'bmEthernetStatistics'), 4)
	b.writeUInt16LE(u16(f.maxSegmentSize, 'wMaxSegmentSize'), 8)
	b.writeUInt16LE(u16(f.numberMcFilters, 'wNumberMCFilters'), 10)
	b[12] = u8(f.numberPowerFilters, 'bNumberPowerFilters')
	return b
}

/** NCM functional descriptor, 6 bytes (NCM 1.0 5.2.1). */
export function cdcNcmDescriptor(networkCapabilities: number, bcdNcmVersion = 0x0100): Buffer {
	const b = Buffer.alloc(6)
	b[0] = 6
	b[1] = DescriptorType.CS_INTERFACE
	b[2] = CdcDescriptorSubtype.NCM
	b.writeUInt16LE(u16(bcdNcmVersion, 'bcdNcmVersion'), 3)
	b[5] = u8(networkCapabilities, 'bmNetworkCapabilities')
	return b
}

/** Call management functional descriptor, 5 bytes (PSTN 1.2 5.3.1). */
export function cdcCallManagementDescriptor(capabilities: number, dataInterface: number): Buffer {
	const b = Buffer.alloc(5)
	b[0] = 5
	b[1] = DescriptorType.CS_INTERFACE
	b[2] = CdcDescriptorSubtype.CALL_MANAGEMENT
	b[3] = u8(capabilities, 'bmCapabilities')
	b[4] = u8(dataInterface, 'bDataInterface')
	return b
}

/** Abstract control management functional descriptor, 4 bytes (PSTN 1.2 5.3.2). */
export function cdcAcmDescriptor(capabilities: number): Buffer {
	const b = Buffer.alloc(4)
	b[0] = 4
	b[1] = DescriptorType.CS_INTERFACE
	b[2] = CdcDescriptorSubtype.ACM
	b[3] = u8(capabilities, 'bmCapabilities')
	return b
}

/** One descriptor found by walking a descriptor block. */
export interface RawDescriptor {
	type: number
	offset: number
	bytes: Buffer
}

/**
 * Splits a block of concatenated descriptors by their bLength bytes; used by
 * tests and clients to inspect a configuration. Throws on a malformed chain.
 */
export function splitDescriptors(block: Buffer): RawDescriptor[] {
	const out: RawDescriptor[] = []
	let offset = 0
	while (offset < block.length) {
		const length = block[offset] ?? 0
		if (length < 2 || offset + length > block.length) {
			throw new RangeError(`malformed descriptor at offset ${offset}: bLength ${length}`)
		}
		out.push({type: block[offset + 1] ?? 0, offset, bytes: block.subarray(offset, offset + length)})
		offset += length
	}
	return out
}
