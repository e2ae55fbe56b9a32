/**
 * The libc functions the control interface needs, through koffi. This,
 * device.ts and socket.ts are the only code touching FFI. koffi and libc are loaded on
 * first use and cached, so that commands which never talk to the driver
 * (config validate, --help) work where neither is available.
 */
import {createRequire} from 'node:module'
import {endianness} from 'node:os'
import type * as Koffi from 'koffi'
import {UnsupportedPlatformError} from './errors.js'

export interface Libc {
	/** open(2); -1 on failure, then read errno(). */
	open(path: string, flags: number): number
	close(fd: number): number
	/** ioctl(2) with a struct argument the kernel reads and/or writes in place. */
	ioctl(fd: number, request: number, argument: Buffer): number
	/** write(2); bytes written, or -1. */
	write(fd: number, buffer: Buffer, count: number): number
	/** eventfd(2), to wake a reader thread blocked in poll. */
	eventfd(initval: number, flags: number): number
	/** errno of the last failed call on this thread; read it right after the call. */
	errno(): number
	/** The address of a buffer's memory, for the user pointers inside some ioctl structs. */
	address(buffer: Buffer): bigint
}

// Linux's generic values (asm-generic/fcntl.h), shared by every architecture we accept.
export const O_RDONLY = 0o0
export const O_RDWR = 0o2
export const O_CLOEXEC = 0o2000000

/** Architectures whose ioctl numbers use the generic _IOC layout of constants.ts. */
const GENERIC_IOCTL_ARCHES = new Set(['x64', 'ia32', 'arm', 'arm64', 'riscv64', 'loong64'])

let cached: Libc | undefined

function checkPlatform(): void {
	if (process.platform !== 'linux') {
		throw new UnsupportedPlatformError(`usbvnet drives a Linux module; this is ${process.platform}`)
	}
	if (!GENERIC_IOCTL_ARCHES.has(process.arch) || endianness() !== 'LE') {
		throw new UnsupportedPlatformError(`the control interface encoding is not implemented for ${process.arch}`)
	}
}

function loadKoffi(): typeof Koffi {
	try {
		// Synchronous, lazy load: a static import would make every command depend on the native addon.
		return createRequire(import.meta.url)('koffi') as typeof Koffi
	} catch (error) {
		throw new UnsupportedPlatformError(
			`cannot load the koffi FFI library (${error instanceof Error ? error.message : String(error)}): reinstall with "npm ci"`,
			{cause: error},
		)
	}
}

function loadLibc(koffi: typeof Koffi): Koffi.LibraryHandle {
	try {
		return koffi.load('libc.so.6')
	} catch {
		// Not glibc (musl): the symbols are already in the process, node links against libc.
		return koffi.load(null)
	}
}

let loaded: {koffi: typeof Koffi; lib: Koffi.LibraryHandle} | undefined

/** koffi and libc, loaded once; for the other FFI modules of this directory (socket.ts). */
export function ffi(): {koffi: typeof Koffi; lib: Koffi.LibraryHandle} {
	if (loaded) return loaded
	checkPlatform()
	const koffi = loadKoffi()
	loaded = {koffi, lib: loadLibc(koffi)}
	return loaded
}

export function libc(): Libc {
	if (cached) return cached
	const {koffi, lib} = ffi()
	// Fixed prototypes, although C declares open and ioctl variadic: we never
	// pass a mode to open, and ioctl always takes one pointer here.
	const open = lib.func('int open(const char *path, int flags)')
	const close = lib.func('int close(int fd)')
	const ioctl = lib.func('int ioctl(int fd, unsigned long request, void *argument)')
	const write = lib.func('long write(int fd, const void *buffer, unsigned long count)')
	const eventfd = lib.func('int eventfd(unsigned int initval, int flags)')
	cached = {
		open: (path, flags) => open(path, flags) as number,
		close: (fd) => close(fd) as number,
		ioctl: (fd, request, argument) => ioctl(fd, request, argument) as number,
		write: (fd, buffer, count) => Number(write(fd, buffer, count)),
		eventfd: (initval, flags) => eventfd(initval, flags) as number,
		errno: () => koffi.errno(),
		address: (buffer) => koffi.address(buffer),
	}
	return cached
}
