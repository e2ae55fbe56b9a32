/**
 * A pseudo-terminal pair for vusb's serial backend: posix_openpt, grantpt,
 * unlockpt and ptsname_r through koffi, the master set raw (cfmakeraw), and
 * its reads done by a worker thread as a TAP's are (fd-reader.ts: poll on
 * the descriptor and an eventfd, chunks posted in batches), so node's event
 * loop never reads a descriptor itself.
 *
 * We keep a descriptor of the slave open too: without it a master whose
 * slave nobody has open reports POLLHUP and reads fail with EIO, and the
 * reader would stop. The cost: bytes written to the master while no program
 * reads the slave wait in the slave's input queue (a few KiB) and then
 * writes fail with EAGAIN; write() returns false and the caller counts them.
 */
import {ExitCode, UsbvnetError} from '../errors.js'
import {describeErrno} from './errors.js'
import {FdReader} from './fd-reader.js'
import {O_CLOEXEC, O_RDWR, ffi, libc, type Libc} from './libc.js'

const O_NOCTTY = 0o400
const O_NONBLOCK = 0o4000
const TCSANOW = 0
/** struct termios is 60 bytes in glibc and musl on the architectures libc.ts accepts; room to spare. */
const TERMIOS_SIZE = 128
const PTY_READ_BUFFER = 4096
const PTY_MAX_BATCHES_IN_FLIGHT = 8

type PtyCalls = Libc & {
	posixOpenpt(flags: number): number
	grantpt(fd: number): number
	unlockpt(fd: number): number
	ptsnameR(fd: number, buffer: Buffer, length: number): number
	tcgetattr(fd: number, termios: Buffer): number
	tcsetattr(fd: number, action: number, termios: Buffer): number
	cfmakeraw(termios: Buffer): void
}

let calls: PtyCalls | undefined

function ptyCalls(): PtyCalls {
	if (calls) return calls
	const {lib} = ffi()
	const posixOpenpt = lib.func('int posix_openpt(int flags)')
	const grantpt = lib.func('int grantpt(int fd)')
	const unlockpt = lib.func('int unlockpt(int fd)')
	const ptsnameR = lib.func('int ptsname_r(int fd, void *buffer, unsigned long length)')
	const tcgetattr = lib.func('int tcgetattr(int fd, void *termios)')
	const tcsetattr = lib.func('int tcsetattr(int fd, int action, const void *termios)')
	const cfmakeraw = lib.func('void cfmakeraw(void *termios)')
	calls = {
		...libc(),
		posixOpenpt: (flags) => posixOpenpt(flags) as number,
		grantpt: (fd) => grantpt(fd) as number,
		unlockpt: (fd) => unlockpt(fd) as number,
		ptsnameR: (fd, buffer, length) => ptsnameR(fd, buffer, length) as number,
		tcgetattr: (fd, termios) => tcgetattr(fd, termios) as number,
		tcsetattr: (fd, action, termios) => tcsetattr(fd, action, termios) as number,
		cfmakeraw: (termios) => {
			cfmakeraw(termios)
		},
	}
	return calls
}

export class PtyError extends UsbvnetError {}

function failure(c: PtyCalls, what: string, errno = c.errno()): PtyError {
	const {name, text} = describeErrno(errno)
	return new PtyError(`pseudo-terminal: ${what}: ${text} (${name})`, 'PTY_ERROR', ExitCode.refused)
}

export interface PtyOptions {
	/** Bytes a program wrote to the slave, in order, in batches. */
	onData(chunks: Buffer[]): void
	/** The reader stopped on an error. */
	onError(error: Error): void
}

export class PseudoTerminal {
	private closed = false

	private constructor(
		private readonly c: PtyCalls,
		private readonly master: number,
		/** The slave's path, e.g. /dev/pts/3: what programs open. */
		readonly slavePath: string,
		private readonly reader: FdReader,
	) {}

	/** Opens a raw pseudo-terminal pair. Throws PtyError with nothing left open. */
	static open(options: PtyOptions): PseudoTerminal {
		const c = ptyCalls()
		const master = c.posixOpenpt(O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK)
		if (master < 0) throw failure(c, 'posix_openpt')
		let slave = -1
		let slavePath: string
		let reader: FdReader
		try {
			if (c.grantpt(master) < 0) throw failure(c, 'grantpt')
			if (c.unlockpt(master) < 0) throw failure(c, 'unlockpt')
			const name = Buffer.alloc(128)
			const rc = c.ptsnameR(master, name, name.length)
			if (rc !== 0) throw failure(c, 'ptsname_r', rc)
			slavePath = name.subarray(0, name.indexOf(0)).toString('utf8')
			const termios = Buffer.alloc(TERMIOS_SIZE)
			if (c.tcgetattr(master, termios) < 0) throw failure(c, 'tcgetattr')
			c.cfmakeraw(termios)
			if (c.tcsetattr(master, TCSANOW, termios) < 0) throw failure(c, 'tcsetattr')
			slave = c.open(slavePath, O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK)
			if (slave < 0) throw failure(c, `open ${slavePath}`)
			reader = FdReader.start(c, master, {
				maxInFlight: PTY_MAX_BATCHES_IN_FLIGHT,
				bufferSize: PTY_READ_BUFFER,
				onRead: (chunks) => options.onData(chunks),
				onError: (error) =>
					options.onError(typeof error === 'string' ? new PtyError(`pseudo-terminal ${slavePath}: ${error}`, 'PTY_ERROR', ExitCode.refused) : error),
				onExit: () => {
					c.close(master)
					c.close(slave)
				},
				failure: (what, errno) => failure(c, what, errno),
			})
		} catch (error) {
			if (slave >= 0) c.close(slave)
			c.close(master)
			throw error
		}
		return new PseudoTerminal(c, master, slavePath, reader)
	}

	/** Bytes for programs reading the slave; returns how many the pty took (fewer when its queue is full). */
	write(data: Buffer): number {
		if (this.closed) return 0
		return Math.max(0, this.c.write(this.master, data, data.length))
	}

	/** Stops the reader, then closes both ends: programs holding the slave read end-of-file. */
	close(): Promise<void> {
		this.closed = true
		return this.reader.stop()
	}
}
