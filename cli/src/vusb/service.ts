// What `vusb serve` runs: a USB/IP server with devices built from their JSON
// definitions, each function wired to a user-space peer, and the operations
// the control channel offers (list, unplug, set).
//
// Peers: the Nth network function (ECM/NCM, counted over all devices in the
// order given) gets a PingResponder at the Nth --responder address, with a
// MAC derived from the function's hostMac (peerMacFor); network functions
// beyond the list drop what they receive. ACM functions echo.

import {ExitCode, UsbvnetError} from '../errors.js'
import type {UsbipServer} from './usbip/server.js'
import {buildDevice} from './device-config.js'
import type {FunctionConfig, NetworkFunctionConfig, VusbDeviceConfig} from './device-config.js'
import {PingResponder, SerialEcho, parseIpv4} from './functions/responders.js'
import type {FrameHandler} from './functions/cdc-net.js'
import {formatMac, parseMac} from './functions/cdc.js'

export class VusbServiceError extends UsbvnetError {}

/** Counts and drops every frame: a link with nobody on the other end. */
export class DropFrames implements FrameHandler {
	dropped = 0
	attach(): void {}
	frameFromHost(): void {
		this.dropped++
	}
}

/** The emulated peer's MAC: the hostMac, locally administered unicast, last octet's top bit flipped. */
export function peerMacFor(hostMac: string): string {
	const mac = parseMac(hostMac)
	mac[0] = (mac[0]! | 0x02) & 0xfe
	mac[5] = mac[5]! ^ 0x80
	return formatMac(mac)
}

/** Function types as `vusb set --functions` spells them. */
export const FUNCTION_SHORT_NAMES: Record<string, FunctionConfig['type']> = {
	ecm: 'cdc-ecm',
	ncm: 'cdc-ncm',
	acm: 'cdc-acm',
	'cdc-ecm': 'cdc-ecm',
	'cdc-ncm': 'cdc-ncm',
	'cdc-acm': 'cdc-acm',
}

/** "ecm,acm" -> ['cdc-ecm', 'cdc-acm']; throws a usage error naming the bad entry. */
export function parseFunctionList(text: string): FunctionConfig['type'][] {
	const names = text.split(',').map((s) => s.trim().toLowerCase())
	if (names.length === 0 || names.some((n) => n === '')) {
		throw new VusbServiceError(`"${text}" is not a comma-separated list of functions (ecm, ncm, acm)`, 'USAGE', ExitCode.usage)
	}
	if (names.length > 7) throw new VusbServiceError(`${names.length} functions: a device holds at most 7`, 'USAGE', ExitCode.usage)
	return names.map((n) => {
		const type = FUNCTION_SHORT_NAMES[n]
		if (!type) throw new VusbServiceError(`unknown function "${n}": use ecm, ncm or acm`, 'USAGE', ExitCode.usage)
		return type
	})
}

/**
 * A device's new function list for `set`: network functions keep the
 * hostMacs of the old ones in order; extra ones get MACs derived from the
 * busid that no other function of the device uses.
 */
export function functionsForSet(old: FunctionConfig[], types: FunctionConfig['type'][], busid: string): FunctionConfig[] {
	const oldMacs = old.filter((f): f is NetworkFunctionConfig => f.type !== 'cdc-acm').map((f) => f.hostMac)
	const used = new Set(oldMacs.map((m) => m.toLowerCase()))
	const [bus = 0, port = 0] = busid.split(/[-.]/).map(Number)
	let counter = 0
	const freshMac = (): string => {
		for (;;) {
			const mac = formatMac(Buffer.from([0x02, 0x76, 0x75, bus & 0xff, port & 0xff, 0x10 + counter++]))
			if (!used.has(mac)) {
				used.add(mac)
				return mac
			}
		}
	}
	let network = 0
	return types.map((type) => {
		if (type === 'cdc-acm') return {type}
		const hostMac = network < oldMacs.length ? oldMacs[network]! : freshMac()
		network++
		return {type, hostMac}
	})
}

export interface FunctionReport {
	type: FunctionConfig['type']
	hostMac?: string
	/** The emulated far end of a network function, when it has one. */
	peer?: {mac: string; ipv4: string}
}

export interface DeviceReport {
	busid: string
	vendorId: string
	productId: string
	manufacturer: string | null
	product: string | null
	serial: string | null
	speed: 'full' | 'high'
	functions: FunctionReport[]
	/** "address:port" of the client that imported it. */
	attachedTo: string | null
	/** The file it came from, or "set" once re-defined. */
	source: string
}

interface Served {
	busid: string
	config: VusbDeviceConfig
	source: string
	/** Responder addresses of its network functions, in order (kept across `set`). */
	responders: string[]
	functions: FunctionReport[]
}

export class VusbService {
	private readonly served = new Map<string, Served>()
	private nextResponder = 0

	constructor(
		private readonly server: UsbipServer,
		private readonly responderAddresses: string[] = [],
	) {
		for (const a of responderAddresses) parseIpv4(a)
	}

	/** Builds and exports a device; returns its busid. */
	plug(config: VusbDeviceConfig, source: string): string {
		const networkCount = config.functions.filter((f) => f.type !== 'cdc-acm').length
		const responders = this.responderAddresses.slice(this.nextResponder, this.nextResponder + networkCount)
		const entry: Served = {busid: '', config, source, responders, functions: []}
		const device = this.build(entry)
		if (config.busid && this.served.has(config.busid)) {
			throw new VusbServiceError(`${source}: busid ${config.busid} is already served (from ${this.served.get(config.busid)!.source})`, 'BUSY', ExitCode.busy)
		}
		entry.busid = this.server.plug(device, config.busid)
		this.nextResponder += responders.length
		this.served.set(entry.busid, entry)
		return entry.busid
	}

	list(): DeviceReport[] {
		const attached = new Map(this.server.exported().map((e) => [e.busid, e.attachedTo]))
		return [...this.served.values()].map((s) => report(s, attached.get(s.busid) ?? null))
	}

	/** Withdraws a device: its client loses it as on a real unplug. */
	unplug(busid: string): DeviceReport {
		const entry = this.entry(busid)
		const before = report(entry, this.attachedTo(busid))
		this.server.unplug(busid)
		this.served.delete(busid)
		return before
	}

	/**
	 * Re-defines a device with a new function list under the same busid. A
	 * client that has it loses it (USB/IP cannot tell a client to re-enumerate);
	 * the next import enumerates the new interface set.
	 */
	set(busid: string, types: FunctionConfig['type'][]): DeviceReport & {dropped: string | null} {
		const entry = this.entry(busid)
		const dropped = this.attachedTo(busid)
		const config: VusbDeviceConfig = {...entry.config, busid, functions: functionsForSet(entry.config.functions, types, busid)}
		const next: Served = {busid, config, source: 'set', responders: entry.responders, functions: []}
		const device = this.build(next)
		this.server.unplug(busid)
		this.server.plug(device, busid)
		this.served.set(busid, next)
		return {...report(next, null), dropped}
	}

	private entry(busid: string): Served {
		const entry = this.served.get(busid)
		if (!entry) {
			const known = [...this.served.keys()]
			throw new VusbServiceError(
				`no device ${busid} is served${known.length > 0 ? ` (served: ${known.join(', ')})` : ''}`,
				'NO_SUCH_BUSID',
				ExitCode.noSuchDevice,
			)
		}
		return entry
	}

	private attachedTo(busid: string): string | null {
		return this.server.exported().find((e) => e.busid === busid)?.attachedTo ?? null
	}

	private build(entry: Served): ReturnType<typeof buildDevice> {
		let network = 0
		entry.functions = []
		return buildDevice(entry.config, {
			frames: (fn) => {
				const ipv4 = entry.responders[network++]
				if (ipv4 === undefined) {
					entry.functions.push({type: fn.type, hostMac: fn.hostMac})
					return new DropFrames()
				}
				const mac = peerMacFor(fn.hostMac)
				entry.functions.push({type: fn.type, hostMac: fn.hostMac, peer: {mac, ipv4}})
				return new PingResponder({mac, ipv4})
			},
			serial: (fn) => {
				entry.functions.push({type: fn.type})
				return new SerialEcho()
			},
		})
	}
}

function report(s: Served, attachedTo: string | null): DeviceReport {
	return {
		busid: s.busid,
		vendorId: s.config.vendorId.toLowerCase(),
		productId: s.config.productId.toLowerCase(),
		manufacturer: s.config.manufacturer ?? null,
		product: s.config.product ?? null,
		serial: s.config.serial ?? null,
		speed: s.config.speed ?? 'high',
		functions: s.functions,
		attachedTo,
		source: s.source,
	}
}
