/**
 * The worker thread of fd-reader.ts: waits in poll(2) on a descriptor (a
 * TAP, a pseudo-terminal master) and an eventfd (written to stop), reads
 * everything that is ready (non-blocking reads; one read is one frame on a
 * TAP) and posts it in batches, each read in its own transferred
 * ArrayBuffer. While maxInFlight batches are unhandled by the main thread it
 * stops reading, so the kernel's queue holds and drops the excess (a TAP
 * counts it in tx_dropped).
 */
import {parentPort, workerData} from 'node:worker_threads'
import {ffi} from './libc.js'
import {describeErrno} from './errors.js'

interface ReaderData {
	fd: number
	wakeFd: number
	/** [0]: batches in flight (we add, the main thread subtracts); [1]: stop. */
	control: Int32Array
	maxInFlight: number
	bufferSize: number
}

const POLLIN = 0x1
const POLLERR = 0x8
const POLLHUP = 0x10
const POLLNVAL = 0x20
const EINTR = 4
const EAGAIN = 11
const MAX_BATCH = 64

function run(data: ReaderData, port: NonNullable<typeof parentPort>): void {
	const {koffi, lib} = ffi()
	const poll = lib.func('int poll(void *fds, unsigned long nfds, int timeout)')
	const read = lib.func('long read(int fd, void *buffer, unsigned long count)')
	// struct pollfd {int fd; short events; short revents;} x 2
	const fds = Buffer.alloc(16)
	fds.writeInt32LE(data.fd, 0)
	fds.writeInt16LE(POLLIN, 4)
	fds.writeInt32LE(data.wakeFd, 8)
	fds.writeInt16LE(POLLIN, 12)
	const buffer = Buffer.alloc(data.bufferSize)
	const {control} = data
	const fail = (what: string, errno: number): void => {
		const {name, text} = describeErrno(errno)
		port.postMessage({error: `${what}: ${text} (${name})`})
	}

	while (Atomics.load(control, 1) === 0) {
		const inFlight = Atomics.load(control, 0)
		if (inFlight >= data.maxInFlight) {
			Atomics.wait(control, 0, inFlight, 100)
			continue
		}
		fds.writeInt16LE(0, 6)
		fds.writeInt16LE(0, 14)
		const ready = poll(fds, 2, -1) as number
		if (ready < 0) {
			const errno = koffi.errno()
			if (errno === EINTR) continue
			fail('poll', errno)
			return
		}
		if (fds.readInt16LE(14) !== 0) return // woken to stop
		const revents = fds.readInt16LE(6)
		if (revents & (POLLERR | POLLHUP | POLLNVAL)) {
			port.postMessage({error: `the descriptor reported ${revents & POLLNVAL ? 'POLLNVAL' : revents & POLLHUP ? 'POLLHUP' : 'POLLERR'}`})
			return
		}
		if (!(revents & POLLIN)) continue
		const frames: ArrayBuffer[] = []
		while (frames.length < MAX_BATCH) {
			const n = Number(read(data.fd, buffer, buffer.length))
			if (n < 0) {
				const errno = koffi.errno()
				if (errno === EAGAIN || errno === EINTR) break
				fail('read', errno)
				return
			}
			if (n === 0) break
			const frame = new Uint8Array(n)
			frame.set(buffer.subarray(0, n))
			frames.push(frame.buffer)
		}
		if (frames.length === 0) continue
		Atomics.add(control, 0, 1)
		port.postMessage({frames}, frames)
	}
}

if (parentPort) run(workerData as ReaderData, parentPort)
