/**
 * Reads a configuration file: bytes, then JSON (with line and column on a
 * syntax error), then the schema. Each step fails with its own ConfigError.
 */
import {readFileSync} from 'node:fs'
import {ConfigFileError, JsonSyntaxError} from './errors.js'
import {findJsonSyntaxProblem} from './json-syntax.js'
import type {UsbvnetConfig} from './types.js'
import {validateConfig} from './validate.js'

/** "-" reads standard input, for configurations piped in by provisioning tools. */
export const STDIN_PATH = '-'

/** Reads a JSON file's text; failures become a ConfigFileError saying why. */
export function readConfigText(path: string): string {
	try {
		return readFileSync(path === STDIN_PATH ? 0 : path, 'utf8')
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code
		const reason =
			code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : String(error)
		throw new ConfigFileError(path, reason, {cause: error})
	}
}

/** Parses JSON text, or throws JsonSyntaxError with line and column; `source` names it. */
export function parseJsonText(text: string, source: string): unknown {
	// Editors on other systems may save a byte order mark; JSON.parse refuses it.
	const json = text.startsWith('\uFEFF') ? text.slice(1) : text
	try {
		return JSON.parse(json) as unknown
	} catch (error) {
		const problem = findJsonSyntaxProblem(json)
		if (problem) throw new JsonSyntaxError(source, problem.line, problem.column, problem.message)
		// Only if our scanner and V8 disagree: still a syntax error, without a position.
		throw new JsonSyntaxError(source, 1, 1, (error as Error).message)
	}
}

/** Parses and validates configuration text; `source` names it in messages. */
export function parseConfigText(text: string, source: string): UsbvnetConfig {
	return validateConfig(parseJsonText(text, source), source)
}

export function loadConfigFile(path: string): UsbvnetConfig {
	return parseConfigText(readConfigText(path), path === STDIN_PATH ? '<stdin>' : path)
}
