import assert from 'node:assert/strict'
import {constants} from 'node:os'
import {describe, it} from 'node:test'
import type {UsbvnetDevice} from '../driver/device.js'
import {ProtocolMismatchError, errorForRequest} from '../driver/errors.js'
import {decodeDhcpConfig, encodeDhcpConfig, type ConfigStruct, type DhcpConfigStruct} from '../driver/structs.js'
import {applyPlan, planConfig} from './apply.js'
import {configToStruct} from './convert.js'
import {dhcpFromStruct, dhcpToStruct, diffDhcp, mergeDhcp} from './dhcp.js'
import {dhcpSettingsFixture} from './dhcp-settings.fixture.js'
import {formatChanges} from './diff.js'
import {SchemaValidationError} from './errors.js'
import type {CompleteConfig, DhcpSettings} from './types.js'

const settings: DhcpSettings = dhcpSettingsFixture({
	dns: ['100.127.254.1', '9.9.9.9'],
	domain: 'usb.lan',
	reservations: [
		{ip: '100.127.254.200', serial: 'N1'},
		{ip: '100.127.254.201', mac: '02:00:5e:10:20:30'},
		{ip: '100.127.254.202', slot: 7},
	],
})

describe('DHCP settings <-> struct usbvnet_dhcp_config', () => {
	it('maps every setting to its field, addresses in host byte order', () => {
		const struct = dhcpToStruct(settings, 'usbvnet1')
		assert.deepEqual(
			[struct.ifname, struct.flags, struct.subnet, struct.prefixLen, struct.hostIp, struct.poolStart, struct.poolEnd, struct.router, struct.mtu],
			['usbvnet1', 3, 0x647ffe00, 24, 0x647ffe01, 0x647ffe02, 0x647ffefe, 0x647ffe01, 0],
		)
		assert.deepEqual(struct.dns, [0x647ffe01, 0x09090909])
		assert.deepEqual(struct.reservations, [
			{kind: 1, ip: 0x647ffec8, slot: 0, mac: '00:00:00:00:00:00', serial: 'N1'},
			{kind: 0, ip: 0x647ffec9, slot: 0, mac: '02:00:5e:10:20:30', serial: ''},
			{kind: 2, ip: 0x647ffeca, slot: 7, mac: '00:00:00:00:00:00', serial: ''},
		])
	})

	it('round-trips through the struct bytes; null router and MTU are 0', () => {
		assert.deepEqual(dhcpFromStruct(decodeDhcpConfig(encodeDhcpConfig(dhcpToStruct(settings, '')))), settings)
		const none = {...settings, router: null, mtu: 1400, enabled: false}
		assert.deepEqual(dhcpFromStruct(decodeDhcpConfig(encodeDhcpConfig(dhcpToStruct(none, '')))), none)
		assert.equal(dhcpToStruct(none, '').router, 0)
	})

	it('refuses flags and reservation kinds a newer module may report', () => {
		const struct = dhcpToStruct(settings, '')
		assert.throws(() => dhcpFromStruct({...struct, flags: 7}), (e: unknown) => e instanceof ProtocolMismatchError && /DHCP flags 0x4/.test(e.message))
		assert.throws(() => dhcpFromStruct({...struct, reservations: [{kind: 3, ip: 1, slot: 0, mac: '00:00:00:00:00:00', serial: ''}]}), /reservation kind 3 in reservation 0/)
	})

	it('merge: keys left out keep the driver value; MACs in lower case', () => {
		const merged = mergeDhcp(settings, {leaseSeconds: 600, reservations: [{ip: '100.127.254.9', mac: '02:AB:CD:EF:00:01'}]})
		assert.deepEqual(merged, {...settings, leaseSeconds: 600, reservations: [{ip: '100.127.254.9', mac: '02:ab:cd:ef:00:01'}]})
		assert.deepEqual(mergeDhcp(settings, undefined), settings)
	})

	it('diff: one line per setting, reservations by index', () => {
		const desired = mergeDhcp(settings, {enabled: false, router: null, reservations: [{ip: '100.127.254.200', serial: 'N2'}]})
		assert.deepEqual(formatChanges(diffDhcp(settings, desired)), [
			'~ $.dhcp.enabled: true -> false',
			'~ $.dhcp.router: "100.127.254.1" -> null',
			'~ $.dhcp.reservations[0]: {"ip":"100.127.254.200","serial":"N1"} -> {"ip":"100.127.254.200","serial":"N2"}',
			'- $.dhcp.reservations[1]: {"ip":"100.127.254.201","mac":"02:00:5e:10:20:30"}',
			'- $.dhcp.reservations[2]: {"ip":"100.127.254.202","slot":7}',
		])
		assert.deepEqual(diffDhcp(settings, mergeDhcp(settings, {})), [])
	})
})

// applyPlan against a stand-in for the device: which requests, in which order, and the rollback.
const base: CompleteConfig = {mac: '02:00:5e:10:00:01', mode: 'bridge', autoAttach: true, drivers: ['cdc_ether'], rules: []}

class FakeDevice {
	calls: string[] = []
	config: ConfigStruct = configToStruct(base, 'usbvnet0')
	dhcp: DhcpConfigStruct = dhcpToStruct(settings, 'usbvnet0')
	refuse = new Set<string>()
	getConfig(): ConfigStruct {
		return structuredClone(this.config)
	}
	getDhcp(): DhcpConfigStruct {
		return structuredClone(this.dhcp)
	}
	setConfig(config: ConfigStruct): void {
		this.calls.push(`SET_CONFIG ${config.mode}`)
		if (this.refuse.has('config')) throw errorForRequest(constants.errno.EINVAL, {operation: 'USBVNET_IOC_SET_CONFIG', devicePath: '/dev/usbvnet', instance: ''})
		this.config = {...structuredClone(config), ifname: 'usbvnet0'}
	}
	setDhcp(dhcp: DhcpConfigStruct): void {
		this.calls.push(`SET_DHCP ${dhcp.poolStart.toString(16)}`)
		if (this.refuse.has('dhcp')) throw errorForRequest(constants.errno.EINVAL, {operation: 'USBVNET_IOC_SET_DHCP', devicePath: '/dev/usbvnet', instance: ''})
		this.dhcp = {...structuredClone(dhcp), ifname: 'usbvnet0'}
	}
}

const asDevice = (fake: FakeDevice): UsbvnetDevice => fake as unknown as UsbvnetDevice

describe('config apply across SET_CONFIG and SET_DHCP', () => {
	it('sends only the requests whose settings change', () => {
		const fake = new FakeDevice()
		applyPlan(asDevice(fake), '', planConfig(asDevice(fake), '', {dhcp: {leaseSeconds: 600}}, 'f.json'))
		assert.deepEqual(fake.calls, ['SET_DHCP 647ffe02'])
		fake.calls = []
		applyPlan(asDevice(fake), '', planConfig(asDevice(fake), '', {mode: 'private'}, 'f.json'))
		assert.deepEqual(fake.calls, ['SET_CONFIG 1'])
	})

	it('a refused SET_DHCP puts the configuration back as it was read', () => {
		const fake = new FakeDevice()
		const config = structuredClone(fake.config)
		const dhcp = structuredClone(fake.dhcp)
		fake.refuse.add('dhcp')
		const plan = planConfig(asDevice(fake), '', {mode: 'private', dhcp: {pool: {start: '100.127.253.2', end: '100.127.253.9'}}}, 'f.json', {precheck: false})
		assert.throws(
			() => applyPlan(asDevice(fake), '', plan),
			(error: unknown) =>
				error instanceof Error &&
				error.message.startsWith('usbvnet0 refused the DHCP settings ($.dhcp.pool.start: "100.127.253.2" is not a host address of 100.127.254.0/24') &&
				error.message.includes('from f.json, nothing was changed: the driver refused: invalid argument (EINVAL from USBVNET_IOC_SET_DHCP)'),
		)
		assert.deepEqual(fake.calls, ['SET_CONFIG 1', 'SET_DHCP 647ffd02', 'SET_CONFIG 0'])
		assert.deepEqual(fake.config, config)
		assert.deepEqual(fake.dhcp, dhcp)
	})

	it('a refused SET_CONFIG sends nothing more', () => {
		const fake = new FakeDevice()
		fake.refuse.add('config')
		const plan = planConfig(asDevice(fake), '', {mode: 'private', dhcp: {leaseSeconds: 600}}, 'f.json')
		assert.throws(() => applyPlan(asDevice(fake), '', plan), /refused the configuration from f.json, nothing was changed/)
		assert.deepEqual(fake.calls, ['SET_CONFIG 1'])
	})

	it('the pre-check refuses DHCP settings that do not fit the driver\'s, before any request', () => {
		const fake = new FakeDevice()
		assert.throws(
			() => planConfig(asDevice(fake), '', {dhcp: {hostAddress: '100.127.254.100'}}, 'f.json'),
			(error: unknown) =>
				error instanceof SchemaValidationError &&
				error.message ===
					"f.json (over the driver's current DHCP settings): invalid configuration, 1 problem:\n  $.dhcp.pool: contains the host address \"100.127.254.100\"",
		)
		assert.deepEqual(fake.calls, [])
	})

	it('a value the structs cannot hold is refused before any request', () => {
		// The schema refuses it in a file; a caller may build the object itself.
		const fake = new FakeDevice()
		const file = {mode: 'private' as const, dhcp: {reservations: [{ip: '100.127.254.200', serial: 'PRN\u0000-1'}]}}
		assert.throws(
			() => planConfig(asDevice(fake), '', file, 'f.json'),
			(error: unknown) => error instanceof SchemaValidationError && /\$: serial number contains a NUL byte/.test(error.message),
		)
		assert.deepEqual(fake.calls, [])
	})
})
