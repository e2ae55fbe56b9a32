/**
 * What a failed open() or ioctl() on /dev/usbvnet means to the user: errno
 * values become typed errors with a clear message and a documented exit code
 * (see ../errors.ts).
 */
import {getSystemErrorMap} from 'node:util'
import {ExitCode, UsbvnetError, type ExitCodeValue} from '../errors.js'

/** The errno name (EPERM, ...) and libc's text for a positive errno value. */
export function describeErrno(errno: number): {name: string; text: string} {
	const entry = getSystemErrorMap().get(-errno)
	return entry ? {name: entry[0], text: entry[1]} : {name: `errno ${errno}`, text: 'unknown error'}
}

/** The "code" of a DriverError in --json output, by exit code. */
const CODES: Partial<Record<ExitCodeValue, string>> = {
	[ExitCode.moduleNotLoaded]: 'MODULE_NOT_LOADED',
	[ExitCode.permissionDenied]: 'PERMISSION_DENIED',
	[ExitCode.noSuchDevice]: 'NO_SUCH_INSTANCE',
	[ExitCode.busy]: 'BUSY',
	[ExitCode.refused]: 'REFUSED',
	[ExitCode.versionMismatch]: 'VERSION_MISMATCH',
}

/** A failed system call on the control device. */
export class DriverError extends UsbvnetError {
	readonly errno: number
	readonly errnoName: string
	/** "open" or the request macro, e.g. USBVNET_IOC_ATTACH. */
	readonly operation: string

	constructor(message: string, exitCode: ExitCodeValue, errno: number, operation: string) {
		const {name} = describeErrno(errno)
		super(message, CODES[exitCode] ?? 'SYSTEM_ERROR', exitCode)
		this.errno = errno
		this.errnoName = name
		this.operation = operation
	}

	override toJSON(): Record<string, unknown> {
		return {...super.toJSON(), errno: this.errno, errnoName: this.errnoName, operation: this.operation}
	}
}

export class ModuleNotLoadedError extends DriverError {}
export class PermissionDeniedError extends DriverError {}
export class NoSuchInstanceError extends DriverError {}
export class BusyError extends DriverError {}
export class DriverRefusedError extends DriverError {}
export class VersionMismatchError extends DriverError {}

/** Not a system call failure: the driver answered something this command does not understand. */
export class ProtocolMismatchError extends UsbvnetError {
	constructor(message: string) {
		super(`${message}: version mismatch between this command and the module?`, 'VERSION_MISMATCH', ExitCode.versionMismatch)
	}
}

export class UnsupportedPlatformError extends UsbvnetError {
	constructor(message: string, options?: ErrorOptions) {
		super(message, 'UNSUPPORTED_PLATFORM', ExitCode.unsupportedPlatform, options)
	}
}

/**
 * Context for turning an errno into a message. `explain` lets a request say
 * what an errno means for it (EBUSY on ATTACH: "usb0 is already attached,
 * bridged or bonded").
 */
export interface FailureContext {
	operation: string
	devicePath: string
	/** The instance as the user named it; empty = the default instance. */
	instance: string
	explain?: Partial<Record<string, string>>
}

const DEFAULT_INSTANCE_NAME = 'usbvnet0'

export function errorForOpen(errno: number, context: FailureContext): DriverError {
	const {name, text} = describeErrno(errno)
	const path = context.devicePath
	switch (name) {
		case 'ENOENT':
		case 'ENXIO':
		case 'ENODEV':
			return new ModuleNotLoadedError(
				`module not loaded (no ${path}): load it with "modprobe usbvnet"`,
				ExitCode.moduleNotLoaded,
				errno,
				'open',
			)
		case 'EPERM':
		case 'EACCES':
			return new PermissionDeniedError(`needs root (CAP_NET_ADMIN): cannot open ${path}`, ExitCode.permissionDenied, errno, 'open')
		default:
			return new DriverError(`cannot open ${path}: ${text} (${name})`, ExitCode.internal, errno, 'open')
	}
}

export function errorForRequest(errno: number, context: FailureContext): DriverError {
	const {name, text} = describeErrno(errno)
	const instance = context.instance === '' ? DEFAULT_INSTANCE_NAME : context.instance
	const detail = context.explain?.[name]
	const op = context.operation
	const suffix = ` (${name} from ${op})`
	switch (name) {
		case 'EPERM':
		case 'EACCES':
			return new PermissionDeniedError(`needs root (CAP_NET_ADMIN)${detail ? `: ${detail}` : ''}`, ExitCode.permissionDenied, errno, op)
		case 'ENODEV':
			return new NoSuchInstanceError(detail ?? `no such usbvnet instance "${instance}"`, ExitCode.noSuchDevice, errno, op)
		case 'EBUSY':
		case 'EADDRINUSE':
			return new BusyError(`busy: ${detail ?? 'the driver is busy, try again'}${suffix}`, ExitCode.busy, errno, op)
		case 'ENOSPC':
			return new BusyError(detail ?? `no free slot on ${instance}: detach a device first`, ExitCode.busy, errno, op)
		case 'ENOTTY':
			return new VersionMismatchError(
				`driver does not support this request: version mismatch?${suffix}`,
				ExitCode.versionMismatch,
				errno,
				op,
			)
		case 'EINVAL':
			return new DriverRefusedError(
				`the driver refused: invalid argument${detail ? ` (${detail})` : ''}${suffix}`,
				ExitCode.refused,
				errno,
				op,
			)
		case 'EFAULT':
			// The struct sizes are encoded in the request code, so EFAULT is a bug here.
			return new DriverError(`the driver could not read the request: bad address${suffix}`, ExitCode.internal, errno, op)
		default:
			return new DriverRefusedError(`the driver refused: ${detail ?? text}${suffix}`, ExitCode.refused, errno, op)
	}
}
