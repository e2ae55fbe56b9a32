// TCP backends of a CDC ACM function: the byte stream of /dev/ttyACMn on the
// host carried over a TCP connection on the serving machine, as ser2net or
// a serial console server does.
//
// listen: the handler listens on an address; one client at a time is the
// far end of the line. A second client is refused with one line saying who
// holds the port (it never steals the line from the first); once the first
// goes, the next to connect gets it.
// connect: the handler connects to an address and reconnects with a backoff
// (0.5 s doubling up to 10 s) whenever the connection fails or closes.
//
// Buffers are bounded both ways: bytes the host writes while nobody is
// connected, or while the TCP peer does not read, and bytes the peer sends
// while the host does not read (CdcAcmFunction's buffer) are dropped and
// counted, never queued without limit.

import {createConnection, createServer} from 'node:net'
import type {AddressInfo, Server, Socket} from 'node:net'
import type {SerialHandler, SerialPort} from './cdc-acm.js'

export interface SerialTcpStats {
	/** Bytes the host wrote that reached the TCP peer's socket. */
	fromHost: number
	/** Bytes the TCP peer sent that were queued for the host. */
	toHost: number
	/** Host bytes dropped: nobody connected, or the peer's socket buffer full. */
	droppedFromHost: number
	/** Peer bytes dropped: the host's buffer (the ACM function's) full or the port not configured. */
	droppedToHost: number
	/** Connections that became the far end of the line. */
	connections: number
	/** listen: clients refused because another one held the line. */
	refused: number
}

/** Bytes waiting in the TCP socket beyond this are dropped; default 256 KiB. */
const DEFAULT_MAX_SOCKET_BACKLOG = 256 * 1024
const BACKOFF_FIRST_MS = 500
const BACKOFF_MAX_MS = 10_000

function newStats(): SerialTcpStats {
	return {fromHost: 0, toHost: 0, droppedFromHost: 0, droppedToHost: 0, connections: 0, refused: 0}
}

function peerName(socket: Socket): string {
	const address = socket.remoteAddress ?? '?'
	return `${address.includes(':') ? `[${address}]` : address}:${socket.remotePort ?? '?'}`
}

/** Common to both ends: the port, the current socket and the byte counts. */
abstract class SerialTcpBase implements SerialHandler {
	readonly stats: SerialTcpStats = newStats()
	protected port: SerialPort | undefined
	protected socket: Socket | undefined
	protected closed = false

	constructor(protected readonly maxSocketBacklog: number = DEFAULT_MAX_SOCKET_BACKLOG) {}

	attach(port: SerialPort): void {
		this.port = port
	}

	/** "address:port" of the current TCP peer, or null. */
	get peer(): string | null {
		return this.socket ? peerName(this.socket) : null
	}

	bytesFromHost(data: Buffer): void {
		const socket = this.socket
		if (!socket || socket.writableLength + data.length > this.maxSocketBacklog) {
			this.stats.droppedFromHost += data.length
			return
		}
		socket.write(data)
		this.stats.fromHost += data.length
	}

	/** Makes `socket` the far end of the line. */
	protected adopt(socket: Socket, onGone: () => void): void {
		this.socket = socket
		this.stats.connections++
		socket.setNoDelay(true)
		socket.on('data', (chunk: Buffer) => {
			if (this.port?.writeToHost(chunk)) this.stats.toHost += chunk.length
			else this.stats.droppedToHost += chunk.length
		})
		socket.on('error', () => {}) // 'close' follows; a peer's reset is not the server's problem
		socket.on('close', () => {
			if (this.socket === socket) this.socket = undefined
			onGone()
		})
	}

	abstract start(): Promise<void>
	abstract close(): Promise<void>
}

/** Listens on host:port; one client at a time is the far end of the line. */
export class SerialTcpListen extends SerialTcpBase {
	private readonly server: Server

	constructor(
		readonly host: string,
		readonly portNumber: number,
		maxSocketBacklog?: number,
	) {
		super(maxSocketBacklog)
		this.server = createServer((socket) => this.accept(socket))
	}

	/** The port actually listened on (useful with port 0). */
	get listeningPort(): number {
		return (this.server.address() as AddressInfo | null)?.port ?? this.portNumber
	}

	/** Resolves once listening; rejects with the socket error (EADDRINUSE, EADDRNOTAVAIL, EACCES). */
	start(): Promise<void> {
		return new Promise((resolve, reject) => {
			const onError = (error: Error): void => reject(error)
			this.server.once('error', onError)
			this.server.listen({host: this.host, port: this.portNumber, exclusive: true}, () => {
				this.server.off('error', onError)
				this.server.on('error', () => {})
				resolve()
			})
		})
	}

	private accept(socket: Socket): void {
		if (this.closed) {
			socket.destroy()
			return
		}
		if (this.socket) {
			this.stats.refused++
			socket.on('error', () => {})
			socket.end(`usbvnet vusb: this serial line already has a client (${peerName(this.socket)}); try again when it has gone\r\n`)
			return
		}
		this.adopt(socket, () => {})
	}

	async close(): Promise<void> {
		this.closed = true
		this.socket?.destroy()
		this.socket = undefined
		if (!this.server.listening) return
		await new Promise<void>((resolve) => this.server.close(() => resolve()))
	}
}

/** Connects to host:port and keeps reconnecting, with a backoff, while open. */
export class SerialTcpConnect extends SerialTcpBase {
	private backoffMs = BACKOFF_FIRST_MS
	private timer: NodeJS.Timeout | undefined
	private connecting: Socket | undefined

	constructor(
		readonly host: string,
		readonly portNumber: number,
		maxSocketBacklog?: number,
		private readonly backoff: {firstMs: number; maxMs: number} = {firstMs: BACKOFF_FIRST_MS, maxMs: BACKOFF_MAX_MS},
	) {
		super(maxSocketBacklog)
		this.backoffMs = backoff.firstMs
	}

	/** Starts connecting in the background; a peer that is not there yet is not an error. */
	start(): Promise<void> {
		this.connect()
		return Promise.resolve()
	}

	private connect(): void {
		if (this.closed) return
		const socket = createConnection({host: this.host, port: this.portNumber})
		this.connecting = socket
		let connected = false
		socket.once('connect', () => {
			connected = true
			this.connecting = undefined
			this.backoffMs = this.backoff.firstMs
			this.adopt(socket, () => this.retry())
		})
		socket.on('error', () => {})
		socket.once('close', () => {
			if (this.connecting === socket) this.connecting = undefined
			if (!connected) this.retry()
		})
	}

	private retry(): void {
		if (this.closed || this.timer) return
		const delay = this.backoffMs
		this.backoffMs = Math.min(this.backoffMs * 2, this.backoff.maxMs)
		this.timer = setTimeout(() => {
			this.timer = undefined
			this.connect()
		}, delay)
	}

	async close(): Promise<void> {
		this.closed = true
		if (this.timer) clearTimeout(this.timer)
		this.timer = undefined
		this.connecting?.destroy()
		this.socket?.destroy()
		this.socket = undefined
	}
}

export type SerialTcpHandler = SerialTcpListen | SerialTcpConnect
