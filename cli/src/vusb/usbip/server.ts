// USB/IP server: exports emulated devices to vhci_hcd clients over TCP.
//
// Each connection starts in the op phase (devlist/import). A successful import
// binds the connection to one device until either side closes it. Errors stay
// local to their connection: a malformed message or a throwing function closes
// that connection with a logged reason and nothing else.

import net from 'node:net'
import type {UrbCompletion, UsbDevice} from '../usb/device.js'
import {USBIP_SPEED_OF} from '../usb/device.js'
import type {CmdSubmit, CmdUnlink, DevlistEntry, UsbDeviceInfo, UsbipMessage} from './protocol.js'
import {
	BUSID_FIELD_LENGTH,
	DEFAULT_MAX_TRANSFER_LENGTH,
	OpStatus,
	ProtocolError,
	USBIP_DIR_IN,
	USBIP_VERSION,
	UrbStatus,
	UsbipStreamParser,
	encodeMessage,
} from './protocol.js'

/** Satisfied by winston loggers and by console. */
export interface VusbLogger {
	debug(message: string): void
	info(message: string): void
	warn(message: string): void
	error(message: string): void
}

export const silentLogger: VusbLogger = {
	debug: () => {},
	info: () => {},
	warn: () => {},
	error: () => {},
}

export const USBIP_DEFAULT_PORT = 3240

/** A device pushed to a client agent (`vusb attach --listen`) instead of waiting for its import. */
export interface PushOptions {
	host: string
	port: number
	/** Bounds connect and the agent's import; default 10 s. */
	timeoutMs?: number
	/** The pushed connection closed after the import (agent detached it, or it dropped). */
	onClosed?: (reason: string) => void
}

export class PushError extends Error {
	constructor(
		message: string,
		/** UNREACHABLE: no connection; REFUSED: the agent closed it or took too long before importing. */
		readonly reason: 'UNREACHABLE' | 'REFUSED',
	) {
		super(message)
	}
}

/** @internal What a pushed connection carries: the one device it offers. */
interface PushRole {
	busid: string
	onImported: () => void
	/** The first URB: the agent's vhci_hcd runs the device. */
	onRunning: () => void
	onClosed: (reason: string) => void
}

export interface UsbipServerOptions {
	/** Default 127.0.0.1: USB/IP has no authentication, so never listen wider by accident. */
	host?: string
	/** Default 3240; 0 picks a free port. */
	port?: number
	logger?: VusbLogger
	/** Bus number of automatically named busids ("1-1", "1-2", ...); default 1. */
	busnum?: number
	maxTransferLength?: number
}

export interface ExportedDeviceStatus {
	busid: string
	busnum: number
	devnum: number
	device: UsbDevice
	/** "address:port" of the importing client, when attached. */
	attachedTo: string | undefined
}

interface ExportEntry {
	busid: string
	busnum: number
	devnum: number
	device: UsbDevice
	connection: Connection | undefined
}

const BUSID_PATTERN = /^(\d{1,3})-\d{1,3}(\.\d{1,3})*$/

export class UsbipServer {
	private readonly host: string
	private readonly port: number
	private readonly logger: VusbLogger
	private readonly busnum: number
	readonly maxTransferLength: number
	private readonly exports = new Map<string, ExportEntry>()
	private readonly connections = new Set<Connection>()
	private server: net.Server | undefined

	constructor(options: UsbipServerOptions = {}) {
		this.host = options.host ?? '127.0.0.1'
		this.port = options.port ?? USBIP_DEFAULT_PORT
		this.logger = options.logger ?? silentLogger
		this.busnum = options.busnum ?? 1
		this.maxTransferLength = options.maxTransferLength ?? DEFAULT_MAX_TRANSFER_LENGTH
	}

	/** Exports a device; returns its busid ("1-1", "1-2", ... unless one is given). */
	plug(device: UsbDevice, busid?: string): string {
		const chosen = busid ?? this.freeBusid()
		const match = BUSID_PATTERN.exec(chosen)
		if (!match || chosen.length >= BUSID_FIELD_LENGTH) throw new RangeError(`"${chosen}" is not a busid like 1-2`)
		if (this.exports.has(chosen)) throw new RangeError(`busid ${chosen} is already in use`)
		if ([...this.exports.values()].some((e) => e.device === device)) {
			throw new RangeError('this device is already plugged in')
		}
		const busnum = Number(match[1])
		const devnum = this.freeDevnum(busnum)
		device.reset()
		this.exports.set(chosen, {busid: chosen, busnum, devnum, device, connection: undefined})
		this.logger.info(`vusb: plugged ${chosen} (${hex4(device.identity.vendorId)}:${hex4(device.identity.productId)})`)
		return chosen
	}

	/** Withdraws a device; an importing client loses its connection, as on a real unplug. */
	unplug(busid: string): boolean {
		const entry = this.exports.get(busid)
		if (!entry) return false
		this.exports.delete(busid)
		entry.connection?.close(`device ${busid} unplugged`)
		entry.device.reset()
		this.logger.info(`vusb: unplugged ${busid}`)
		return true
	}

	exported(): ExportedDeviceStatus[] {
		return [...this.exports.values()].map((e) => ({
			busid: e.busid,
			busnum: e.busnum,
			devnum: e.devnum,
			device: e.device,
			attachedTo: e.connection?.remote,
		}))
	}

	/** Starts listening; resolves with the bound address (useful with port 0). */
	listen(): Promise<{host: string; port: number}> {
		if (this.server) return Promise.reject(new Error('already listening'))
		const server = net.createServer((socket) => this.accept(socket))
		this.server = server
		return new Promise((resolve, reject) => {
			const onError = (err: Error): void => {
				this.server = undefined
				reject(err)
			}
			server.once('error', onError)
			server.listen(this.port, this.host, () => {
				server.off('error', onError)
				server.on('error', (err) => this.logger.error(`vusb: server error: ${err.message}`))
				const address = server.address()
				const port = typeof address === 'object' && address ? address.port : this.port
				this.logger.info(`vusb: USB/IP server listening on ${this.host}:${port}`)
				resolve({host: this.host, port})
			})
		})
	}

	/** Stops listening and closes every connection. */
	close(): Promise<void> {
		for (const c of [...this.connections]) c.close('server shutting down')
		const server = this.server
		this.server = undefined
		if (!server) return Promise.resolve()
		return new Promise((resolve) => server.close(() => resolve()))
	}

	/**
	 * Connects to host:port and serves busid on that connection as if the
	 * peer had connected to us: the peer (an attach agent) lists and imports
	 * it, then its vhci_hcd runs URBs over the same connection. The device
	 * list on this connection shows only busid, and only busid can be
	 * imported. Resolves with the agent's "address:port" at the first URB
	 * (the import alone does not say the agent's vhci_hcd took the socket);
	 * a close before that, or the timeout, rejects.
	 */
	push(busid: string, options: PushOptions): Promise<{remote: string}> {
		if (!this.exports.has(busid)) return Promise.reject(new RangeError(`no device ${busid} is plugged in`))
		const target = options.host.includes(':') ? `[${options.host}]:${options.port}` : `${options.host}:${options.port}`
		const timeoutMs = options.timeoutMs ?? 10_000
		return new Promise((resolve, reject) => {
			let imported = false
			let settled = false
			const fail = (error: PushError): void => {
				if (settled) return
				settled = true
				clearTimeout(timer)
				reject(error)
			}
			const socket = net.connect({host: options.host, port: options.port})
			const timer = setTimeout(() => {
				fail(new PushError(`${target}: no import within ${timeoutMs} ms`, 'REFUSED'))
				socket.destroy()
			}, timeoutMs)
			socket.once('error', (err) => fail(new PushError(`${target}: ${err.message}`, 'UNREACHABLE')))
			socket.once('connect', () => {
				this.logger.info(`vusb: pushing ${busid} to ${target}`)
				const connection = new Connection(socket, this, this.logger, {
					busid,
					onImported: () => {
						imported = true
					},
					onRunning: () => {
						if (settled) return
						settled = true
						clearTimeout(timer)
						resolve({remote: target})
					},
					onClosed: (reason) => {
						if (settled) options.onClosed?.(reason)
						else if (imported) fail(new PushError(`${target} imported ${busid} but closed the connection before its first URB (${reason}; see its log)`, 'REFUSED'))
						else fail(new PushError(`${target} closed the connection before importing ${busid} (${reason}; see its log)`, 'REFUSED'))
					},
				})
				this.connections.add(connection)
				socket.once('close', () => this.connections.delete(connection))
			})
		})
	}

	get connectionCount(): number {
		return this.connections.size
	}

	private freeBusid(): string {
		for (let port = 1; ; port++) {
			const busid = `${this.busnum}-${port}`
			if (!this.exports.has(busid)) return busid
		}
	}

	private freeDevnum(busnum: number): number {
		const used = new Set([...this.exports.values()].filter((e) => e.busnum === busnum).map((e) => e.devnum))
		for (let devnum = 2; devnum < 128; devnum++) if (!used.has(devnum)) return devnum
		throw new RangeError(`bus ${busnum} has no device numbers left`)
	}

	private accept(socket: net.Socket): void {
		const connection = new Connection(socket, this, this.logger)
		this.connections.add(connection)
		socket.once('close', () => this.connections.delete(connection))
	}

	// ---- called by connections ---------------------------------------------------

	/** @internal Every device, or only `busid` (a pushed connection offers one). */
	devlist(busid?: string): DevlistEntry[] {
		return [...this.exports.values()].filter((e) => busid === undefined || e.busid === busid).map((e) => ({
			device: deviceInfo(e),
			interfaces: e.device.interfaceSummaries().map((i) => ({
				interfaceClass: i.interfaceClass,
				interfaceSubClass: i.interfaceSubClass,
				interfaceProtocol: i.interfaceProtocol,
			})),
		}))
	}

	/** @internal Binds a device to a connection; returns a status for OP_REP_IMPORT. */
	claim(busid: string, connection: Connection): {status: number; entry?: ExportEntry} {
		const entry = this.exports.get(busid)
		if (!entry) return {status: OpStatus.NODEV}
		if (entry.connection) return {status: OpStatus.DEV_BUSY}
		entry.connection = connection
		entry.device.reset()
		return {status: OpStatus.OK, entry}
	}

	/** @internal */
	release(entry: ExportEntry, connection: Connection): void {
		if (entry.connection !== connection) return
		entry.connection = undefined
		entry.device.reset()
	}
}

function hex4(n: number): string {
	return n.toString(16).padStart(4, '0')
}

function deviceInfo(e: ExportEntry): UsbDeviceInfo {
	const d = e.device
	return {
		path: `/sys/devices/platform/vusb/usb${e.busnum}/${e.busid}`,
		busid: e.busid,
		busnum: e.busnum,
		devnum: e.devnum,
		speed: USBIP_SPEED_OF[d.speed],
		idVendor: d.identity.vendorId,
		idProduct: d.identity.productId,
		bcdDevice: d.identity.bcdDevice ?? 0x0100,
		...d.deviceClass,
		configurationValue: d.configurationValue,
		numConfigurations: 1,
		numInterfaces: d.numInterfaces,
	}
}

/**
 * A URB names the device it is for: (busnum << 16) | devnum of the import
 * reply, as vhci_hcd writes it. Another number is a confused client, and
 * Linux's usbip-host drops the connection for it too.
 */
function checkDevid(cmd: CmdSubmit | CmdUnlink, entry: ExportEntry): void {
	const devid = ((entry.busnum << 16) | entry.devnum) >>> 0
	if (cmd.devid !== devid) {
		throw new ProtocolError(
			'bad-field',
			`${cmd.kind} for devid 0x${cmd.devid.toString(16)}, but ${entry.busid} is 0x${devid.toString(16)}`,
		)
	}
}

class Connection {
	readonly remote: string
	private readonly parser: UsbipStreamParser
	private entry: ExportEntry | undefined
	private closed = false
	private corked = false
	private closeReason = 'closed by the peer'

	constructor(
		private readonly socket: net.Socket,
		private readonly server: UsbipServer,
		private readonly logger: VusbLogger,
		private readonly push?: PushRole,
	) {
		this.remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`
		this.parser = new UsbipStreamParser({role: 'server', maxTransferLength: server.maxTransferLength})
		// URB round trips are latency bound: never wait to coalesce small writes.
		socket.setNoDelay(true)
		socket.on('data', (chunk: Buffer) => this.receive(chunk))
		socket.on('error', (err) => {
			this.closeReason = err.message
			this.logger.debug(`vusb: ${this.remote}: socket error: ${err.message}`)
		})
		socket.on('close', () => this.teardown())
		this.logger.debug(`vusb: connection from ${this.remote}`)
	}

	close(reason: string): void {
		if (this.closed) return
		this.logger.info(`vusb: closing connection ${this.push ? 'to' : 'from'} ${this.remote}: ${reason}`)
		this.closeReason = reason
		this.teardown()
		this.socket.destroy()
	}

	private teardown(): void {
		if (this.closed) return
		this.closed = true
		if (this.entry) {
			this.logger.info(`vusb: ${this.entry.busid} released by ${this.remote}`)
			this.server.release(this.entry, this)
			this.entry = undefined
		}
		this.push?.onClosed(this.closeReason)
	}

	private receive(chunk: Buffer): void {
		if (this.closed) return
		try {
			for (const message of this.parser.push(chunk)) {
				if (this.closed) return
				this.handle(message)
			}
		} catch (err) {
			const reason =
				err instanceof ProtocolError
					? `malformed message (${err.reason}): ${err.message}`
					: `internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`
			if (err instanceof ProtocolError) this.logger.warn(`vusb: ${this.remote}: ${reason}`)
			else this.logger.error(`vusb: ${this.remote}: ${reason}`)
			this.close(reason)
		}
	}

	private send(message: UsbipMessage): void {
		if (this.closed) return
		let bytes: Buffer
		try {
			bytes = encodeMessage(message)
		} catch (err) {
			// Completions can arrive from a function's own timers, outside receive()'s
			// error handling: a value that does not encode must not escape into them.
			const reason = `cannot encode ${message.kind}: ${err instanceof Error ? err.message : String(err)}`
			this.logger.error(`vusb: ${this.remote}: ${reason}`)
			this.close(reason)
			return
		}
		// One write(2) per message cost a third of the server's CPU under load:
		// what one turn of the event loop sends goes out in one writev(2).
		if (!this.corked) {
			this.corked = true
			this.socket.cork()
			process.nextTick(() => {
				this.corked = false
				this.socket.uncork()
			})
		}
		this.socket.write(bytes)
	}

	private handle(message: UsbipMessage): void {
		switch (message.kind) {
			case 'OP_REQ_DEVLIST':
				this.send({kind: 'OP_REP_DEVLIST', version: USBIP_VERSION, status: OpStatus.OK, devices: this.server.devlist(this.push?.busid)})
				return
			case 'OP_REQ_IMPORT': {
				// A pushed connection offers its one device and nothing else.
				const {status, entry} =
					this.push && message.busid !== this.push.busid ? {status: OpStatus.NODEV, entry: undefined} : this.server.claim(message.busid, this)
				if (!entry) {
					this.logger.info(`vusb: ${this.remote}: import of ${message.busid} refused (status ${status})`)
					this.send({kind: 'OP_REP_IMPORT', version: USBIP_VERSION, status})
					this.closeReason = `import of ${message.busid} refused (status ${status})`
					this.teardown()
					this.socket.end()
					return
				}
				this.entry = entry
				this.logger.info(`vusb: ${entry.busid} imported by ${this.remote}`)
				this.send({kind: 'OP_REP_IMPORT', version: USBIP_VERSION, status: OpStatus.OK, device: deviceInfo(entry)})
				this.push?.onImported()
				return
			}
			case 'CMD_SUBMIT':
				this.submit(message)
				this.push?.onRunning()
				return
			case 'CMD_UNLINK':
				this.unlink(message)
				return
			default:
				throw new ProtocolError('unknown-command', `${message.kind} is not a client message`)
		}
	}

	private submit(cmd: CmdSubmit): void {
		const entry = this.entry
		if (!entry) throw new ProtocolError('unknown-command', 'CMD_SUBMIT before import')
		checkDevid(cmd, entry)
		const isochronous = cmd.isoPackets.length > 0
		const reply = (completion: UrbCompletion): void => {
			// A completion after unplug, disconnect or re-import belongs to nobody.
			if (this.closed || this.entry !== entry) return
			this.send({
				kind: 'RET_SUBMIT',
				seqnum: cmd.seqnum,
				devid: 0,
				direction: 0,
				ep: 0,
				status: completion.status,
				actualLength: completion.actualLength,
				startFrame: 0,
				numberOfPackets: cmd.numberOfPackets,
				errorCount: isochronous && completion.status !== UrbStatus.OK ? cmd.isoPackets.length : 0,
				data: cmd.direction === USBIP_DIR_IN ? completion.data : Buffer.alloc(0),
				isoPackets: cmd.isoPackets.map((p) => ({
					offset: p.offset,
					length: p.length,
					actualLength: 0,
					status: completion.status,
				})),
			})
		}
		entry.device.submit(
			{
				seqnum: cmd.seqnum,
				endpoint: cmd.ep,
				direction: cmd.direction === USBIP_DIR_IN ? 'in' : 'out',
				setup: cmd.setup,
				data: cmd.data,
				transferBufferLength: cmd.transferBufferLength,
				transferFlags: cmd.transferFlags,
				isochronous,
			},
			reply,
		)
	}

	private unlink(cmd: CmdUnlink): void {
		const entry = this.entry
		if (!entry) throw new ProtocolError('unknown-command', 'CMD_UNLINK before import')
		checkDevid(cmd, entry)
		// -ECONNRESET: we took it back before completion, so no RET_SUBMIT follows.
		// 0: it already completed and its RET_SUBMIT is on the wire.
		const status = entry.device.unlink(cmd.unlinkSeqnum) ? UrbStatus.ECONNRESET : UrbStatus.OK
		this.send({kind: 'RET_UNLINK', seqnum: cmd.seqnum, devid: 0, direction: 0, ep: 0, status})
	}
}
