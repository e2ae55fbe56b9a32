/**
 * The command's diagnostics, always on stderr so that stdout carries only the
 * result (pure JSON with --json). Readable lines on a terminal; JSON lines
 * with --json or when stderr is not a terminal (journald, installer logs,
 * MDM agents), so that machines can parse them too.
 */
import winston from 'winston'

export interface LogOptions {
	verbose: boolean
	json: boolean
}

const allLevels = Object.keys(winston.config.npm.levels)

function formatFor(options: LogOptions, isTerminal: boolean): winston.Logform.Format {
	if (options.json || !isTerminal) {
		return winston.format.combine(winston.format.timestamp(), winston.format.json())
	}
	return winston.format.printf(({level, message, ...meta}) => {
		const details = Object.keys(meta).length > 0 ? ` ${JSON.stringify(meta)}` : ''
		return `usbvnet: ${level === 'info' ? '' : `${level}: `}${String(message)}${details}`
	})
}

function createLogger(options: LogOptions): winston.Logger {
	return winston.createLogger({
		level: options.verbose ? 'debug' : 'info',
		format: formatFor(options, Boolean(process.stderr.isTTY)),
		transports: [new winston.transports.Console({stderrLevels: allLevels})],
	})
}

/** Quiet until a command configures it: library code may log before that. */
export let log: winston.Logger = createLogger({verbose: false, json: false})

/** Called once per command run, after its flags are parsed. */
export function configureLogging(options: LogOptions): winston.Logger {
	log = createLogger(options)
	return log
}
