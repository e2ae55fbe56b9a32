// What `vusb serve` runs: a USB/IP server with devices built from their JSON
// definitions, each function wired to a user-space peer, and the operations
// the control channel offers (list, unplug, set).
//
// Peers: a network function whose JSON names a TAP backend is wired to that
// TAP (functions/tap-backend.ts), opened when the device is plugged and
// closed when it is unplugged or the service closes. Of the others, the Nth
// (ECM/NCM, counted over all devices in the order given) gets a
// PingResponder at the Nth --responder address, with a MAC derived from the
// function's hostMac (peerMacFor); the rest drop what they receive. ACM
// functions echo, unless their JSON names a TCP backend
// (functions/serial-tcp.ts) or a pseudo-terminal (functions/serial-pty.ts):
// it is opened when the device is plugged (ready() waits for it) and closed
// when it is unplugged; `set` keeps the Nth ACM function's backend open.

import {ExitCode, UsbvnetError} from '../errors.js'
import {PushError, type UsbipServer} from './usbip/server.js'
import {buildDevice, isNetworkFunction} from './device-config.js'
import {tapOf} from './device-config.js'
import type {CdcAcmConfig, FunctionConfig, NetworkFunctionConfig, VusbDeviceConfig} from './device-config.js'
import {TapFrameHandler} from './functions/tap-backend.js'
import type {TapOpener, TapStats} from './functions/tap-backend.js'
import {TapDevice} from '../driver/tap.js'
import {HidKeyboardError, HidKeyboardFunction} from './functions/hid-keyboard.js'
import {PingResponder, SerialEcho, parseIpv4} from './functions/responders.js'
import type {FrameHandler} from './functions/cdc-net.js'
import {SerialTcpConnect, SerialTcpListen} from './functions/serial-tcp.js'
import type {SerialTcpHandler, SerialTcpStats} from './functions/serial-tcp.js'
import {SerialPty} from './functions/serial-pty.js'
import type {SerialPtyStats} from './functions/serial-pty.js'

/** A serial function's backend that needs opening and closing. */
type SerialBackend = SerialTcpHandler | SerialPty
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
	kbd: 'hid-keyboard',
	keyboard: 'hid-keyboard',
	'hid-keyboard': 'hid-keyboard',
}

/** "ecm,acm" -> ['cdc-ecm', 'cdc-acm']; throws a usage error naming the bad entry. */
export function parseFunctionList(text: string): FunctionConfig['type'][] {
	const names = text.split(',').map((s) => s.trim().toLowerCase())
	if (names.length === 0 || names.some((n) => n === '')) {
		throw new VusbServiceError(`"${text}" is not a comma-separated list of functions (ecm, ncm, acm, kbd)`, 'USAGE', ExitCode.usage)
	}
	if (names.length > 7) throw new VusbServiceError(`${names.length} functions: a device holds at most 7`, 'USAGE', ExitCode.usage)
	return names.map((n) => {
		const type = FUNCTION_SHORT_NAMES[n]
		if (!type) throw new VusbServiceError(`unknown function "${n}": use ecm, ncm, acm or kbd`, 'USAGE', ExitCode.usage)
		return type
	})
}

/**
 * A device's new function list for `set`: network functions keep the
 * hostMacs of the old ones in order; extra ones get MACs derived from the
 * busid that no other function of the device uses.
 */
export function functionsForSet(old: FunctionConfig[], types: FunctionConfig['type'][], busid: string): FunctionConfig[] {
	const oldNetwork = old.filter((f): f is NetworkFunctionConfig => isNetworkFunction(f))
	const oldMacs = oldNetwork.map((f) => f.hostMac)
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
	const oldSerial = old.filter((f): f is CdcAcmConfig => f.type === 'cdc-acm')
	let serial = 0
	return types.map((type): FunctionConfig => {
		if (type === 'cdc-acm') {
			// The Nth serial function keeps the Nth one's backend (its listener stays open).
			const previous = oldSerial[serial++]
			return previous?.backend ? {type, backend: previous.backend} : {type}
		}
		if (type !== 'cdc-ecm' && type !== 'cdc-ncm') return {type}
		// The Nth network function keeps the Nth one's hostMac and backend (its TAP stays open).
		const previous = oldNetwork[network]
		const hostMac = previous ? previous.hostMac : freshMac()
		network++
		return previous?.backend ? {type, hostMac, backend: previous.backend} : {type, hostMac}
	})
}

export interface FunctionReport {
	type: FunctionConfig['type']
	hostMac?: string
	/** The emulated far end of a network function, when it has one. */
	peer?: {mac: string; ipv4: string}
	/** The TAP a network function is connected to, its carrier and counters. */
	tap?: {name: string; netns: string | null; mac: string; carrier: boolean; stats: TapStats}
	/** The TCP far end of a serial function: where it listens or connects, its current peer and counters. */
	tcp?: {listen: string | null; connect: string | null; peer: string | null; stats: SerialTcpStats}
	/** The pseudo-terminal of a serial function: its slave (/dev/pts/N), link and counters. */
	pty?: {slave: string | null; link: string | null; stats: SerialPtyStats}
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
	/** The attach agent it is pushed to ("address:port"), or null when clients import it. */
	pushedTo: string | null
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
	/** Its TAP handlers by tapKey, kept open across `set`. */
	taps: Map<string, TapFrameHandler>
	keyboards: HidKeyboardFunction[]
	/** TCP backends of its serial functions by ACM ordinal (kept across `set`), and by index in `functions`. */
	serials: Map<number, SerialBackend>
	serialOfFunction: Map<number, SerialBackend>
	/** Listeners still starting: ready() waits for them. */
	starting: Promise<void>[]
	pushedTo?: {host: string; port: number}
}

/** "host:port" or "[v6]:port" as `vusb plug --to` takes it. */
export function parseHostPort(text: string): {host: string; port: number} {
	const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(text)
	const port = Number(m?.[3])
	if (!m || port < 1 || port > 65535) throw new VusbServiceError(`"${text}" is not HOST:PORT, e.g. 127.0.0.1:3250`, 'USAGE', ExitCode.usage)
	return {host: (m[1] ?? m[2])!, port}
}

function formatHostPort(to: {host: string; port: number}): string {
	return to.host.includes(':') ? `[${to.host}]:${to.port}` : `${to.host}:${to.port}`
}

/** One TAP per namespace and name. */
function tapKey(tap: {name: string; netns?: string}): string {
	return `${tap.netns ?? ''}/${tap.name}`
}

/** What TAP a backend opens: the real one by default, a fake in tests. */
export type TapFactory = (tap: {name: string; netns?: string; mac: Buffer}) => TapOpener

const openRealTap: TapFactory = (tap) => (onFrames, onError) =>
	TapDevice.open({name: tap.name, ...(tap.netns === undefined ? {} : {netns: tap.netns}), mac: tap.mac, onFrames, onError})

export class VusbService {
	private readonly served = new Map<string, Served>()
	private nextResponder = 0

	constructor(
		private readonly server: UsbipServer,
		private readonly responderAddresses: string[] = [],
		private readonly logError: (message: string) => void = () => {},
		private readonly openTap: TapFactory = openRealTap,
		private readonly logInfo: (message: string) => void = () => {},
	) {
		for (const a of responderAddresses) parseIpv4(a)
	}

	/** Builds and exports a device; returns its busid. Nothing stays open when it throws. */
	plug(config: VusbDeviceConfig, source: string): string {
		const networkCount = config.functions.filter((f) => isNetworkFunction(f) && !f.backend).length
		const responders = this.responderAddresses.slice(this.nextResponder, this.nextResponder + networkCount)
		if (config.busid && this.served.has(config.busid)) {
			throw new VusbServiceError(`${source}: busid ${config.busid} is already served (from ${this.served.get(config.busid)!.source})`, 'BUSY', ExitCode.busy)
		}
		const entry: Served = {busid: '', config, source, responders, functions: [], ...fresh()}
		let device: ReturnType<typeof buildDevice>
		try {
			device = this.build(entry)
			entry.busid = this.server.plug(device, config.busid)
		} catch (error) {
			this.closeTaps(entry.taps.values())
			this.closeSerials(entry.serials.values())
			throw error
		}
		this.nextResponder += responders.length
		this.served.set(entry.busid, entry)
		return entry.busid
	}

	/**
	 * Plugs a device into the attach agent at `to` (`vusb attach --listen`):
	 * resolves once the agent has imported it; a device the agent refused or
	 * could not be reached for is not kept.
	 */
	async push(config: VusbDeviceConfig, source: string, to: {host: string; port: number}): Promise<DeviceReport> {
		const busid = this.plug(config, source)
		const entry = this.served.get(busid)!
		entry.pushedTo = to
		try {
			await this.entryReady(entry)
			await this.pushEntry(entry)
		} catch (error) {
			if (this.served.get(busid) === entry) this.forget(entry)
			throw error
		}
		return report(entry, this.attachedTo(busid))
	}

	/** Withdraws a device and closes its TAPs; forgotten first, so a pushed connection's close is not taken for the client's detach. */
	private forget(entry: Served): void {
		this.served.delete(entry.busid)
		this.server.unplug(entry.busid)
		this.closeTaps(entry.taps.values())
		this.closeSerials(entry.serials.values())
	}

	/**
	 * Waits until every serial TCP listener of the served devices listens;
	 * rejects with a VusbServiceError (port in use, no such local address)
	 * for the first that cannot. `vusb serve` calls it after plugging.
	 */
	async ready(): Promise<void> {
		for (const entry of this.served.values()) await this.entryReady(entry)
	}

	private async entryReady(entry: Served): Promise<void> {
		const starting = entry.starting.splice(0)
		await Promise.all(starting)
	}

	private async pushEntry(entry: Served): Promise<void> {
		const to = entry.pushedTo!
		try {
			await this.server.push(entry.busid, {
				...to,
				onClosed: (reason) => {
					// Only the current definition: `set` replaces the entry before it closes the old connection.
					if (this.served.get(entry.busid) !== entry) return
					this.logInfo(`vusb: ${entry.busid} left ${formatHostPort(to)} (${reason}): unplugged`)
					this.forget(entry)
				},
			})
		} catch (error) {
			if (!(error instanceof PushError)) throw error
			const code = error.reason === 'UNREACHABLE' ? 'UNREACHABLE' : 'REFUSED'
			throw new VusbServiceError(`push ${entry.busid}: ${error.message}`, code, code === 'UNREACHABLE' ? ExitCode.noSuchDevice : ExitCode.refused)
		}
	}

	/** Types text on the device's (first) keyboard; returns how many characters. */
	type(busid: string, text: string): {busid: string; characters: number; reports: number} {
		const entry = this.entry(busid)
		const keyboard = entry.keyboards[0]
		if (!keyboard) throw new VusbServiceError(`${busid} has no keyboard function`, 'NO_KEYBOARD', ExitCode.usage)
		try {
			const reports = keyboard.type(text)
			return {busid, characters: reports / 2, reports}
		} catch (error) {
			if (error instanceof RangeError) throw new VusbServiceError(error.message, 'USAGE', ExitCode.usage)
			if (error instanceof HidKeyboardError) throw new VusbServiceError(`${busid}: ${error.message}`, 'NOT_CONFIGURED', ExitCode.noSuchDevice)
			throw error
		}
	}

	list(): DeviceReport[] {
		const attached = new Map(this.server.exported().map((e) => [e.busid, e.attachedTo]))
		return [...this.served.values()].map((s) => report(s, attached.get(s.busid) ?? null))
	}

	/** Withdraws a device: its client loses it as on a real unplug. */
	unplug(busid: string): DeviceReport {
		const entry = this.entry(busid)
		const before = report(entry, this.attachedTo(busid))
		this.forget(entry)
		return before
	}

	/** Closes every TAP and serial backend (the server itself is the caller's to close). */
	async close(): Promise<void> {
		const all = [...this.served.values()].flatMap((s) => [...s.taps.values()])
		const serials = [...this.served.values()].flatMap((s) => [...s.serials.values()])
		for (const s of this.served.values()) {
			s.taps.clear()
			s.serials.clear()
		}
		await Promise.all([...all.map((t) => t.close()), ...serials.map((h) => h.close())])
	}

	/**
	 * Re-defines a device with a new function list under the same busid. A
	 * client that imported it loses it (USB/IP cannot tell a client to
	 * re-enumerate); the next import enumerates the new interface set. A
	 * pushed device goes through the whole cycle here: its connection closes
	 * (the client's vhci_hcd drops the device), and the new definition is
	 * pushed to the same agent, so the client's drivers follow by themselves.
	 */
	async set(busid: string, types: FunctionConfig['type'][]): Promise<DeviceReport & {dropped: string | null; repushed: boolean}> {
		const entry = this.entry(busid)
		const dropped = this.attachedTo(busid)
		const config: VusbDeviceConfig = {...entry.config, busid, functions: functionsForSet(entry.config.functions, types, busid)}
		const next: Served = {
			busid,
			config,
			source: 'set',
			responders: entry.responders,
			functions: [],
			...fresh(),
			...(entry.pushedTo ? {pushedTo: entry.pushedTo} : {}),
		}
		let device: ReturnType<typeof buildDevice>
		const oldSerials = [...entry.serials.values()]
		try {
			device = this.build(next, entry.taps, entry.serials)
			await this.entryReady(next)
		} catch (error) {
			// TAPs and serial backends the old definition had stay with it; only new ones are closed.
			this.closeTaps([...next.taps.values()].filter((t) => ![...entry.taps.values()].includes(t)))
			this.closeSerials([...next.serials.values()].filter((h) => !oldSerials.includes(h)))
			throw error
		}
		// The new definition first: closing the old pushed connection must not look like the client's detach.
		this.served.set(busid, next)
		this.server.unplug(busid)
		this.server.plug(device, busid)
		this.closeTaps([...entry.taps.values()].filter((t) => ![...next.taps.values()].includes(t)))
		this.closeSerials(oldSerials.filter((h) => ![...next.serials.values()].includes(h)))
		if (!next.pushedTo) return {...report(next, null), dropped, repushed: false}
		try {
			await this.pushEntry(next)
		} catch (error) {
			if (this.served.get(busid) === next) this.forget(next)
			throw error
		}
		return {...report(next, this.attachedTo(busid)), dropped, repushed: true}
	}

	/** The function's TAP handler: the one `set` keeps, or a newly opened TAP no other device uses. */
	private tapHandler(
		entry: Served,
		fn: NetworkFunctionConfig,
		tap: {name: string; netns?: string; mac?: string},
		reuse: Map<string, TapFrameHandler>,
	): TapFrameHandler {
		const key = tapKey(tap)
		const kept = reuse.get(key)
		if (kept) {
			entry.taps.set(key, kept)
			return kept
		}
		for (const other of this.served.values()) {
			if (other.taps.has(key) && other.busid !== entry.busid) {
				throw new VusbServiceError(`TAP ${tap.name} is already the backend of a function of ${other.busid} (from ${other.source})`, 'BUSY', ExitCode.busy)
			}
		}
		const handler = new TapFrameHandler({
			hostMac: fn.hostMac,
			...(fn.maxSegmentSize === undefined ? {} : {maxSegmentSize: fn.maxSegmentSize}),
			open: this.openTap({name: tap.name, ...(tap.netns === undefined ? {} : {netns: tap.netns}), mac: parseMac(tap.mac ?? peerMacFor(fn.hostMac))}),
			onError: (error) => this.logError(`vusb: ${entry.busid || entry.source}: TAP ${tap.name}: ${error.message}`),
		})
		entry.taps.set(key, handler)
		return handler
	}

	/** A new serial backend, starting: its error (port in use, no such address, link) surfaces in ready(). */
	private openSerial(entry: Served, backend: NonNullable<CdcAcmConfig['backend']>): SerialBackend {
		if (backend.pty) return this.openPty(entry, backend.pty.link)
		const tcp = backend.tcp
		const text = (tcp.listen ?? tcp.connect)!
		const {host, port} = parseHostPort(text)
		if (tcp.connect !== undefined) {
			const handler = new SerialTcpConnect(host, port)
			void handler.start()
			return handler
		}
		const handler = new SerialTcpListen(host, port)
		const what = `${entry.source}: serial backend tcp listen ${text}`
		const started = handler.start().catch((error: NodeJS.ErrnoException) => {
			if (error.code === 'EADDRINUSE') throw new VusbServiceError(`${what}: address already in use`, 'BUSY', ExitCode.busy)
			if (error.code === 'EADDRNOTAVAIL') throw new VusbServiceError(`${what}: no such local address`, 'USAGE', ExitCode.usage)
			if (error.code === 'EACCES') throw new VusbServiceError(`${what}: permission denied (a port below 1024?)`, 'PERMISSION_DENIED', ExitCode.permissionDenied)
			if (error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN') throw new VusbServiceError(`${what}: unknown host`, 'USAGE', ExitCode.usage)
			throw new VusbServiceError(`${what}: ${error.message}`, 'BUSY', ExitCode.busy)
		})
		// Handled in ready(); this keeps a failure that nobody awaits from being an unhandled rejection.
		started.catch(() => {})
		entry.starting.push(started)
		return handler
	}

	private openPty(entry: Served, link: string | undefined): SerialPty {
		const handler = new SerialPty(link, (error) => this.logError(`vusb: ${entry.busid || entry.source}: ${error.message}`))
		const what = `${entry.source}: serial backend pty${link === undefined ? '' : ` (link ${link})`}`
		const started = handler.start().catch((error: NodeJS.ErrnoException) => {
			if (error instanceof UsbvnetError) throw new VusbServiceError(`${what}: ${error.message}`, error.code, error.exitCode)
			if (error.code === 'EACCES' || error.code === 'EPERM' || error.code === 'EROFS') {
				throw new VusbServiceError(`${what}: ${error.message} (run as root?)`, 'PERMISSION_DENIED', ExitCode.permissionDenied)
			}
			throw new VusbServiceError(`${what}: ${error.message}`, 'BUSY', ExitCode.busy)
		})
		started.catch(() => {})
		entry.starting.push(started)
		return handler
	}

	private closeSerials(handlers: Iterable<SerialBackend>): void {
		for (const h of handlers) {
			h.close().catch((error: Error) => this.logError(`vusb: closing a serial backend: ${error.message}`))
		}
	}

	private closeTaps(handlers: Iterable<TapFrameHandler>): void {
		for (const h of handlers) {
			h.close().catch((error: Error) => this.logError(`vusb: closing a TAP: ${error.message}`))
		}
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

	private build(
		entry: Served,
		reuse: Map<string, TapFrameHandler> = new Map(),
		reuseSerials: Map<number, SerialBackend> = new Map(),
	): ReturnType<typeof buildDevice> {
		let network = 0
		let serial = 0
		entry.functions = []
		entry.keyboards = []
		return buildDevice(entry.config, {
			frames: (fn) => {
				const tap = tapOf(fn.backend)
				if (tap) {
					const handler = this.tapHandler(entry, fn, tap, reuse)
					const mac = tap.mac ?? peerMacFor(fn.hostMac)
					entry.functions.push({type: fn.type, hostMac: fn.hostMac, tap: {name: tap.name, netns: tap.netns ?? null, mac, carrier: false, stats: handler.stats}})
					return handler
				}
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
				const ordinal = serial++
				const backend = fn.backend
				if (!backend) {
					entry.functions.push({type: fn.type})
					return new SerialEcho()
				}
				const handler = reuseSerials.get(ordinal) ?? this.openSerial(entry, backend)
				entry.serials.set(ordinal, handler)
				entry.serialOfFunction.set(entry.functions.length, handler)
				if (handler instanceof SerialPty) {
					entry.functions.push({type: fn.type, pty: {slave: handler.slavePath, link: handler.link ?? null, stats: handler.stats}})
				} else {
					const tcp: {listen?: string; connect?: string} = backend.tcp ?? {}
					entry.functions.push({type: fn.type, tcp: {listen: tcp.listen ?? null, connect: tcp.connect ?? null, peer: null, stats: handler.stats}})
				}
				return handler
			},
			keyboard: (fn) => {
				entry.functions.push({type: fn.type})
				const keyboard = new HidKeyboardFunction(fn)
				entry.keyboards.push(keyboard)
				return keyboard
			},
		})
	}
}

/** The per-device collections a new Served starts with. */
function fresh(): Pick<Served, 'taps' | 'keyboards' | 'serials' | 'serialOfFunction' | 'starting'> {
	return {taps: new Map(), keyboards: [], serials: new Map(), serialOfFunction: new Map(), starting: []}
}

function report(s: Served, attachedTo: string | null): DeviceReport {
	const functions = s.functions.map((f, i) => {
		const serial = s.serialOfFunction.get(i)
		if (f.pty && serial instanceof SerialPty) return {...f, pty: {...f.pty, slave: serial.slavePath, stats: {...serial.stats}}}
		if (f.tcp && serial && !(serial instanceof SerialPty)) return {...f, tcp: {...f.tcp, peer: serial.peer, stats: {...serial.stats}}}
		if (!f.tap) return f
		const handler = s.taps.get(tapKey({name: f.tap.name, ...(f.tap.netns === null ? {} : {netns: f.tap.netns})}))
		return {...f, tap: {...f.tap, carrier: handler?.linkUp ?? false, stats: {...(handler?.stats ?? f.tap.stats)}}}
	})
	return {
		busid: s.busid,
		vendorId: s.config.vendorId.toLowerCase(),
		productId: s.config.productId.toLowerCase(),
		manufacturer: s.config.manufacturer ?? null,
		product: s.config.product ?? null,
		serial: s.config.serial ?? null,
		speed: s.config.speed ?? 'high',
		functions,
		attachedTo,
		pushedTo: s.pushedTo ? formatHostPort(s.pushedTo) : null,
		source: s.source,
	}
}
