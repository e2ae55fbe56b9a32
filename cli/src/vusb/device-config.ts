// Device definitions as JSON (schemas/vusb-device.schema.json): validation
// with ajv, compiled once, and turning a valid definition into a UsbDevice.
// Errors reuse the configuration layer's types so both read alike.

import {readFileSync} from 'node:fs'
import {dirname, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {Ajv2020} from 'ajv/dist/2020.js'
import type {ErrorObject, ValidateFunction} from 'ajv/dist/2020.js'
import {SchemaValidationError} from '../config/errors.js'
import type {ConfigIssue} from '../config/errors.js'
import {parseJsonText, readConfigText} from '../config/load.js'
import {closestMatch} from '../config/suggest.js'
import {toJsonPath} from '../config/validate.js'
import {UsbDevice} from './usb/device.js'
import type {UsbFunction} from './usb/device.js'
import {CdcEcmFunction} from './functions/cdc-ecm.js'
import {CdcNcmFunction} from './functions/cdc-ncm.js'
import type {FrameHandler} from './functions/cdc-net.js'
import {CdcAcmFunction} from './functions/cdc-acm.js'
import type {SerialHandler} from './functions/cdc-acm.js'
import {HidKeyboardFunction} from './functions/hid-keyboard.js'

/** schemas/ at the repository root, from cli/dist/vusb/. */
export const VUSB_DEVICE_SCHEMA_PATH = resolve(
	dirname(fileURLToPath(import.meta.url)),
	'../../../schemas/vusb-device.schema.json',
)

/** A TAP on the serving machine: its name, or name, network namespace and MAC. */
export type TapBackendConfig = string | {name: string; netns?: string; mac?: string}

export interface NetworkBackendConfig {
	tap: TapBackendConfig
}

interface NetworkFunctionFields {
	hostMac: string
	connected?: boolean
	linkSpeedBps?: number
	maxSegmentSize?: number
	interfaceName?: string
	backend?: NetworkBackendConfig
}

/** The TAP settings of a backend, whichever way they were written. */
export function tapOf(backend: NetworkBackendConfig | undefined): {name: string; netns?: string; mac?: string} | undefined {
	if (!backend) return undefined
	return typeof backend.tap === 'string' ? {name: backend.tap} : backend.tap
}

export interface CdcEcmConfig extends NetworkFunctionFields {
	type: 'cdc-ecm'
}

export interface CdcNcmConfig extends NetworkFunctionFields {
	type: 'cdc-ncm'
	ntbInMaxSize?: number
	ntbOutMaxSize?: number
}

/** The far end of a serial function: a TCP listener (one client at a time), a TCP connection, or a pseudo-terminal. */
export type SerialBackendConfig =
	| {tcp: {listen: string; connect?: never} | {connect: string; listen?: never}; pty?: never}
	| {pty: {link?: string}; tcp?: never}

export interface CdcAcmConfig {
	type: 'cdc-acm'
	interfaceName?: string
	/** Default: an echo. */
	backend?: SerialBackendConfig
}

export interface HidKeyboardConfig {
	type: 'hid-keyboard'
	interfaceName?: string
}

export type FunctionConfig = CdcEcmConfig | CdcNcmConfig | CdcAcmConfig | HidKeyboardConfig
export type NetworkFunctionConfig = CdcEcmConfig | CdcNcmConfig

export function isNetworkFunction(fn: FunctionConfig): fn is NetworkFunctionConfig {
	return fn.type === 'cdc-ecm' || fn.type === 'cdc-ncm'
}

/** The JSON shape of one device; IDs stay strings ("0x1d6b") as written. */
export interface VusbDeviceConfig {
	busid?: string
	vendorId: string
	productId: string
	bcdDevice?: string
	manufacturer?: string
	product?: string
	serial?: string
	speed?: 'full' | 'high'
	maxPowerMilliamps?: number
	selfPowered?: boolean
	functions: FunctionConfig[]
}

let compiled: ValidateFunction<VusbDeviceConfig> | undefined

function validator(): ValidateFunction<VusbDeviceConfig> {
	if (!compiled) {
		const schema = JSON.parse(readFileSync(VUSB_DEVICE_SCHEMA_PATH, 'utf8')) as Record<string, unknown>
		// discriminator: one error about the function that is wrong, not one per oneOf branch.
		const ajv = new Ajv2020({allErrors: true, verbose: true, strict: true, discriminator: true})
		compiled = ajv.compile<VusbDeviceConfig>(schema)
	}
	return compiled
}

/** What each pattern-checked definition means, in words. */
const PATTERN_MEANING: Record<string, string> = {
	usbId: 'a USB ID as "0x" and 4 hex digits, e.g. "0x1d6b"',
	hostMac: 'a unicast MAC address "xx:xx:xx:xx:xx:xx" (first octet even, not all zeros), e.g. "02:00:00:00:00:01"',
	busid: 'a USB/IP bus ID like "1-3"',
	bcdDevice: 'a BCD release number like "0x0100"',
	mac: 'a unicast MAC address "xx:xx:xx:xx:xx:xx" (first octet even, not all zeros)',
	ifname: 'an interface name of 1-15 letters, digits, "_", ".", "-", "@" (not "." or ".."), e.g. "vusb0"',
	netns: 'a network namespace name (as in `ip netns add NAME`) or an absolute path',
	link: 'an absolute path not ending in "/", e.g. "/run/usbvnet/ttyVUSB0"',
	hostPort: 'HOST:PORT or [IPV6]:PORT with a port from 1 to 65535, e.g. "127.0.0.1:4001"',
}

/** "#/$defs/hostMac/not" -> "hostMac"; "#/properties/busid/pattern" -> "busid" (ajv inlines $refs). */
function schemaDefinition(schemaPath: string): string {
	const parts = schemaPath.split('/')
	return parts[parts.length - 2] ?? ''
}

function describeError(error: ErrorObject): ConfigIssue {
	const path = toJsonPath(error.instancePath)
	const params = error.params as Record<string, unknown>
	switch (error.keyword) {
		case 'additionalProperties': {
			const key = String(params['additionalProperty'])
			const parent = error.parentSchema as {properties?: Record<string, unknown>} | undefined
			const valid = Object.keys(parent?.properties ?? {}).filter((k) => k !== '$schema')
			const suggestion = closestMatch(key, valid)
			const keyPath = toJsonPath(error.instancePath, key)
			return suggestion
				? {path: keyPath, message: `unknown key "${key}"; did you mean "${suggestion}"?`, suggestion}
				: {path: keyPath, message: `unknown key "${key}"; valid keys here: ${valid.join(', ')}`}
		}
		case 'required':
			return {path, message: `missing required key "${String(params['missingProperty'])}"`}
		case 'discriminator': {
			const tag = JSON.stringify(params['tagValue'] ?? null)
			const types = ['cdc-ecm', 'cdc-ncm', 'cdc-acm', 'hid-keyboard']
			const suggestion = typeof params['tagValue'] === 'string' ? closestMatch(params['tagValue'], types) : undefined
			const message = `function type ${tag} is not one of ${types.join(', ')}`
			return suggestion ? {path: `${path}.type`, message: `${message}; did you mean "${suggestion}"?`, suggestion} : {path: `${path}.type`, message}
		}
		case 'enum': {
			const allowed = (params['allowedValues'] as unknown[]).map((v) => JSON.stringify(v))
			return {path, message: `expected one of ${allowed.join(', ')}, got ${JSON.stringify(error.data)}`}
		}
		case 'pattern':
		case 'not':
			return {path, message: `expected ${PATTERN_MEANING[schemaDefinition(error.schemaPath)] ?? 'a different value'}, got ${JSON.stringify(error.data)}`}
		default:
			return {path, message: `${error.message ?? 'is invalid'}, got ${JSON.stringify(error.data)}`}
	}
}

/** A string descriptor's bLength is one byte: 2 + 2 * 126 UTF-16 code units. */
const MAX_STRING_UNITS = 126

/** A string the schema passed (maxLength counts code points) that needs more UTF-16 units than a descriptor holds. */
function stringTooLong(path: string, text: string | undefined): ConfigIssue[] {
	if (text === undefined || text.length <= MAX_STRING_UNITS) return []
	return [{path, message: `needs ${text.length} UTF-16 code units, a USB string holds at most ${MAX_STRING_UNITS} (characters beyond U+FFFF take two)`}]
}

/** Checks what the schema cannot: string lengths in UTF-16 units, values that must differ across functions. */
function crossChecks(config: VusbDeviceConfig): ConfigIssue[] {
	const issues: ConfigIssue[] = [
		...stringTooLong('$.manufacturer', config.manufacturer),
		...stringTooLong('$.product', config.product),
		...stringTooLong('$.serial', config.serial),
	]
	config.functions.forEach((fn, i) => issues.push(...stringTooLong(`$.functions[${i}].interfaceName`, fn.interfaceName)))
	const macs = new Map<string, number>()
	const taps = new Map<string, number>()
	const listens = new Map<string, number>()
	config.functions.forEach((fn, i) => {
		const listen = fn.type === 'cdc-acm' ? fn.backend?.tcp?.listen : undefined
		if (listen !== undefined) {
			const firstListen = listens.get(listen)
			if (firstListen !== undefined) {
				issues.push({path: `$.functions[${i}].backend.tcp.listen`, message: `${listen} is already where functions[${firstListen}] listens`})
			} else listens.set(listen, i)
		}
		if (!isNetworkFunction(fn)) return
		const mac = fn.hostMac.toLowerCase()
		const first = macs.get(mac)
		if (first !== undefined) {
			issues.push({path: `$.functions[${i}].hostMac`, message: `${fn.hostMac} is already the hostMac of functions[${first}]`})
		} else macs.set(mac, i)
		const tap = tapOf(fn.backend)
		if (!tap) return
		const key = `${tap.netns ?? ''}/${tap.name}`
		const firstTap = taps.get(key)
		if (firstTap !== undefined) {
			issues.push({path: `$.functions[${i}].backend.tap`, message: `TAP ${tap.name} is already the backend of functions[${firstTap}]`})
		} else taps.set(key, i)
		if (tap.mac && tap.mac.toLowerCase() === mac) {
			issues.push({path: `$.functions[${i}].backend.tap.mac`, message: `the TAP's MAC must differ from the hostMac ${fn.hostMac}`})
		}
	})
	return issues
}

/**
 * A value that may be written two ways (a string or an object, as a TAP
 * backend) fails every branch of its oneOf: keep the errors of the branch
 * whose type matched, not "must be object" or "must match exactly one schema".
 */
export function withoutOneOfNoise(errors: ErrorObject[]): ErrorObject[] {
	const within = (path: string, prefix: string): boolean => path === prefix || path.startsWith(`${prefix}/`)
	const oneOfPaths = new Set(errors.filter((e) => e.keyword === 'oneOf').map((e) => e.instancePath))
	const noise = (e: ErrorObject): boolean => e.keyword === 'oneOf' || (e.keyword === 'type' && oneOfPaths.has(e.instancePath))
	return errors.filter((e) => !noise(e) || !errors.some((o) => !noise(o) && within(o.instancePath, e.instancePath)))
}

/** Returns the definition typed, or throws SchemaValidationError listing every problem. */
export function validateDeviceConfig(data: unknown, source: string): VusbDeviceConfig {
	const validate = validator()
	if (!validate(data)) throw new SchemaValidationError(source, withoutOneOfNoise(validate.errors ?? []).map(describeError))
	const issues = crossChecks(data)
	if (issues.length > 0) throw new SchemaValidationError(source, issues)
	return data
}

export function parseDeviceConfigText(text: string, source: string): VusbDeviceConfig {
	return validateDeviceConfig(parseJsonText(text, source), source)
}

export function loadDeviceConfigFile(path: string): VusbDeviceConfig {
	return parseDeviceConfigText(readConfigText(path), path)
}

/** Where each function's traffic goes: the caller decides (user-space handler, TAP, pty, ...). */
export interface FunctionHandlers {
	frames(config: NetworkFunctionConfig, index: number): FrameHandler
	serial(config: CdcAcmConfig, index: number): SerialHandler
	/** Called for each keyboard built, so the caller can type into it. */
	keyboard?(config: HidKeyboardConfig, index: number): HidKeyboardFunction
}

function parseHex(text: string): number {
	return Number.parseInt(text.slice(2), 16)
}

/** Builds the emulated device a valid definition describes. */
export function buildDevice(config: VusbDeviceConfig, handlers: FunctionHandlers): UsbDevice {
	const functions: UsbFunction[] = config.functions.map((fn, index) => {
		switch (fn.type) {
			case 'cdc-ecm':
				return new CdcEcmFunction({...fn, frameHandler: handlers.frames(fn, index)})
			case 'cdc-ncm':
				return new CdcNcmFunction({...fn, frameHandler: handlers.frames(fn, index)})
			case 'cdc-acm':
				return new CdcAcmFunction({...(fn.interfaceName === undefined ? {} : {interfaceName: fn.interfaceName}), handler: handlers.serial(fn, index)})
			case 'hid-keyboard':
				return handlers.keyboard?.(fn, index) ?? new HidKeyboardFunction(fn)
		}
	})
	return new UsbDevice(
		{
			vendorId: parseHex(config.vendorId),
			productId: parseHex(config.productId),
			bcdDevice: config.bcdDevice ? parseHex(config.bcdDevice) : 0x0100,
			manufacturer: config.manufacturer,
			product: config.product,
			serial: config.serial,
			speed: config.speed ?? 'high',
			maxPowerMilliamps: config.maxPowerMilliamps,
			selfPowered: config.selfPowered,
		},
		functions,
	)
}
