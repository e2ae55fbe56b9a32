// A small USB/IP client: lists and imports devices and submits URBs the way
// vhci_hcd does. Used by the loopback tests, and a base for diagnostics
// commands that want to talk to a server without a kernel.

import net from 'node:net'
import type {DevlistEntry, IsoPacketDescriptor, RetSubmit, RetUnlink, SetupPacket, UsbDeviceInfo, UsbipMessage} from './protocol.js'
import {
	OpStatus,
	ProtocolError,
	USBIP_DIR_IN,
	USBIP_DIR_OUT,
	USBIP_VERSION,
	UsbipStreamParser,
	encodeMessage,
	encodeSetup,
} from './protocol.js'

export class UsbipClientError extends Error {
	constructor(message: string) {
		super(message)
		this.name = 'UsbipClientError'
	}
}

function connect(host: string, port: number): Promise<net.Socket> {
	return new Promise((resolve, reject) => {
		const socket = net.connect({host, port})
		socket.once('connect', () => {
			socket.off('error', reject)
			socket.setNoDelay(true)
			resolve(socket)
		})
		socket.once('error', reject)
	})
}

/** Waits for the first message of an op exchange on a fresh socket. */
function awaitOpReply(socket: net.Socket, parser: UsbipStreamParser): Promise<{message: UsbipMessage; rest: UsbipMessage[]}> {
	return new Promise((resolve, reject) => {
		const cleanup = (): void => {
			socket.off('data', onData)
			socket.off('close', onClose)
			socket.off('error', onError)
		}
		const onData = (chunk: Buffer): void => {
			try {
				const messages = parser.push(chunk)
				const [first, ...rest] = messages
				if (first) {
					cleanup()
					resolve({message: first, rest})
				}
			} catch (err) {
				cleanup()
				reject(err)
			}
		}
		const onClose = (): void => {
			cleanup()
			reject(new UsbipClientError('server closed the connection before replying'))
		}
		const onError = (err: Error): void => {
			cleanup()
			reject(err)
		}
		socket.on('data', onData)
		socket.once('close', onClose)
		socket.once('error', onError)
	})
}

/** OP_REQ_DEVLIST on a connection of its own, as `usbip list -r` does. */
export async function listRemoteDevices(host: string, port: number): Promise<DevlistEntry[]> {
	const socket = await connect(host, port)
	try {
		const parser = new UsbipStreamParser({role: 'client'})
		const reply = awaitOpReply(socket, parser)
		socket.write(encodeMessage({kind: 'OP_REQ_DEVLIST', version: USBIP_VERSION}))
		const {message} = await reply
		if (message.kind !== 'OP_REP_DEVLIST') throw new UsbipClientError(`expected OP_REP_DEVLIST, got ${message.kind}`)
		if (message.status !== OpStatus.OK) throw new UsbipClientError(`devlist failed with status ${message.status}`)
		return message.devices
	} finally {
		socket.destroy()
	}
}

/** OP_REQ_IMPORT; on success the connection carries URBs for that device. */
export async function importRemoteDevice(host: string, port: number, busid: string): Promise<ImportedDevice> {
	const socket = await connect(host, port)
	const seqnumDirections = new Map<number, number>()
	const parser = new UsbipStreamParser({role: 'client', directionOfSeqnum: (s) => seqnumDirections.get(s)})
	try {
		const reply = awaitOpReply(socket, parser)
		socket.write(encodeMessage({kind: 'OP_REQ_IMPORT', version: USBIP_VERSION, busid}))
		const {message, rest} = await reply
		if (message.kind !== 'OP_REP_IMPORT') throw new UsbipClientError(`expected OP_REP_IMPORT, got ${message.kind}`)
		if (message.status !== OpStatus.OK || !message.device) {
			throw new UsbipClientError(`import of ${busid} failed with status ${message.status}`)
		}
		// usbip(8) refuses a reply for a different device; so do we.
		if (message.device.busid !== busid) {
			throw new UsbipClientError(`asked for ${busid}, server answered with ${message.device.busid}`)
		}
		if (rest.length > 0) throw new UsbipClientError('server sent URB replies before any submit')
		return new ImportedDevice(socket, parser, seqnumDirections, message.device)
	} catch (err) {
		socket.destroy()
		throw err
	}
}

export interface SubmitOptions {
	endpoint: number
	direction: 'in' | 'out'
	/** OUT payload. */
	data?: Buffer
	/** IN buffer size; defaults to data.length for OUT. */
	length?: number
	setup?: SetupPacket
	transferFlags?: number
	/** Sent as number_of_packets for non-iso URBs; Linux sends 0. */
	numberOfPackets?: number
	isoPackets?: IsoPacketDescriptor[]
}

export interface SubmittedUrb {
	seqnum: number
	result: Promise<RetSubmit>
}

interface Waiter<T> {
	resolve: (value: T) => void
	reject: (err: Error) => void
}

/** An imported device: submit URBs and unlink them, like vhci_hcd. */
export class ImportedDevice {
	private nextSeqnum = 1
	private readonly submits = new Map<number, Waiter<RetSubmit>>()
	private readonly unlinks = new Map<number, Waiter<RetUnlink>>()
	private failure: Error | undefined
	/** devid as vhci_hcd sends it: (busnum << 16) | devnum. */
	readonly devid: number

	constructor(
		/** Exposed for diagnostics and fault-injection tests that need raw bytes. */
		readonly socket: net.Socket,
		private readonly parser: UsbipStreamParser,
		private readonly seqnumDirections: Map<number, number>,
		readonly info: UsbDeviceInfo,
	) {
		this.devid = ((info.busnum << 16) | info.devnum) >>> 0
		socket.on('data', (chunk: Buffer) => this.receive(chunk))
		socket.on('close', () => this.fail(new UsbipClientError('connection closed')))
		socket.on('error', (err) => this.fail(err))
	}

	get closed(): boolean {
		return this.failure !== undefined
	}

	submit(options: SubmitOptions): SubmittedUrb {
		const seqnum = this.nextSeqnum++
		const direction = options.direction === 'in' ? USBIP_DIR_IN : USBIP_DIR_OUT
		const data = options.direction === 'out' ? (options.data ?? Buffer.alloc(0)) : Buffer.alloc(0)
		const isoPackets = options.isoPackets ?? []
		const result = new Promise<RetSubmit>((resolve, reject) => {
			if (this.failure) {
				reject(this.failure)
				return
			}
			this.submits.set(seqnum, {resolve, reject})
		})
		if (!this.failure) {
			this.seqnumDirections.set(seqnum, direction)
			this.socket.write(
				encodeMessage({
					kind: 'CMD_SUBMIT',
					seqnum,
					devid: this.devid,
					direction,
					ep: options.endpoint,
					transferFlags: options.transferFlags ?? 0,
					transferBufferLength: options.length ?? data.length,
					startFrame: 0,
					numberOfPackets: isoPackets.length > 0 ? isoPackets.length : (options.numberOfPackets ?? 0),
					interval: 0,
					setup: options.setup ? encodeSetup(options.setup) : Buffer.alloc(8),
					data,
					isoPackets,
				}),
			)
		}
		return {seqnum, result}
	}

	/** A control transfer on endpoint 0; direction follows bmRequestType. */
	control(setup: SetupPacket, data?: Buffer): Promise<RetSubmit> {
		const isIn = (setup.requestType & 0x80) !== 0
		return this.submit({
			endpoint: 0,
			direction: isIn ? 'in' : 'out',
			setup,
			length: isIn ? setup.length : (data?.length ?? 0),
			...(isIn ? {} : {data: data ?? Buffer.alloc(0)}),
		}).result
	}

	unlink(targetSeqnum: number): Promise<RetUnlink> {
		const seqnum = this.nextSeqnum++
		const result = new Promise<RetUnlink>((resolve, reject) => {
			if (this.failure) {
				reject(this.failure)
				return
			}
			this.unlinks.set(seqnum, {resolve, reject})
		})
		if (!this.failure) {
			this.socket.write(
				encodeMessage({kind: 'CMD_UNLINK', seqnum, devid: this.devid, direction: 0, ep: 0, unlinkSeqnum: targetSeqnum}),
			)
		}
		return result
	}

	close(): void {
		this.socket.destroy()
		this.fail(new UsbipClientError('closed by client'))
	}

	private receive(chunk: Buffer): void {
		let messages: UsbipMessage[]
		try {
			messages = this.parser.push(chunk)
		} catch (err) {
			this.fail(err instanceof ProtocolError ? err : new UsbipClientError(String(err)))
			this.socket.destroy()
			return
		}
		for (const m of messages) {
			if (m.kind === 'RET_SUBMIT') {
				const waiter = this.submits.get(m.seqnum)
				this.submits.delete(m.seqnum)
				this.seqnumDirections.delete(m.seqnum)
				waiter?.resolve(m)
			} else if (m.kind === 'RET_UNLINK') {
				const waiter = this.unlinks.get(m.seqnum)
				this.unlinks.delete(m.seqnum)
				waiter?.resolve(m)
			}
		}
	}

	/** Forgets an URB the server took back (RET_UNLINK with -ECONNRESET). */
	forget(seqnum: number): void {
		this.submits.delete(seqnum)
		this.seqnumDirections.delete(seqnum)
	}

	private fail(err: Error): void {
		if (this.failure) return
		this.failure = err
		for (const w of this.submits.values()) w.reject(err)
		for (const w of this.unlinks.values()) w.reject(err)
		this.submits.clear()
		this.unlinks.clear()
	}
}

