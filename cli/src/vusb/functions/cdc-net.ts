// What CDC ECM and NCM functions share: a communication interface with an
// interrupt IN endpoint for notifications and the Ethernet functional
// descriptor, and a data interface whose alternate setting 0 has no endpoints
// and setting 1 has bulk IN/OUT (ECM 1.2 3.3, NCM 1.0 5.3: the host selects
// setting 1 to start traffic and setting 0 to reset the function). Subclasses
// only decide how frames are packed into bulk transfers.

import {
	EndpointType,
	UsbClass,
	cdcEthernetDescriptor,
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
import {
	CdcRequest,
	PacketFilter,
	connectionSpeedChangeNotification,
	macString,
	networkConnectionNotification,
	parseMac,
} from './cdc.js'

/** The function side a frame handler talks to. */
export interface FramePort {
	/** Queues a frame for the host; false when dropped (host not listening or queue full). */
	sendToHost(frame: Buffer): boolean
	/** True while the host has the data interface up (alternate setting 1). */
	readonly active: boolean
	/** The host's SET_ETHERNET_PACKET_FILTER bitmap (PacketFilter); what it wants to receive. */
	readonly packetFilter: number
	/** The host's SET_ETHERNET_MULTICAST_FILTERS list, 6 bytes per address; empty while we offer no perfect filters. */
	readonly multicastFilters: Buffer
}

/**
 * The user-space end of the emulated network link: receives every frame the
 * host transmits and may send frames back through the port it was given.
 */
export interface FrameHandler {
	attach(port: FramePort): void
	frameFromHost(frame: Buffer): void
	/** The host stopped or started listening (data interface alternate setting changed). */
	activeChanged?(active: boolean): void
	/** The host set a new packet filter or multicast list. */
	filterChanged?(): void
}

export interface CdcNetworkOptions {
	/** The MAC the host's network interface takes (iMACAddress). */
	hostMac: string
	frameHandler: FrameHandler
	/** Link state reported right after the host activates the data interface; default true. */
	connected?: boolean
	/** Reported link speed, bits per second; default follows the bus speed. */
	linkSpeedBps?: number
	/** wMaxSegmentSize; default 1514 (Ethernet frame without FCS). */
	maxSegmentSize?: number
	/** Frames queued for the host beyond this are dropped; default 512. */
	maxQueuedFrames?: number
	interfaceName?: string
}

const NOTIFY_MAX_PACKET = 16 // CONNECTION_SPEED_CHANGE is 16 bytes and must fit one packet.
const NOTIFY_INTERVAL_MS = 32
/** wNumberMCFilters: no perfect multicast filters, so SET_ETHERNET_MULTICAST_FILTERS is unsupported. */
const NUMBER_MC_FILTERS = 0

export abstract class CdcNetworkFunction implements UsbFunction, FramePort {
	abstract readonly name: string
	abstract readonly classTriple: FunctionClass
	/** bInterfaceProtocol of the data interface (0 for ECM, 1 for NCM's NTB). */
	protected abstract readonly dataInterfaceProtocol: number
	/** NCM 1.0 §7.1 wants ConnectionSpeedChange before NetworkConnection (as f_ncm sends them); ECM sends the connection first, as f_ecm does. */
	protected readonly speedBeforeConnection: boolean = false

	private readonly hostMac: Buffer
	protected readonly handler: FrameHandler
	private readonly maxQueuedFrames: number
	private readonly maxSegmentSize: number
	private readonly interfaceName: string | undefined
	protected commInterface = -1
	protected dataInterface = -1
	private notifyEndpoint = 0
	protected bulkIn = 0
	protected bulkOut = 0
	private macStringIndex = 0
	private nameIndex = 0
	protected speed: UsbSpeedName = 'high'
	private wake: (address: number) => void = () => {}
	private configured = false
	private dataAlternate = 0
	private connected: boolean
	private linkSpeedBps: number | undefined
	private readonly notifications: Buffer[] = []
	protected readonly framesToHost: Buffer[] = []

	packetFilter: number = PacketFilter.DIRECTED | PacketFilter.BROADCAST
	readonly multicastFilters: Buffer = Buffer.alloc(0)
	readonly stats = {framesFromHost: 0, framesToHost: 0, framesDropped: 0}

	constructor(options: CdcNetworkOptions) {
		this.hostMac = parseMac(options.hostMac)
		this.handler = options.frameHandler
		this.connected = options.connected ?? true
		this.linkSpeedBps = options.linkSpeedBps
		this.maxSegmentSize = options.maxSegmentSize ?? 1514
		this.maxQueuedFrames = options.maxQueuedFrames ?? 512
		this.interfaceName = options.interfaceName
	}

	bind(ctx: FunctionBindContext): void {
		this.speed = ctx.speed
		this.commInterface = ctx.allocateInterface()
		this.dataInterface = ctx.allocateInterface()
		this.notifyEndpoint = ctx.allocateEndpoint('in')
		this.bulkIn = ctx.allocateEndpoint('in')
		this.bulkOut = ctx.allocateEndpoint('out')
		this.macStringIndex = ctx.addString(macString(this.hostMac))
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

	get active(): boolean {
		return this.configured && this.dataAlternate === 1
	}

	descriptors(speed: UsbSpeedName): Buffer[] {
		const bulk = bulkMaxPacketSize(speed)
		return [
			interfaceDescriptor({
				interfaceNumber: this.commInterface,
				alternateSetting: 0,
				numEndpoints: 1,
				interfaceClass: UsbClass.CDC,
				interfaceSubClass: this.classTriple.functionSubClass,
				interfaceProtocol: 0,
				interfaceIndex: this.nameIndex,
			}),
			cdcHeaderDescriptor(),
			cdcUnionDescriptor(this.commInterface, [this.dataInterface]),
			cdcEthernetDescriptor({
				macAddressIndex: this.macStringIndex,
				ethernetStatistics: 0,
				maxSegmentSize: this.maxSegmentSize,
				numberMcFilters: NUMBER_MC_FILTERS,
				numberPowerFilters: 0,
			}),
			...this.extraFunctionalDescriptors(),
			endpointDescriptor({
				address: this.notifyEndpoint,
				type: EndpointType.INTERRUPT,
				maxPacketSize: NOTIFY_MAX_PACKET,
				interval: interruptInterval(speed, NOTIFY_INTERVAL_MS),
			}),
			interfaceDescriptor({
				interfaceNumber: this.dataInterface,
				alternateSetting: 0,
				numEndpoints: 0,
				interfaceClass: UsbClass.CDC_DATA,
				interfaceSubClass: 0,
				interfaceProtocol: this.dataInterfaceProtocol,
				interfaceIndex: 0,
			}),
			interfaceDescriptor({
				interfaceNumber: this.dataInterface,
				alternateSetting: 1,
				numEndpoints: 2,
				interfaceClass: UsbClass.CDC_DATA,
				interfaceSubClass: 0,
				interfaceProtocol: this.dataInterfaceProtocol,
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
				interfaceSubClass: this.classTriple.functionSubClass,
				interfaceProtocol: 0,
			},
			{
				interfaceNumber: this.dataInterface,
				interfaceClass: UsbClass.CDC_DATA,
				interfaceSubClass: 0,
				interfaceProtocol: this.dataInterfaceProtocol,
			},
		]
	}

	setAlternate(interfaceNumber: number, alternate: number): boolean {
		if (interfaceNumber === this.commInterface) return alternate === 0
		if (interfaceNumber !== this.dataInterface || alternate > 1) return false
		const wasActive = this.active
		this.dataAlternate = alternate
		// Either transition resets the data path (ECM 1.2 3.3: setting 0 resets filters and queues).
		this.resetDataPath()
		if (alternate === 0) {
			this.packetFilter = PacketFilter.DIRECTED | PacketFilter.BROADCAST
			this.resetFunction()
		}
		if (alternate === 1) this.announceLink()
		if (wasActive !== this.active) this.handler.activeChanged?.(this.active)
		return true
	}

	alternate(interfaceNumber: number): number {
		return interfaceNumber === this.dataInterface ? this.dataAlternate : 0
	}

	configure(active: boolean): void {
		const wasActive = this.active
		this.configured = active
		this.dataAlternate = 0
		this.notifications.length = 0
		this.resetDataPath()
		this.resetFunction()
		if (wasActive) this.handler.activeChanged?.(false)
	}

	activeEndpoints(): number[] {
		if (!this.configured) return []
		return this.dataAlternate === 1 ? [this.notifyEndpoint, this.bulkIn, this.bulkOut] : [this.notifyEndpoint]
	}

	interfaceEndpoints(interfaceNumber: number): number[] {
		if (interfaceNumber === this.commInterface) return [this.notifyEndpoint]
		return interfaceNumber === this.dataInterface ? [this.bulkIn, this.bulkOut] : []
	}

	endpointReset(address: number): void {
		// Notifications are whole packets: only the bulk endpoints carry transfers that span URBs.
		if (address === this.bulkIn) this.abortInTransfer()
		if (address === this.bulkOut) this.abortOutTransfer()
	}

	controlRequest(setup: SetupPacket, data: Buffer): ControlOutcome {
		const type = setup.requestType & RequestType.TYPE_MASK
		const iface = setup.index & 0xff
		// Requests to one of its endpoints come here too: wIndex is then no interface.
		if ((setup.requestType & RequestType.RECIPIENT_MASK) !== RequestType.RECIPIENT_INTERFACE) return 'stall'
		// Class requests belong to the communication interface (ECM 1.2 6.2, NCM 1.0 6.2), never the data one.
		if (type !== RequestType.TYPE_CLASS || iface !== this.commInterface) return 'stall'
		const isIn = (setup.requestType & RequestType.DIR_IN) !== 0
		const specific = this.classRequest(setup, data)
		if (specific !== undefined) return specific
		switch (setup.request) {
			case CdcRequest.SET_ETHERNET_PACKET_FILTER:
				if (isIn) return 'stall'
				this.packetFilter = setup.value
				this.handler.filterChanged?.()
				return Buffer.alloc(0)
			case CdcRequest.SET_ETHERNET_MULTICAST_FILTERS:
				// With wNumberMCFilters 0 the request is not supported (ECM 1.2
				// 6.2.4); hosts use ALL_MULTICAST instead.
				return 'stall'
			default:
				// PM pattern filters and statistics were declared unsupported in the functional descriptor.
				return 'stall'
		}
	}

	handleIn(address: number, maxLength: number): InOutcome {
		if (address === this.notifyEndpoint) {
			const next = this.notifications.shift()
			return next ?? 'pending'
		}
		if (address !== this.bulkIn || !this.active) return 'stall'
		return this.bulkInTransfer(maxLength)
	}

	handleOut(address: number, data: Buffer, transferFlags: number): OutOutcome {
		if (address !== this.bulkOut || !this.active) return 'stall'
		return this.bulkOutTransfer(data, transferFlags)
	}

	/** Functional descriptors after Header, Union and Ethernet Networking. */
	protected extraFunctionalDescriptors(): Buffer[] {
		return []
	}

	/** Class requests of this subclass; undefined falls through to the shared Ethernet ones. */
	protected classRequest(_setup: SetupPacket, _data: Buffer): ControlOutcome | undefined {
		return undefined
	}

	/** Fills one bulk IN URB from framesToHost, or says 'pending' when there is nothing. */
	protected abstract bulkInTransfer(maxLength: number): InOutcome
	protected abstract bulkOutTransfer(data: Buffer, transferFlags: number): OutOutcome
	/**
	 * Drop a transfer half done on bulk IN or OUT, so the next one starts a
	 * fresh frame: on every alternate-setting or configuration change and
	 * when the host resets that endpoint.
	 */
	protected abstract abortInTransfer(): void
	protected abstract abortOutTransfer(): void

	/** Restores negotiated parameters to defaults: on data alternate 0 and on (de)configuration. */
	protected resetFunction(): void {}

	protected deliverFromHost(frame: Buffer): void {
		this.stats.framesFromHost++
		this.handler.frameFromHost(frame)
	}

	// ---- FramePort ---------------------------------------------------------------

	sendToHost(frame: Buffer): boolean {
		if (!this.active || this.framesToHost.length >= this.maxQueuedFrames || frame.length === 0) {
			this.stats.framesDropped++
			return false
		}
		this.framesToHost.push(Buffer.from(frame))
		this.wake(this.bulkIn)
		return true
	}

	/** Changes the reported link state; the host hears it on the notification endpoint. */
	setConnected(connected: boolean): void {
		this.connected = connected
		if (this.active) this.announceLink()
	}

	private announceLink(): void {
		this.notifications.length = 0
		const connection = networkConnectionNotification(this.commInterface, this.connected)
		if (this.connected) {
			const bps = this.linkSpeedBps ?? (this.speed === 'high' ? 480_000_000 : 12_000_000)
			const speed = connectionSpeedChangeNotification(this.commInterface, bps, bps)
			this.notifications.push(...(this.speedBeforeConnection ? [speed, connection] : [connection, speed]))
		} else this.notifications.push(connection)
		this.wake(this.notifyEndpoint)
	}

	private resetDataPath(): void {
		this.abortInTransfer()
		this.abortOutTransfer()
		this.framesToHost.length = 0
	}
}
