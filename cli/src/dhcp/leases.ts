/**
 * `usbvnet leases` and `leases save|restore`: the driver's lease table, read
 * through USBVNET_IOC_LEASES_EXPORT and parsed by lease-table.ts, and kept in
 * a file across module reloads and reboots (the blob exactly as exported).
 */
import {closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync} from 'node:fs'
import {basename, dirname, join} from 'node:path'
import type {UsbvnetDevice} from '../driver/device.js'
import {ProtocolMismatchError} from '../driver/errors.js'
import {ExitCode, UsbvnetError, writeFailure} from '../errors.js'
import {formatTable} from '../format/table.js'
import {instanceLabel} from '../names.js'
import {LeaseTableFormatError, parseLeaseTable, type LeaseRecord, type LeaseTable} from './lease-table.js'

/** Where the systemd unit keeps the table across reboots. */
export const DEFAULT_LEASES_PATH = '/var/lib/usbvnet/leases.bin'

/**
 * A lease file that cannot be read or written, or is not a lease table:
 * nothing was changed (exit 3). Lacking permission to write it is a
 * FilePermissionError (exit 5) instead.
 */
export class LeaseFileError extends UsbvnetError {
	constructor(
		message: string,
		code: 'LEASES_UNREADABLE' | 'LEASES_CORRUPT' | 'LEASES_UNWRITABLE',
		readonly file: string,
		options?: ErrorOptions,
	) {
		super(message, code, ExitCode.configInvalid, options)
	}

	override toJSON(): Record<string, unknown> {
		return {...super.toJSON(), file: this.file}
	}
}

export interface LeasesReport {
	instance: string
	leases: LeaseRecord[]
}

/** The driver's own export: one this command cannot parse means the two disagree on the format (exit 9). */
function parseExport(blob: Buffer): LeaseTable {
	try {
		return parseLeaseTable(blob)
	} catch (error) {
		if (error instanceof LeaseTableFormatError) throw new ProtocolMismatchError(`the lease table the driver exported: ${error.message}`)
		throw error
	}
}

export function readLeases(device: UsbvnetDevice, instance: string): LeasesReport {
	const table = parseExport(device.exportLeases(instance))
	return {instance: instanceLabel(instance), leases: table.leases}
}

/** "1h 0m", "59m 59s", "2d 3h": the two largest units. */
export function formatDuration(seconds: number): string {
	const units: [string, number][] = [
		['d', 86400],
		['h', 3600],
		['m', 60],
		['s', 1],
	]
	const parts: string[] = []
	let left = seconds
	for (const [unit, size] of units) {
		if (parts.length === 0 && left < size && unit !== 's') continue
		parts.push(`${Math.floor(left / size)}${unit}`)
		left %= size
		if (parts.length === 2) break
	}
	return parts.join(' ')
}

/** Client ids in the table: whole up to this many characters, then cut (--json has them whole). */
const CLIENT_ID_WIDTH = 23

function shortClientId(id: string | null): string {
	if (id === null) return '-'
	return id.length <= CLIENT_ID_WIDTH ? id : `${id.slice(0, CLIENT_ID_WIDTH - 3)}...`
}

export function formatLeases(report: LeasesReport): string {
	if (report.leases.length === 0) return `no leases on ${report.instance}`
	// The column only when some client sent an id (most do: udhcpc its MAC,
	// dhcpcd a DUID; a client keyed by its MAC alone has none).
	const withIds = report.leases.some((lease) => lease.clientId !== null)
	return formatTable(
		[
			{header: 'IP'},
			{header: 'MAC'},
			...(withIds ? [{header: 'CLIENT ID'}] : []),
			{header: 'SLOT', numeric: true},
			{header: 'SERIAL'},
			{header: 'STATE'},
			{header: 'EXPIRES IN', numeric: true},
		],
		report.leases.map((lease) => [
			lease.ip,
			lease.mac,
			...(withIds ? [shortClientId(lease.clientId)] : []),
			lease.slot === null ? '-' : String(lease.slot),
			lease.serial === '' ? '-' : lease.serial,
			lease.state,
			lease.state === 'available' ? '-' : formatDuration(lease.secondsLeft),
		]),
	)
}

export interface LeasesFileReport {
	instance: string
	file: string
	bytes: number
	leases: number
}

function reason(error: unknown): string {
	const code = (error as NodeJS.ErrnoException).code
	if (code === 'ENOENT') return 'no such file'
	if (code === 'EACCES' || code === 'EPERM') return 'permission denied'
	if (code === 'EISDIR') return 'is a directory'
	// mkdir -p says EEXIST when a parent exists as a file.
	if (code === 'ENOTDIR' || code === 'EEXIST') return 'a parent is not a directory'
	return error instanceof Error ? error.message : String(error)
}

/**
 * Writes `data` to `path` atomically: a temporary file in the same
 * directory, flushed, then renamed over the old one, so that a crash or a
 * full disk leaves the previous file whole.
 */
export function writeFileAtomically(path: string, data: Buffer, mode = 0o600): void {
	const directory = dirname(path)
	mkdirSync(directory, {recursive: true, mode: 0o755})
	const temporary = join(directory, `.${basename(path)}.${process.pid}.tmp`)
	let fd = openSync(temporary, 'w', mode)
	try {
		for (let offset = 0; offset < data.length; ) offset += writeSync(fd, data, offset)
		fsyncSync(fd)
		closeSync(fd)
		fd = -1
		renameSync(temporary, path)
	} catch (error) {
		if (fd >= 0) closeSync(fd)
		rmSync(temporary, {force: true})
		throw error
	}
	// The rename is durable once the directory is.
	const dir = openSync(directory, 'r')
	try {
		fsyncSync(dir)
	} finally {
		closeSync(dir)
	}
}

export function saveLeases(device: UsbvnetDevice, instance: string, file: string): LeasesFileReport {
	const blob = device.exportLeases(instance)
	const table = parseExport(blob)
	try {
		writeFileAtomically(file, blob)
	} catch (error) {
		throw writeFailure(file, error, () => new LeaseFileError(`${file}: cannot save the lease table: ${reason(error)}`, 'LEASES_UNWRITABLE', file, {cause: error}))
	}
	return {instance: instanceLabel(instance), file, bytes: blob.length, leases: table.leases.length}
}

/** Reads and checks a saved table before anything is sent to the driver. */
export function readLeaseFile(file: string): {blob: Buffer; leases: LeaseRecord[]} {
	let blob: Buffer
	try {
		blob = readFileSync(file)
	} catch (error) {
		throw new LeaseFileError(`${file}: cannot read the lease table: ${reason(error)}`, 'LEASES_UNREADABLE', file, {cause: error})
	}
	try {
		return {blob, leases: parseLeaseTable(blob).leases}
	} catch (error) {
		if (error instanceof LeaseTableFormatError) {
			throw new LeaseFileError(`${file}: not a valid lease table: ${error.message}`, 'LEASES_CORRUPT', file, {cause: error})
		}
		throw error
	}
}

/** Hands a table read by readLeaseFile to the driver, which takes all of it or nothing. */
export function restoreLeases(device: UsbvnetDevice, instance: string, file: string, table: {blob: Buffer; leases: LeaseRecord[]}): LeasesFileReport {
	device.importLeases(instance, table.blob)
	return {instance: instanceLabel(instance), file, bytes: table.blob.length, leases: table.leases.length}
}
