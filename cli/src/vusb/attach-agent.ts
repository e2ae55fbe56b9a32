// `vusb attach --listen`: the client half of a pushed device. The agent
// listens (loopback by default); a server running `vusb plug DEVICE.json --to
// HOST:PORT` connects to it, and the agent then plays usbip(8)'s part on the
// accepted connection: it asks for the device list, expects exactly the one
// device being pushed, imports it, and hands the socket to vhci_hcd. From
// then on the kernel reads that socket and the server answers URBs on it, as
// if the client had connected. The exchange is in README.md ("Pushed
// devices").
//
// Every socket here is made with libc calls (driver/socket.ts) so that node's
// event loop never reads a descriptor the kernel reads. The listener is
// non-blocking and polled from a timer; each handshake blocks, bounded by a
// timeout, and a connection that breaks the rules is closed with a logged
// reason while the agent and every attached device carry on.

import {lookup} from 'node:dns/promises'
import {isIP} from 'node:net'
import {ExitCode, UsbvnetError} from '../errors.js'
import {log} from '../log.js'
import {BlockingListener, type BlockingSocket} from '../driver/socket.js'
import {
	OP_HEADER_LENGTH,
	OP_REP_DEVLIST,
	OP_REP_IMPORT,
	OpStatus,
	ProtocolError,
	USB_DEVICE_INFO_LENGTH,
	USB_INTERFACE_INFO_LENGTH,
	USBIP_VERSION,
	decodeOpReply,
	encodeMessage,
} from './usbip/protocol.js'
import type {UsbDeviceInfo} from './usbip/protocol.js'
import {
	DEFAULT_PATHS,
	handToVhci,
	importOverSocket,
	removeConnectionRecord,
	writeConnectionRecord,
	type VhciPaths,
} from './vhci-attach.js'
import {VhciPortStatus, findVhciDirectory, readVhciPorts, speedName} from './vhci.js'

/** The most interfaces a pushed device may list; more is not a device we build. */
export const MAX_PUSHED_INTERFACES = 32
/** The largest device list a push may answer with: one device and its interfaces. */
export const MAX_PUSH_DEVLIST_BYTES = OP_HEADER_LENGTH + 4 + USB_DEVICE_INFO_LENGTH + USB_INTERFACE_INFO_LENGTH * MAX_PUSHED_INTERFACES
/** How long a new connection is watched for bytes sent before the agent asks. */
const UNSOLICITED_WAIT_MS = 100

/** Why a pushed connection was not accepted; the agent logs it and closes that connection. */
export class PushRefusedError extends Error {}

const hex = (n: number, width = 4): string => `0x${n.toString(16).padStart(width, '0')}`

/** Names what a peer sent before the agent asked for anything. */
export function describeUnsolicited(first: Buffer): string {
	if (first.length >= 4 && first.readUInt16BE(0) === USBIP_VERSION) {
		const code = first.readUInt16BE(2)
		if (code === OP_REP_DEVLIST) return 'a device list it was not asked for'
		if (code === OP_REP_IMPORT) return 'an import reply it was not asked for'
		return `an unrequested USB/IP message (code ${hex(code)})`
	}
	return `${first.length} bytes that are no USB/IP reply`
}

/** Checks the 8-byte op header of the device list reply. */
export function checkDevlistHeader(header: Buffer): void {
	if (header.length < OP_HEADER_LENGTH) throw new PushRefusedError(`a device list reply is at least 12 bytes, got ${header.length}`)
	const version = header.readUInt16BE(0)
	const code = header.readUInt16BE(2)
	const status = header.readUInt32BE(4)
	if (version !== USBIP_VERSION) throw new PushRefusedError(`USB/IP version ${hex(version)}, not ${hex(USBIP_VERSION)}`)
	if (code !== OP_REP_DEVLIST) throw new PushRefusedError(`expected a device list reply (${hex(OP_REP_DEVLIST)}), got code ${hex(code)}`)
	if (status !== OpStatus.OK) throw new PushRefusedError(`device list reply with status ${status}`)
}

/** Checks the 12 bytes opening the device list reply; throws PushRefusedError saying what is wrong. */
export function checkDevlistHead(head: Buffer): void {
	checkDevlistHeader(head)
	if (head.length < OP_HEADER_LENGTH + 4) throw new PushRefusedError(`a device list reply is at least 12 bytes, got ${head.length}`)
	const count = head.readUInt32BE(8)
	if (count === 0) throw new PushRefusedError('the device list is empty: nothing was pushed')
	if (count !== 1) throw new PushRefusedError(`the device list holds ${count} devices; a push carries exactly one`)
}

/** Checks the listed device's numInterfaces (the last byte of its 312). */
export function checkListedInterfaces(deviceInfo: Buffer): number {
	const count = deviceInfo[USB_DEVICE_INFO_LENGTH - 1] ?? 0
	if (count > MAX_PUSHED_INTERFACES) {
		throw new PushRefusedError(`the device claims ${count} interfaces (at most ${MAX_PUSHED_INTERFACES}): oversized device list`)
	}
	return count
}

/** Reads the pushed device list: exactly one device, at most MAX_PUSH_DEVLIST_BYTES. */
function receiveDevlist(socket: BlockingSocket): UsbDeviceInfo {
	socket.writeAll(encodeMessage({kind: 'OP_REQ_DEVLIST', version: USBIP_VERSION}))
	const header = socket.readExact(OP_HEADER_LENGTH, 'the device list')
	checkDevlistHeader(header)
	const head = Buffer.concat([header, socket.readExact(4, 'the number of devices')])
	checkDevlistHead(head)
	const info = socket.readExact(USB_DEVICE_INFO_LENGTH, 'the listed device')
	const interfaces = socket.readExact(USB_INTERFACE_INFO_LENGTH * checkListedInterfaces(info), 'the listed interfaces')
	let decoded
	try {
		decoded = decodeOpReply(Buffer.concat([head, info, interfaces])).message
	} catch (error) {
		if (error instanceof ProtocolError) throw new PushRefusedError(`malformed device list: ${error.message}`)
		throw error
	}
	const device = decoded.kind === 'OP_REP_DEVLIST' ? decoded.devices[0]?.device : undefined
	if (!device) throw new PushRefusedError('malformed device list')
	if (!/^\d{1,3}-\d{1,3}(\.\d{1,3})*$/.test(device.busid)) throw new PushRefusedError(`the listed busid ${JSON.stringify(device.busid)} is not like 1-2`)
	return device
}

export interface PushedAttachment {
	/** The busid on the pushing server. */
	busid: string
	/** The server's end of the connection, "address:port". */
	server: string
	vhciPort: number
	speed: string
	vendorId: string
	productId: string
}

export interface AgentOptions {
	host: string
	port: number
	paths?: VhciPaths
	/** Bounds a whole handshake; default 5 s. */
	handshakeTimeoutMs?: number
	onAttached?: (attachment: PushedAttachment) => void
	onDetached?: (attachment: PushedAttachment) => void
	onRefused?: (peer: string, reason: string) => void
}

export class AttachAgent {
	private listener: BlockingListener | undefined
	private readonly attached = new Map<number, PushedAttachment>()
	private stopped = false
	private wakeUp: (() => void) | undefined
	private readonly paths: VhciPaths
	private readonly vhci: string

	constructor(private readonly options: AgentOptions) {
		this.paths = options.paths ?? DEFAULT_PATHS
		// Refuse to start where nothing could be attached.
		this.vhci = findVhciDirectory(this.paths.sysfsRoot)
	}

	/** Binds the listening socket; returns its "address:port". */
	listen(): string {
		if (this.listener) return this.listener.local
		this.listener = BlockingListener.listen(this.options.host, this.options.port)
		return this.listener.local
	}

	/** Accepts pushes until stop(). */
	async run(): Promise<void> {
		const listener = this.listener ?? (this.listen(), this.listener!)
		let lastTidy = 0
		while (!this.stopped) {
			const socket = listener.accept()
			if (socket) {
				this.receive(socket)
				continue
			}
			if (Date.now() - lastTidy >= 500) {
				lastTidy = Date.now()
				this.tidy()
			}
			await new Promise<void>((resolve) => {
				const timer = setTimeout(resolve, 100)
				this.wakeUp = () => {
					clearTimeout(timer)
					resolve()
				}
			})
		}
		listener.close()
		this.listener = undefined
	}

	/** Stops accepting; attached devices stay attached (vhci_hcd holds their sockets). */
	stop(): void {
		this.stopped = true
		this.wakeUp?.()
	}

	/** One pushed connection: handshake, vhci_hcd, record; any failure closes only it. */
	private receive(socket: BlockingSocket): void {
		const peer = socket.peer
		try {
			// One bound for the whole handshake, however the peer spaces its bytes.
			socket.setDeadline(this.options.handshakeTimeoutMs ?? 5000)
			if (socket.readable(UNSOLICITED_WAIT_MS)) {
				// A server waits to be asked; bytes now are not the device list the agent will ask for.
				let first: Buffer
				try {
					first = socket.readExact(OP_HEADER_LENGTH, 'its first message')
				} catch {
					throw new PushRefusedError('it sent a partial message before being asked, then stopped')
				}
				throw new PushRefusedError(`it sent ${describeUnsolicited(first)} before being asked`)
			}
			const listed = receiveDevlist(socket)
			const device = importOverSocket(socket, listed.busid)
			if (device.idVendor !== listed.idVendor || device.idProduct !== listed.idProduct) {
				throw new PushRefusedError(`the import reply describes another device than the list did`)
			}
			// The kernel must not inherit our handshake timeouts: its receive thread would give up on an idle device.
			socket.clearTimeouts()
			const vhciPort = handToVhci(this.vhci, socket, device, device.busid)
			const [address, port] = splitPeer(peer)
			writeConnectionRecord(this.paths, vhciPort, {host: address, port, busid: device.busid})
			const attachment: PushedAttachment = {
				busid: device.busid,
				server: peer,
				vhciPort,
				speed: speedName(device.speed),
				vendorId: hex(device.idVendor),
				productId: hex(device.idProduct),
			}
			// A port freed and taken again between two looks (set re-pushes fast): the old device left it.
			const before = this.attached.get(vhciPort)
			if (before) this.options.onDetached?.(before)
			this.attached.set(vhciPort, attachment)
			this.options.onAttached?.(attachment)
		} catch (error) {
			// Ours (refusals, socket and vhci errors, UsbvnetError): the message says it all.
			if (error instanceof PushRefusedError || error instanceof UsbvnetError || error instanceof ProtocolError) {
				this.options.onRefused?.(peer, error.message)
			} else {
				this.options.onRefused?.(peer, `internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
			}
		} finally {
			// After a successful attach vhci_hcd holds its own reference to the socket.
			socket.close()
		}
	}

	/** Forgets pushed devices whose vhci port is free again (detached, or the server went away). */
	private tidy(): void {
		if (this.attached.size === 0) return
		let ports
		try {
			ports = readVhciPorts(this.vhci)
		} catch (error) {
			log.debug(`cannot read vhci_hcd status: ${(error as Error).message}`)
			return
		}
		for (const [vhciPort, attachment] of this.attached) {
			const now = ports.find((p) => p.port === vhciPort)
			if (now && now.status !== VhciPortStatus.NULL) continue
			this.attached.delete(vhciPort)
			removeConnectionRecord(this.paths, vhciPort)
			this.options.onDetached?.(attachment)
		}
	}
}

/** "127.0.0.1:40000" -> ["127.0.0.1", "40000"]; "[::1]:40000" -> ["::1", "40000"]. */
function splitPeer(peer: string): [string, string] {
	const m = /^\[?(.*?)\]?:(\d+)$/.exec(peer)
	return m ? [m[1]!, m[2]!] : [peer, '0']
}

export function agentListenError(text: string): UsbvnetError {
	return new UsbvnetError(`--listen "${text}" is not [ADDRESS:]PORT, e.g. 3250 or 127.0.0.1:3250`, 'USAGE', ExitCode.usage)
}

/**
 * parseAgentListen with a name resolved to its first address: the listener
 * is bound by libc and takes numeric addresses only.
 */
export async function resolveAgentListen(text: string): Promise<{host: string; port: number}> {
	const {host, port} = parseAgentListen(text)
	if (isIP(host)) return {host, port}
	try {
		return {host: (await lookup(host)).address, port}
	} catch (error) {
		throw new UsbvnetError(`--listen ${text}: ${host} does not resolve to an address`, 'USAGE', ExitCode.usage, {cause: error})
	}
}

/** "3250", "127.0.0.1:3250", "[::1]:3250" -> address and port; loopback unless an address is given. */
export function parseAgentListen(text: string): {host: string; port: number} {
	const m = /^(?:(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):)?(\d{1,5})$/.exec(text)
	const port = Number(m?.[3])
	if (!m || port > 65535) throw agentListenError(text)
	return {host: m[1] ?? m[2] ?? '127.0.0.1', port}
}
