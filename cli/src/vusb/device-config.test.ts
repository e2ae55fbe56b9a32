import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {JsonSyntaxError, SchemaValidationError} from '../config/errors.js'
import {buildDevice, loadDeviceConfigFile, parseDeviceConfigText, validateDeviceConfig} from './device-config.js'
import type {FunctionHandlers, VusbDeviceConfig} from './device-config.js'
import {DescriptorType, splitDescriptors} from './usb/descriptors.js'

const composite: VusbDeviceConfig = {
	vendorId: '0x1d6b',
	productId: '0x0104',
	manufacturer: 'usbvnet',
	product: 'vusb composite',
	serial: 'VUSB-0001',
	functions: [
		{type: 'cdc-ncm', hostMac: '02:00:00:00:00:01', ntbInMaxSize: 8192},
		{type: 'cdc-ecm', hostMac: '02:00:00:00:00:02', connected: false},
		{type: 'cdc-acm', interfaceName: 'console'},
	],
}

const handlers: FunctionHandlers = {
	frames: () => ({attach: () => {}, frameFromHost: () => {}}),
	serial: () => ({attach: () => {}, bytesFromHost: () => {}}),
}

function issuesOf(data: unknown): string[] {
	try {
		validateDeviceConfig(data, 'test.json')
	} catch (err) {
		assert.ok(err instanceof SchemaValidationError, String(err))
		return err.issues.map((i) => `${i.path}: ${i.message}`)
	}
	return []
}

describe('vusb device definitions', () => {
	it('accepts a composite definition and builds the device it describes', () => {
		assert.deepEqual(issuesOf(composite), [])
		const device = buildDevice(validateDeviceConfig(composite, 'test.json'), handlers)
		assert.equal(device.identity.vendorId, 0x1d6b)
		assert.equal(device.numInterfaces, 6)
		const interfaces = splitDescriptors(device.configurationDescriptor())
			.filter((p) => p.type === DescriptorType.INTERFACE && p.bytes[3] === 0)
			.map((p) => [p.bytes[5], p.bytes[6]])
		assert.deepEqual(interfaces, [
			[0x02, 0x0d],
			[0x0a, 0x00],
			[0x02, 0x06],
			[0x0a, 0x00],
			[0x02, 0x02],
			[0x0a, 0x00],
		])
	})

	it('names every problem with its JSON path', () => {
		const issues = issuesOf({
			vendorId: '1d6b',
			productID: '0x0104',
			speed: 'super',
			functions: [{type: 'cdc-ecm'}, {type: 'cdc-ecn', hostMac: '02:00:00:00:00:01'}, {type: 'cdc-acm', hostMac: '02:00:00:00:00:03'}],
		})
		const has = (fragment: string): boolean => issues.some((i) => i.includes(fragment))
		assert.ok(has('$.vendorId: expected a USB ID'), issues.join('\n'))
		assert.ok(has('$.productID: unknown key "productID"; did you mean "productId"?'), issues.join('\n'))
		assert.ok(has('missing required key "productId"'), issues.join('\n'))
		assert.ok(has('$.speed:'), issues.join('\n'))
		assert.ok(has('$.functions[0]: missing required key "hostMac"'), issues.join('\n'))
		assert.ok(has('$.functions[1].type: function type "cdc-ecn" is not one of cdc-ecm, cdc-ncm, cdc-acm, hid-keyboard; did you mean "cdc-ecm"?'), issues.join('\n'))
		assert.ok(has('$.functions[2].hostMac: unknown key'), issues.join('\n'))
	})

	it('rejects multicast and zero MACs, oversize strings, too many functions and shared host MACs', () => {
		const base = {vendorId: '0x1234', productId: '0x5678'}
		assert.equal(issuesOf({...base, functions: [{type: 'cdc-ecm', hostMac: '01:00:5e:00:00:01'}]}).length, 1)
		assert.equal(issuesOf({...base, functions: [{type: 'cdc-ecm', hostMac: '00:00:00:00:00:00'}]}).length, 1)
		assert.equal(issuesOf({...base, product: 'x'.repeat(127), functions: [{type: 'cdc-acm'}]}).length, 1)
		assert.equal(issuesOf({...base, functions: new Array(8).fill({type: 'cdc-acm'})}).length, 1)
		// Characters beyond U+FFFF take two UTF-16 units in a descriptor: 100 of them pass maxLength, not the descriptor.
		const emoji = '\u{1F600}'.repeat(100)
		assert.deepEqual(issuesOf({...base, serial: emoji, functions: [{type: 'cdc-acm', interfaceName: emoji}]}), [
			'$.serial: needs 200 UTF-16 code units, a USB string holds at most 126 (characters beyond U+FFFF take two)',
			'$.functions[0].interfaceName: needs 200 UTF-16 code units, a USB string holds at most 126 (characters beyond U+FFFF take two)',
		])
		assert.deepEqual(issuesOf({...base, product: '\u{1F600}'.repeat(63), functions: [{type: 'cdc-acm'}]}), [])
		assert.deepEqual(
			issuesOf({
				...base,
				functions: [
					{type: 'cdc-ecm', hostMac: '02:00:00:00:00:01'},
					{type: 'cdc-ncm', hostMac: '02:00:00:00:00:01'},
				],
			}),
			['$.functions[1].hostMac: 02:00:00:00:00:01 is already the hostMac of functions[0]'],
		)
	})

	it('reads files, reporting JSON syntax errors with line and column', () => {
		const dir = mkdtempSync(join(tmpdir(), 'vusb-config-'))
		const good = join(dir, 'good.json')
		writeFileSync(good, JSON.stringify(composite))
		assert.equal(loadDeviceConfigFile(good).functions.length, 3)
		assert.throws(
			() => parseDeviceConfigText('{\n  "vendorId": "0x1234",\n  "productId" "0x5678"\n}', 'bad.json'),
			(err: unknown) => err instanceof JsonSyntaxError && err.line === 3,
		)
		assert.throws(() => loadDeviceConfigFile(join(dir, 'missing.json')), /no such file/)
	})
})
