// The kernel's USB/IP client, vhci_hcd, through sysfs: where it is, which of
// its ports are free, and the attach/detach lines it takes. Pure parsing and
// choosing here (unit tested); client.ts does the I/O in order.
//
// vhci_hcd.0 carries every control file (drivers/usb/usbip/vhci_sysfs.c):
//   attach   "port sockfd devid speed"   (sockfd: a descriptor of the writer)
//   detach   "port"
//   nports   total ports over all controllers
//   status, status.1, ...   one per controller, lines like
//     hub port sta spd dev      sockfd local_busid
//     hs  0000 006 003 00010002 000003 3-1
//     ss  0008 004 000 00000000 000000 0-0
// Port numbers are global; high-speed hubs take speeds up to high, SuperSpeed
// hubs the rest. usbip(8) keeps "host port busid" in /var/run/vhci_hcd/portN
// for `usbip port`; we write the same records so both tools see each other's
// attachments.

import {existsSync, readFileSync, readdirSync} from 'node:fs'
import {join} from 'node:path'
import {ExitCode, UsbvnetError} from '../errors.js'
import {UsbipSpeed} from './usbip/protocol.js'

/** enum usbip_device_status (usbip_common.h). */
export const VhciPortStatus = {
	NULL: 4,
	NOT_ASSIGNED: 5,
	USED: 6,
	ERROR: 7,
} as const

export interface VhciPort {
	port: number
	hub: 'hs' | 'ss'
	status: number
	speed: number
	devid: number
	sockfd: number
	/** The device's name on the local USB bus ("3-1"), while a device is there. */
	localBusid: string | undefined
}

export const VHCI_STATE_DIR = '/var/run/vhci_hcd'

export class VhciError extends UsbvnetError {}

export function vhciNotLoaded(): VhciError {
	return new VhciError('vhci_hcd is not loaded (no /sys/devices/platform/vhci_hcd.0): run "modprobe vhci-hcd"', 'VHCI_NOT_LOADED', ExitCode.moduleNotLoaded)
}

const STATUS_LINE = /^(hs|ss)\s+(\d+)\s+(\d+)\s+(\d+)\s+([0-9a-fA-F]+)\s+(\d+)\s+(\S+)\s*$/

/** Parses one status file; throws on a layout this code does not know (pre-4.13 kernels). */
export function parseVhciStatus(text: string, source = 'status'): VhciPort[] {
	const lines = text.split('\n').filter((l) => l.trim() !== '')
	const header = lines.shift()
	if (!header || !/^hub\s+port\s+sta\s+spd\s+dev\s+sockfd\s+local_busid/.test(header)) {
		throw new VhciError(`${source}: unknown vhci_hcd status layout: ${JSON.stringify(header ?? '')}`, 'VHCI_UNKNOWN_LAYOUT', ExitCode.versionMismatch)
	}
	return lines.map((line) => {
		const m = STATUS_LINE.exec(line)
		if (!m) throw new VhciError(`${source}: cannot parse vhci_hcd status line ${JSON.stringify(line)}`, 'VHCI_UNKNOWN_LAYOUT', ExitCode.versionMismatch)
		const status = Number(m[3])
		return {
			port: Number(m[2]),
			hub: m[1] as 'hs' | 'ss',
			status,
			speed: Number(m[4]),
			devid: Number.parseInt(m[5]!, 16),
			sockfd: Number(m[6]),
			localBusid: status === VhciPortStatus.USED && m[7] !== '0-0' ? m[7] : undefined,
		}
	})
}

/** "status", "status.1", ... in controller order. */
export function statusFileOrder(names: string[]): string[] {
	const index = (name: string): number => (name === 'status' ? 0 : Number(name.slice('status.'.length)))
	return names.filter((n) => /^status(\.\d+)?$/.test(n)).sort((a, b) => index(a) - index(b))
}

/** The hub type a device of this USB/IP speed needs. */
export function hubForSpeed(speed: number): 'hs' | 'ss' {
	return speed >= UsbipSpeed.SUPER ? 'ss' : 'hs'
}

export function speedName(speed: number): string {
	return ['unknown', 'low', 'full', 'high', 'wireless', 'super', 'super-plus'][speed] ?? `speed ${speed}`
}

/** The first free port of the right hub, skipping `exclude` (ports that just failed with EBUSY). */
export function chooseFreePort(ports: VhciPort[], speed: number, exclude: ReadonlySet<number> = new Set()): VhciPort | undefined {
	const hub = hubForSpeed(speed)
	return ports.find((p) => p.hub === hub && p.status === VhciPortStatus.NULL && !exclude.has(p.port))
}

/** What vhci_hcd's attach file takes. */
export function attachLine(port: number, sockfd: number, devid: number, speed: number): string {
	for (const [name, value] of Object.entries({port, sockfd, devid, speed})) {
		if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new RangeError(`${name} ${value} is not a u32`)
	}
	return `${port} ${sockfd} ${devid} ${speed}`
}

/** devid as vhci_hcd and the server agree on it: busnum << 16 | devnum. */
export function devidOf(busnum: number, devnum: number): number {
	return ((busnum << 16) | devnum) >>> 0
}

export interface ConnectionRecord {
	host: string
	port: string
	busid: string
}

/** usbip(8)'s record line: "host port busid\n". */
export function formatRecord(record: ConnectionRecord): string {
	return `${record.host} ${record.port} ${record.busid}\n`
}

export function parseRecord(text: string): ConnectionRecord | undefined {
	const m = /^(\S+) (\S+) (\S+)\s*$/.exec(text)
	return m ? {host: m[1]!, port: m[2]!, busid: m[3]!} : undefined
}

/**
 * The vhci_hcd directory holding attach/detach/status, under sysfsRoot
 * ("/sys"). vhci_hcd.0 normally; any vhci_hcd.N of the driver that has an
 * attach file otherwise.
 */
export function findVhciDirectory(sysfsRoot = '/sys'): string {
	const usual = join(sysfsRoot, 'devices/platform/vhci_hcd.0')
	if (existsSync(join(usual, 'attach'))) return usual
	const driver = join(sysfsRoot, 'bus/platform/drivers/vhci_hcd')
	let entries: string[] = []
	try {
		entries = readdirSync(driver).filter((n) => n.startsWith('vhci_hcd.')).sort()
	} catch {
		throw vhciNotLoaded()
	}
	for (const name of entries) {
		const dir = join(driver, name)
		if (existsSync(join(dir, 'attach'))) return dir
	}
	throw vhciNotLoaded()
}

/** Every port of every controller, from the status files. */
export function readVhciPorts(vhciDirectory: string): VhciPort[] {
	const files = statusFileOrder(readdirSync(vhciDirectory))
	if (files.length === 0) throw vhciNotLoaded()
	return files.flatMap((name) => {
		const path = join(vhciDirectory, name)
		return parseVhciStatus(readFileSync(path, 'utf8'), path)
	})
}

/**
 * Which port a detach argument means: a number is a port; anything else a
 * busid, first as the server named it (our records and usbip's), then as the
 * local bus names it.
 */
export function resolveDetachTarget(
	target: string,
	ports: VhciPort[],
	recordOf: (port: number) => ConnectionRecord | undefined,
): VhciPort | {error: string} {
	const used = ports.filter((p) => p.status !== VhciPortStatus.NULL)
	if (/^\d+$/.test(target)) {
		const port = ports.find((p) => p.port === Number(target))
		if (!port) return {error: `vhci_hcd has no port ${target} (ports 0-${ports.length - 1})`}
		if (port.status === VhciPortStatus.NULL) return {error: `vhci_hcd port ${target} is not in use`}
		return port
	}
	if (!/^\d{1,3}-\d{1,3}(\.\d{1,3})*$/.test(target)) return {error: `"${target}" is neither a vhci port number nor a busid like 1-2`}
	const byRemote = used.filter((p) => recordOf(p.port)?.busid === target)
	if (byRemote.length === 1) return byRemote[0]!
	if (byRemote.length > 1) {
		return {error: `busid ${target} is imported on several ports (${byRemote.map((p) => p.port).join(', ')}): name the port`}
	}
	const byLocal = used.find((p) => p.localBusid === target)
	return byLocal ?? {error: `no vhci_hcd port imports busid ${target}`}
}
