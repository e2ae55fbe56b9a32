/**
 * A blocking TCP socket made with libc calls through koffi, for handing a
 * connected socket to the kernel (vhci_hcd's attach file takes a file
 * descriptor of the writing process). Node's own sockets cannot be used for
 * that: the event loop would keep reading from the descriptor the kernel
 * reads. Every call blocks the thread; that is fine for a one-shot command.
 */
import {isIP} from 'node:net'
import {ExitCode, UsbvnetError, type ExitCodeValue} from '../errors.js'
import {log} from '../log.js'
import {describeErrno} from './errors.js'
import {ffi} from './libc.js'

// Linux's generic values, shared by every architecture libc.ts accepts.
const AF_INET = 2
const AF_INET6 = 10
const SOCK_STREAM = 1
const SOCK_NONBLOCK = 0o4000
const SOCK_CLOEXEC = 0o2000000
const SOL_SOCKET = 1
const SO_REUSEADDR = 2
const SO_KEEPALIVE = 9
const SO_RCVTIMEO = 20
const SO_SNDTIMEO = 21
const IPPROTO_TCP = 6
const TCP_NODELAY = 1

const EINTR = 4
const EAGAIN = 11
const POLLIN = 0x0001

interface SocketCalls {
	socket(domain: number, type: number, protocol: number): number
	connect(fd: number, address: Buffer, length: number): number
	read(fd: number, buffer: Buffer, count: number): number
	write(fd: number, buffer: Buffer, count: number): number
	setsockopt(fd: number, level: number, name: number, value: Buffer, length: number): number
	bind(fd: number, address: Buffer, length: number): number
	listen(fd: number, backlog: number): number
	/** accept4 filling `address` (its length in `length`, a 4-byte in/out buffer). */
	accept(fd: number, address: Buffer, length: Buffer, flags: number): number
	getsockname(fd: number, address: Buffer, length: Buffer): number
	/** poll over `fds` (struct pollfd entries, 8 bytes each). */
	poll(fds: Buffer, count: number, timeoutMs: number): number
	close(fd: number): number
	errno(): number
}

let calls: SocketCalls | undefined

function socketCalls(): SocketCalls {
	if (calls) return calls
	const {koffi, lib} = ffi()
	// ssize_t and size_t are long and unsigned long on every Linux ABI we accept.
	const socket = lib.func('int socket(int domain, int type, int protocol)')
	const connect = lib.func('int connect(int fd, const void *address, uint32_t length)')
	const read = lib.func('long read(int fd, void *buffer, unsigned long count)')
	const write = lib.func('long write(int fd, const void *buffer, unsigned long count)')
	const setsockopt = lib.func('int setsockopt(int fd, int level, int name, const void *value, uint32_t length)')
	const close = lib.func('int close(int fd)')
	const bind = lib.func('int bind(int fd, const void *address, uint32_t length)')
	const listen = lib.func('int listen(int fd, int backlog)')
	const accept4 = lib.func('int accept4(int fd, void *address, void *length, int flags)')
	const getsockname = lib.func('int getsockname(int fd, void *address, void *length)')
	const poll = lib.func('int poll(void *fds, unsigned long count, int timeout)')
	calls = {
		socket: (d, t, p) => socket(d, t, p) as number,
		connect: (fd, a, l) => connect(fd, a, l) as number,
		read: (fd, b, c) => Number(read(fd, b, c)),
		write: (fd, b, c) => Number(write(fd, b, c)),
		setsockopt: (fd, level, name, value, length) => setsockopt(fd, level, name, value, length) as number,
		bind: (fd, a, l) => bind(fd, a, l) as number,
		listen: (fd, backlog) => listen(fd, backlog) as number,
		accept: (fd, a, l, flags) => accept4(fd, a, l, flags) as number,
		getsockname: (fd, a, l) => getsockname(fd, a, l) as number,
		poll: (fds, count, timeout) => poll(fds, count, timeout) as number,
		close: (fd) => close(fd) as number,
		errno: () => koffi.errno(),
	}
	return calls
}

/** A failed socket call: the peer cannot be reached, went away or timed out. */
export class SocketError extends UsbvnetError {
	constructor(
		message: string,
		code: string,
		exitCode: ExitCodeValue,
		readonly errnoName: string | undefined,
	) {
		super(message, code, exitCode)
	}

	override toJSON(): Record<string, unknown> {
		return {...super.toJSON(), ...(this.errnoName ? {errnoName: this.errnoName} : {})}
	}
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EADDRNOTAVAIL', 'ECONNRESET', 'EPIPE'])

function socketError(what: string, errno: number, peer: string): SocketError {
	const {name, text} = describeErrno(errno)
	if (errno === EAGAIN) return new SocketError(`${peer}: no answer to ${what} in time`, 'TIMEOUT', ExitCode.noSuchDevice, name)
	if (UNREACHABLE.has(name)) return new SocketError(`${peer}: ${what}: ${text} (${name})`, 'UNREACHABLE', ExitCode.noSuchDevice, name)
	return new SocketError(`${peer}: ${what}: ${text} (${name})`, 'SOCKET_ERROR', ExitCode.refused, name)
}

/** struct sockaddr_in or sockaddr_in6 for a numeric address. */
export function encodeSockaddr(address: string, port: number): Buffer {
	const family = isIP(address)
	if (family === 4) {
		const sa = Buffer.alloc(16)
		sa.writeUInt16LE(AF_INET, 0) // sa_family is in host order (little-endian, checked by libc.ts)
		sa.writeUInt16BE(port, 2)
		address.split('.').forEach((part, i) => sa.writeUInt8(Number(part), 4 + i))
		return sa
	}
	if (family === 6) {
		const sa = Buffer.alloc(28)
		sa.writeUInt16LE(AF_INET6, 0)
		sa.writeUInt16BE(port, 2)
		ipv6Bytes(address).copy(sa, 8)
		return sa
	}
	throw new RangeError(`"${address}" is not a numeric IP address`)
}

/** A sockaddr_in or sockaddr_in6 as "address:port" ("[address]:port" for IPv6). */
export function decodeSockaddr(sa: Buffer): {address: string; port: number; text: string} {
	const family = sa.length >= 2 ? sa.readUInt16LE(0) : -1
	if (family === AF_INET && sa.length >= 8) {
		const address = [...sa.subarray(4, 8)].join('.')
		const port = sa.readUInt16BE(2)
		return {address, port, text: `${address}:${port}`}
	}
	if (family === AF_INET6 && sa.length >= 24) {
		const groups: string[] = []
		for (let i = 0; i < 8; i++) groups.push(sa.readUInt16BE(8 + 2 * i).toString(16))
		// The longest run of zero groups (two or more) becomes "::".
		let best = {at: -1, length: 1}
		for (let i = 0; i < 8; ) {
			let j = i
			while (j < 8 && groups[j] === '0') j++
			if (j - i > best.length) best = {at: i, length: j - i}
			i = j === i ? i + 1 : j
		}
		const address =
			best.at < 0 ? groups.join(':') : `${groups.slice(0, best.at).join(':')}::${groups.slice(best.at + best.length).join(':')}`
		const port = sa.readUInt16BE(2)
		return {address, port, text: `[${address}]:${port}`}
	}
	throw new RangeError(`unknown socket address family ${family}`)
}

/** The 16 bytes of an IPv6 address in any textual form (::, embedded IPv4). */
export function ipv6Bytes(address: string): Buffer {
	let text = address.replace(/%.*$/, '')
	const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)
	if (v4) {
		const b = v4[1]!.split('.').map(Number)
		text = `${text.slice(0, v4.index)}${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`
	}
	const [head = '', tail] = text.split('::')
	const headGroups = head === '' ? [] : head.split(':')
	const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':')
	const zeros = tail === undefined ? 0 : 8 - headGroups.length - tailGroups.length
	const groups = [...headGroups, ...Array<string>(zeros).fill('0'), ...tailGroups]
	if (groups.length !== 8) throw new RangeError(`"${address}" is not an IPv6 address`)
	const out = Buffer.alloc(16)
	groups.forEach((g, i) => out.writeUInt16BE(Number.parseInt(g, 16), i * 2))
	return out
}

/** struct timeval: two longs (8 bytes each on 64-bit ABIs). */
function timeval(milliseconds: number): Buffer {
	const is64 = process.arch === 'x64' || process.arch === 'arm64' || process.arch === 'riscv64' || process.arch === 'loong64'
	const tv = Buffer.alloc(is64 ? 16 : 8)
	const seconds = Math.floor(milliseconds / 1000)
	const micros = (milliseconds % 1000) * 1000
	if (is64) {
		tv.writeBigInt64LE(BigInt(seconds), 0)
		tv.writeBigInt64LE(BigInt(micros), 8)
	} else {
		tv.writeInt32LE(seconds, 0)
		tv.writeInt32LE(micros, 4)
	}
	return tv
}

function intOption(value: number): Buffer {
	const b = Buffer.alloc(4)
	b.writeInt32LE(value, 0)
	return b
}

export class BlockingSocket {
	private deadline: number | undefined

	private constructor(
		private readonly c: SocketCalls,
		private descriptor: number,
		readonly peer: string,
	) {}

	/**
	 * Connects to a numeric address with TCP_NODELAY and SO_KEEPALIVE set, as
	 * usbip(8) does; timeoutMs bounds each send and receive until
	 * clearTimeouts() (never leave a timeout on a socket the kernel takes over).
	 */
	static connect(address: string, port: number, timeoutMs: number): BlockingSocket {
		const c = socketCalls()
		const sockaddr = encodeSockaddr(address, port)
		const peer = isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`
		const fd = c.socket(sockaddr.readUInt16LE(0), SOCK_STREAM | SOCK_CLOEXEC, 0)
		if (fd < 0) throw socketError('socket', c.errno(), peer)
		const socket = new BlockingSocket(c, fd, peer)
		try {
			socket.setOptions()
			// On a blocking socket SO_SNDTIMEO also bounds connect().
			socket.setTimeouts(timeoutMs)
			for (;;) {
				if (c.connect(fd, sockaddr, sockaddr.length) === 0) break
				const errno = c.errno()
				if (errno !== EINTR) throw socketError('connect', errno === 115 ? EAGAIN : errno, peer)
			}
		} catch (error) {
			socket.close()
			throw error
		}
		log.debug(`connected to ${peer} (fd ${fd})`)
		return socket
	}

	/** @internal A connected descriptor from BlockingListener.accept(). */
	static adopt(fd: number, peer: string): BlockingSocket {
		return new BlockingSocket(socketCalls(), fd, peer)
	}

	get fd(): number {
		return this.descriptor
	}

	/** Bounds each send and receive (SO_RCVTIMEO, SO_SNDTIMEO) until clearTimeouts(). */
	setTimeouts(timeoutMs: number): void {
		this.option(SOL_SOCKET, SO_RCVTIMEO, timeval(timeoutMs), 'SO_RCVTIMEO')
		this.option(SOL_SOCKET, SO_SNDTIMEO, timeval(timeoutMs), 'SO_SNDTIMEO')
	}

	/** True when the peer has sent something (or closed) within timeoutMs; reads nothing. */
	readable(timeoutMs: number): boolean {
		return pollIn(this.c, this.open(), timeoutMs, this.peer)
	}

	/** @internal TCP_NODELAY and SO_KEEPALIVE, as usbip(8) sets them. */
	setOptions(): void {
		this.option(IPPROTO_TCP, TCP_NODELAY, intOption(1), 'TCP_NODELAY')
		this.option(SOL_SOCKET, SO_KEEPALIVE, intOption(1), 'SO_KEEPALIVE')
	}

	clearTimeouts(): void {
		this.deadline = undefined
		this.option(SOL_SOCKET, SO_RCVTIMEO, timeval(0), 'SO_RCVTIMEO')
		this.option(SOL_SOCKET, SO_SNDTIMEO, timeval(0), 'SO_SNDTIMEO')
	}

	/**
	 * Bounds everything from now until clearTimeouts() to `ms` in total, not
	 * per call: a peer sending one byte at a time cannot stretch it.
	 */
	setDeadline(ms: number): void {
		this.deadline = Date.now() + ms
	}

	/** Before each call under a deadline: what is left of it becomes the socket's timeouts. */
	private beforeCall(what: string): void {
		if (this.deadline === undefined) return
		const left = this.deadline - Date.now()
		if (left <= 0) throw new SocketError(`${this.peer}: no answer to ${what} in time`, 'TIMEOUT', ExitCode.noSuchDevice, undefined)
		this.setTimeouts(left)
	}

	writeAll(data: Buffer): void {
		let offset = 0
		while (offset < data.length) {
			const chunk = data.subarray(offset)
			this.beforeCall('send')
			const n = this.c.write(this.open(), chunk, chunk.length)
			if (n < 0) {
				const errno = this.c.errno()
				if (errno === EINTR) continue
				throw socketError('send', errno, this.peer)
			}
			offset += n
		}
	}

	/** Exactly `length` bytes; a peer closing first is an error naming `what`. */
	readExact(length: number, what: string): Buffer {
		const out = Buffer.alloc(length)
		let offset = 0
		while (offset < length) {
			const chunk = out.subarray(offset)
			this.beforeCall(`receive ${what}`)
			const n = this.c.read(this.open(), chunk, chunk.length)
			if (n < 0) {
				const errno = this.c.errno()
				if (errno === EINTR) continue
				throw socketError(`receive ${what}`, errno, this.peer)
			}
			if (n === 0) {
				throw new SocketError(`${this.peer}: connection closed before ${what}`, 'CONNECTION_CLOSED', ExitCode.noSuchDevice, undefined)
			}
			offset += n
		}
		return out
	}

	close(): void {
		if (this.descriptor < 0) return
		this.c.close(this.descriptor)
		log.debug(`closed fd ${this.descriptor} (${this.peer})`)
		this.descriptor = -1
	}

	private open(): number {
		if (this.descriptor < 0) throw new Error(`socket to ${this.peer} used after close`)
		return this.descriptor
	}

	private option(level: number, name: number, value: Buffer, label: string): void {
		if (this.c.setsockopt(this.open(), level, name, value, value.length) < 0) {
			throw socketError(`setsockopt ${label}`, this.c.errno(), this.peer)
		}
	}
}

function pollIn(c: SocketCalls, fd: number, timeoutMs: number, peer: string): boolean {
	const pollfd = Buffer.alloc(8)
	pollfd.writeInt32LE(fd, 0)
	pollfd.writeInt16LE(POLLIN, 4)
	for (;;) {
		const n = c.poll(pollfd, 1, timeoutMs)
		if (n >= 0) return n > 0
		const errno = c.errno()
		if (errno !== EINTR) throw socketError('poll', errno, peer)
	}
}

/**
 * A listening TCP socket made with libc calls: accepted connections are
 * BlockingSockets whose descriptors node never reads, so they can be handed
 * to the kernel. The listener itself is non-blocking: accept() returns
 * undefined when nobody is waiting, and the caller polls from a timer so the
 * event loop keeps running.
 */
export class BlockingListener {
	private constructor(
		private readonly c: SocketCalls,
		private descriptor: number,
		readonly local: string,
	) {}

	/** Binds address:port (port 0 picks one; `local` says which) with SO_REUSEADDR, as servers do. */
	static listen(address: string, port: number, backlog = 8): BlockingListener {
		const c = socketCalls()
		const sockaddr = encodeSockaddr(address, port)
		const wanted = isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`
		const fd = c.socket(sockaddr.readUInt16LE(0), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)
		if (fd < 0) throw listenError('socket', c.errno(), wanted)
		try {
			if (c.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, intOption(1), 4) < 0) throw listenError('setsockopt SO_REUSEADDR', c.errno(), wanted)
			if (c.bind(fd, sockaddr, sockaddr.length) < 0) throw listenError('bind', c.errno(), wanted)
			if (c.listen(fd, backlog) < 0) throw listenError('listen', c.errno(), wanted)
			const bound = Buffer.alloc(28)
			const length = Buffer.alloc(4)
			length.writeUInt32LE(bound.length, 0)
			if (c.getsockname(fd, bound, length) < 0) throw listenError('getsockname', c.errno(), wanted)
			return new BlockingListener(c, fd, decodeSockaddr(bound).text)
		} catch (error) {
			c.close(fd)
			throw error
		}
	}

	get fd(): number {
		return this.descriptor
	}

	/** A waiting connection as a blocking socket with TCP_NODELAY and SO_KEEPALIVE, or undefined. */
	accept(): BlockingSocket | undefined {
		if (this.descriptor < 0) throw new Error(`listener ${this.local} used after close`)
		const address = Buffer.alloc(28)
		const length = Buffer.alloc(4)
		for (;;) {
			length.writeUInt32LE(address.length, 0)
			// No SOCK_NONBLOCK: the accepted descriptor blocks, as vhci_hcd's receive thread expects.
			const fd = this.c.accept(this.descriptor, address, length, SOCK_CLOEXEC)
			if (fd >= 0) {
				let peer: string
				try {
					peer = decodeSockaddr(address.subarray(0, length.readUInt32LE(0))).text
				} catch {
					peer = `fd ${fd}`
				}
				const socket = BlockingSocket.adopt(fd, peer)
				try {
					socket.setOptions()
				} catch (error) {
					socket.close()
					throw error
				}
				log.debug(`accepted ${peer} on ${this.local} (fd ${fd})`)
				return socket
			}
			const errno = this.c.errno()
			if (errno === EINTR) continue
			// A connection reset while queued (ECONNABORTED) is as good as none.
			if (errno === EAGAIN || errno === 103) return undefined
			throw socketError('accept', errno, this.local)
		}
	}

	close(): void {
		if (this.descriptor < 0) return
		this.c.close(this.descriptor)
		this.descriptor = -1
	}
}

function listenError(what: string, errno: number, local: string): SocketError {
	const {name, text} = describeErrno(errno)
	if (name === 'EADDRINUSE') return new SocketError(`${local} is already in use`, 'BUSY', ExitCode.busy, name)
	if (name === 'EADDRNOTAVAIL') return new SocketError(`${local}: no such local address`, 'USAGE', ExitCode.usage, name)
	if (name === 'EACCES') return new SocketError(`${local}: ${what}: ${text} (a port below 1024 needs root)`, 'PERMISSION_DENIED', ExitCode.permissionDenied, name)
	return new SocketError(`${local}: ${what}: ${text} (${name})`, 'SOCKET_ERROR', ExitCode.refused, name)
}
