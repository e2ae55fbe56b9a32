import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {
	DescriptorType,
	EndpointType,
	cdcAcmDescriptor,
	cdcCallManagementDescriptor,
	cdcEthernetDescriptor,
	cdcHeaderDescriptor,
	cdcNcmDescriptor,
	cdcUnionDescriptor,
	configurationDescriptor,
	deviceDescriptor,
	deviceQualifierDescriptor,
	endpointDescriptor,
	interfaceAssociationDescriptor,
	interfaceDescriptor,
	languageIdsDescriptor,
	splitDescriptors,
	stringDescriptor,
} from './descriptors.js'
import {UsbDevice} from './device.js'
import {CdcEcmFunction} from '../functions/cdc-ecm.js'
import type {FrameHandler} from '../functions/cdc-ecm.js'
import {CdcAcmFunction} from '../functions/cdc-acm.js'
import type {SerialHandler} from '../functions/cdc-acm.js'

const nullFrames: FrameHandler = {attach: () => {}, frameFromHost: () => {}}
const nullSerial: SerialHandler = {attach: () => {}, bytesFromHost: () => {}}

describe('ch9 descriptor builders', () => {
	it('builds an 18-byte device descriptor in little-endian', () => {
		const d = deviceDescriptor({
			bcdUSB: 0x0200,
			deviceClass: 0xef,
			deviceSubClass: 2,
			deviceProtocol: 1,
			maxPacketSize0: 64,
			idVendor: 0x1d6b,
			idProduct: 0x0104,
			bcdDevice: 0x0101,
			manufacturerIndex: 1,
			productIndex: 2,
			serialNumberIndex: 3,
			numConfigurations: 1,
		})
		assert.deepEqual(
			[...d],
			[18, 1, 0x00, 0x02, 0xef, 2, 1, 64, 0x6b, 0x1d, 0x04, 0x01, 0x01, 0x01, 1, 2, 3, 1],
		)
		assert.throws(() => deviceDescriptor({...descriptorFields(), maxPacketSize0: 7}), RangeError)
	})

	it('computes wTotalLength and sets the reserved attribute bit in a configuration', () => {
		const iface = interfaceDescriptor({
			interfaceNumber: 0,
			alternateSetting: 0,
			numEndpoints: 1,
			interfaceClass: 0xff,
			interfaceSubClass: 0,
			interfaceProtocol: 0,
			interfaceIndex: 0,
		})
		const ep = endpointDescriptor({address: 0x81, type: EndpointType.BULK, maxPacketSize: 512, interval: 0})
		const c = configurationDescriptor(
			{configurationValue: 1, configurationIndex: 0, attributes: 0x20, maxPowerMilliamps: 100, numInterfaces: 1},
			[iface, ep],
		)
		assert.equal(c.length, 9 + 9 + 7)
		assert.deepEqual([...c.subarray(0, 9)], [9, 2, 25, 0, 1, 1, 0, 0xa0, 50])
		assert.deepEqual([...ep], [7, 5, 0x81, 2, 0x00, 0x02, 0])
		assert.deepEqual([...iface], [9, 4, 0, 0, 1, 0xff, 0, 0, 0])
	})

	it('rejects endpoint 0 and reserved address bits', () => {
		const base = {type: EndpointType.BULK, maxPacketSize: 64, interval: 0} as const
		assert.throws(() => endpointDescriptor({...base, address: 0x80}), RangeError)
		assert.throws(() => endpointDescriptor({...base, address: 0x11}), RangeError)
	})

	it('builds string descriptors in UTF-16LE and the LANGID table', () => {
		assert.deepEqual([...stringDescriptor('A€')], [6, 3, 0x41, 0x00, 0xac, 0x20])
		assert.deepEqual([...languageIdsDescriptor()], [4, 3, 0x09, 0x04])
		assert.throws(() => stringDescriptor('x'.repeat(127)), RangeError)
	})

	it('builds the qualifier and association descriptors at their spec lengths', () => {
		const q = deviceQualifierDescriptor({
			bcdUSB: 0x0200,
			deviceClass: 0,
			deviceSubClass: 0,
			deviceProtocol: 0,
			maxPacketSize0: 64,
			numConfigurations: 1,
		})
		assert.deepEqual([...q], [10, 6, 0, 2, 0, 0, 0, 64, 1, 0])
		const iad = interfaceAssociationDescriptor({
			firstInterface: 2,
			interfaceCount: 2,
			functionClass: 2,
			functionSubClass: 6,
			functionProtocol: 0,
			functionIndex: 0,
		})
		assert.deepEqual([...iad], [8, 0x0b, 2, 2, 2, 6, 0, 0])
	})

	it('builds the CDC functional descriptors', () => {
		assert.deepEqual([...cdcHeaderDescriptor()], [5, 0x24, 0x00, 0x10, 0x01])
		assert.deepEqual([...cdcUnionDescriptor(0, [1])], [5, 0x24, 0x06, 0, 1])
		assert.deepEqual(
			[...cdcEthernetDescriptor({macAddressIndex: 4, ethernetStatistics: 0, maxSegmentSize: 1514, numberMcFilters: 0, numberPowerFilters: 0})],
			[13, 0x24, 0x0f, 4, 0, 0, 0, 0, 0xea, 0x05, 0, 0, 0],
		)
		assert.deepEqual([...cdcNcmDescriptor(0x20)], [6, 0x24, 0x1a, 0x00, 0x01, 0x20])
		assert.deepEqual([...cdcCallManagementDescriptor(0, 1)], [5, 0x24, 0x01, 0, 1])
		assert.deepEqual([...cdcAcmDescriptor(2)], [4, 0x24, 0x02, 2])
	})
})

function descriptorFields(): Parameters<typeof deviceDescriptor>[0] {
	return {
		bcdUSB: 0x0200,
		deviceClass: 0,
		deviceSubClass: 0,
		deviceProtocol: 0,
		maxPacketSize0: 64,
		idVendor: 1,
		idProduct: 2,
		bcdDevice: 0,
		manufacturerIndex: 0,
		productIndex: 0,
		serialNumberIndex: 0,
		numConfigurations: 1,
	}
}

describe('device configuration layout', () => {
	it('lays out a single ECM function the way cdc_ether expects', () => {
		const ecm = new CdcEcmFunction({hostMac: '02:00:00:00:00:01', frameHandler: nullFrames})
		const device = new UsbDevice({vendorId: 0x1d6b, productId: 0x0104, speed: 'high'}, [ecm])
		const parts = splitDescriptors(device.configurationDescriptor())
		assert.equal(parts[0]!.type, DescriptorType.CONFIGURATION)
		// Type and third byte: interface number, functional subtype or endpoint address.
		const summary = parts.slice(1).map((p) => [p.type, p.bytes[2]])
		assert.deepEqual(summary, [
			[DescriptorType.INTERFACE, 0], // comm interface 0
			[DescriptorType.CS_INTERFACE, 0x00], // header
			[DescriptorType.CS_INTERFACE, 0x06], // union
			[DescriptorType.CS_INTERFACE, 0x0f], // ethernet networking
			[DescriptorType.ENDPOINT, 0x81], // notification interrupt IN
			[DescriptorType.INTERFACE, 1], // data interface alt 0
			[DescriptorType.INTERFACE, 1], // data interface alt 1
			[DescriptorType.ENDPOINT, 0x82], // bulk IN
			[DescriptorType.ENDPOINT, 0x01], // bulk OUT
		])
		const config = parts[0]!.bytes
		assert.equal(config.readUInt16LE(2), parts.reduce((n, p) => n + p.bytes.length, 0))
		assert.equal(config[4], 2, 'bNumInterfaces')
		const comm = parts[1]!.bytes
		assert.deepEqual([comm[5], comm[6]], [0x02, 0x06])
		const alt1 = parts[7]!.bytes
		assert.deepEqual([alt1[3], alt1[4], alt1[5]], [1, 2, 0x0a])
		assert.equal(parts[8]!.bytes.readUInt16LE(4), 512, 'high-speed bulk packets are 512 bytes')
		assert.equal(parts[5]!.bytes[3], EndpointType.INTERRUPT)
		assert.equal(parts[5]!.bytes.readUInt16LE(4), 16)
		// The MAC string the ethernet descriptor points at.
		assert.equal(device.string(parts[4]!.bytes[3]!), '020000000001')
		assert.deepEqual([...device.deviceDescriptor().subarray(4, 7)], [0x02, 0, 0])
	})

	it('uses 64-byte bulk packets at full speed', () => {
		const ecm = new CdcEcmFunction({hostMac: '02:00:00:00:00:01', frameHandler: nullFrames})
		const device = new UsbDevice({vendorId: 1, productId: 2, speed: 'full'}, [ecm])
		const bulk = splitDescriptors(device.configurationDescriptor()).filter(
			(p) => p.type === DescriptorType.ENDPOINT && p.bytes[3] === EndpointType.BULK,
		)
		assert.deepEqual(bulk.map((p) => p.bytes.readUInt16LE(4)), [64, 64])
	})

	it('numbers interfaces and endpoints across functions and adds IADs for a composite', () => {
		const ecm = new CdcEcmFunction({hostMac: '02:00:00:00:00:01', frameHandler: nullFrames})
		const acm = new CdcAcmFunction({handler: nullSerial})
		const device = new UsbDevice({vendorId: 1, productId: 2}, [ecm, acm])
		assert.deepEqual([...device.deviceDescriptor().subarray(4, 7)], [0xef, 0x02, 0x01])
		const parts = splitDescriptors(device.configurationDescriptor())
		const iads = parts.filter((p) => p.type === DescriptorType.INTERFACE_ASSOCIATION).map((p) => [...p.bytes.subarray(2, 6)])
		assert.deepEqual(iads, [
			[0, 2, 0x02, 0x06],
			[2, 2, 0x02, 0x02],
		])
		const endpoints = parts.filter((p) => p.type === DescriptorType.ENDPOINT).map((p) => p.bytes[2])
		assert.deepEqual(endpoints, [0x81, 0x82, 0x01, 0x83, 0x84, 0x02])
		assert.equal(parts[0]!.bytes[4], 4, 'bNumInterfaces')
		assert.deepEqual(acm.interfaceNumbers, {comm: 2, data: 3})
		// ACM's functional descriptors name the right interfaces.
		const union = parts
			.filter((p) => p.type === DescriptorType.CS_INTERFACE && p.bytes[2] === 0x06)
			.map((p) => [...p.bytes.subarray(3)])
		assert.deepEqual(union, [
			[0, 1],
			[2, 3],
		])
	})
})
