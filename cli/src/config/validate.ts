/**
 * Checks configurations against schemas/config.schema.json. ajv compiles the
 * schema once per process; its errors become one sentence each, naming the
 * JSON path, what was expected, what was found and, for a misspelled key or
 * value, the closest valid one.
 */
import {readFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {dirname, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import type * as Ajv from 'ajv/dist/2020.js'
import type {ErrorObject, ValidateFunction} from 'ajv/dist/2020.js'
import {checkDhcp} from './dhcp.js'
import {SchemaValidationError, type ConfigIssue} from './errors.js'
import {closestMatch} from './suggest.js'
import type {UsbvnetConfig} from './types.js'

/** schemas/ at the repository root, from cli/dist/config/. */
export const CONFIG_SCHEMA_PATH = resolve(dirname(fileURLToPath(import.meta.url)), '../../../schemas/config.schema.json')

let compiled: ValidateFunction<UsbvnetConfig> | undefined

function validator(): ValidateFunction<UsbvnetConfig> {
	if (!compiled) {
		// Loaded on first use: commands that never validate (status, slots) skip its ~85 modules.
		const {Ajv2020} = createRequire(import.meta.url)('ajv/dist/2020.js') as typeof Ajv
		const schema = JSON.parse(readFileSync(CONFIG_SCHEMA_PATH, 'utf8')) as Record<string, unknown>
		// verbose: errors carry the offending data and the parent schema, which the messages quote.
		const ajv = new Ajv2020({allErrors: true, verbose: true, strict: true})
		compiled = ajv.compile<UsbvnetConfig>(schema)
	}
	return compiled
}

/**
 * Returns the configuration typed, or throws SchemaValidationError listing
 * every problem: the schema's, then those across the keys of "dhcp" present
 * in the file (dhcp.ts).
 */
export function validateConfig(data: unknown, source: string): UsbvnetConfig {
	const validate = validator()
	if (!validate(data)) throw new SchemaValidationError(source, relevantErrors(validate.errors ?? []).map(describeError))
	const issues = data.dhcp ? checkDhcp(data.dhcp) : []
	if (issues.length > 0) throw new SchemaValidationError(source, issues)
	return data
}

/**
 * Leaves out the errors of the alternatives of an anyOf or oneOf, which its
 * own error sums up ("an IPv4 address or null"; "exactly one of ...").
 */
function relevantErrors(errors: readonly ErrorObject[]): ErrorObject[] {
	const anyOfAt = new Set(errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath))
	return errors.filter((e) => {
		if (e.keyword === 'anyOf') return true
		if (/\/oneOf\/\d+\//.test(e.schemaPath)) return false
		return !anyOfAt.has(e.instancePath)
	})
}

// ---- messages ---------------------------------------------------------------

/** "/rules/0/vendor" -> "$.rules[0].vendor" */
export function toJsonPath(pointer: string, ...more: string[]): string {
	const segments = pointer === '' ? [] : pointer.slice(1).split('/').map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'))
	segments.push(...more)
	return segments.reduce((path, segment) => {
		if (/^(0|[1-9][0-9]*)$/.test(segment)) return `${path}[${segment}]`
		if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(segment)) return `${path}.${segment}`
		return `${path}[${JSON.stringify(segment)}]`
	}, '$')
}

function describeValue(value: unknown): string {
	if (value === null) return 'null'
	if (Array.isArray(value)) return 'an array'
	switch (typeof value) {
		case 'string':
			return `the string ${JSON.stringify(value)}`
		case 'number':
			return `the number ${value}`
		case 'boolean':
			return `${value}`
		case 'object':
			return 'an object'
		default:
			return typeof value
	}
}

const TYPE_NAMES: Record<string, string> = {
	object: 'an object',
	array: 'an array',
	string: 'a string',
	boolean: 'true or false',
	number: 'a number',
	integer: 'an integer',
	null: 'null',
}

const MAC_SHAPE = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/

function macMessage(value: unknown): string {
	const expected = 'expected a unicast MAC address "xx:xx:xx:xx:xx:xx" in hex, e.g. "02:00:5e:10:00:01"'
	if (typeof value === 'string' && MAC_SHAPE.test(value)) {
		if (/^0{2}(:00){5}$/.test(value)) return `${expected}, got the all-zero address`
		return `${expected}, got the multicast address ${JSON.stringify(value)} (the first octet must be even)`
	}
	return `${expected}, got ${describeValue(value)}`
}

function usbIdMessage(value: unknown): string {
	if (value === '0x0000') return 'expected a USB ID, got "0x0000", which the driver reads as any: write "*"'
	return `expected a USB ID as "0x" and 4 hex digits (e.g. "0x0525") or "*" for any, got ${describeValue(value)}`
}

const IPV4_EXPECTED = 'expected an IPv4 address "a.b.c.d" without leading zeros, e.g. "100.127.254.1"'

/** What an anyOf at this place allows, by the last key of its path. */
const ANY_OF_EXPECTED: Record<string, string> = {
	router: `${IPV4_EXPECTED}, or null for none`,
	mtu: 'expected an integer from 576 to 65535, or null for none',
}

/** What a list at this place holds, for "at most N ...". */
const LIST_NAMES: Record<string, string> = {
	'/rules': 'rules (the driver holds no more)',
	'/dhcp/dns': 'DNS servers (the driver sends no more)',
	'/dhcp/reservations': 'reservations (the driver holds no more)',
}

function patternMessage(error: ErrorObject, data: unknown): string | undefined {
	const at = error.schemaPath
	if (at.startsWith('#/properties/mac/') || at.startsWith('#/$defs/reservation/properties/mac/')) return macMessage(data)
	if (at.startsWith('#/$defs/usbId/')) return usbIdMessage(data)
	if (at.startsWith('#/$defs/ipv4/')) return `${IPV4_EXPECTED}, got ${describeValue(data)}`
	// Inside a $ref, ajv's schema paths start at the referenced schema: go by the key.
	const key = error.instancePath.split('/').pop()
	if (error.instancePath.startsWith('/dhcp/') && key === 'subnet') {
		return `expected a subnet "a.b.c.d/N" with a prefix length from 8 to 30, e.g. "100.127.254.0/24", got ${describeValue(data)}`
	}
	if (error.instancePath.startsWith('/dhcp/reservations/') && key === 'serial') {
		return 'expected a USB serial number without NUL characters (the driver stores it NUL-terminated)'
	}
	if (error.instancePath.startsWith('/dhcp/') && key === 'domain') {
		return `expected a domain name of letters, digits, "-" and ".", starting with a letter or digit, got ${describeValue(data)}`
	}
	return undefined
}

function keysOf(schema: unknown): string[] {
	const properties = (schema as {properties?: Record<string, unknown>} | undefined)?.properties ?? {}
	return Object.keys(properties).filter((key) => key !== '$schema')
}

function describeError(error: ErrorObject): ConfigIssue {
	const path = toJsonPath(error.instancePath)
	const params = error.params as Record<string, unknown>
	const data: unknown = error.data
	switch (error.keyword) {
		case 'additionalProperties': {
			const key = String(params['additionalProperty'])
			const valid = keysOf(error.parentSchema)
			const suggestion = closestMatch(key, valid)
			const keyPath = toJsonPath(error.instancePath, key)
			return suggestion
				? {path: keyPath, message: `unknown key "${key}"; did you mean "${suggestion}"?`, suggestion}
				: {path: keyPath, message: `unknown key "${key}"; valid keys here: ${valid.join(', ')}`}
		}
		case 'required':
			return {path, message: `missing required key "${String(params['missingProperty'])}"`}
		case 'type':
			return {path, message: `expected ${TYPE_NAMES[String(params['type'])] ?? String(params['type'])}, got ${describeValue(data)}`}
		case 'enum': {
			const allowed = (params['allowedValues'] as unknown[]).map(String)
			const suggestion = typeof data === 'string' ? closestMatch(data, allowed) : undefined
			const message = `expected one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}, got ${describeValue(data)}`
			return suggestion ? {path, message: `${message}; did you mean "${suggestion}"?`, suggestion} : {path, message}
		}
		case 'pattern':
		case 'not':
			return {path, message: patternMessage(error, data) ?? `${error.message ?? 'is invalid'}, got ${describeValue(data)}`}
		case 'maxItems': {
			const count = Array.isArray(data) ? data.length : 0
			return {path, message: `at most ${String(params['limit'])} ${LIST_NAMES[error.instancePath] ?? 'items'}, got ${count}`}
		}
		case 'minimum':
		case 'maximum': {
			const range = error.parentSchema as {minimum?: number; maximum?: number} | undefined
			return {path, message: `expected an integer from ${String(range?.minimum)} to ${String(range?.maximum)}, got ${describeValue(data)}`}
		}
		case 'minLength':
			return {path, message: 'expected a non-empty string'}
		case 'maxLength':
			return {path, message: `at most ${String(params['limit'])} characters, got ${typeof data === 'string' ? data.length : 0}`}
		case 'anyOf': {
			const key = error.instancePath.split('/').pop() ?? ''
			return {path, message: `${ANY_OF_EXPECTED[key] ?? 'matches none of the allowed forms'}, got ${describeValue(data)}`}
		}
		case 'oneOf': {
			const passing = params['passingSchemas'] as number[] | null
			const names = ['"mac"', '"serial"', '"slot"']
			const got = passing ? passing.map((index) => names[index]).join(' and ') : 'none'
			return {path, message: `a reservation names its client by exactly one of "mac", "serial" or "slot", got ${got}`}
		}
		case 'uniqueItems':
			return {
				path,
				message: `${JSON.stringify((data as unknown[])[Number(params['i'])])} is listed twice (items ${String(params['j'])} and ${String(params['i'])})`,
			}
		default:
			return {path, message: `${error.message ?? 'is invalid'}`}
	}
}
