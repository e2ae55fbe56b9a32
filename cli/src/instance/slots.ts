/** `usbvnet slots`: the attached slots, one USBVNET_IOC_SLOT_INFO each. */
import type {UsbvnetDevice} from '../driver/device.js'
import type {SlotInfoStruct} from '../driver/structs.js'
import {formatTable, type Column} from '../format/table.js'
import {counter, slotsInMask, traffic, type TrafficCounters} from './counters.js'

export interface SlotReport {
	slot: number
	/** The USB device's own network interface. */
	netdev: string
	ifindex: number
	driver: string
	/** "0x0525" */
	vendor: string
	product: string
	serial: string
	busid: string
	mac: string
	/** MAC addresses learned behind this slot. */
	learned: number
	rx: TrafficCounters
	tx: TrafficCounters
	spoofDrops: number
	purged: number
}

export interface SlotsReport {
	instance: string
	slots: SlotReport[]
}

const hex16 = (id: number): string => `0x${id.toString(16).padStart(4, '0')}`

export function slotFromInfo(info: SlotInfoStruct): SlotReport {
	return {
		slot: info.slot,
		netdev: info.lower,
		ifindex: info.lowerIfindex,
		driver: info.driver,
		vendor: hex16(info.vendor),
		product: hex16(info.product),
		serial: info.serial,
		busid: info.busid,
		mac: info.lowerMac,
		learned: info.learned,
		rx: traffic(info.rxPackets, info.rxBytes, info.rxDropped),
		tx: traffic(info.txPackets, info.txBytes, info.txDropped),
		spoofDrops: counter(info.spoofDrops),
		purged: counter(info.purged),
	}
}

/** Asks only for the slots INFO marks used; a slot freed in between is left out. */
export function readSlots(device: UsbvnetDevice, instance: string): SlotsReport {
	const info = device.info(instance)
	const slots = slotsInMask(info.slotsUsed, info.maxSlots)
		.map((slot) => device.slotInfo(instance, slot))
		.filter((slot) => slot.inUse)
		.map(slotFromInfo)
	return {instance: info.ifname, slots}
}

const columns: Column[] = [
	{header: 'SLOT', numeric: true},
	{header: 'NETDEV'},
	{header: 'DRIVER'},
	{header: 'VID:PID'},
	{header: 'SERIAL'},
	{header: 'BUSID'},
	{header: 'MAC'},
	{header: 'RX-PKTS', numeric: true},
	{header: 'RX-BYTES', numeric: true},
	{header: 'RX-DROP', numeric: true},
	{header: 'TX-PKTS', numeric: true},
	{header: 'TX-BYTES', numeric: true},
	{header: 'TX-DROP', numeric: true},
	{header: 'SPOOF', numeric: true},
	{header: 'PURGED', numeric: true},
]

export function formatSlots(report: SlotsReport): string {
	if (report.slots.length === 0) return `no device attached to ${report.instance}`
	const rows = report.slots.map((s) => [
		String(s.slot),
		s.netdev,
		s.driver,
		`${s.vendor.slice(2)}:${s.product.slice(2)}`,
		s.serial === '' ? '-' : s.serial,
		s.busid === '' ? '-' : s.busid,
		s.mac,
		String(s.rx.packets),
		String(s.rx.bytes),
		String(s.rx.dropped),
		String(s.tx.packets),
		String(s.tx.bytes),
		String(s.tx.dropped),
		String(s.spoofDrops),
		String(s.purged),
	])
	return formatTable(columns, rows)
}
