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
const SOCK_CLOEXEC = 0o2000000
const SOL_SOCKET = 1
const SO_KEEPALIVE = 9
const SO_RCVTIMEO = 20
const SO_SNDTIMEO = 21
const IPPROTO_TCP = 6
const TCP_NODELAY = 1

const EINTR = 4
const EAGAIN = 11

interface SocketCalls {
	socket(domain: number, type: number, protocol: number): number
	connect(fd: number, address: Buffer, length: number): number
	read(fd: number, buffer: Buffer, count: number): number
	write(fd: number, buffer: Buffer, count: number): number
	setsockopt(fd: number, level: number, name: number, value: Buffer, length: number): number
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
	calls = {
		socket: (d, t, p) => socket(d, t, p) as number,
		connect: (fd, a, l) => connect(fd, a, l) as number,
		read: (fd, b, c) => Number(read(fd, b, c)),
		write: (fd, b, c) => Number(write(fd, b, c)),
		setsockopt: (fd, level, name, value, length) => setsockopt(fd, level, name, value, length) as number,
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
			socket.option(IPPROTO_TCP, TCP_NODELAY, intOption(1), 'TCP_NODELAY')
			socket.option(SOL_SOCKET, SO_KEEPALIVE, intOption(1), 'SO_KEEPALIVE')
			socket.option(SOL_SOCKET, SO_RCVTIMEO, timeval(timeoutMs), 'SO_RCVTIMEO')
			// On a blocking socket SO_SNDTIMEO also bounds connect().
			socket.option(SOL_SOCKET, SO_SNDTIMEO, timeval(timeoutMs), 'SO_SNDTIMEO')
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

	get fd(): number {
		return this.descriptor
	}

	clearTimeouts(): void {
		this.option(SOL_SOCKET, SO_RCVTIMEO, timeval(0), 'SO_RCVTIMEO')
		this.option(SOL_SOCKET, SO_SNDTIMEO, timeval(0), 'SO_SNDTIMEO')
	}

	writeAll(data: Buffer): void {
		let offset = 0
		while (offset < data.length) {
			const chunk = data.subarray(offset)
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
