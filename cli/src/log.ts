/**
 * The command's diagnostics, always on stderr so that stdout carries only the
 * result (pure JSON with --json). Readable lines on a terminal; JSON lines
 * with --json or when stderr is not a terminal (journald, installer logs,
 * MDM agents), so that machines can parse them too.
 *
 * winston is loaded only when a message is actually written: most runs log
 * nothing, and its few dozen modules cost seconds on slow machines (and
 * minutes in the emulated VM lab).
 */
import {createRequire} from 'node:module'
import type * as Winston from 'winston'

export interface LogOptions {
	verbose: boolean
	json: boolean
}

export type LogLevel = 'error' | 'warn' | 'info' | 'debug'

export interface Logger {
	error(message: string): void
	warn(message: string): void
	info(message: string): void
	/** Written only with --verbose. */
	debug(message: string): void
}

let options: LogOptions = {verbose: false, json: false}
let backend: Winston.Logger | undefined

function createBackend(): Winston.Logger {
	const winston = createRequire(import.meta.url)('winston') as typeof Winston
	const isTerminal = Boolean(process.stderr.isTTY)
	const format =
		options.json || !isTerminal
			? winston.format.combine(winston.format.timestamp(), winston.format.json())
			: winston.format.printf(({level, message}) => `usbvnet: ${level === 'info' ? '' : `${level}: `}${String(message)}`)
	return winston.createLogger({
		level: options.verbose ? 'debug' : 'info',
		format,
		transports: [new winston.transports.Console({stderrLevels: ['error', 'warn', 'info', 'debug']})],
	})
}

function write(level: LogLevel, message: string): void {
	if (level === 'debug' && !options.verbose) return
	backend ??= createBackend()
	backend.log(level, message)
}

export const log: Logger = {
	error: (message) => write('error', message),
	warn: (message) => write('warn', message),
	info: (message) => write('info', message),
	debug: (message) => write('debug', message),
}

/** Called once per command run, after its flags are parsed. */
export function configureLogging(newOptions: LogOptions): void {
	options = newOptions
	backend = undefined
}
