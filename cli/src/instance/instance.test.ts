import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import type {UsbvnetDevice} from '../driver/device.js'
import {errorForRequest} from '../driver/errors.js'
import type {InfoStruct, SlotInfoStruct} from '../driver/structs.js'
import {dhcpToStruct} from '../config/dhcp.js'
import {dhcpSettingsFixture} from '../config/dhcp-settings.fixture.js'
import {UsageError} from '../errors.js'
import {checkInterfaceName} from '../names.js'
import {checkSlotNumber, parseDetachTarget} from './attach.js'
import {slotsInMask} from './counters.js'
import {formatSlots, slotFromInfo} from './slots.js'
import {formatStatus, readStatus, statusFromInfo, type StatusDhcp} from './status.js'

const info: InfoStruct = {
	ifname: 'usbvnet0',
	apiVersion: 1,
	ifindex: 7,
	mac: '02:00:5e:10:00:01',
	carrier: true,
	mode: 1,
	maxSlots: 32,
	slotsUsed: 0b100011,
	nrInstances: 1,
	refusedFull: 0n,
	refusedRules: 2n,
	spoofDrops: 3n,
	purged: 4n,
	rxPackets: 10n,
	rxBytes: 1500n,
	txPackets: 20n,
	txBytes: 123456789012n,
	rxDropped: 1n,
	txDropped: 0n,
}

const slot: SlotInfoStruct = {
	ifname: 'usbvnet0',
	slot: 5,
	inUse: true,
	lower: 'usb0',
	lowerIfindex: 9,
	vendor: 0x0525,
	product: 0xa4a2,
	driver: 'cdc_ether',
	busid: '1-1',
	serial: '',
	lowerMac: 'aa:bb:cc:dd:ee:01',
	learned: 2,
	rxPackets: 1n,
	rxBytes: 64n,
	rxDropped: 0n,
	txPackets: 2n,
	txBytes: 128n,
	txDropped: 0n,
	spoofDrops: 0n,
	purged: 0n,
}

const dhcp: Extract<StatusDhcp, {known: true}> = {
	known: true,
	enabled: true,
	subnet: '100.127.254.0/24',
	hostAddress: '100.127.254.1',
	leasesBound: 3,
	refused: 5,
	malformed: 1,
}

describe('status', () => {
	it('counts the slots of the bitmask and names the mode', () => {
		const report = statusFromInfo(info, dhcp)
		assert.deepEqual(report.slots, {used: 3, max: 32, attached: [0, 1, 5]})
		assert.equal(report.mode, 'private')
		assert.deepEqual(report.tx, {packets: 20, bytes: 123456789012, dropped: 0})
		assert.deepEqual(report.refused, {full: 0, rules: 2})
	})

	it('shows a mode from a newer module instead of failing', () => {
		assert.equal(statusFromInfo({...info, mode: 9}, dhcp).mode, 'unknown (9)')
	})

	it('human output', () => {
		assert.equal(
			formatStatus(statusFromInfo(info, dhcp)),
			[
				'usbvnet0 (ifindex 7, control API 1)',
				'  MAC          02:00:5e:10:00:01',
				'  mode         private',
				'  carrier      up',
				'  slots        3/32 used: 0, 1, 5',
				"  spoof drops  3 (frames with another slot's source MAC)",
				'  purged       4 (frames whose slot went away)',
				'  refused      0 devices for want of a free slot, 2 denied by rules',
				'  dhcp         on, 100.127.254.1/24, 3 leases bound',
				'               5 messages refused, 1 malformed (see "usbvnet dhcp")',
				'',
				'      PACKETS         BYTES  DROPPED',
				'  rx       10          1500        1',
				'  tx       20  123456789012        0',
			].join('\n'),
		)
	})

	it('dhcp line: off, one lease, a module without the drop counters, unknown', () => {
		const line = (d: StatusDhcp): string[] => {
			const lines = formatStatus(statusFromInfo(info, d)).split('\n')
			const start = lines.findIndex((l) => l.startsWith('  dhcp'))
			return lines.slice(start, lines.indexOf('', start))
		}
		assert.deepEqual(line({...dhcp, enabled: false, leasesBound: 1, refused: 1, malformed: undefined}), [
			'  dhcp         off, 100.127.254.1/24, 1 lease bound',
			'               1 message refused (see "usbvnet dhcp")',
		])
		const bare: StatusDhcp = {known: true, enabled: true, subnet: '100.127.254.0/24', hostAddress: '100.127.254.1', leasesBound: 3}
		assert.deepEqual(line(bare), ['  dhcp         on, 100.127.254.1/24, 3 leases bound (see "usbvnet dhcp")'])
		assert.deepEqual(line({known: false, error: {code: 'VERSION_MISMATCH', message: 'no DHCP here'}}), ['  dhcp         unknown: no DHCP here'])
	})

	it('reads the DHCP summary over the same device; a DHCP request failing leaves it unknown', () => {
		const settings = dhcpSettingsFixture({router: null})
		// Counters up to bad_ip (malformed) and relayed (refused), as an older module might count.
		const counters = Array.from({length: 13}, (_, index) => (index === 2 ? 4 : index === 12 ? 2 : 0))
		const device = (getDhcp: () => ReturnType<UsbvnetDevice['getDhcp']>): UsbvnetDevice =>
			({info: () => info, getDhcp, dhcpStats: () => ({ifname: 'usbvnet0', leasesBound: 2, counters})}) as unknown as UsbvnetDevice
		assert.deepEqual(readStatus(device(() => dhcpToStruct(settings, '')), '').dhcp, {
			known: true,
			enabled: true,
			subnet: '100.127.254.0/24',
			hostAddress: '100.127.254.1',
			leasesBound: 2,
			refused: 2,
			malformed: 4,
		})
		const enotty = errorForRequest(25, {operation: 'USBVNET_IOC_GET_DHCP', devicePath: '/dev/usbvnet', instance: ''})
		const old = readStatus(
			device(() => {
				throw enotty
			}),
			'',
		)
		assert.equal(old.mac, '02:00:5e:10:00:01')
		assert.deepEqual(old.dhcp, {known: false, error: {code: 'VERSION_MISMATCH', message: enotty.message}})
		// Flags unknown to this command: ProtocolMismatchError, also unknown rather than a failure.
		assert.equal(readStatus(device(() => ({...dhcpToStruct(settings, ''), flags: 0x80})), '').dhcp.known, false)
		// Anything else is a bug and still fails.
		assert.throws(
			() =>
				readStatus(
					device(() => {
						throw new TypeError('bug')
					}),
					'',
				),
			TypeError,
		)
	})

	it('slot bitmask with bit 31 set', () => {
		assert.deepEqual(slotsInMask(0x80000001, 32), [0, 31])
		assert.deepEqual(slotsInMask(0xffffffff, 4), [0, 1, 2, 3])
	})
})

describe('slots', () => {
	it('one row per slot, IDs in hex', () => {
		const report = {instance: 'usbvnet0', slots: [slotFromInfo(slot)]}
		assert.equal(report.slots[0]?.vendor, '0x0525')
		assert.equal(
			formatSlots(report),
			[
				'SLOT  NETDEV  DRIVER     VID:PID    SERIAL  BUSID  MAC                RX-PKTS  RX-BYTES  RX-DROP  TX-PKTS  TX-BYTES  TX-DROP  SPOOF  PURGED',
				'   5  usb0    cdc_ether  0525:a4a2  -       1-1    aa:bb:cc:dd:ee:01        1        64        0        2       128        0      0       0',
			].join('\n'),
		)
	})

	it('says so when nothing is attached', () => {
		assert.equal(formatSlots({instance: 'usbvnet0', slots: []}), 'no device attached to usbvnet0')
	})
})

describe('arguments checked before the driver is asked', () => {
	it('detach: a number is a slot, anything else a netdev', () => {
		assert.deepEqual(parseDetachTarget('0'), {slot: 0})
		assert.deepEqual(parseDetachTarget('31'), {slot: 31})
		assert.deepEqual(parseDetachTarget('usb0'), {netdev: 'usb0'})
		assert.throws(() => parseDetachTarget('32'), UsageError)
		assert.throws(() => checkSlotNumber(-1), /slot -1 does not exist: slots are 0 to 31/)
	})

	it('interface names as Linux accepts them', () => {
		assert.equal(checkInterfaceName('enx0250f2000001', 'x'), 'enx0250f2000001')
		assert.throws(() => checkInterfaceName('enx0250f20000011', 'netdev'), /netdev "enx0250f20000011": too long, interface names have at most 15 bytes/)
		for (const bad of ['', '.', '..', 'a/b', 'a b', 'eth0:1']) assert.throws(() => checkInterfaceName(bad, 'x'), UsageError, bad)
	})
})
