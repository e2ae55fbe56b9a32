// CDC ACM (Abstract Control Model) serial function: what Linux's cdc_acm
// binds as /dev/ttyACMn. A communication interface (class 2/2, protocol 0 so
// ModemManager leaves it alone) with a notification endpoint, and a data
// interface with bulk IN/OUT carrying the byte stream.

import {
	CdcSubclass,
	EndpointType,
	UsbClass,
	cdcAcmDescriptor,
	cdcCallManagementDescriptor,
	cdcHeaderDescriptor,
	cdcUnionDescriptor,
	endpointDescriptor,
	interfaceDescriptor,
} from '../usb/descriptors.js'
import type {
	ControlOutcome,
	FunctionBindContext,
	FunctionClass,
	InOutcome,
	InterfaceSummary,
	OutOutcome,
	UsbFunction,
	UsbSpeedName,
} from '../usb/device.js'
import {RequestType, bulkMaxPacketSize, interruptInterval} from '../usb/device.js'
import type {SetupPacket} from '../usbip/protocol.js'
import {CdcNotification, CdcRequest, cdcNotification} from './cdc.js'

/** The 7-byte line coding structure (PSTN 1.2 6.3.11). */
export interface LineCoding {
	baudRate: number
	/** 0: 1 stop bit, 1: 1.5, 2: 2. */
	stopBits: number
	/** 0 none, 1 odd, 2 even, 3 mark, 4 space. */
	parity: number
	dataBits: number
}

export interface ControlLines {
	dtr: boolean
	rts: boolean
}

/** The function side a serial handler talks to. */
export interface SerialPort {
	/** Queues bytes for the host; false when dropped (not configured or buffer full). */
	writeToHost(data: Buffer): boolean
	readonly lineCoding: LineCoding
	readonly controlLines: ControlLines
}

/** The user-space end of the emulated serial line. */
export interface SerialHandler {
	attach(port: SerialPort): void
	bytesFromHost(data: Buffer): void
	lineCodingChanged?(coding: LineCoding): void
	controlLinesChanged?(lines: ControlLines): void
	breakRequested?(durationMs: number): void
}

export interface CdcAcmOptions {
	handler: SerialHandler
	/** Bytes buffered toward the host beyond this are dropped; default 1 MiB. */
	maxBufferedBytes?: number
	interfaceName?: string
}

/** ACM bmCapabilities D1: SET/GET_LINE_CODING, SET_CONTROL_LINE_STATE and SERIAL_STATE (PSTN 1.2 table 4). */
const ACM_CAP_LINE = 0x02
/** D2: SEND_BREAK. D0 (COMM_FEATURE requests) and D3 (NETWORK_CONNECTION) are never offered. */
const ACM_CAP_SEND_BREAK = 0x04
const NOTIFY_MAX_PACKET = 16
const NOTIFY_INTERVAL_MS = 32
/** SERIAL_STATE bits: bRxCarrier (DCD) and bTxCarrier (DSR). */
const SERIAL_STATE_DCD = 0x01
const SERIAL_STATE_DSR = 0x02

export function encodeLineCoding(c: LineCoding): Buffer {
	const b = Buffer.alloc(7)
	b.writeUInt32LE(c.baudRate, 0)
	b[4] = c.stopBits
	b[5] = c.parity
	b[6] = c.dataBits
	return b
}

export function decodeLineCoding(b: Buffer): LineCoding | undefined {
	if (b.length < 7) return undefined
	const coding = {baudRate: b.readUInt32LE(0), stopBits: b[4]!, parity: b[5]!, dataBits: b[6]!}
	const valid =
		coding.stopBits <= 2 && coding.parity <= 4 && [5, 6, 7, 8, 16].includes(coding.dataBits) && coding.baudRate > 0
	return valid ? coding : undefined
}

export class CdcAcmFunction implements UsbFunction, SerialPort {
	readonly name = 'cdc-acm'
	readonly classTriple: FunctionClass = {
		functionClass: UsbClass.CDC,
		functionSubClass: CdcSubclass.ACM,
		functionProtocol: 0,
	}

	private readonly handler: SerialHandler
	/** What the ACM functional descriptor announces; requests outside it stall. */
	private readonly capabilities: number
	private readonly maxBufferedBytes: number
	private readonly interfaceName: string | undefined
	private commInterface = -1
	private dataInterface = -1
	private notifyEndpoint = 0
	private bulkIn = 0
	private bulkOut = 0
	private nameIndex = 0
	private wake: (address: number) => void = () => {}
	private configured = false
	private readonly toHost: Buffer[] = []
	private bufferedBytes = 0
	private readonly notifications: Buffer[] = []

	lineCoding: LineCoding = {baudRate: 115200, stopBits: 0, parity: 0, dataBits: 8}
	controlLines: ControlLines = {dtr: false, rts: false}

	constructor(options: CdcAcmOptions) {
		this.handler = options.handler
		// A break is offered only to a handler that can act on it; cdc_acm then refuses TIOCSBRK itself.
		this.capabilities = ACM_CAP_LINE | (options.handler.breakRequested ? ACM_CAP_SEND_BREAK : 0)
		this.maxBufferedBytes = options.maxBufferedBytes ?? 1024 * 1024
		this.interfaceName = options.interfaceName
	}

	bind(ctx: FunctionBindContext): void {
		this.commInterface = ctx.allocateInterface()
		this.dataInterface = ctx.allocateInterface()
		this.notifyEndpoint = ctx.allocateEndpoint('in')
		this.bulkIn = ctx.allocateEndpoint('in')
		this.bulkOut = ctx.allocateEndpoint('out')
		this.nameIndex = this.interfaceName ? ctx.addString(this.interfaceName) : 0
		this.wake = ctx.wakeEndpoint
		this.handler.attach(this)
	}

	get interfaceNumbers(): {comm: number; data: number} {
		return {comm: this.commInterface, data: this.dataInterface}
	}

	get endpointAddresses(): {notify: number; bulkIn: number; bulkOut: number} {
		return {notify: this.notifyEndpoint, bulkIn: this.bulkIn, bulkOut: this.bulkOut}
	}

	descriptors(speed: UsbSpeedName): Buffer[] {
		const bulk = bulkMaxPacketSize(speed)
		return [
			interfaceDescriptor({
				interfaceNumber: this.commInterface,
				alternateSetting: 0,
				numEndpoints: 1,
				interfaceClass: UsbClass.CDC,
				interfaceSubClass: CdcSubclass.ACM,
				interfaceProtocol: 0,
				interfaceIndex: this.nameIndex,
			}),
			cdcHeaderDescriptor(),
			// Call management capabilities 0: the device handles no call management itself.
			cdcCallManagementDescriptor(0, this.dataInterface),
			cdcAcmDescriptor(this.capabilities),
			cdcUnionDescriptor(this.commInterface, [this.dataInterface]),
			endpointDescriptor({
				address: this.notifyEndpoint,
				type: EndpointType.INTERRUPT,
				maxPacketSize: NOTIFY_MAX_PACKET,
				interval: interruptInterval(speed, NOTIFY_INTERVAL_MS),
			}),
			interfaceDescriptor({
				interfaceNumber: this.dataInterface,
				alternateSetting: 0,
				numEndpoints: 2,
				interfaceClass: UsbClass.CDC_DATA,
				interfaceSubClass: 0,
				interfaceProtocol: 0,
				interfaceIndex: 0,
			}),
			endpointDescriptor({address: this.bulkIn, type: EndpointType.BULK, maxPacketSize: bulk, interval: 0}),
			endpointDescriptor({address: this.bulkOut, type: EndpointType.BULK, maxPacketSize: bulk, interval: 0}),
		]
	}

	interfaces(): InterfaceSummary[] {
		return [
			{
				interfaceNumber: this.commInterface,
				interfaceClass: UsbClass.CDC,
				interfaceSubClass: CdcSubclass.ACM,
				interfaceProtocol: 0,
			},
			{interfaceNumber: this.dataInterface, interfaceClass: UsbClass.CDC_DATA, interfaceSubClass: 0, interfaceProtocol: 0},
		]
	}

	setAlternate(interfaceNumber: number, alternate: number): boolean {
		return (interfaceNumber === this.commInterface || interfaceNumber === this.dataInterface) && alternate === 0
	}

	alternate(): number {
		return 0
	}

	configure(active: boolean): void {
		this.configured = active
		this.toHost.length = 0
		this.bufferedBytes = 0
		this.notifications.length = 0
		if (!active && (this.controlLines.dtr || this.controlLines.rts)) {
			this.controlLines = {dtr: false, rts: false}
			this.handler.controlLinesChanged?.(this.controlLines)
		}
	}

	activeEndpoints(): number[] {
		return this.configured ? [this.notifyEndpoint, this.bulkIn, this.bulkOut] : []
	}

	interfaceEndpoints(interfaceNumber: number): number[] {
		if (interfaceNumber === this.commInterface) return [this.notifyEndpoint]
		return interfaceNumber === this.dataInterface ? [this.bulkIn, this.bulkOut] : []
	}

	controlRequest(setup: SetupPacket, data: Buffer): ControlOutcome {
		const type = setup.requestType & RequestType.TYPE_MASK
		// Requests to one of its endpoints come here too: wIndex is then no interface.
		if ((setup.requestType & RequestType.RECIPIENT_MASK) !== RequestType.RECIPIENT_INTERFACE) return 'stall'
		// Class requests belong to the communication interface (PSTN 1.2 6.3), never the data one.
		if (type !== RequestType.TYPE_CLASS || (setup.index & 0xff) !== this.commInterface) return 'stall'
		const isIn = (setup.requestType & RequestType.DIR_IN) !== 0
		switch (setup.request) {
			case CdcRequest.SET_LINE_CODING: {
				const coding = isIn ? undefined : decodeLineCoding(data)
				if (!coding) return 'stall'
				this.lineCoding = coding
				this.handler.lineCodingChanged?.(coding)
				return Buffer.alloc(0)
			}
			case CdcRequest.GET_LINE_CODING:
				return isIn ? encodeLineCoding(this.lineCoding) : 'stall'
			case CdcRequest.SET_CONTROL_LINE_STATE: {
				if (isIn) return 'stall'
				const lines = {dtr: (setup.value & 1) !== 0, rts: (setup.value & 2) !== 0}
				const dtrRaised = lines.dtr && !this.controlLines.dtr
				this.controlLines = lines
				this.handler.controlLinesChanged?.(lines)
				// Answer an opened port with carrier present, like a null-modem cable would.
				if (dtrRaised) this.queueSerialState(SERIAL_STATE_DCD | SERIAL_STATE_DSR)
				return Buffer.alloc(0)
			}
			case CdcRequest.SEND_BREAK:
				if (isIn || (this.capabilities & ACM_CAP_SEND_BREAK) === 0) return 'stall'
				this.handler.breakRequested?.(setup.value)
				return Buffer.alloc(0)
			default:
				return 'stall'
		}
	}

	handleIn(address: number, maxLength: number): InOutcome {
		if (address === this.notifyEndpoint) return this.notifications.shift() ?? 'pending'
		if (address !== this.bulkIn) return 'stall'
		if (this.toHost.length === 0) return 'pending'
		const parts: Buffer[] = []
		let length = 0
		while (this.toHost.length > 0 && length < maxLength) {
			const head = this.toHost[0]!
			const take = Math.min(head.length, maxLength - length)
			parts.push(head.subarray(0, take))
			length += take
			if (take === head.length) this.toHost.shift()
			else this.toHost[0] = head.subarray(take)
		}
		this.bufferedBytes -= length
		return Buffer.concat(parts, length)
	}

	handleOut(address: number, data: Buffer): OutOutcome {
		if (address !== this.bulkOut) return 'stall'
		if (data.length > 0) this.handler.bytesFromHost(Buffer.from(data))
		return 'ok'
	}

	writeToHost(data: Buffer): boolean {
		if (!this.configured || this.bufferedBytes + data.length > this.maxBufferedBytes) return false
		if (data.length === 0) return true
		this.toHost.push(Buffer.from(data))
		this.bufferedBytes += data.length
		this.wake(this.bulkIn)
		return true
	}

	private queueSerialState(bits: number): void {
		const state = Buffer.alloc(2)
		state.writeUInt16LE(bits, 0)
		this.notifications.push(cdcNotification(CdcNotification.SERIAL_STATE, 0, this.commInterface, state))
		this.wake(this.notifyEndpoint)
	}
}
