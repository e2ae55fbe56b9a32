import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import type {InfoStruct, SlotInfoStruct} from '../driver/structs.js'
import {UsageError} from '../errors.js'
import {checkInterfaceName} from '../names.js'
import {checkSlotNumber, parseDetachTarget} from './attach.js'
import {slotsInMask} from './counters.js'
import {formatSlots, slotFromInfo} from './slots.js'
import {formatStatus, statusFromInfo} from './status.js'

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

describe('status', () => {
	it('counts the slots of the bitmask and names the mode', () => {
		const report = statusFromInfo(info)
		assert.deepEqual(report.slots, {used: 3, max: 32, attached: [0, 1, 5]})
		assert.equal(report.mode, 'private')
		assert.deepEqual(report.tx, {packets: 20, bytes: 123456789012, dropped: 0})
		assert.deepEqual(report.refused, {full: 0, rules: 2})
	})

	it('shows a mode from a newer module instead of failing', () => {
		assert.equal(statusFromInfo({...info, mode: 9}).mode, 'unknown (9)')
	})

	it('human output', () => {
		assert.equal(
			formatStatus(statusFromInfo(info)),
			[
				'usbvnet0 (ifindex 7, control API 1)',
				'  MAC          02:00:5e:10:00:01',
				'  mode         private',
				'  carrier      up',
				'  slots        3/32 used: 0, 1, 5',
				"  spoof drops  3 (frames with another slot's source MAC)",
				'  purged       4 (frames whose slot went away)',
				'  refused      0 devices for want of a free slot, 2 denied by rules',
				'',
				'      PACKETS         BYTES  DROPPED',
				'  rx       10          1500        1',
				'  tx       20  123456789012        0',
			].join('\n'),
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
