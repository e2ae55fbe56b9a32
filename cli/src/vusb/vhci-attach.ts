// `vusb attach` and `vusb detach`: what usbip(8) does on the client side,
// without it. The import handshake runs on a socket made with libc calls
// (driver/socket.ts) so that the descriptor belongs to this process and the
// node event loop never reads it; vhci_hcd takes its own reference when the
// attach line is written, and we close ours.

import {lookup} from 'node:dns/promises'
import {mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {ExitCode} from '../errors.js'
import {log} from '../log.js'
import {BlockingSocket} from '../driver/socket.js'
import {
	OP_HEADER_LENGTH,
	OP_REP_IMPORT,
	OpStatus,
	USB_DEVICE_INFO_LENGTH,
	USBIP_VERSION,
	decodeOpReply,
	encodeMessage,
} from './usbip/protocol.js'
import type {UsbDeviceInfo} from './usbip/protocol.js'
import {
	VHCI_STATE_DIR,
	VhciError,
	VhciPortStatus,
	attachLine,
	chooseFreePort,
	devidOf,
	findVhciDirectory,
	formatRecord,
	hubForSpeed,
	parseRecord,
	readVhciPorts,
	resolveDetachTarget,
	speedName,
	type ConnectionRecord,
	type VhciPort,
} from './vhci.js'

export interface VhciPaths {
	/** "/sys" */
	sysfsRoot: string
	/** "/var/run/vhci_hcd" */
	stateDir: string
}

export const DEFAULT_PATHS: VhciPaths = {sysfsRoot: '/sys', stateDir: VHCI_STATE_DIR}

export interface AttachOptions {
	host: string
	port: number
	busid: string
	/** Bounds connect and the import reply; default 10 s. */
	timeoutMs?: number
	/** How long to wait for the device to show up on the local bus; default 10 s, 0 skips. */
	settleMs?: number
	paths?: VhciPaths
}

export interface AttachResult {
	busid: string
	server: string
	vhciPort: number
	devid: number
	speed: string
	vendorId: string
	productId: string
	/** The device's local name ("3-1") once it has enumerated; null if not seen in time. */
	localBusid: string | null
}

const hex4 = (n: number): string => `0x${n.toString(16).padStart(4, '0')}`

function importStatusError(status: number, busid: string, server: string): VhciError {
	switch (status) {
		case OpStatus.NODEV:
			return new VhciError(`${server} exports no device ${busid}`, 'NO_SUCH_BUSID', ExitCode.noSuchDevice)
		case OpStatus.DEV_BUSY:
			return new VhciError(`${busid} on ${server} is already imported by another client`, 'BUSY', ExitCode.busy)
		default:
			return new VhciError(`${server} refused to export ${busid} (status ${status})`, 'IMPORT_REFUSED', ExitCode.refused)
	}
}

/** OP_REQ_IMPORT on a blocking socket; returns the reply's device. */
export function importOverSocket(socket: BlockingSocket, busid: string): UsbDeviceInfo {
	socket.writeAll(encodeMessage({kind: 'OP_REQ_IMPORT', version: USBIP_VERSION, busid}))
	const header = socket.readExact(OP_HEADER_LENGTH, 'the import reply')
	const code = header.readUInt16BE(2)
	const status = header.readUInt32BE(4)
	if (code !== OP_REP_IMPORT) {
		throw new VhciError(`${socket.peer}: expected an import reply, got op code 0x${code.toString(16)}`, 'PROTOCOL', ExitCode.refused)
	}
	if (status !== OpStatus.OK) throw importStatusError(status, busid, socket.peer)
	const body = socket.readExact(USB_DEVICE_INFO_LENGTH, 'the imported device')
	const {message} = decodeOpReply(Buffer.concat([header, body]))
	if (message.kind !== 'OP_REP_IMPORT' || !message.device) {
		throw new VhciError(`${socket.peer}: malformed import reply`, 'PROTOCOL', ExitCode.refused)
	}
	// usbip(8) refuses a reply for another device; so do we.
	if (message.device.busid !== busid) {
		throw new VhciError(`${socket.peer}: asked for ${busid}, got ${message.device.busid}`, 'PROTOCOL', ExitCode.refused)
	}
	return message.device
}

function sysfsWriteError(error: unknown, path: string, what: string): VhciError {
	const code = (error as NodeJS.ErrnoException).code ?? ''
	if (code === 'EACCES' || code === 'EPERM') {
		return new VhciError(`${what}: permission denied writing ${path} (run as root)`, 'PERMISSION_DENIED', ExitCode.permissionDenied)
	}
	if (code === 'ENOENT') return new VhciError(`${what}: ${path} is gone (vhci_hcd unloaded?)`, 'VHCI_NOT_LOADED', ExitCode.moduleNotLoaded)
	return new VhciError(`${what}: vhci_hcd refused it (${code || String(error)})`, 'REFUSED', ExitCode.refused)
}

function readRecord(stateDir: string, port: number): ConnectionRecord | undefined {
	try {
		return parseRecord(readFileSync(join(stateDir, `port${port}`), 'utf8'))
	} catch {
		return undefined
	}
}

function sleep(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms))
}

async function resolveHost(host: string): Promise<string> {
	try {
		return (await lookup(host)).address
	} catch (error) {
		throw new VhciError(`cannot resolve ${host}: ${(error as Error).message}`, 'UNREACHABLE', ExitCode.noSuchDevice)
	}
}

/**
 * Writes the attach line for an imported device on the first free port of
 * the right hub, retrying the next port on EBUSY; returns the port. The
 * socket's descriptor must be ours (libc), never one node reads.
 */
export function handToVhci(vhci: string, socket: BlockingSocket, device: UsbDeviceInfo, busid: string): number {
	const devid = devidOf(device.busnum, device.devnum)
	const failed = new Set<number>()
	for (;;) {
		const chosen: VhciPort | undefined = chooseFreePort(readVhciPorts(vhci), device.speed, failed)
		if (!chosen) {
			throw new VhciError(`no free vhci_hcd port for a ${hubForSpeed(device.speed) === 'ss' ? 'SuperSpeed' : 'high-speed'} device`, 'BUSY', ExitCode.busy)
		}
		const line = attachLine(chosen.port, socket.fd, devid, device.speed)
		log.debug(`${join(vhci, 'attach')} <- "${line}"`)
		try {
			writeFileSync(join(vhci, 'attach'), line)
			return chosen.port
		} catch (error) {
			// Another client took the port between our read and our write: try the next one.
			if ((error as NodeJS.ErrnoException).code === 'EBUSY' && failed.size < 8) {
				failed.add(chosen.port)
				continue
			}
			throw sysfsWriteError(error, join(vhci, 'attach'), `attach ${busid} on port ${chosen.port}`)
		}
	}
}

/** usbip's "host port busid" record of a port, so `usbip port` and `vusb detach BUSID` know it. */
export function writeConnectionRecord(paths: VhciPaths, port: number, record: ConnectionRecord): void {
	try {
		mkdirSync(paths.stateDir, {recursive: true, mode: 0o700})
		writeFileSync(join(paths.stateDir, `port${port}`), formatRecord(record))
	} catch (error) {
		log.debug(`cannot record the connection in ${paths.stateDir}: ${(error as Error).message}`)
	}
}

export function removeConnectionRecord(paths: VhciPaths, port: number): void {
	rmSync(join(paths.stateDir, `port${port}`), {force: true})
}

export async function attachRemote(options: AttachOptions): Promise<AttachResult> {
	const paths = options.paths ?? DEFAULT_PATHS
	// Check vhci_hcd before claiming anything on the server.
	const vhci = findVhciDirectory(paths.sysfsRoot)
	const address = await resolveHost(options.host)
	const server = `${options.host}:${options.port}`
	const socket = BlockingSocket.connect(address, options.port, options.timeoutMs ?? 10_000)
	let port = -1
	let device: UsbDeviceInfo
	try {
		device = importOverSocket(socket, options.busid)
		log.debug(`imported ${options.busid}: ${hex4(device.idVendor)}:${hex4(device.idProduct)} ${speedName(device.speed)} speed`)
		// The kernel must not inherit our handshake timeouts: its receive thread would give up on an idle device.
		socket.clearTimeouts()
		port = handToVhci(vhci, socket, device, options.busid)
	} finally {
		// After a successful write vhci_hcd holds its own reference to the socket.
		socket.close()
	}
	writeConnectionRecord(paths, port, {host: options.host, port: String(options.port), busid: options.busid})
	let localBusid: string | null = null
	const deadline = Date.now() + (options.settleMs ?? 10_000)
	while (localBusid === null && Date.now() < deadline) {
		// NOT_ASSIGNED until the hub has addressed the device, USED with its name after.
		const now = readVhciPorts(vhci).find((p) => p.port === port)
		if (!now || now.status === VhciPortStatus.NULL || now.status === VhciPortStatus.ERROR) break
		localBusid = now.localBusid ?? null
		if (localBusid === null) await sleep(100)
	}
	return {
		busid: options.busid,
		server,
		vhciPort: port,
		devid: devidOf(device.busnum, device.devnum),
		speed: speedName(device.speed),
		vendorId: hex4(device.idVendor),
		productId: hex4(device.idProduct),
		localBusid,
	}
}

export interface DetachResult {
	vhciPort: number
	/** The busid on the server, when a record names it. */
	busid: string | null
	server: string | null
	localBusid: string | null
}

export function detachTarget(target: string, paths: VhciPaths = DEFAULT_PATHS): DetachResult {
	const vhci = findVhciDirectory(paths.sysfsRoot)
	const ports = readVhciPorts(vhci)
	const resolved = resolveDetachTarget(target, ports, (p) => readRecord(paths.stateDir, p))
	if ('error' in resolved) throw new VhciError(resolved.error, 'NOT_ATTACHED', ExitCode.noSuchDevice)
	const record = readRecord(paths.stateDir, resolved.port)
	try {
		writeFileSync(join(vhci, 'detach'), String(resolved.port))
	} catch (error) {
		throw sysfsWriteError(error, join(vhci, 'detach'), `detach port ${resolved.port}`)
	}
	rmSync(join(paths.stateDir, `port${resolved.port}`), {force: true})
	return {
		vhciPort: resolved.port,
		busid: record?.busid ?? null,
		server: record ? `${record.host}:${record.port}` : null,
		localBusid: resolved.localBusid ?? null,
	}
}

/** The ports in use, with what our and usbip's records say about them. */
export function listImports(paths: VhciPaths = DEFAULT_PATHS): (DetachResult & {speed: string})[] {
	const vhci = findVhciDirectory(paths.sysfsRoot)
	return readVhciPorts(vhci)
		.filter((p) => p.status !== VhciPortStatus.NULL)
		.map((p) => {
			const record = readRecord(paths.stateDir, p.port)
			return {
				vhciPort: p.port,
				busid: record?.busid ?? null,
				server: record ? `${record.host}:${record.port}` : null,
				localBusid: p.localBusid ?? null,
				speed: speedName(p.speed),
			}
		})
}
