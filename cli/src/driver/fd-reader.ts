/**
 * Reads a descriptor that node cannot watch (a TAP, a pseudo-terminal
 * master: its streams take sockets and pipes only, and fs reads would hold
 * a thread-pool thread each) on a worker thread of its own
 * (fd-reader-worker.ts: poll(2) on the descriptor and an eventfd, reads
 * posted in batches), so node's event loop never reads it. While
 * maxInFlight batches are unhandled the worker stops reading and the
 * kernel's queue holds (and drops) the excess.
 *
 * The owner keeps its descriptor open until onExit: the worker may be in
 * poll(2) on it until then, and a descriptor closed under it could be
 * reused by another open().
 */
import {Worker} from 'node:worker_threads'
import type {Libc} from './libc.js'

const EFD_CLOEXEC = 0o2000000
const EFD_NONBLOCK = 0o4000

/** Messages from fd-reader-worker.ts. */
export type FdReaderMessage = {frames: ArrayBuffer[]} | {error: string}

export interface FdReaderOptions {
	/** Batches posted but not yet handled, at most. */
	maxInFlight: number
	/** Largest single read(2); one TAP read is one frame. */
	bufferSize: number
	/** Each batch, in order; not called once stop() was. */
	onRead(chunks: Buffer[]): void
	/** The worker stopped on an error: its description, or the worker's own error. */
	onError(error: string | Error): void
	/** The worker has exited: the owner may close its descriptor now. */
	onExit(): void
	/** The error to throw when no eventfd can be made. */
	failure(what: string, errno: number): Error
}

export class FdReader {
	private stopped = false
	/** Resolves once the worker has exited and every descriptor is closed. */
	readonly exited: Promise<void>

	private constructor(
		private readonly c: Libc,
		private readonly wakeFd: number,
		private readonly worker: Worker,
		/** [0]: batches in flight (the worker adds, we subtract); [1]: stop. */
		private readonly control: Int32Array,
		options: FdReaderOptions,
	) {
		this.exited = new Promise((resolve) => {
			worker.once('exit', () => {
				c.close(wakeFd)
				options.onExit()
				resolve()
			})
		})
		worker.on('message', (message: FdReaderMessage) => {
			Atomics.sub(control, 0, 1)
			Atomics.notify(control, 0)
			if (this.stopped) return
			if ('frames' in message) options.onRead(message.frames.map((f) => Buffer.from(f)))
			else options.onError(message.error)
		})
		worker.on('error', (error) => {
			if (!this.stopped) options.onError(error)
		})
	}

	/**
	 * Starts reading `fd`. The worker alone never keeps the process alive:
	 * whoever serves stops it. Throws with nothing of its own left open.
	 */
	static start(c: Libc, fd: number, options: FdReaderOptions): FdReader {
		const wakeFd = c.eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)
		if (wakeFd < 0) throw options.failure('eventfd', c.errno())
		const control = new Int32Array(new SharedArrayBuffer(8))
		let worker: Worker
		try {
			worker = new Worker(new URL('./fd-reader-worker.js', import.meta.url), {
				workerData: {fd, wakeFd, control, maxInFlight: options.maxInFlight, bufferSize: options.bufferSize},
			})
		} catch (error) {
			c.close(wakeFd)
			throw error
		}
		worker.unref()
		return new FdReader(c, wakeFd, worker, control, options)
	}

	/** Stops the worker (no more callbacks but onExit); resolves once it has exited. */
	stop(): Promise<void> {
		if (!this.stopped) {
			this.stopped = true
			// Whoever awaits this must not see the event loop run dry before the worker exits.
			this.worker.ref()
			Atomics.store(this.control, 1, 1)
			Atomics.notify(this.control, 0)
			const one = Buffer.alloc(8)
			one.writeBigUInt64LE(1n)
			this.c.write(this.wakeFd, one, 8)
		}
		return this.exited
	}
}
