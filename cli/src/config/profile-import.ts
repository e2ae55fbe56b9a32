/**
 * `usbvnet config import-profile`: an Apple configuration profile (or a bare
 * plist dict) to a managed profile in managed.d.
 *
 * A configuration profile is a plist dict whose PayloadContent array holds
 * payload dicts; ours is the one with PayloadType "org.usbvnet.config", and
 * its keys other than the Payload* metadata (PayloadType, PayloadIdentifier,
 * PayloadUUID, PayloadVersion, PayloadDisplayName, ...) are the configuration:
 *
 *   <dict>
 *     <key>PayloadType</key><string>Configuration</string>
 *     <key>PayloadContent</key>
 *     <array><dict>
 *       <key>PayloadType</key><string>org.usbvnet.config</string>
 *       <key>PayloadIdentifier</key><string>com.example.fleet.usbvnet</string>
 *       <key>mode</key><string>private</string>
 *     </dict></array>
 *   </dict>
 *
 * A plist whose top dict has no PayloadContent is the configuration itself.
 */
import {closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync} from 'node:fs'
import {basename, join} from 'node:path'
import {UsageError, writeFailure} from '../errors.js'
import {ConfigFileError} from './errors.js'
import {STDIN_PATH, loadConfigFile} from './load.js'
import {PlistError, parsePlistFile, plistToJson, type PlistValue} from './plist.js'
import {layerProfiles, profileFiles, type ManagedProfile} from './profiles.js'
import type {UsbvnetConfig} from './types.js'
import {validateConfig} from './validate.js'

export const PAYLOAD_TYPE = 'org.usbvnet.config'

export interface ProfilePayload {
	config: UsbvnetConfig
	/** PayloadIdentifier of our payload, else of the profile. */
	identifier?: string
	/** Which part of the file the configuration came from, for messages. */
	where: string
}

type Dict = {[key: string]: PlistValue}
const isDict = (value: PlistValue | undefined): value is Dict =>
	typeof value === 'object' && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype

const stringOf = (value: PlistValue | undefined): string | undefined => (typeof value === 'string' ? value : undefined)

/** Finds our payload in a parsed plist and converts it to a validated configuration. */
export function payloadFromPlist(plist: PlistValue, source: string): ProfilePayload {
	if (!isDict(plist)) throw new PlistError(source, 'the plist is not a dict (a configuration profile or a configuration is one)', 'PROFILE_PAYLOAD')
	if (Object.hasOwn(plist, 'EncryptedPayloadContent')) {
		throw new PlistError(source, 'the payloads are encrypted (EncryptedPayloadContent): decrypt the profile for this machine first', 'PROFILE_PAYLOAD')
	}
	let payload: Dict = plist
	let where = ''
	let identifier = stringOf(plist['PayloadIdentifier'])
	const content = plist['PayloadContent']
	if (content !== undefined) {
		if (!Array.isArray(content)) throw new PlistError(source, 'PayloadContent is not an array of payload dicts', 'PROFILE_PAYLOAD')
		const ours = content.flatMap((item, index) => (isDict(item) && item['PayloadType'] === PAYLOAD_TYPE ? [{item, index}] : []))
		if (ours.length === 0) {
			const types = content.map((item) => (isDict(item) ? (stringOf(item['PayloadType']) ?? '(no PayloadType)') : '(not a dict)'))
			const found = types.length === 0 ? 'PayloadContent is empty' : `it holds ${types.map((t) => JSON.stringify(t)).join(', ')}`
			throw new PlistError(source, `no payload with PayloadType "${PAYLOAD_TYPE}": ${found}`, 'PROFILE_PAYLOAD')
		}
		if (ours.length > 1) {
			throw new PlistError(
				source,
				`${ours.length} payloads with PayloadType "${PAYLOAD_TYPE}" (PayloadContent items ${ours.map((o) => o.index).join(', ')}); a profile carries one`,
				'PROFILE_PAYLOAD',
			)
		}
		const [{item, index}] = ours as [{item: Dict; index: number}]
		payload = item
		where = `PayloadContent[${index}] (${PAYLOAD_TYPE}): `
		identifier = stringOf(item['PayloadIdentifier']) ?? identifier
	}
	const settings: Dict = {}
	for (const [key, value] of Object.entries(payload)) {
		if (!key.startsWith('Payload')) Object.defineProperty(settings, key, {value, enumerable: true, writable: true, configurable: true})
	}
	const json = plistToJson(settings, source, where)
	const config = validateConfig(json, where === '' ? source : `${source} ${where.slice(0, -2)}`)
	return identifier === undefined ? {config, where} : {config, identifier, where}
}

const NAME_SHAPE = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,99}$/

/** The managed.d file name: --name, else the payload's identifier, else the input file's name. */
export function profileFileName(name: string | undefined, payload: ProfilePayload, input: string): string {
	if (name !== undefined) {
		const file = name.endsWith('.json') ? name : `${name}.json`
		if (!NAME_SHAPE.test(file)) {
			throw new UsageError(`--name "${name}": use letters, digits, ".", "_" and "-" (not starting with "." or "-"), at most 100 characters`)
		}
		return file
	}
	const base = payload.identifier ?? (input === STDIN_PATH ? 'profile' : basename(input).replace(/\.(mobileconfig|plist|xml)$/i, ''))
	const cleaned = base.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[.-]+/, '').slice(0, 95)
	return `${cleaned === '' ? 'profile' : cleaned}.json`
}

export interface ImportResult {
	/** The file read. */
	source: string
	/** The managed profile written (or that would be, with --dry-run). */
	profile: string
	identifier?: string
	written: boolean
	/** A profile of that name existed and was replaced. */
	replaced: boolean
	config: UsbvnetConfig
}

function readBytes(path: string): Buffer {
	try {
		return readFileSync(path === STDIN_PATH ? 0 : path)
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code
		const reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : String(error)
		throw new ConfigFileError(path, reason, {cause: error})
	}
}

/** Writes `text` to `path` through a dot file in the same directory and a rename: readers see the old file or the new one. */
export function writeFileAtomically(path: string, dir: string, text: string): void {
	const temporary = join(dir, `.${basename(path)}.${process.pid}.tmp`)
	try {
		mkdirSync(dir, {recursive: true, mode: 0o755})
		const fd = openSync(temporary, 'w', 0o644)
		try {
			writeSync(fd, text)
			fsyncSync(fd)
		} finally {
			closeSync(fd)
		}
		renameSync(temporary, path)
		const dirFd = openSync(dir, 'r')
		try {
			fsyncSync(dirFd)
		} finally {
			closeSync(dirFd)
		}
	} catch (error) {
		rmSync(temporary, {force: true})
		throw writeFailure(path, error, () => new ConfigFileError(path, `cannot write the managed profile: ${String(error)}`, {cause: error}))
	}
}

export interface ImportOptions {
	input: string
	managedDir: string
	name?: string
	dryRun: boolean
}

/**
 * Reads, converts and validates the profile, checks it against the other
 * profiles of the directory (a conflict would stop every later apply), then
 * writes it. Any failure writes nothing.
 */
export function importProfile(options: ImportOptions): ImportResult {
	const source = options.input === STDIN_PATH ? '<stdin>' : options.input
	const payload = payloadFromPlist(parsePlistFile(readBytes(options.input), source), source)
	const fileName = profileFileName(options.name, payload, options.input)
	const target = join(options.managedDir, fileName)
	const others: ManagedProfile[] = profileFiles(options.managedDir)
		.filter((path) => path !== target)
		.map((path) => ({path, config: loadConfigFile(path)}))
	const profiles = [...others, {path: target, config: payload.config}].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
	layerProfiles(options.managedDir, profiles)
	let replaced = false
	try {
		replaced = statSync(target).isFile()
	} catch {
		replaced = false
	}
	if (!options.dryRun) writeFileAtomically(target, options.managedDir, `${JSON.stringify(payload.config, null, 2)}\n`)
	const result: ImportResult = {source, profile: target, written: !options.dryRun, replaced, config: payload.config}
	return payload.identifier === undefined ? result : {...result, identifier: payload.identifier}
}
