// Pseudo-terminal backend of a CDC ACM function: the far end of the host's
// /dev/ttyACMn is a pty on the serving machine (driver/pty.ts), optionally
// reachable under a fixed name through a symlink to its slave, so that
// minicom, screen or a getty can be run on it.
//
// Bounded both ways: what the host writes beyond the pty's queue (programs
// not reading the slave) and what programs write beyond the function's
// buffer toward the host are dropped and counted.

import {lstat, mkdir, readlink, symlink, unlink} from 'node:fs/promises'
import {dirname} from 'node:path'
import type {SerialHandler, SerialPort} from './cdc-acm.js'
import {PseudoTerminal} from '../../driver/pty.js'
import type {PtyOptions} from '../../driver/pty.js'

export interface SerialPtyStats {
	fromHost: number
	toHost: number
	droppedFromHost: number
	droppedToHost: number
}

/** What opens the pty: the real one by default. */
export type PtyOpener = (options: PtyOptions) => Pick<PseudoTerminal, 'slavePath' | 'write' | 'close'>

export class SerialPty implements SerialHandler {
	readonly stats: SerialPtyStats = {fromHost: 0, toHost: 0, droppedFromHost: 0, droppedToHost: 0}
	private port: SerialPort | undefined
	private pty: ReturnType<PtyOpener> | undefined
	private linked = false

	constructor(
		/** A symlink made to the slave, e.g. /run/usbvnet/ttyVUSB0. */
		readonly link: string | undefined,
		private readonly onError: (error: Error) => void = () => {},
		private readonly open: PtyOpener = (options) => PseudoTerminal.open(options),
	) {}

	/** The slave's path (/dev/pts/N) once started. */
	get slavePath(): string | null {
		return this.pty?.slavePath ?? null
	}

	attach(port: SerialPort): void {
		this.port = port
	}

	/**
	 * Opens the pty and makes the link. An existing symlink at `link` is
	 * replaced (a previous run's); anything else there is an error.
	 */
	async start(): Promise<void> {
		this.pty = this.open({
			onData: (chunks) => {
				for (const chunk of chunks) {
					if (this.port?.writeToHost(chunk)) this.stats.toHost += chunk.length
					else this.stats.droppedToHost += chunk.length
				}
			},
			onError: (error) => this.onError(error),
		})
		if (this.link === undefined) return
		try {
			await mkdir(dirname(this.link), {recursive: true})
			const existing = await lstat(this.link).catch(() => undefined)
			if (existing && !existing.isSymbolicLink()) throw new Error(`${this.link} exists and is not a symlink`)
			if (existing) await unlink(this.link)
			await symlink(this.pty.slavePath, this.link)
			this.linked = true
		} catch (error) {
			await this.pty.close()
			this.pty = undefined
			throw error
		}
	}

	bytesFromHost(data: Buffer): void {
		const taken = this.pty ? this.pty.write(data) : 0
		this.stats.fromHost += taken
		this.stats.droppedFromHost += data.length - taken
	}

	/** Closes the pty and removes the link if it still points at our slave. */
	async close(): Promise<void> {
		const pty = this.pty
		this.pty = undefined
		if (!pty) return
		if (this.linked && this.link !== undefined) {
			this.linked = false
			const target = await readlink(this.link).catch(() => undefined)
			if (target === pty.slavePath) await unlink(this.link).catch(() => {})
		}
		await pty.close()
	}
}
