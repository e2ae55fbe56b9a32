/**
 * Managed profiles: configurations an MDM (or a fleet's configuration
 * management) drops in /etc/usbvnet/managed.d/*.json. They use the
 * configuration schema and take precedence over the local configuration:
 * every setting a profile makes is locked.
 *
 * - Profiles are read in name order (byte order, as `ls` in the C locale);
 *   only `*.json` files count, dot files (an import in progress) do not.
 * - A setting is a leaf of the document: objects are walked into (a profile
 *   setting one DHCP option locks that option, not the others), arrays and
 *   scalars are one setting each (the rules are one ordered list).
 * - Two profiles setting one setting to different values is an error naming
 *   both: there is no precedence between profiles to get wrong. Equal values
 *   are fine.
 * - A local file may repeat a locked setting with the profile's value; a
 *   different value is refused, naming the setting and the profile, and
 *   nothing is applied.
 * - The effective configuration is the local file with every profile merged
 *   over it.
 * - A profile that cannot be read or is invalid stops every command that
 *   layers profiles: applying without the policy would break it silently.
 */
import {readdirSync} from 'node:fs'
import {join} from 'node:path'
import {ConfigError} from './errors.js'
import {loadConfigFile} from './load.js'
import {DRIVER_NAMES, type UsbvnetConfig} from './types.js'
export {DEFAULT_MANAGED_DIR} from './types.js'
import {toJsonPath, validateConfig} from './validate.js'

export interface ManagedProfile {
	/** The file's path, as profiles are named in messages. */
	path: string
	config: UsbvnetConfig
}

/** One locked setting. */
export interface Lock {
	/** A JSONPath: $.mode, $.dhcp.dns */
	path: string
	/** Object keys from the root; the path's parts. */
	keys: string[]
	value: unknown
	/** The profile that sets it (the first in name order, if several set it alike). */
	profile: string
}

/** The profiles of one directory, merged. */
export interface ManagedLayer {
	dir: string
	profiles: ManagedProfile[]
	locks: Lock[]
	/** Every profile merged, in name order. */
	config: UsbvnetConfig
}

export interface ProfileConflict {
	path: string
	first: {profile: string; value: unknown}
	second: {profile: string; value: unknown}
}

export interface LockViolation {
	path: string
	profile: string
	locked: unknown
	value: unknown
}

/** A setting's value as messages quote it. */
export const showValue = (value: unknown): string => JSON.stringify(value)

/** Two profiles set one setting to different values. Exit 3. */
export class ProfileConflictError extends ConfigError {
	constructor(readonly conflicts: readonly ProfileConflict[]) {
		const lines = conflicts.map((c) => `  ${c.path}: ${c.first.profile} sets ${showValue(c.first.value)}, ${c.second.profile} sets ${showValue(c.second.value)}`)
		const summary = conflicts.length === 1 ? '1 setting' : `${conflicts.length} settings`
		super(
			`managed profiles conflict on ${summary}, nothing was applied:\n${lines.join('\n')}\nA setting may be locked by several profiles only with one value: remove it from all but one.`,
			'PROFILE_CONFLICT',
			(conflicts[0] as ProfileConflict).second.profile,
		)
	}

	override toJSON(): Record<string, unknown> {
		return {...super.toJSON(), conflicts: this.conflicts}
	}
}

/** A local file changes a setting a profile locks. Exit 3. */
export class ConfigLockedError extends ConfigError {
	constructor(
		source: string,
		readonly violations: readonly LockViolation[],
	) {
		const lines = violations.map((v) => `  ${v.path}: locked to ${showValue(v.locked)} by ${v.profile}; the file sets ${showValue(v.value)}`)
		const summary = violations.length === 1 ? '1 setting' : `${violations.length} settings`
		super(
			`${source}: changes ${summary} locked by managed profiles, nothing was applied:\n${lines.join('\n')}\nLeave the setting out of the file, or give it the profile's value.`,
			'CONFIG_LOCKED',
			source,
		)
	}

	override toJSON(): Record<string, unknown> {
		return {...super.toJSON(), violations: this.violations}
	}
}

// ---- values -----------------------------------------------------------------

type JsonObject = Record<string, unknown>

const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value)

/** Object keys sorted, so that {"a":1,"b":2} and {"b":2,"a":1} compare equal. */
function stableJson(value: unknown): string {
	if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`
	if (isObject(value)) {
		return `{${Object.keys(value)
			.sort()
			.map((key) => `${JSON.stringify(key)}:${stableJson(value[key])}`)
			.join(',')}}`
	}
	return JSON.stringify(value)
}

/**
 * The spelling the driver gives back, for the settings that have several
 * (convert.ts normalizes complete configurations the same way): MAC and USB
 * IDs in lower case (reservations' MACs too), drivers as a set. Other
 * settings compare as written.
 */
function canonical(keys: readonly string[], value: unknown): unknown {
	if (keys.length === 2 && keys[0] === 'dhcp' && keys[1] === 'reservations' && Array.isArray(value)) {
		return value.map((r: unknown) => (isObject(r) && typeof r['mac'] === 'string' ? {...r, mac: r['mac'].toLowerCase()} : r))
	}
	if (keys.length !== 1) return value
	switch (keys[0]) {
		case 'mac':
			return typeof value === 'string' ? value.toLowerCase() : value
		case 'drivers':
			return Array.isArray(value) ? DRIVER_NAMES.filter((name) => value.includes(name)) : value
		case 'rules':
			return Array.isArray(value)
				? value.map((rule: unknown) =>
						isObject(rule)
							? {
									...rule,
									vendor: typeof rule['vendor'] === 'string' ? rule['vendor'].toLowerCase() : rule['vendor'],
									product: typeof rule['product'] === 'string' ? rule['product'].toLowerCase() : rule['product'],
								}
							: rule,
					)
				: value
		default:
			return value
	}
}

/** Whether two values of the setting at `keys` are the same setting. */
export function sameSetting(keys: readonly string[], a: unknown, b: unknown): boolean {
	return stableJson(canonical(keys, a)) === stableJson(canonical(keys, b))
}

const pathOf = (keys: readonly string[]): string => toJsonPath(keys.length === 0 ? '' : `/${keys.map((k) => k.replaceAll('~', '~0').replaceAll('/', '~1')).join('/')}`)

/** The settings a document makes: its leaves, objects walked into. $schema is no setting. */
export function settingsOf(config: UsbvnetConfig): {keys: string[]; value: unknown}[] {
	const leaves: {keys: string[]; value: unknown}[] = []
	const walk = (value: unknown, keys: string[]): void => {
		if (isObject(value)) {
			for (const [key, child] of Object.entries(value)) {
				if (keys.length === 0 && key === '$schema') continue
				walk(child, [...keys, key])
			}
		} else {
			leaves.push({keys, value})
		}
	}
	walk(config, [])
	return leaves
}

/** The value at `keys`, or undefined where the document does not set it. */
export function valueAt(document: unknown, keys: readonly string[]): unknown {
	let value: unknown = document
	for (const key of keys) {
		if (!isObject(value)) return undefined
		value = value[key]
	}
	return value
}

/** `over` merged into `base`: objects key by key, anything else replaced. Neither is modified. */
export function mergeDocuments(base: unknown, over: unknown): unknown {
	if (!isObject(base) || !isObject(over)) return over === undefined ? base : over
	const merged: JsonObject = {...base}
	for (const [key, value] of Object.entries(over)) {
		Object.defineProperty(merged, key, {value: mergeDocuments(Object.hasOwn(base, key) ? base[key] : undefined, value), enumerable: true, writable: true, configurable: true})
	}
	return merged
}

// ---- layering ---------------------------------------------------------------

/** Merges profiles given in name order; throws ProfileConflictError listing every conflict. */
export function layerProfiles(dir: string, profiles: readonly ManagedProfile[]): ManagedLayer {
	const locks: Lock[] = []
	const conflicts: ProfileConflict[] = []
	let config: unknown = {}
	for (const profile of profiles) {
		for (const {keys, value} of settingsOf(profile.config)) {
			const path = pathOf(keys)
			const held = locks.find((lock) => lock.path === path)
			if (!held) {
				locks.push({path, keys, value, profile: profile.path})
			} else if (!sameSetting(keys, held.value, value)) {
				conflicts.push({path, first: {profile: held.profile, value: held.value}, second: {profile: profile.path, value}})
			}
		}
		config = mergeDocuments(config, withoutSchemaKey(profile.config))
	}
	if (conflicts.length > 0) throw new ProfileConflictError(conflicts)
	return {dir, profiles: [...profiles], locks, config: config as UsbvnetConfig}
}

function withoutSchemaKey(config: UsbvnetConfig): UsbvnetConfig {
	const {$schema: _ignored, ...rest} = config
	return rest
}

/** The profile files of `dir` in name order: *.json, no dot files. */
export function profileFiles(dir: string): string[] {
	let names: string[]
	try {
		names = readdirSync(dir)
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code
		// No directory, no managed profiles: the usual case outside fleets.
		if (code === 'ENOENT') return []
		const reason = code === 'EACCES' ? 'permission denied' : code === 'ENOTDIR' ? 'not a directory' : String(error)
		throw new ConfigError(`${dir}: cannot list the managed profiles: ${reason}`, 'MANAGED_DIR_UNREADABLE', dir, {cause: error})
	}
	return names
		.filter((name) => name.endsWith('.json') && !name.startsWith('.'))
		.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
		.map((name) => join(dir, name))
}

/** Reads, validates and layers every profile of `dir`; any bad profile throws, naming its file. */
export function loadManagedLayer(dir: string): ManagedLayer {
	return layerProfiles(
		dir,
		profileFiles(dir).map((path) => ({path, config: loadConfigFile(path)})),
	)
}

// ---- local file + profiles --------------------------------------------------

/** The locked settings `file` sets to another value than its profile's. */
export function lockViolations(file: UsbvnetConfig, layer: ManagedLayer): LockViolation[] {
	const violations: LockViolation[] = []
	for (const lock of layer.locks) {
		const value = valueAt(file, lock.keys)
		if (value !== undefined && !sameSetting(lock.keys, value, lock.value)) {
			violations.push({path: lock.path, profile: lock.profile, locked: lock.value, value})
		}
	}
	return violations
}

/**
 * What applying `file` (named `source`) sets once the profiles are layered
 * over it. Throws ConfigLockedError, changing nothing, if it changes a
 * locked setting.
 */
export function effectiveConfig(file: UsbvnetConfig, source: string, layer: ManagedLayer): UsbvnetConfig {
	const violations = lockViolations(file, layer)
	if (violations.length > 0) throw new ConfigLockedError(source, violations)
	if (layer.profiles.length === 0) return file
	// Both sides passed the schema; checked again so that a merge the schema
	// cannot express (e.g. a future "oneOf") is caught here, not by the driver.
	return validateConfig(mergeDocuments(withoutSchemaKey(file), layer.config), `${source} with the managed profiles of ${layer.dir}`)
}

/** How `config show` reports a lock: is the driver holding the profile's value? */
export interface LockReport {
	path: string
	profile: string
	value: unknown
	/** False until `usbvnet config apply` runs after the profile arrived. */
	inEffect: boolean
}

export function reportLocks(layer: ManagedLayer, driverConfig: unknown): LockReport[] {
	return layer.locks.map((lock) => ({
		path: lock.path,
		profile: lock.profile,
		value: lock.value,
		inEffect: sameSetting(lock.keys, valueAt(driverConfig, lock.keys), lock.value),
	}))
}

const within = (path: string, outer: string): boolean => path === outer || path.startsWith(`${outer}.`) || path.startsWith(`${outer}[`)

/**
 * The lock covering a diff path, if any: $.rules[2] is under the lock
 * $.rules, and a change of $.dhcp.pool as a whole takes in the lock
 * $.dhcp.pool.start.
 */
export function lockCovering(path: string, layer: ManagedLayer): Lock | undefined {
	return layer.locks.find((lock) => within(path, lock.path) || within(lock.path, path))
}

/** Diff lines, each change a profile makes marked with the profile's file. */
export function markLockedLines(lines: readonly string[], paths: readonly string[], layer: ManagedLayer): string[] {
	return lines.map((line, index) => {
		const lock = lockCovering(paths[index] as string, layer)
		return lock ? `${line}  (managed: ${lock.profile})` : line
	})
}
