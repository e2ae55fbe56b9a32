// A composite USB device: identity, a list of functions, the standard request
// state machine on endpoint 0 (USB 2.0 chapter 9) and URB routing to the
// functions' endpoints. Transport-neutral: the USB/IP server drives it through
// submit()/unlink()/reset(), tests drive it directly.

import {
	CONFIG_ATTR_SELF_POWERED,
	DescriptorType,
	ENDPOINT_DIR_IN,
	LANGID_EN_US,
	UsbClass,
	configurationDescriptor,
	deviceDescriptor,
	deviceQualifierDescriptor,
	interfaceAssociationDescriptor,
	languageIdsDescriptor,
	stringDescriptor,
} from './descriptors.js'
import type {EndpointTypeValue} from './descriptors.js'
import type {SetupPacket} from '../usbip/protocol.js'
import {UrbFlag, UrbStatus, UsbipSpeed, decodeSetup} from '../usbip/protocol.js'

export type UsbSpeedName = 'low' | 'full' | 'high'

export const USBIP_SPEED_OF: Record<UsbSpeedName, number> = {
	low: UsbipSpeed.LOW,
	full: UsbipSpeed.FULL,
	high: UsbipSpeed.HIGH,
}

export interface DeviceIdentity {
	vendorId: number
	productId: number
	/** Device release number, BCD; default 0x0100. */
	bcdDevice?: number
	manufacturer?: string
	product?: string
	serial?: string
	/** Default 'high'. SuperSpeed needs BOS and companion descriptors we do not build yet. */
	speed?: UsbSpeedName
	/** Default 0x0200. */
	bcdUSB?: number
	maxPowerMilliamps?: number
	selfPowered?: boolean
}

/** bRequest codes of the standard requests (USB 2.0 table 9-4). */
export const StandardRequest = {
	GET_STATUS: 0,
	CLEAR_FEATURE: 1,
	SET_FEATURE: 3,
	SET_ADDRESS: 5,
	GET_DESCRIPTOR: 6,
	SET_DESCRIPTOR: 7,
	GET_CONFIGURATION: 8,
	SET_CONFIGURATION: 9,
	GET_INTERFACE: 10,
	SET_INTERFACE: 11,
	SYNCH_FRAME: 12,
} as const

export const FeatureSelector = {
	ENDPOINT_HALT: 0,
	DEVICE_REMOTE_WAKEUP: 1,
	TEST_MODE: 2,
} as const

export const RequestType = {
	DIR_IN: 0x80,
	TYPE_MASK: 0x60,
	TYPE_STANDARD: 0x00,
	TYPE_CLASS: 0x20,
	TYPE_VENDOR: 0x40,
	RECIPIENT_MASK: 0x1f,
	RECIPIENT_DEVICE: 0,
	RECIPIENT_INTERFACE: 1,
	RECIPIENT_ENDPOINT: 2,
} as const

/** A control request's outcome: data for IN (empty for OUT), or a protocol STALL. */
export type ControlOutcome = Buffer | 'stall'
/** An IN endpoint's answer: data now, nothing yet (the URB waits), or STALL. */
export type InOutcome = Buffer | 'pending' | 'stall'
export type OutOutcome = 'ok' | 'stall'

export interface FunctionBindContext {
	readonly speed: UsbSpeedName
	/** The next free interface number. */
	allocateInterface(): number
	/** The next free endpoint address in that direction (0x81.. for IN, 0x01.. for OUT). */
	allocateEndpoint(direction: 'in' | 'out'): number
	/** Adds a string descriptor and returns its index. */
	addString(text: string): number
	/** Call when an IN endpoint may have data, so waiting URBs get served. */
	wakeEndpoint(address: number): void
}

export interface InterfaceSummary {
	interfaceNumber: number
	interfaceClass: number
	interfaceSubClass: number
	interfaceProtocol: number
}

export interface FunctionClass {
	functionClass: number
	functionSubClass: number
	functionProtocol: number
}

/**
 * One function of a composite device (a CDC ECM network port, an ACM serial
 * port, ...). The device assigns its interface numbers, endpoint addresses and
 * string indices in bind(), then routes requests and transfers to it.
 */
export interface UsbFunction {
	readonly name: string
	/** Class triple for the interface association descriptor (and a single-function device). */
	readonly classTriple: FunctionClass
	/** True for classes declared only per interface (HID): a single-function device then has bDeviceClass 0. */
	readonly classAtInterface?: boolean
	bind(ctx: FunctionBindContext): void
	/** Interface, class-specific and endpoint descriptors, for the given bus speed. */
	descriptors(speed: UsbSpeedName): Buffer[]
	/** Alternate setting 0 of every interface, in interface-number order. */
	interfaces(): InterfaceSummary[]
	/** Selects an alternate setting; false when the interface has no such setting. */
	setAlternate(interfaceNumber: number, alternate: number): boolean
	alternate(interfaceNumber: number): number
	/** Called on SET_CONFIGURATION (true) and on deconfiguration or bus reset (false). */
	configure(active: boolean): void
	/** Class/vendor requests addressed to one of this function's interfaces or endpoints. */
	controlRequest(setup: SetupPacket, data: Buffer): ControlOutcome
	/** Addresses of the endpoints usable in the current alternate settings. */
	activeEndpoints(): number[]
	/** Every endpoint address of that interface, whatever its alternate setting. */
	interfaceEndpoints(interfaceNumber: number): number[]
	/**
	 * The endpoint's data toggle was reset (CLEAR_FEATURE(ENDPOINT_HALT),
	 * SET_INTERFACE): a transfer half done on it cannot go on, so the next
	 * one must start a fresh frame.
	 */
	endpointReset?(address: number): void
	handleIn(address: number, maxLength: number): InOutcome
	handleOut(address: number, data: Buffer, transferFlags: number): OutOutcome
}

/** A USB request block as it arrives from the host. */
export interface UrbRequest {
	seqnum: number
	endpoint: number
	direction: 'in' | 'out'
	setup: Buffer
	/** OUT payload; empty for IN. */
	data: Buffer
	transferBufferLength: number
	transferFlags: number
	isochronous: boolean
}

export interface UrbCompletion {
	status: number
	actualLength: number
	/** IN data (actualLength bytes); empty for OUT. */
	data: Buffer
}

export type UrbCallback = (completion: UrbCompletion) => void

interface PendingIn {
	seqnum: number
	address: number
	maxLength: number
	transferFlags: number
	complete: UrbCallback
}

type DeviceState = 'default' | 'address' | 'configured'

const CONFIGURATION_VALUE = 1
/** The languages of our strings, as string descriptor 0 lists them. */
const LANGUAGE_IDS = [LANGID_EN_US]

function ok(data: Buffer = Buffer.alloc(0)): UrbCompletion {
	return {status: UrbStatus.OK, actualLength: data.length, data}
}

function failed(status: number): UrbCompletion {
	return {status, actualLength: 0, data: Buffer.alloc(0)}
}

/** A successful IN completion, unless the URB forbade a short transfer and got one. */
function shortAware(data: Buffer, requested: number, transferFlags: number): UrbCompletion {
	if ((transferFlags & UrbFlag.SHORT_NOT_OK) !== 0 && data.length < requested) {
		return {status: UrbStatus.EREMOTEIO, actualLength: data.length, data}
	}
	return ok(data)
}

export function maxPacketSize0For(speed: UsbSpeedName): number {
	return speed === 'low' ? 8 : 64
}

/** Largest bulk packet at this speed (USB 2.0 5.8.3). */
export function bulkMaxPacketSize(speed: UsbSpeedName): number {
	return speed === 'high' ? 512 : 64
}

/** bInterval for an interrupt endpoint polled about every `ms` milliseconds. */
export function interruptInterval(speed: UsbSpeedName, ms: number): number {
	if (speed !== 'high') return Math.max(1, Math.min(255, ms))
	// High speed counts 2^(bInterval-1) microframes of 125 µs.
	const microframes = Math.max(1, ms * 8)
	return Math.min(16, Math.floor(Math.log2(microframes)) + 1)
}

export class UsbDevice {
	readonly speed: UsbSpeedName
	readonly bcdUSB: number
	private readonly strings: string[] = []
	private readonly manufacturerIndex: number
	private readonly productIndex: number
	private readonly serialIndex: number
	private readonly endpointOwner = new Map<number, UsbFunction>()
	private readonly interfaceOwner = new Map<number, UsbFunction>()
	private interfaceCount = 0
	private state: DeviceState = 'default'
	private address = 0
	private configuration = 0
	private readonly halted = new Set<number>()
	private readonly pendingIn = new Map<number, PendingIn[]>()
	private readonly pendingBySeqnum = new Map<number, PendingIn>()

	constructor(
		readonly identity: DeviceIdentity,
		readonly functions: UsbFunction[],
	) {
		this.speed = identity.speed ?? 'high'
		this.bcdUSB = identity.bcdUSB ?? 0x0200
		if (functions.length === 0) throw new RangeError('a USB device needs at least one function')
		this.manufacturerIndex = identity.manufacturer ? this.addString(identity.manufacturer) : 0
		this.productIndex = identity.product ? this.addString(identity.product) : 0
		this.serialIndex = identity.serial ? this.addString(identity.serial) : 0
		const nextEndpoint = {in: 1, out: 1}
		for (const fn of functions) {
			const ctx: FunctionBindContext = {
				speed: this.speed,
				allocateInterface: () => {
					const n = this.interfaceCount++
					this.interfaceOwner.set(n, fn)
					return n
				},
				allocateEndpoint: (direction) => {
					const n = nextEndpoint[direction]++
					if (n > 15) throw new RangeError(`no ${direction.toUpperCase()} endpoint numbers left for ${fn.name}`)
					const address = direction === 'in' ? ENDPOINT_DIR_IN | n : n
					this.endpointOwner.set(address, fn)
					return address
				},
				addString: (text) => this.addString(text),
				wakeEndpoint: (address) => this.serveIn(address),
			}
			fn.bind(ctx)
		}
	}

	get isComposite(): boolean {
		return this.functions.length > 1
	}

	get configurationValue(): number {
		return this.configuration
	}

	get deviceAddress(): number {
		return this.address
	}

	get numInterfaces(): number {
		return this.interfaceCount
	}

	/** bDeviceClass/SubClass/Protocol: IAD triple for composites, the function's class otherwise. */
	get deviceClass(): {deviceClass: number; deviceSubClass: number; deviceProtocol: number} {
		if (this.isComposite) return {deviceClass: UsbClass.MISC, deviceSubClass: 0x02, deviceProtocol: 0x01}
		const only = this.functions[0]!
		return {deviceClass: only.classAtInterface ? UsbClass.PER_INTERFACE : only.classTriple.functionClass, deviceSubClass: 0, deviceProtocol: 0}
	}

	interfaceSummaries(): InterfaceSummary[] {
		return this.functions.flatMap((fn) => fn.interfaces()).sort((a, b) => a.interfaceNumber - b.interfaceNumber)
	}

	private addString(text: string): number {
		this.strings.push(text)
		if (this.strings.length > 255) throw new RangeError('more than 255 string descriptors')
		return this.strings.length
	}

	deviceDescriptor(): Buffer {
		return deviceDescriptor({
			bcdUSB: this.bcdUSB,
			...this.deviceClass,
			maxPacketSize0: maxPacketSize0For(this.speed),
			idVendor: this.identity.vendorId,
			idProduct: this.identity.productId,
			bcdDevice: this.identity.bcdDevice ?? 0x0100,
			manufacturerIndex: this.manufacturerIndex,
			productIndex: this.productIndex,
			serialNumberIndex: this.serialIndex,
			numConfigurations: 1,
		})
	}

	/** The full configuration block at `speed` (OTHER_SPEED_CONFIGURATION reuses it). */
	configurationDescriptor(speed: UsbSpeedName = this.speed, descriptorType: number = DescriptorType.CONFIGURATION): Buffer {
		const body: Buffer[] = []
		for (const fn of this.functions) {
			const parts = fn.descriptors(speed)
			if (this.isComposite) {
				const numbers = fn.interfaces().map((i) => i.interfaceNumber)
				body.push(
					interfaceAssociationDescriptor({
						firstInterface: Math.min(...numbers),
						interfaceCount: numbers.length,
						...fn.classTriple,
						functionIndex: 0,
					}),
				)
			}
			body.push(...parts)
		}
		let attributes = 0
		if (this.identity.selfPowered) attributes |= CONFIG_ATTR_SELF_POWERED
		// No remote wakeup: USB/IP cannot carry a resume (vhci_hcd only flips
		// the port's suspend bit), so a host that autosuspended an idle link
		// or keyboard on the strength of it would never hear from it again.
		return configurationDescriptor(
			{
				configurationValue: CONFIGURATION_VALUE,
				configurationIndex: 0,
				attributes,
				maxPowerMilliamps: this.identity.maxPowerMilliamps ?? 100,
				numInterfaces: this.interfaceCount,
				descriptorType,
			},
			body,
		)
	}

	/** The string with that index, or undefined (index 0 is the LANGID table). */
	string(index: number): string | undefined {
		return this.strings[index - 1]
	}

	/** Forgets everything the host set: used on bus reset, attach and detach. Pending URBs are dropped silently. */
	reset(): void {
		this.pendingIn.clear()
		this.pendingBySeqnum.clear()
		this.halted.clear()
		if (this.configuration !== 0) for (const fn of this.functions) fn.configure(false)
		this.configuration = 0
		this.address = 0
		this.state = 'default'
	}

	/**
	 * Handles one URB. `complete` runs exactly once unless the URB is unlinked
	 * or the device reset first; it may run before submit() returns.
	 */
	submit(urb: UrbRequest, complete: UrbCallback): void {
		if (urb.endpoint === 0) {
			complete(this.control(urb))
			return
		}
		const address = urb.direction === 'in' ? ENDPOINT_DIR_IN | urb.endpoint : urb.endpoint
		const fn = this.endpointOwner.get(address)
		if (!fn || urb.isochronous || this.state !== 'configured' || !fn.activeEndpoints().includes(address)) {
			complete(failed(UrbStatus.EPIPE))
			return
		}
		if (this.halted.has(address)) {
			complete(failed(UrbStatus.EPIPE))
			return
		}
		if (urb.direction === 'out') {
			const outcome = fn.handleOut(address, urb.data, urb.transferFlags)
			if (outcome === 'stall') {
				this.halted.add(address)
				complete(failed(UrbStatus.EPIPE))
			} else {
				complete({status: UrbStatus.OK, actualLength: urb.data.length, data: Buffer.alloc(0)})
			}
			return
		}
		const pending: PendingIn = {
			seqnum: urb.seqnum,
			address,
			maxLength: urb.transferBufferLength,
			transferFlags: urb.transferFlags,
			complete,
		}
		const queue = this.pendingIn.get(address) ?? []
		queue.push(pending)
		this.pendingIn.set(address, queue)
		this.pendingBySeqnum.set(urb.seqnum, pending)
		this.serveIn(address)
	}

	/** Removes a waiting URB; true if it was still waiting (so it never completes). */
	unlink(seqnum: number): boolean {
		const pending = this.pendingBySeqnum.get(seqnum)
		if (!pending) return false
		this.pendingBySeqnum.delete(seqnum)
		const queue = this.pendingIn.get(pending.address) ?? []
		const at = queue.indexOf(pending)
		if (at >= 0) queue.splice(at, 1)
		return true
	}

	get pendingUrbCount(): number {
		return this.pendingBySeqnum.size
	}

	private takePending(address: number): PendingIn | undefined {
		const pending = this.pendingIn.get(address)?.shift()
		if (pending) this.pendingBySeqnum.delete(pending.seqnum)
		return pending
	}

	/** Completes waiting IN URBs on `address` for as long as its function has data. */
	private serveIn(address: number): void {
		const fn = this.endpointOwner.get(address)
		const queue = this.pendingIn.get(address)
		if (!fn || !queue) return
		while (queue.length > 0) {
			const head = queue[0]!
			if (this.halted.has(address) || this.state !== 'configured' || !fn.activeEndpoints().includes(address)) {
				this.takePending(address)?.complete(failed(UrbStatus.EPIPE))
				continue
			}
			const outcome = fn.handleIn(address, head.maxLength)
			if (outcome === 'pending') return
			this.takePending(address)
			if (outcome === 'stall') {
				this.halted.add(address)
				head.complete(failed(UrbStatus.EPIPE))
			} else {
				const data = outcome.length > head.maxLength ? outcome.subarray(0, head.maxLength) : outcome
				head.complete(shortAware(data, head.maxLength, head.transferFlags))
			}
		}
	}

	/** Fails URBs waiting on endpoints that an alternate-setting or configuration change took away. */
	private flushInactive(status: number): void {
		for (const address of this.pendingIn.keys()) {
			const fn = this.endpointOwner.get(address)
			const active = this.state === 'configured' && fn !== undefined && fn.activeEndpoints().includes(address)
			if (active) continue
			for (let p = this.takePending(address); p; p = this.takePending(address)) p.complete(failed(status))
		}
	}

	// ---- endpoint 0 ------------------------------------------------------------

	private control(urb: UrbRequest): UrbCompletion {
		let setup: SetupPacket
		try {
			setup = decodeSetup(urb.setup)
		} catch {
			return failed(UrbStatus.EPIPE)
		}
		const isIn = (setup.requestType & RequestType.DIR_IN) !== 0
		const outcome = this.controlRequest(setup, isIn ? Buffer.alloc(0) : urb.data)
		if (outcome === 'stall') return failed(UrbStatus.EPIPE)
		if (!isIn) return {status: UrbStatus.OK, actualLength: urb.data.length, data: Buffer.alloc(0)}
		// The host asks for at most wLength bytes and has room for transferBufferLength.
		const limit = Math.min(setup.length, urb.transferBufferLength)
		const data = outcome.length > limit ? outcome.subarray(0, limit) : outcome
		return shortAware(data, limit, urb.transferFlags)
	}

	/** Runs one control request (exposed for tests and other transports). */
	controlRequest(setup: SetupPacket, data: Buffer): ControlOutcome {
		const type = setup.requestType & RequestType.TYPE_MASK
		const recipient = setup.requestType & RequestType.RECIPIENT_MASK
		if (type === RequestType.TYPE_STANDARD) {
			const standard = this.standardRequest(setup)
			if (standard !== undefined) return standard
			// Unknown standard requests to an interface (e.g. HID's GET_DESCRIPTOR(REPORT)) belong to the function.
			if (recipient !== RequestType.RECIPIENT_INTERFACE) return 'stall'
		}
		if (this.state !== 'configured') return 'stall'
		if (recipient === RequestType.RECIPIENT_INTERFACE) {
			const fn = this.interfaceOwner.get(setup.index & 0xff)
			return fn ? fn.controlRequest(setup, data) : 'stall'
		}
		if (recipient === RequestType.RECIPIENT_ENDPOINT) {
			const fn = this.endpointOwner.get(setup.index & 0x8f)
			return fn ? fn.controlRequest(setup, data) : 'stall'
		}
		return 'stall'
	}

	/** Standard requests; undefined when the request is not a standard one we know. */
	private standardRequest(setup: SetupPacket): ControlOutcome | undefined {
		const isIn = (setup.requestType & RequestType.DIR_IN) !== 0
		const recipient = setup.requestType & RequestType.RECIPIENT_MASK
		const empty = Buffer.alloc(0)
		switch (setup.request) {
			case StandardRequest.GET_STATUS: {
				if (!isIn || setup.value !== 0 || setup.length !== 2) return 'stall'
				if (recipient === RequestType.RECIPIENT_DEVICE) {
					const bits = this.identity.selfPowered ? 1 : 0
					return Buffer.from([bits, 0])
				}
				if (recipient === RequestType.RECIPIENT_INTERFACE) {
					return this.interfaceUsable(setup.index) ? Buffer.from([0, 0]) : 'stall'
				}
				if (recipient === RequestType.RECIPIENT_ENDPOINT) {
					const address = setup.index & 0xff
					if ((address & 0x0f) === 0) return Buffer.from([0, 0])
					if (!this.endpointUsable(address)) return 'stall'
					return Buffer.from([this.halted.has(address) ? 1 : 0, 0])
				}
				return 'stall'
			}
			case StandardRequest.CLEAR_FEATURE:
			case StandardRequest.SET_FEATURE: {
				if (isIn || setup.length !== 0) return 'stall'
				const set = setup.request === StandardRequest.SET_FEATURE
				// DEVICE_REMOTE_WAKEUP is not offered (see the configuration
				// descriptor): a Request Error, as for any feature that does not exist.
				if (recipient === RequestType.RECIPIENT_ENDPOINT && setup.value === FeatureSelector.ENDPOINT_HALT) {
					const address = setup.index & 0xff
					if ((address & 0x0f) === 0) return empty
					if (!this.endpointUsable(address)) return 'stall'
					if (set) this.halted.add(address)
					else this.resetEndpoint(address)
					// A halt fails the URBs already waiting, as a halted endpoint STALLs
					// the next token; clearing it lets those queued behind it proceed.
					this.serveIn(address)
					return empty
				}
				// TEST_MODE and interface features are not supported.
				return 'stall'
			}
			case StandardRequest.SET_ADDRESS: {
				if (isIn || recipient !== RequestType.RECIPIENT_DEVICE || setup.value > 127 || setup.length !== 0) return 'stall'
				if (this.state === 'configured') return 'stall'
				this.address = setup.value
				this.state = setup.value === 0 ? 'default' : 'address'
				return empty
			}
			case StandardRequest.GET_DESCRIPTOR: {
				if (!isIn) return 'stall'
				if (recipient !== RequestType.RECIPIENT_DEVICE) return undefined
				return this.getDescriptor(setup.value >> 8, setup.value & 0xff, setup.index)
			}
			case StandardRequest.SET_DESCRIPTOR:
			case StandardRequest.SYNCH_FRAME:
				return 'stall'
			case StandardRequest.GET_CONFIGURATION:
				if (!isIn || recipient !== RequestType.RECIPIENT_DEVICE) return 'stall'
				return Buffer.from([this.configuration])
			case StandardRequest.SET_CONFIGURATION: {
				if (isIn || recipient !== RequestType.RECIPIENT_DEVICE) return 'stall'
				const value = setup.value & 0xff
				if (value !== 0 && value !== CONFIGURATION_VALUE) return 'stall'
				// Setting a configuration, even the current one, resets every interface to alternate 0 and clears halts.
				if (this.configuration !== 0) for (const fn of this.functions) fn.configure(false)
				this.halted.clear()
				this.configuration = value
				this.state = value === 0 ? (this.address === 0 ? 'default' : 'address') : 'configured'
				if (value !== 0) for (const fn of this.functions) fn.configure(true)
				this.flushInactive(UrbStatus.ESHUTDOWN)
				return empty
			}
			case StandardRequest.GET_INTERFACE: {
				if (!isIn || recipient !== RequestType.RECIPIENT_INTERFACE) return 'stall'
				const fn = this.interfaceUsable(setup.index)
				return fn ? Buffer.from([fn.alternate(setup.index & 0xff)]) : 'stall'
			}
			case StandardRequest.SET_INTERFACE: {
				if (isIn || recipient !== RequestType.RECIPIENT_INTERFACE) return 'stall'
				const fn = this.interfaceUsable(setup.index)
				if (!fn || !fn.setAlternate(setup.index & 0xff, setup.value)) return 'stall'
				// Only this interface's endpoints (USB 2.0 9.4.10): a CDC data
				// interface's change leaves the notification endpoint's halt alone.
				for (const address of fn.interfaceEndpoints(setup.index & 0xff)) this.resetEndpoint(address)
				this.flushInactive(UrbStatus.ESHUTDOWN)
				for (const address of fn.activeEndpoints()) this.serveIn(address)
				return empty
			}
			default:
				return undefined
		}
	}

	/** Clears the halt and the data toggle (USB 2.0 9.4.5, 9.4.10), which ends any transfer in progress there. */
	private resetEndpoint(address: number): void {
		this.halted.delete(address)
		this.endpointOwner.get(address)?.endpointReset?.(address)
	}

	private interfaceUsable(index: number): UsbFunction | undefined {
		if (this.state !== 'configured') return undefined
		return this.interfaceOwner.get(index & 0xff)
	}

	private endpointUsable(address: number): boolean {
		if (this.state !== 'configured') return false
		const fn = this.endpointOwner.get(address)
		return fn !== undefined && fn.activeEndpoints().includes(address)
	}

	private getDescriptor(type: number, index: number, langId: number): ControlOutcome {
		switch (type) {
			case DescriptorType.DEVICE:
				return this.deviceDescriptor()
			case DescriptorType.CONFIGURATION:
				return index === 0 ? this.configurationDescriptor() : 'stall'
			case DescriptorType.STRING: {
				if (index === 0) return languageIdsDescriptor(LANGUAGE_IDS)
				// wIndex names the language; there are strings only in the ones
				// string 0 lists (as in Linux's gadget composite). Hosts read
				// string 0 first and ask in its first LANGID.
				const text = LANGUAGE_IDS.includes(langId) ? this.string(index) : undefined
				return text === undefined ? 'stall' : stringDescriptor(text)
			}
			case DescriptorType.DEVICE_QUALIFIER: {
				// Only a high-speed capable device has an "other speed"; full/low-speed ones must stall.
				if (this.speed !== 'high') return 'stall'
				return deviceQualifierDescriptor({
					bcdUSB: this.bcdUSB,
					...this.deviceClass,
					maxPacketSize0: maxPacketSize0For('full'),
					numConfigurations: 1,
				})
			}
			case DescriptorType.OTHER_SPEED_CONFIGURATION:
				if (this.speed !== 'high' || index !== 0) return 'stall'
				return this.configurationDescriptor('full', DescriptorType.OTHER_SPEED_CONFIGURATION)
			default:
				// BOS (only for bcdUSB >= 0x0201), interface power, debug, ...: not provided.
				return 'stall'
		}
	}
}

/** Helper for functions: one endpoint's static description. */
export interface EndpointSpec {
	address: number
	type: EndpointTypeValue
	maxPacketSize: number
	interval: number
}
