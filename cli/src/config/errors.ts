/**
 * Why a configuration was not accepted. Every ConfigError exits with 3 and
 * names its source (a file path) so that messages read well in installer
 * logs: "/etc/usbvnet/config.json: $.mode: expected ...".
 */
import {ExitCode, UsbvnetError} from '../errors.js'

export class ConfigError extends UsbvnetError {
	constructor(
		message: string,
		code: string,
		readonly source: string,
		options?: ErrorOptions,
	) {
		super(message, code, ExitCode.configInvalid, options)
	}

	override toJSON(): Record<string, unknown> {
		return {...super.toJSON(), source: this.source}
	}
}

/** The file could not be read at all. */
export class ConfigFileError extends ConfigError {
	constructor(source: string, reason: string, options?: ErrorOptions) {
		super(`${source}: cannot read the configuration: ${reason}`, 'CONFIG_UNREADABLE', source, options)
	}
}

export class JsonSyntaxError extends ConfigError {
	constructor(
		source: string,
		readonly line: number,
		readonly column: number,
		readonly problem: string,
	) {
		super(`${source}:${line}:${column}: invalid JSON: ${problem}`, 'CONFIG_JSON_SYNTAX', source)
	}

	override toJSON(): Record<string, unknown> {
		return {...super.toJSON(), line: this.line, column: this.column}
	}
}

/** One violation of the schema, at one place of the document. */
export interface ConfigIssue {
	/** Where, as a JSONPath: $.rules[2].vendor */
	path: string
	/** What is wrong there and what was expected, in one sentence. */
	message: string
	/** For a misspelled key or value: the closest valid one. */
	suggestion?: string
}

export class SchemaValidationError extends ConfigError {
	constructor(
		source: string,
		readonly issues: readonly ConfigIssue[],
	) {
		const summary = issues.length === 1 ? '1 problem' : `${issues.length} problems`
		const lines = issues.map((issue) => `  ${issue.path}: ${issue.message}`)
		super(`${source}: invalid configuration, ${summary}:\n${lines.join('\n')}`, 'CONFIG_SCHEMA', source)
	}

	override toJSON(): Record<string, unknown> {
		return {...super.toJSON(), issues: this.issues}
	}
}
