// HID boot keyboard (HID 1.11): one interface of class 3, subclass 1 (boot
// interface), protocol 1 (keyboard), the report descriptor of appendix B.1
// and an interrupt IN endpoint carrying 8-byte input reports (modifier bits,
// a reserved byte, six key usages). The host's LED output reports arrive by
// SET_REPORT on endpoint 0. Linux binds usbhid (hid-generic) and makes an
// input device of it.
//
// Text is typed as one press report and one release report per character,
// US layout (keyUsagesFor); the reports wait in a queue until the host's
// interrupt URBs take them, so nothing typed is lost or reordered.

import {EndpointType, UsbClass, endpointDescriptor, interfaceDescriptor} from '../usb/descriptors.js'
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
import {RequestType, StandardRequest, interruptInterval} from '../usb/device.js'
import type {SetupPacket} from '../usbip/protocol.js'

/** HID class descriptor types (HID 1.11 7.1). */
export const HidDescriptorType = {
	HID: 0x21,
	REPORT: 0x22,
	PHYSICAL: 0x23,
} as const

/** HID class requests (HID 1.11 7.2). */
export const HidRequest = {
	GET_REPORT: 0x01,
	GET_IDLE: 0x02,
	GET_PROTOCOL: 0x03,
	SET_REPORT: 0x09,
	SET_IDLE: 0x0a,
	SET_PROTOCOL: 0x0b,
} as const

/** Report types in the high byte of GET_REPORT/SET_REPORT's wValue. */
export const HidReportType = {
	INPUT: 1,
	OUTPUT: 2,
	FEATURE: 3,
} as const

export const HID_SUBCLASS_BOOT = 1
export const HID_PROTOCOL_KEYBOARD = 1

/** The boot keyboard report descriptor, HID 1.11 appendix B.1 (63 bytes). */
export const BOOT_KEYBOARD_REPORT_DESCRIPTOR = Buffer.from([
	0x05, 0x01, // Usage Page (Generic Desktop)
	0x09, 0x06, // Usage (Keyboard)
	0xa1, 0x01, // Collection (Application)
	0x05, 0x07, //   Usage Page (Key Codes)
	0x19, 0xe0, //   Usage Minimum (224, Left Control)
	0x29, 0xe7, //   Usage Maximum (231, Right GUI)
	0x15, 0x00, //   Logical Minimum (0)
	0x25, 0x01, //   Logical Maximum (1)
	0x75, 0x01, //   Report Size (1)
	0x95, 0x08, //   Report Count (8)
	0x81, 0x02, //   Input (Data, Variable, Absolute): modifier byte
	0x95, 0x01, //   Report Count (1)
	0x75, 0x08, //   Report Size (8)
	0x81, 0x01, //   Input (Constant): reserved byte
	0x95, 0x05, //   Report Count (5)
	0x75, 0x01, //   Report Size (1)
	0x05, 0x08, //   Usage Page (LEDs)
	0x19, 0x01, //   Usage Minimum (1, Num Lock)
	0x29, 0x05, //   Usage Maximum (5, Kana)
	0x91, 0x02, //   Output (Data, Variable, Absolute): LED report
	0x95, 0x01, //   Report Count (1)
	0x75, 0x03, //   Report Size (3)
	0x91, 0x01, //   Output (Constant): LED report padding
	0x95, 0x06, //   Report Count (6)
	0x75, 0x08, //   Report Size (8)
	0x15, 0x00, //   Logical Minimum (0)
	0x25, 0x65, //   Logical Maximum (101)
	0x05, 0x07, //   Usage Page (Key Codes)
	0x19, 0x00, //   Usage Minimum (0)
	0x29, 0x65, //   Usage Maximum (101)
	0x81, 0x00, //   Input (Data, Array): six key codes
	0xc0, // End Collection
])

export const KEYBOARD_REPORT_LENGTH = 8

/** HID descriptor, 9 bytes with one class descriptor (HID 1.11 6.2.1). */
export function hidDescriptor(reportDescriptorLength: number, bcdHID = 0x0111, countryCode = 0): Buffer {
	if (!Number.isInteger(reportDescriptorLength) || reportDescriptorLength < 1 || reportDescriptorLength > 0xffff) {
		throw new RangeError(`wDescriptorLength must be in 1..65535, got ${reportDescriptorLength}`)
	}
	const b = Buffer.alloc(9)
	b[0] = 9
	b[1] = HidDescriptorType.HID
	b.writeUInt16LE(bcdHID, 2)
	b[4] = countryCode
	b[5] = 1 // bNumDescriptors
	b[6] = HidDescriptorType.REPORT
	b.writeUInt16LE(reportDescriptorLength, 7)
	return b
}

/** Modifier bits of byte 0 of a keyboard report (usages 0xe0..0xe7). */
export const Modifier = {
	LEFT_CTRL: 0x01,
	LEFT_SHIFT: 0x02,
	LEFT_ALT: 0x04,
	LEFT_GUI: 0x08,
} as const

export interface KeyStroke {
	modifiers: number
	/** Keyboard/keypad page usage (HID Usage Tables 10). */
	usage: number
}

// US layout: the unshifted and shifted character of each key, by usage.
const US_KEYS: [usage: number, plain: string, shifted: string][] = [
	[0x1e, '1', '!'],
	[0x1f, '2', '@'],
	[0x20, '3', '#'],
	[0x21, '4', '$'],
	[0x22, '5', '%'],
	[0x23, '6', '^'],
	[0x24, '7', '&'],
	[0x25, '8', '*'],
	[0x26, '9', '('],
	[0x27, '0', ')'],
	[0x28, '\n', ''],
	[0x2b, '\t', ''],
	[0x2c, ' ', ''],
	[0x2d, '-', '_'],
	[0x2e, '=', '+'],
	[0x2f, '[', '{'],
	[0x30, ']', '}'],
	[0x31, '\\', '|'],
	[0x33, ';', ':'],
	[0x34, "'", '"'],
	[0x35, '`', '~'],
	[0x36, ',', '<'],
	[0x37, '.', '>'],
	[0x38, '/', '?'],
]

const KEY_OF = new Map<string, KeyStroke>()
for (let i = 0; i < 26; i++) {
	KEY_OF.set(String.fromCharCode(0x61 + i), {modifiers: 0, usage: 0x04 + i})
	KEY_OF.set(String.fromCharCode(0x41 + i), {modifiers: Modifier.LEFT_SHIFT, usage: 0x04 + i})
}
for (const [usage, plain, shifted] of US_KEYS) {
	KEY_OF.set(plain, {modifiers: 0, usage})
	if (shifted) KEY_OF.set(shifted, {modifiers: Modifier.LEFT_SHIFT, usage})
}
KEY_OF.set('\r', KEY_OF.get('\n')!)

/** The keys that type `text` on a US keyboard; throws naming every character that has none. */
export function keyStrokesFor(text: string): KeyStroke[] {
	const strokes: KeyStroke[] = []
	const missing = new Set<string>()
	for (const ch of text) {
		const key = KEY_OF.get(ch)
		if (key) strokes.push(key)
		else missing.add(ch)
	}
	if (missing.size > 0) {
		const shown = [...missing].map((c) => JSON.stringify(c)).join(', ')
		throw new RangeError(`no US keyboard key types ${shown} (printable ASCII, tab and newline only)`)
	}
	return strokes
}

/** An 8-byte boot keyboard input report. */
export function keyboardReport(modifiers: number, usages: number[] = []): Buffer {
	if (usages.length > 6) throw new RangeError('a boot keyboard report holds at most 6 keys')
	const b = Buffer.alloc(KEYBOARD_REPORT_LENGTH)
	b[0] = modifiers & 0xff
	usages.forEach((u, i) => (b[2 + i] = u))
	return b
}

export interface HidKeyboardOptions {
	interfaceName?: string
	/** Reports waiting for the host beyond this are refused; default 8192 (4096 characters). */
	maxQueuedReports?: number
}

/** Polling interval asked of the host, ms (bInterval). */
const POLL_INTERVAL_MS = 10

export class HidKeyboardError extends Error {}

export class HidKeyboardFunction implements UsbFunction {
	readonly name = 'hid-keyboard'
	readonly classTriple: FunctionClass = {
		functionClass: UsbClass.HID,
		functionSubClass: HID_SUBCLASS_BOOT,
		functionProtocol: HID_PROTOCOL_KEYBOARD,
	}
	/** HID is declared per interface: a single-function device has bDeviceClass 0. */
	readonly classAtInterface = true

	private readonly interfaceName: string | undefined
	private readonly maxQueuedReports: number
	private interfaceNumber = -1
	private inEndpoint = 0
	private nameIndex = 0
	private wake: (address: number) => void = () => {}
	private configured = false
	private readonly queue: Buffer[] = []
	private current = keyboardReport(0)
	/** SET_IDLE duration in 4 ms units; 0 reports only on change. */
	private idle = 0
	private idleTimer: ReturnType<typeof setTimeout> | undefined
	private idleDue = false
	/** 0 boot protocol, 1 report protocol (the same 8 bytes here). */
	protocol = 1
	/** The last LED output report: bit 0 Num Lock, 1 Caps Lock, 2 Scroll Lock, 3 Compose, 4 Kana. */
	leds = 0
	/** Reports taken by the host since the device was configured. */
	reportsSent = 0

	constructor(options: HidKeyboardOptions = {}) {
		this.interfaceName = options.interfaceName
		this.maxQueuedReports = options.maxQueuedReports ?? 8192
	}

	bind(ctx: FunctionBindContext): void {
		this.interfaceNumber = ctx.allocateInterface()
		this.inEndpoint = ctx.allocateEndpoint('in')
		this.nameIndex = this.interfaceName ? ctx.addString(this.interfaceName) : 0
		this.wake = ctx.wakeEndpoint
	}

	get endpointAddress(): number {
		return this.inEndpoint
	}

	get isConfigured(): boolean {
		return this.configured
	}

	/** Reports typed but not yet taken by the host. */
	get queuedReports(): number {
		return this.queue.length
	}

	descriptors(speed: UsbSpeedName): Buffer[] {
		return [
			interfaceDescriptor({
				interfaceNumber: this.interfaceNumber,
				alternateSetting: 0,
				numEndpoints: 1,
				interfaceClass: UsbClass.HID,
				interfaceSubClass: HID_SUBCLASS_BOOT,
				interfaceProtocol: HID_PROTOCOL_KEYBOARD,
				interfaceIndex: this.nameIndex,
			}),
			hidDescriptor(BOOT_KEYBOARD_REPORT_DESCRIPTOR.length),
			endpointDescriptor({
				address: this.inEndpoint,
				type: EndpointType.INTERRUPT,
				maxPacketSize: KEYBOARD_REPORT_LENGTH,
				interval: interruptInterval(speed, POLL_INTERVAL_MS),
			}),
		]
	}

	interfaces(): InterfaceSummary[] {
		return [
			{
				interfaceNumber: this.interfaceNumber,
				interfaceClass: UsbClass.HID,
				interfaceSubClass: HID_SUBCLASS_BOOT,
				interfaceProtocol: HID_PROTOCOL_KEYBOARD,
			},
		]
	}

	setAlternate(interfaceNumber: number, alternate: number): boolean {
		return interfaceNumber === this.interfaceNumber && alternate === 0
	}

	alternate(): number {
		return 0
	}

	configure(active: boolean): void {
		this.configured = active
		this.queue.length = 0
		this.current = keyboardReport(0)
		this.idle = 0
		this.protocol = 1
		this.leds = 0
		this.reportsSent = 0
		this.stopIdleTimer()
	}

	activeEndpoints(): number[] {
		return this.configured ? [this.inEndpoint] : []
	}

	interfaceEndpoints(interfaceNumber: number): number[] {
		return interfaceNumber === this.interfaceNumber ? [this.inEndpoint] : []
	}

	controlRequest(setup: SetupPacket, data: Buffer): ControlOutcome {
		// Requests to one of its endpoints come here too: wIndex is then no interface.
		if ((setup.requestType & RequestType.RECIPIENT_MASK) !== RequestType.RECIPIENT_INTERFACE) return 'stall'
		if ((setup.index & 0xff) !== this.interfaceNumber) return 'stall'
		const type = setup.requestType & RequestType.TYPE_MASK
		const isIn = (setup.requestType & RequestType.DIR_IN) !== 0
		if (type === RequestType.TYPE_STANDARD) {
			// GET_DESCRIPTOR addressed to the interface: the HID class descriptors.
			if (setup.request !== StandardRequest.GET_DESCRIPTOR || !isIn) return 'stall'
			switch (setup.value >> 8) {
				case HidDescriptorType.HID:
					return hidDescriptor(BOOT_KEYBOARD_REPORT_DESCRIPTOR.length)
				case HidDescriptorType.REPORT:
					return (setup.value & 0xff) === 0 ? BOOT_KEYBOARD_REPORT_DESCRIPTOR : 'stall'
				default:
					return 'stall' // no physical descriptors
			}
		}
		if (type !== RequestType.TYPE_CLASS) return 'stall'
		const reportType = setup.value >> 8
		const reportId = setup.value & 0xff
		switch (setup.request) {
			case HidRequest.GET_REPORT:
				if (!isIn || reportId !== 0) return 'stall'
				if (reportType === HidReportType.INPUT) return Buffer.from(this.current)
				if (reportType === HidReportType.OUTPUT) return Buffer.from([this.leds])
				return 'stall'
			case HidRequest.SET_REPORT:
				// The only output report is the LED byte; there are no feature reports.
				if (isIn || reportId !== 0 || reportType !== HidReportType.OUTPUT || data.length !== 1) return 'stall'
				this.leds = data[0]! & 0x1f
				return Buffer.alloc(0)
			case HidRequest.GET_IDLE:
				if (!isIn || (setup.value & 0xff) !== 0) return 'stall'
				return Buffer.from([this.idle])
			case HidRequest.SET_IDLE:
				if (isIn || reportId !== 0) return 'stall'
				this.idle = setup.value >> 8
				this.restartIdleTimer()
				return Buffer.alloc(0)
			case HidRequest.GET_PROTOCOL:
				if (!isIn || setup.value !== 0) return 'stall'
				return Buffer.from([this.protocol])
			case HidRequest.SET_PROTOCOL:
				if (isIn || setup.value > 1) return 'stall'
				this.protocol = setup.value
				return Buffer.alloc(0)
			default:
				return 'stall'
		}
	}

	handleIn(address: number): InOutcome {
		if (address !== this.inEndpoint) return 'stall'
		const next = this.queue.shift()
		if (next) {
			this.current = next
			this.reportsSent++
			this.restartIdleTimer()
			return Buffer.from(next)
		}
		if (this.idleDue) {
			// The idle period passed without a change: repeat the current report (HID 1.11 7.2.4).
			this.restartIdleTimer()
			return Buffer.from(this.current)
		}
		return 'pending'
	}

	handleOut(): OutOutcome {
		return 'stall'
	}

	/**
	 * Queues a press and a release for each character; returns how many
	 * reports were queued. Throws before queueing anything when a character
	 * has no key, the host has not configured the device, or the queue is full.
	 */
	type(text: string): number {
		const strokes = keyStrokesFor(text)
		if (!this.configured) throw new HidKeyboardError('the keyboard is not in use by a host (not configured)')
		if (this.queue.length + 2 * strokes.length > this.maxQueuedReports) {
			throw new HidKeyboardError(`${strokes.length} characters do not fit: ${this.queue.length} reports are still waiting for the host`)
		}
		for (const key of strokes) {
			this.queue.push(keyboardReport(key.modifiers, [key.usage]), keyboardReport(0))
		}
		this.wake(this.inEndpoint)
		return 2 * strokes.length
	}

	private stopIdleTimer(): void {
		if (this.idleTimer) clearTimeout(this.idleTimer)
		this.idleTimer = undefined
		this.idleDue = false
	}

	private restartIdleTimer(): void {
		this.stopIdleTimer()
		if (!this.configured || this.idle === 0) return
		this.idleTimer = setTimeout(() => {
			this.idleTimer = undefined
			this.idleDue = true
			this.wake(this.inEndpoint)
		}, this.idle * 4)
		// A repeat timer alone must not keep a process alive.
		this.idleTimer.unref()
	}
}
