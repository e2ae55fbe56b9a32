/**
 * The errors the usbvnet command reports to its user, and its exit codes.
 *
 * Every failure a user can act on is a UsbvnetError carrying one of the exit
 * codes below; anything else is a bug and exits with 1. Scripts (installer
 * postinstall hooks, MDM profiles) can rely on these codes:
 *
 *   0  success
 *   1  unexpected internal error (a bug: please report it)
 *   2  usage error: unknown flag, missing or malformed argument
 *   3  configuration invalid: unreadable file, bad JSON, schema violation;
 *      a managed profile invalid or conflicting, or a locked setting changed
 *   4  module not loaded: no /dev/usbvnet
 *   5  permission denied: changes need root (CAP_NET_ADMIN)
 *   6  no such usbvnet instance or network device
 *   7  busy or full: the netdev is already attached (or bridged, bonded),
 *      the slot is taken, no free slot, device busy
 *   8  the driver refused the request (invalid argument, not Ethernet, ...)
 *   9  version mismatch between this command and the loaded module
 *  10  unsupported platform: not Linux, or the FFI library cannot load
 *  11  install or uninstall left a step failed, or doctor found a problem
 *      (the report names each one and what to do)
 */
export const ExitCode = {
	ok: 0,
	internal: 1,
	usage: 2,
	configInvalid: 3,
	moduleNotLoaded: 4,
	permissionDenied: 5,
	noSuchDevice: 6,
	busy: 7,
	refused: 8,
	versionMismatch: 9,
	unsupportedPlatform: 10,
	incomplete: 11,
} as const

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode]

/** Base of every error the command reports as-is, without a stack trace. */
export class UsbvnetError extends Error {
	/** A stable machine-readable identifier, shown in --json output. */
	readonly code: string
	readonly exitCode: ExitCodeValue

	constructor(message: string, code: string, exitCode: ExitCodeValue, options?: ErrorOptions) {
		super(message, options)
		this.name = new.target.name
		this.code = code
		this.exitCode = exitCode
	}

	/** What --json prints under "error"; subclasses add their details. */
	toJSON(): Record<string, unknown> {
		return {code: this.code, message: this.message, exitCode: this.exitCode}
	}
}

/** An argument that cannot be right whatever the driver says (checked before any ioctl). */
export class UsageError extends UsbvnetError {
	constructor(message: string) {
		super(message, 'USAGE', ExitCode.usage)
	}
}

/** A file we may not write: no permission (EACCES, EPERM) or a read-only file system (EROFS). */
export class FilePermissionError extends UsbvnetError {
	constructor(
		message: string,
		readonly file: string,
		options?: ErrorOptions,
	) {
		super(message, 'PERMISSION_DENIED', ExitCode.permissionDenied, options)
	}

	override toJSON(): Record<string, unknown> {
		return {...super.toJSON(), file: this.file}
	}
}

/**
 * A failed write of `file` as the user can act on it: exit 5 when it is a
 * matter of permission or a read-only file system, else what `otherwise`
 * makes of it (a file error of the caller's kind, exit 3).
 */
export function writeFailure(file: string, error: unknown, otherwise: () => UsbvnetError): UsbvnetError {
	const code = (error as NodeJS.ErrnoException | undefined)?.code
	if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
		return new FilePermissionError(`cannot write ${file}: ${code === 'EROFS' ? 'read-only file system' : 'permission denied (run as root)'}`, file, {cause: error})
	}
	return otherwise()
}
