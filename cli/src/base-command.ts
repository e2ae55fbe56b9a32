/**
 * What every usbvnet command shares: --verbose, logging set up from the
 * flags, and turning errors into the documented exit codes (errors.ts), as
 * one line on stderr or, with --json, as {"error": {...}} on stdout.
 */
import {Command, Errors, Flags, type Interfaces} from '@oclif/core'
import {DEFAULT_MANAGED_DIR} from './config/types.js'
import {ExitCode, UsbvnetError} from './errors.js'
import {configureLogging, log} from './log.js'
import {checkInterfaceName} from './names.js'

export type CommandFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof UsbvnetCommand)['baseFlags'] & T['flags']>
export type CommandArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

/** --instance, for the commands that address one instance. */
export const instanceFlag = Flags.string({
	char: 'i',
	description: 'usbvnet instance (its interface name); empty means the default, usbvnet0',
	default: '',
	helpValue: 'NAME',
	async parse(input) {
		return input === '' ? '' : checkInterfaceName(input, 'instance')
	},
})

/** --managed-dir, for the commands that layer managed profiles over a configuration. */
export const managedDirFlag = Flags.string({
	description: 'directory of the managed profiles (MDM), which lock the settings they make',
	default: DEFAULT_MANAGED_DIR,
	env: 'USBVNET_MANAGED_DIR',
	helpValue: 'DIR',
})

export interface JsonError {
	code: string
	message: string
	exitCode: number
	[detail: string]: unknown
}

export abstract class UsbvnetCommand<T extends typeof Command> extends Command {
	static override baseFlags = {
		verbose: Flags.boolean({char: 'v', description: 'log debug details (requests sent to the driver) to stderr', helpGroup: 'GLOBAL'}),
	}

	protected flags!: CommandFlags<T>
	protected args!: CommandArgs<T>

	override async init(): Promise<void> {
		await super.init()
		const {args, flags} = await this.parse({
			flags: this.ctor.flags,
			baseFlags: (super.ctor as typeof UsbvnetCommand).baseFlags,
			enableJsonFlag: this.ctor.enableJsonFlag,
			args: this.ctor.args,
			strict: this.ctor.strict,
		})
		this.flags = flags as CommandFlags<T>
		this.args = args as CommandArgs<T>
		configureLogging({verbose: this.flags.verbose, json: this.jsonEnabled()})
	}

	protected override async catch(error: Error & {exitCode?: number}): Promise<unknown> {
		if (error instanceof Errors.ExitError) throw error
		const report = describeFailure(error)
		if (report.exitCode === ExitCode.internal && error.stack) log.debug(error.stack)
		if (this.jsonEnabled()) {
			this.logJson({error: report})
		} else {
			process.stderr.write(`usbvnet: ${report.message}\n`)
		}
		// ExitError is not printed again by oclif's handler, only exits.
		return this.exit(report.exitCode)
	}
}

const HELP_HINT = '\nSee more help with --help'
const FLAG_PARSE = /^Parsing --(\S+) \n\t([\s\S]*)$/

/**
 * The reason alone: oclif rewrites what a flag's parse() throws (our
 * UsageError too) to "Parsing --NAME \n\tREASON\nSee more help with --help"
 * and ends its own parse errors with that hint, which would leak into
 * stderr and --json. "--NAME: REASON" instead.
 */
export function failureMessage(message: string): string {
	const text = message.endsWith(HELP_HINT) ? message.slice(0, -HELP_HINT.length) : message
	const flag = FLAG_PARSE.exec(text)
	return flag ? `--${flag[1]}: ${flag[2]}` : text
}

export function describeFailure(error: Error): JsonError {
	const message = failureMessage(error.message)
	if (error instanceof UsbvnetError) return {...(error.toJSON() as JsonError), message}
	if (error instanceof Errors.CLIError) {
		// oclif's own: parse errors (unknown flag, missing argument) exit with 2.
		const exitCode = error.oclif.exit ?? ExitCode.usage
		return {code: exitCode === ExitCode.usage ? 'USAGE' : 'CLI', message, exitCode}
	}
	return {code: 'INTERNAL', message: `internal error: ${message} (run with --verbose for details)`, exitCode: ExitCode.internal}
}
