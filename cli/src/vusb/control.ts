// The control channel of a running `vusb serve`: a UNIX stream socket
// (default /run/usbvnet/vusb.sock, mode 0600) on which other invocations send
// one request and read one reply, each a single line of JSON:
//
//   -> {"op":"list"}
//   -> {"op":"unplug","busid":"1-1"}
//   -> {"op":"set","busid":"1-1","functions":["cdc-ecm","cdc-acm"]}
//   -> {"op":"plug","source":"kbd.json","config":{...},"to":"127.0.0.1:3250"}
//   -> {"op":"type","busid":"1-2","text":"hello\n"}
//   <- {"ok":true,"result":...}
//   <- {"ok":false,"error":{"code":"NO_SUCH_BUSID","message":"...","exitCode":6}}
//
// A request that does not parse gets an error reply and the connection is
// closed; nothing a client sends can stop the server.

import {chmodSync, lstatSync, mkdirSync, rmSync} from 'node:fs'
import net from 'node:net'
import {dirname} from 'node:path'
import {ExitCode, UsbvnetError, type ExitCodeValue} from '../errors.js'

export const DEFAULT_CONTROL_PATH = '/run/usbvnet/vusb.sock'
/** The longest path a UNIX socket can have on Linux. */
const MAX_SOCKET_PATH = 107
/** A request longer than this is not one of ours. */
export const MAX_REQUEST_BYTES = 64 * 1024
/** Characters one `type` request may carry. */
export const MAX_TYPE_TEXT = 4096

export type ControlRequest =
	| {op: 'list'}
	| {op: 'unplug'; busid: string}
	| {op: 'set'; busid: string; functions: string[]}
	| {op: 'plug'; source: string; config: unknown; to: string}
	| {op: 'type'; busid: string; text: string}

export type ControlReply =
	| {ok: true; result: unknown}
	| {ok: false; error: {code: string; message: string; exitCode: number}}

export class ControlError extends UsbvnetError {}

const BUSID = /^\d{1,3}-\d{1,3}(\.\d{1,3})*$/

function bad(message: string): ControlError {
	return new ControlError(`bad control request: ${message}`, 'BAD_REQUEST', ExitCode.usage)
}

/** Checks one request line; throws ControlError saying what is wrong. */
export function parseControlRequest(line: string): ControlRequest {
	let data: unknown
	try {
		data = JSON.parse(line)
	} catch {
		throw bad('not JSON')
	}
	if (typeof data !== 'object' || data === null || Array.isArray(data)) throw bad('not an object')
	const r = data as Record<string, unknown>
	const busid = (): string => {
		if (typeof r['busid'] !== 'string' || !BUSID.test(r['busid'])) throw bad('"busid" must be a busid like "1-2"')
		return r['busid']
	}
	const only = (...keys: string[]): void => {
		const extra = Object.keys(r).filter((k) => !keys.includes(k))
		if (extra.length > 0) throw bad(`unknown key "${extra[0]}"`)
	}
	switch (r['op']) {
		case 'list':
			only('op')
			return {op: 'list'}
		case 'unplug':
			only('op', 'busid')
			return {op: 'unplug', busid: busid()}
		case 'set': {
			only('op', 'busid', 'functions')
			const functions = r['functions']
			if (!Array.isArray(functions) || functions.length === 0 || !functions.every((f) => typeof f === 'string')) {
				throw bad('"functions" must be a non-empty array of strings')
			}
			return {op: 'set', busid: busid(), functions: functions as string[]}
		}
		case 'plug': {
			only('op', 'source', 'config', 'to')
			const {source, config, to} = r
			if (typeof source !== 'string' || source.length === 0 || source.length > 4096) throw bad('"source" must name the device file')
			if (typeof config !== 'object' || config === null || Array.isArray(config)) throw bad('"config" must be a device definition object')
			if (typeof to !== 'string' || to.length === 0 || to.length > 300) throw bad('"to" must be HOST:PORT')
			return {op: 'plug', source, config, to}
		}
		case 'type': {
			only('op', 'busid', 'text')
			const text = r['text']
			if (typeof text !== 'string' || text.length === 0) throw bad('"text" must be a non-empty string')
			if (text.length > MAX_TYPE_TEXT) throw bad(`"text" is longer than ${MAX_TYPE_TEXT} characters`)
			return {op: 'type', busid: busid(), text}
		}
		default:
			throw bad(`unknown op ${JSON.stringify(r['op'] ?? null)}`)
	}
}

export function errorReply(error: unknown): ControlReply {
	if (error instanceof UsbvnetError) return {ok: false, error: {code: error.code, message: error.message, exitCode: error.exitCode}}
	return {ok: false, error: {code: 'INTERNAL', message: `internal error in the server: ${error instanceof Error ? error.message : String(error)}`, exitCode: ExitCode.internal}}
}

/** Turns a reply line back into the result, or into the error the server reported. */
export function parseControlReply(line: string, path: string): unknown {
	let data: unknown
	try {
		data = JSON.parse(line)
	} catch {
		throw new ControlError(`${path}: the server answered something that is not JSON`, 'PROTOCOL', ExitCode.versionMismatch)
	}
	const r = data as Partial<Record<string, unknown>> | null
	if (r && r['ok'] === true && 'result' in r) return r['result']
	const e = (r?.['error'] ?? {}) as Partial<Record<string, unknown>>
	if (r && r['ok'] === false && typeof e['message'] === 'string') {
		const exitCode = typeof e['exitCode'] === 'number' && Object.values(ExitCode).includes(e['exitCode'] as ExitCodeValue) ? (e['exitCode'] as ExitCodeValue) : ExitCode.internal
		throw new ControlError(e['message'], typeof e['code'] === 'string' ? e['code'] : 'SERVER_ERROR', exitCode)
	}
	throw new ControlError(`${path}: the server's reply has neither a result nor an error`, 'PROTOCOL', ExitCode.versionMismatch)
}

/** May answer at once or through a promise (plug and set wait for the client's agent). */
export type ControlHandler = (request: ControlRequest) => unknown

/** Reads lines up to MAX_REQUEST_BYTES; calls back once with the first whole line. */
function firstLine(socket: net.Socket, onLine: (line: string) => void, onTooLong: () => void): void {
	let buffered = ''
	let done = false
	socket.setEncoding('utf8')
	socket.on('data', (chunk: string) => {
		if (done) return
		buffered += chunk
		const end = buffered.indexOf('\n')
		if (end >= 0) {
			done = true
			onLine(buffered.slice(0, end))
		} else if (buffered.length > MAX_REQUEST_BYTES) {
			done = true
			onTooLong()
		}
	})
}

export class ControlServer {
	private server: net.Server | undefined

	constructor(
		readonly path: string,
		private readonly handler: ControlHandler,
		private readonly onError: (message: string) => void = () => {},
	) {}

	/**
	 * Listens at path; refuses when another server answers there, replaces a
	 * stale socket, never anything else a mistyped path may name.
	 */
	async listen(): Promise<void> {
		// sun_path holds 108 bytes with its NUL; libuv says EADDRINUSE beyond.
		if (Buffer.byteLength(this.path) > MAX_SOCKET_PATH) {
			throw new ControlError(`--control ${this.path}: too long for a socket path (at most ${MAX_SOCKET_PATH} bytes)`, 'USAGE', ExitCode.usage)
		}
		try {
			mkdirSync(dirname(this.path), {recursive: true, mode: 0o755})
		} catch (error) {
			throw socketFailure(this.path, error)
		}
		if (await answers(this.path)) {
			throw new ControlError(`another vusb server is running (${this.path} answers)`, 'BUSY', ExitCode.busy)
		}
		const existing = lstatSync(this.path, {throwIfNoEntry: false})
		if (existing && !existing.isSocket()) {
			throw new ControlError(`--control ${this.path}: exists and is not a socket; not replacing it`, 'USAGE', ExitCode.usage)
		}
		if (existing) rmSync(this.path, {force: true})
		const server = net.createServer((socket) => this.accept(socket))
		try {
			await new Promise<void>((resolve, reject) => {
				server.once('error', reject)
				server.listen(this.path, () => {
					server.off('error', reject)
					resolve()
				})
			})
		} catch (error) {
			throw socketFailure(this.path, error)
		}
		// Only root (the owner) may change what the server exports.
		chmodSync(this.path, 0o600)
		server.on('error', (err) => this.onError(`control socket: ${err.message}`))
		this.server = server
	}

	close(): Promise<void> {
		const server = this.server
		this.server = undefined
		if (!server) return Promise.resolve()
		return new Promise((resolve) => {
			server.close(() => resolve())
			rmSync(this.path, {force: true})
		})
	}

	private accept(socket: net.Socket): void {
		socket.on('error', () => {})
		socket.setTimeout(10_000, () => socket.destroy())
		const reply = (r: ControlReply): void => {
			socket.end(`${JSON.stringify(r)}\n`)
		}
		firstLine(
			socket,
			(line) => {
				const failed = (error: unknown): ControlReply => {
					if (!(error instanceof UsbvnetError)) this.onError(`control request failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
					return errorReply(error)
				}
				let result: unknown
				try {
					result = this.handler(parseControlRequest(line))
				} catch (error) {
					reply(failed(error))
					return
				}
				if (result instanceof Promise) {
					// A slow answer (a push waits for the client's agent) must outlive the idle timeout.
					socket.setTimeout(0)
					result.then((value: unknown) => reply({ok: true, result: value}), (error: unknown) => reply(failed(error)))
				} else reply({ok: true, result})
			},
			() => reply(errorReply(bad(`longer than ${MAX_REQUEST_BYTES} bytes`))),
		)
	}
}

/** True when a server accepts connections at path. */
/** Why the control socket cannot be made at path, with the exit code of that reason. */
function socketFailure(path: string, error: unknown): UsbvnetError {
	const code = (error as NodeJS.ErrnoException | undefined)?.code
	const cause = {cause: error}
	if (code === 'EACCES' || code === 'EPERM') return new ControlError(`cannot create the control socket ${path}: permission denied (run as root)`, 'PERMISSION_DENIED', ExitCode.permissionDenied, cause)
	if (code === 'EROFS') return new ControlError(`cannot create the control socket ${path}: read-only file system`, 'PERMISSION_DENIED', ExitCode.permissionDenied, cause)
	if (code === 'ENOTDIR' || code === 'EEXIST') return new ControlError(`--control ${path}: a parent is not a directory`, 'USAGE', ExitCode.usage, cause)
	return new ControlError(`cannot create the control socket ${path}: ${error instanceof Error ? error.message : String(error)}`, 'CONTROL_SOCKET', ExitCode.internal, cause)
}

function answers(path: string): Promise<boolean> {
	return new Promise((resolve) => {
		const socket = net.connect(path)
		socket.once('connect', () => {
			socket.destroy()
			resolve(true)
		})
		socket.once('error', () => resolve(false))
	})
}

function notRunning(path: string, why: string): ControlError {
	return new ControlError(`no vusb server is running (${path}: ${why}); start one with "usbvnet vusb serve"`, 'VUSB_NOT_RUNNING', ExitCode.moduleNotLoaded)
}

/** Sends one request to the server at path and returns its result. */
export function controlRequest(path: string, request: ControlRequest, timeoutMs = 10_000): Promise<unknown> {
	return new Promise((resolve, reject) => {
		const socket = net.connect(path)
		let settled = false
		const finish = (fn: () => void): void => {
			if (settled) return
			settled = true
			socket.destroy()
			fn()
		}
		socket.setTimeout(timeoutMs, () => finish(() => reject(new ControlError(`${path}: the server did not answer in time`, 'TIMEOUT', ExitCode.busy))))
		socket.once('error', (err: NodeJS.ErrnoException) => {
			finish(() => {
				if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') reject(notRunning(path, err.code === 'ENOENT' ? 'no such socket' : 'connection refused'))
				else if (err.code === 'EACCES') reject(new ControlError(`${path}: permission denied (run as root)`, 'PERMISSION_DENIED', ExitCode.permissionDenied))
				else reject(new ControlError(`${path}: ${err.message}`, 'CONTROL_ERROR', ExitCode.internal))
			})
		})
		socket.once('connect', () => socket.write(`${JSON.stringify(request)}\n`))
		let received = ''
		socket.setEncoding('utf8')
		socket.on('data', (chunk: string) => {
			received += chunk
		})
		socket.once('end', () => {
			finish(() => {
				const line = received.split('\n')[0] ?? ''
				try {
					resolve(parseControlReply(line, path))
				} catch (error) {
					reject(error)
				}
			})
		})
	})
}
