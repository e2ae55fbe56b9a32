/**
 * TAP devices (/dev/net/tun) for the network functions of vusb: open or
 * create one, optionally inside a named network namespace, set its MAC and
 * carrier, write frames, and read frames without the event loop ever touching
 * the descriptor.
 *
 * Reading: node cannot watch a character device's descriptor, so an
 * FdReader (fd-reader.ts, a worker thread) reads whole frames (one read() is
 * one frame on a TAP) in batches, posted to this thread. The descriptor is
 * non-blocking; writes happen here (a TAP write never waits for queue
 * space). The descriptor is closed only after the worker has exited, so it
 * is never polled once freed.
 */
import {ExitCode, UsbvnetError, type ExitCodeValue} from '../errors.js'
import {describeErrno} from './errors.js'
import {FdReader} from './fd-reader.js'
import {O_CLOEXEC, O_RDONLY, O_RDWR, ffi, libc, type Libc} from './libc.js'

// linux/if_tun.h, linux/sockios.h, linux/sched.h: the same on every architecture libc.ts accepts.
export const TUNSETIFF = 0x400454ca
export const TUNSETCARRIER = 0x400454e2
export const SIOCSIFHWADDR = 0x8924
export const IFF_TAP = 0x0002
export const IFF_NO_PI = 0x1000
export const IFNAMSIZ = 16
const IFREQ_SIZE = 40
const ARPHRD_ETHER = 1
const O_NONBLOCK = 0o4000
const CLONE_NEWNET = 0x40000000

/** Largest frame read from a TAP: the worker's buffer (a TAP frame is at most MTU + 14). */
export const TAP_READ_BUFFER = 65536

type TapCalls = Libc & {setns(fd: number, nstype: number): number}

let calls: TapCalls | undefined

/** libc's descriptor calls, plus setns to open a TAP in another namespace. */
function tapCalls(): TapCalls {
	if (calls) return calls
	const {lib} = ffi()
	const setns = lib.func('int setns(int fd, int nstype)')
	calls = {...libc(), setns: (fd, nstype) => setns(fd, nstype) as number}
	return calls
}

/** A TAP that cannot be opened or configured: the message says why and what to do. */
export class TapError extends UsbvnetError {
	constructor(
		message: string,
		code: string,
		exitCode: ExitCodeValue,
		readonly errnoName?: string,
	) {
		super(message, code, exitCode)
	}

	override toJSON(): Record<string, unknown> {
		return {...super.toJSON(), ...(this.errnoName ? {errnoName: this.errnoName} : {})}
	}
}

/** Interface names the kernel takes: 1-15 bytes, no '/', ':', whitespace, not "." or "..". */
export function checkInterfaceName(name: string): void {
	const bytes = Buffer.byteLength(name)
	if (bytes === 0 || bytes >= IFNAMSIZ || /[/:\s]/.test(name) || name === '.' || name === '..' || name.includes('%')) {
		throw new TapError(`"${name}" is not an interface name (1-15 characters, no "/", ":", "%" or spaces)`, 'USAGE', ExitCode.usage)
	}
}

/** struct ifreq for TUNSETIFF: the name, then ifr_flags at offset 16. */
export function tunSetIffRequest(name: string, flags = IFF_TAP | IFF_NO_PI): Buffer {
	checkInterfaceName(name)
	const ifr = Buffer.alloc(IFREQ_SIZE)
	ifr.write(name, 0, 'utf8')
	ifr.writeUInt16LE(flags, 16)
	return ifr
}

/** struct ifreq for SIOCSIFHWADDR: ifr_hwaddr is a sockaddr (family ARPHRD_ETHER, then the MAC). */
export function setHwaddrRequest(name: string, mac: Buffer): Buffer {
	if (mac.length !== 6) throw new RangeError('a MAC address is 6 bytes')
	const ifr = tunSetIffRequest(name, 0)
	ifr.writeUInt16LE(ARPHRD_ETHER, 16)
	mac.copy(ifr, 18)
	return ifr
}

/** "phone" -> /run/netns/phone (ip-netns(8)); a path is taken as given. */
export function netnsPath(netns: string): string {
	if (netns.includes('/')) return netns
	if (netns === '' || netns === '.' || netns === '..') throw new TapError(`"${netns}" is not a network namespace name`, 'USAGE', ExitCode.usage)
	return `/run/netns/${netns}`
}

function failure(what: string, errno: number, tap: string, netns: string | undefined): TapError {
	const {name, text} = describeErrno(errno)
	const where = netns ? ` in network namespace ${netns}` : ''
	switch (name) {
		case 'EPERM':
		case 'EACCES':
			return new TapError(`TAP ${tap}${where}: ${what}: ${text}: needs root (CAP_NET_ADMIN)`, 'PERMISSION_DENIED', ExitCode.permissionDenied, name)
		case 'EBUSY':
			return new TapError(`TAP ${tap}${where}: already open by another program (or another function)`, 'BUSY', ExitCode.busy, name)
		case 'EINVAL':
			if (what === 'TUNSETIFF') {
				return new TapError(`TAP ${tap}${where}: an interface of that name exists and is not a TAP device`, 'BUSY', ExitCode.busy, name)
			}
			break
		case 'ENOENT':
		case 'ENODEV':
			if (what === 'open /dev/net/tun') {
				return new TapError(`TAP ${tap}: no /dev/net/tun (modprobe tun)`, 'NO_TUN', ExitCode.unsupportedPlatform, name)
			}
			break
	}
	return new TapError(`TAP ${tap}${where}: ${what}: ${text} (${name})`, 'TAP_ERROR', ExitCode.refused, name)
}

export interface TapOptions {
	name: string
	/** A network namespace name (/run/netns/NAME) or path; default: the caller's. */
	netns?: string
	/** The MAC the TAP takes; default: the kernel's random one. */
	mac?: Buffer
	/** Frames read from the TAP, in order, in batches. */
	onFrames(frames: Buffer[]): void
	/** The reader stopped on an error (the device was deleted under us, ...). */
	onError(error: Error): void
}

/** Batches the worker may have posted but this thread not yet handled; beyond it the worker waits and the kernel queues (and drops). */
export const TAP_MAX_BATCHES_IN_FLIGHT = 8

export class TapDevice {
	private closed = false
	readonly stats = {writeErrors: 0}

	private constructor(
		private readonly c: TapCalls,
		private readonly fd: number,
		readonly name: string,
		readonly netns: string | undefined,
		private readonly reader: FdReader,
	) {}

	/**
	 * Creates the TAP (or attaches to a persistent one of that name), inside
	 * `netns` when given, with carrier off. Throws TapError with nothing left open.
	 */
	static open(options: TapOptions): TapDevice {
		const c = tapCalls()
		const {name, netns} = options
		const request = tunSetIffRequest(name)
		const fd = netns === undefined ? openTun(c, request, name) : inNetns(c, netns, name, () => openTun(c, request, name, netns))
		let reader: FdReader
		try {
			if (options.mac) check(c, c.ioctl(fd, SIOCSIFHWADDR, setHwaddrRequest(name, options.mac)), 'set the MAC (SIOCSIFHWADDR)', name, netns)
			setCarrierOn(c, fd, false, name, netns)
			// The TAP alone never keeps the process alive; whoever serves closes it.
			reader = FdReader.start(c, fd, {
				maxInFlight: TAP_MAX_BATCHES_IN_FLIGHT,
				bufferSize: TAP_READ_BUFFER,
				onRead: (frames) => options.onFrames(frames),
				onError: (error) =>
					options.onError(typeof error === 'string' ? new TapError(`TAP ${name}: ${error}`, 'TAP_ERROR', ExitCode.refused) : error),
				onExit: () => c.close(fd),
				failure: (what, errno) => failure(what, errno, name, netns),
			})
		} catch (error) {
			c.close(fd)
			throw error
		}
		return new TapDevice(c, fd, name, netns, reader)
	}

	/** Queues one frame on the TAP; false (and counted) when the kernel refused it. */
	write(frame: Buffer): boolean {
		if (this.closed) return false
		if (this.c.write(this.fd, frame, frame.length) === frame.length) return true
		this.stats.writeErrors++
		return false
	}

	/** TUNSETCARRIER: the TAP's carrier, what `ip link` shows as NO-CARRIER/LOWER_UP. */
	setCarrier(on: boolean): void {
		if (this.closed) return
		setCarrierOn(this.c, this.fd, on, this.name, this.netns)
	}

	/** Stops the reader, then closes the descriptor: a non-persistent TAP disappears. */
	close(): Promise<void> {
		this.closed = true
		return this.reader.stop()
	}
}

function check(c: TapCalls, result: number, what: string, name: string, netns: string | undefined): void {
	if (result < 0) throw failure(what, c.errno(), name, netns)
}

function setCarrierOn(c: TapCalls, fd: number, on: boolean, name: string, netns: string | undefined): void {
	const value = Buffer.alloc(4)
	value.writeInt32LE(on ? 1 : 0)
	check(c, c.ioctl(fd, TUNSETCARRIER, value), 'TUNSETCARRIER', name, netns)
}

function openTun(c: TapCalls, request: Buffer, name: string, netns?: string): number {
	const fd = c.open('/dev/net/tun', O_RDWR | O_NONBLOCK | O_CLOEXEC)
	if (fd < 0) throw failure('open /dev/net/tun', c.errno(), name, netns)
	if (c.ioctl(fd, TUNSETIFF, request) < 0) {
		const errno = c.errno()
		c.close(fd)
		throw failure('TUNSETIFF', errno, name, netns)
	}
	return fd
}

/**
 * Runs `body` with this thread in another network namespace (setns is per
 * thread; node's other threads stay where they are), and always comes back.
 * A TAP belongs to the namespace its /dev/net/tun descriptor was opened in.
 */
function inNetns<T>(c: TapCalls, netns: string, name: string, body: () => T): T {
	const target = c.open(netnsPath(netns), O_RDONLY | O_CLOEXEC)
	if (target < 0) {
		const errno = c.errno()
		const {name: errnoName} = describeErrno(errno)
		if (errnoName === 'ENOENT') {
			throw new TapError(`TAP ${name}: no network namespace ${netns} (ip netns add ${netns})`, 'NO_SUCH_NETNS', ExitCode.noSuchDevice, errnoName)
		}
		throw failure(`open ${netnsPath(netns)}`, errno, name, netns)
	}
	const home = c.open('/proc/thread-self/ns/net', O_RDONLY | O_CLOEXEC)
	if (home < 0) {
		const errno = c.errno()
		c.close(target)
		throw failure('open /proc/thread-self/ns/net', errno, name, netns)
	}
	try {
		if (c.setns(target, CLONE_NEWNET) < 0) {
			const errno = c.errno()
			const {name: errnoName} = describeErrno(errno)
			if (errnoName === 'EINVAL') throw new TapError(`TAP ${name}: ${netnsPath(netns)} is not a network namespace`, 'NO_SUCH_NETNS', ExitCode.noSuchDevice, errnoName)
			throw failure('setns', errno, name, netns)
		}
		try {
			return body()
		} finally {
			if (c.setns(home, CLONE_NEWNET) < 0) {
				// Sockets made after this would land in the wrong namespace: stop here.
				throw new Error(`cannot return to the original network namespace (errno ${c.errno()})`)
			}
		}
	} finally {
		c.close(home)
		c.close(target)
	}
}
