import assert from 'node:assert/strict'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {SchemaValidationError} from './errors.js'
import {
	ConfigLockedError,
	ProfileConflictError,
	effectiveConfig,
	layerProfiles,
	loadManagedLayer,
	lockViolations,
	markLockedLines,
	mergeDocuments,
	profileFiles,
	reportLocks,
	type ManagedProfile,
} from './profiles.js'
import type {UsbvnetConfig} from './types.js'

const profile = (path: string, config: UsbvnetConfig): ManagedProfile => ({path, config})
const layer = (...profiles: ManagedProfile[]) => layerProfiles('/m', profiles)

/** The error a call throws, checked for its class; fails the test if it returns. */
function thrown<T>(kind: new (...args: never[]) => T, call: () => unknown): T {
	try {
		call()
	} catch (error) {
		assert.ok(error instanceof kind, `expected ${kind.name}, got ${String(error)}`)
		return error
	}
	assert.fail(`expected ${kind.name}, nothing thrown`)
}

describe('managed profiles: layering', () => {
	it('every setting a profile makes is locked, objects walked into, arrays whole', () => {
		const merged = layer(
			profile('/m/10-a.json', {mode: 'private', rules: [{vendor: '0x0525', product: '*', action: 'allow'}]}),
			profile('/m/20-b.json', {$schema: 'x', autoAttach: false}),
		)
		assert.deepEqual(
			merged.locks.map((lock) => [lock.path, lock.profile]),
			[
				['$.mode', '/m/10-a.json'],
				['$.rules', '/m/10-a.json'],
				['$.autoAttach', '/m/20-b.json'],
			],
		)
		assert.deepEqual(merged.config, {mode: 'private', rules: [{vendor: '0x0525', product: '*', action: 'allow'}], autoAttach: false})
	})

	it('nested objects lock per key (the DHCP settings are one)', () => {
		const merged = mergeDocuments({a: {x: 1, y: 2}, b: [1, 2]}, {a: {y: 3}, b: [3]})
		assert.deepEqual(merged, {a: {x: 1, y: 3}, b: [3]})
		const nested = layerProfiles('/m', [profile('/m/a.json', {dhcp: {dns: ['10.0.0.1'], pool: {start: 'x'}}} as unknown as UsbvnetConfig)])
		assert.deepEqual(
			nested.locks.map((lock) => lock.path),
			['$.dhcp.dns', '$.dhcp.pool.start'],
		)
	})

	it('two profiles may lock a setting with one value, spelled differently or not', () => {
		const merged = layer(
			profile('/m/10-a.json', {mode: 'private', mac: '02:AB:00:00:00:01', drivers: ['cdc_ncm', 'cdc_ether']}),
			profile('/m/20-b.json', {mode: 'private', mac: '02:ab:00:00:00:01', drivers: ['cdc_ether', 'cdc_ncm']}),
		)
		assert.deepEqual(
			merged.locks.map((lock) => lock.profile),
			['/m/10-a.json', '/m/10-a.json', '/m/10-a.json'],
		)
	})

	it('two profiles with different values: an error naming both, every conflict listed', () => {
		const error = thrown(ProfileConflictError, () =>
			layer(
				profile('/m/10-a.json', {mode: 'private', autoAttach: true}),
				profile('/m/20-b.json', {mode: 'bridge', autoAttach: false, drivers: []}),
			),
		)
		assert.equal(
			error.message,
			'managed profiles conflict on 2 settings, nothing was applied:\n' +
				'  $.mode: /m/10-a.json sets "private", /m/20-b.json sets "bridge"\n' +
				'  $.autoAttach: /m/10-a.json sets true, /m/20-b.json sets false\n' +
				'A setting may be locked by several profiles only with one value: remove it from all but one.',
		)
		assert.equal(error.exitCode, 3)
		assert.equal(error.code, 'PROFILE_CONFLICT')
		assert.equal(error.toJSON()['source'], '/m/20-b.json')
	})
})

describe('managed profiles: a local file under them', () => {
	const managed = layer(profile('/m/10-fleet.json', {mode: 'private', rules: [{vendor: '0x0525', product: '*', action: 'deny'}]}))

	it('the effective configuration is the file with the profiles over it', () => {
		assert.deepEqual(effectiveConfig({mac: '02:00:00:00:00:02', autoAttach: false}, 'local.json', managed), {
			mac: '02:00:00:00:00:02',
			autoAttach: false,
			mode: 'private',
			rules: [{vendor: '0x0525', product: '*', action: 'deny'}],
		})
	})

	it('a locked setting repeated with the same value is fine, in any spelling', () => {
		assert.deepEqual(lockViolations({mode: 'private', rules: [{action: 'deny', product: '*', vendor: '0x0525'}]}, managed), [])
		const upper = layer(profile('/m/u.json', {mac: '02:AB:CD:00:00:01', rules: [{vendor: '0xABCD', product: '*', action: 'deny'}]}))
		assert.deepEqual(lockViolations({mac: '02:ab:cd:00:00:01', rules: [{vendor: '0xabcd', product: '*', action: 'deny'}]}, upper), [])
	})

	it('a locked setting changed is refused, naming file, setting and profile', () => {
		const error = thrown(ConfigLockedError, () => effectiveConfig({mode: 'bridge', mac: '02:00:00:00:00:02'}, 'local.json', managed))
		assert.equal(
			error.message,
			'local.json: changes 1 setting locked by managed profiles, nothing was applied:\n' +
				'  $.mode: locked to "private" by /m/10-fleet.json; the file sets "bridge"\n' +
				"Leave the setting out of the file, or give it the profile's value.",
		)
		assert.equal(error.exitCode, 3)
		assert.deepEqual(error.toJSON()['violations'], [{path: '$.mode', profile: '/m/10-fleet.json', locked: 'private', value: 'bridge'}])
	})

	it('every locked setting changed is listed, arrays compared whole and in order', () => {
		const error = thrown(ConfigLockedError, () => effectiveConfig({mode: 'bridge', rules: []}, 'local.json', managed))
		assert.match(error.message, /^local\.json: changes 2 settings locked by managed profiles, nothing was applied:\n/)
		assert.match(error.message, /\n {2}\$\.rules: locked to \[\{"vendor":"0x0525","product":"\*","action":"deny"\}\] by \/m\/10-fleet\.json; the file sets \[\]\n/)
	})

	it('without profiles the file is the effective configuration', () => {
		const file: UsbvnetConfig = {mode: 'bridge'}
		assert.equal(effectiveConfig(file, 'local.json', layer()), file)
	})

	it('reports which locks the driver holds, and marks the changes profiles make', () => {
		const driver = {mac: '02:00:00:00:00:01', mode: 'bridge', autoAttach: true, drivers: [], rules: [{vendor: '0x0525', product: '*', action: 'deny'}]}
		assert.deepEqual(reportLocks(managed, driver), [
			{path: '$.mode', profile: '/m/10-fleet.json', value: 'private', inEffect: false},
			{path: '$.rules', profile: '/m/10-fleet.json', value: [{vendor: '0x0525', product: '*', action: 'deny'}], inEffect: true},
		])
		assert.deepEqual(markLockedLines(['~ $.mode', '+ $.rules[1]', '~ $.mac'], ['$.mode', '$.rules[1]', '$.mac'], managed), [
			'~ $.mode  (managed: /m/10-fleet.json)',
			'+ $.rules[1]  (managed: /m/10-fleet.json)',
			'~ $.mac',
		])
	})

	it('a DHCP lock: reservation MACs in any case, the pool changed as a whole', () => {
		const dhcp = layer(
			profile('/m/20-dhcp.json', {dhcp: {pool: {start: '100.127.254.10', end: '100.127.254.20'}, reservations: [{ip: '100.127.254.9', mac: '02:AA:BB:CC:DD:EE'}]}}),
		)
		const driver = {dhcp: {pool: {start: '100.127.254.10', end: '100.127.254.20'}, reservations: [{ip: '100.127.254.9', mac: '02:aa:bb:cc:dd:ee'}]}}
		assert.deepEqual(
			reportLocks(dhcp, driver).map((lock) => [lock.path, lock.inEffect]),
			[
				['$.dhcp.pool.start', true],
				['$.dhcp.pool.end', true],
				['$.dhcp.reservations', true],
			],
		)
		// What `config show` printed, applied again: no violation.
		assert.doesNotThrow(() => effectiveConfig(driver, 'local.json', dhcp))
		assert.deepEqual(markLockedLines(['~ $.dhcp.pool'], ['$.dhcp.pool'], dhcp), ['~ $.dhcp.pool  (managed: /m/20-dhcp.json)'])
	})
})

describe('managed profiles: the directory', () => {
	let dir = ''
	before(() => {
		dir = mkdtempSync(join(tmpdir(), 'usbvnet-managed-'))
	})
	after(() => rmSync(dir, {recursive: true, force: true}))

	it('no directory, no profiles', () => {
		const none = loadManagedLayer(join(dir, 'absent'))
		assert.deepEqual([none.profiles, none.locks], [[], []])
	})

	it('*.json in name order; dot files and other names are left out', () => {
		const managed = join(dir, 'order')
		mkdirSync(managed)
		for (const name of ['b.json', '10-z.json', 'a.json', '.a.json.123.tmp', '.hidden.json', 'README', 'c.json.bak']) writeFileSync(join(managed, name), '{}')
		assert.deepEqual(
			profileFiles(managed).map((path) => path.slice(managed.length + 1)),
			['10-z.json', 'a.json', 'b.json'],
		)
	})

	it('an invalid profile stops everything, naming its file', () => {
		const managed = join(dir, 'bad')
		mkdirSync(managed)
		writeFileSync(join(managed, '10-ok.json'), '{"mode": "private"}')
		writeFileSync(join(managed, '20-bad.json'), '{"mode": "privat"}')
		const error = thrown(SchemaValidationError, () => loadManagedLayer(managed))
		assert.equal(error.message, `${join(managed, '20-bad.json')}: invalid configuration, 1 problem:\n  $.mode: expected one of "bridge", "private", got the string "privat"; did you mean "private"?`)
	})

	it('a file where the directory should be is an error, not "no profiles"', () => {
		const path = join(dir, 'file')
		writeFileSync(path, '')
		assert.throws(() => loadManagedLayer(path), {message: `${path}: cannot list the managed profiles: not a directory`})
	})
})
