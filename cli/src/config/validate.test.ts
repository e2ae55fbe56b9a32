import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {describe, it} from 'node:test'
import {JsonSyntaxError, SchemaValidationError, type ConfigIssue} from './errors.js'
import {parseConfigText} from './load.js'
import {closestMatch, editDistance} from './suggest.js'
import {CONFIG_SCHEMA_PATH, toJsonPath, validateConfig} from './validate.js'

/** The issues a document is refused with; fails the test if it is accepted. */
function issuesOf(document: unknown): ConfigIssue[] {
	try {
		validateConfig(document, 'test.json')
	} catch (error) {
		assert.ok(error instanceof SchemaValidationError, `expected a SchemaValidationError, got ${String(error)}`)
		return [...error.issues]
	}
	assert.fail(`accepted ${JSON.stringify(document)}`)
}

const rule = (vendor: string, product: string, action = 'allow'): Record<string, string> => ({vendor, product, action})

describe('config schema accepts', () => {
	it('every example documented in the schema', () => {
		const schema = JSON.parse(readFileSync(CONFIG_SCHEMA_PATH, 'utf8')) as {examples: unknown[]}
		assert.ok(schema.examples.length >= 2)
		for (const example of schema.examples) assert.doesNotThrow(() => validateConfig(example, 'example'))
	})

	it('an empty object (every key keeps the driver value)', () => {
		assert.deepEqual(validateConfig({}, 'x'), {})
	})

	it('a full configuration with 16 rules, upper-case hex and a $schema key', () => {
		const config = {
			$schema: '../schemas/config.schema.json',
			mac: 'AA:BB:CC:DD:EE:F0',
			mode: 'bridge',
			autoAttach: false,
			drivers: ['cdc_ether', 'cdc_ncm', 'cdc_eem', 'rndis_host'],
			rules: Array.from({length: 16}, () => rule('0xABCD', '*', 'deny')),
		}
		assert.deepEqual(validateConfig(config, 'x'), config)
	})

	it('any unicast MAC, vendor-assigned or locally administered', () => {
		for (const mac of ['00:1b:21:3c:4d:5e', '02:00:00:00:00:01', 'fe:ff:ff:ff:ff:ff']) {
			assert.doesNotThrow(() => validateConfig({mac}, 'x'), mac)
		}
	})
})

describe('config schema refuses, with an exact message', () => {
	it('a misspelled key, suggesting the closest one', () => {
		assert.deepEqual(issuesOf({modee: 'bridge'}), [{path: '$.modee', message: 'unknown key "modee"; did you mean "mode"?', suggestion: 'mode'}])
	})

	it('a key differing only in case', () => {
		assert.deepEqual(issuesOf({autoattach: true}), [
			{path: '$.autoattach', message: 'unknown key "autoattach"; did you mean "autoAttach"?', suggestion: 'autoAttach'},
		])
	})

	it('an unknown key with no close match, listing the valid ones', () => {
		assert.deepEqual(issuesOf({bluetooth: {}}), [
			{path: '$.bluetooth', message: 'unknown key "bluetooth"; valid keys here: mac, mode, autoAttach, drivers, rules, dhcp'},
		])
	})

	it('a misspelled key inside a rule, with the path of the rule', () => {
		assert.deepEqual(issuesOf({rules: [{vendr: '0x1234', product: '*', action: 'allow'}]}), [
			{path: '$.rules[0]', message: 'missing required key "vendor"'},
			{path: '$.rules[0].vendr', message: 'unknown key "vendr"; did you mean "vendor"?', suggestion: 'vendor'},
		])
	})

	it('a wrong type', () => {
		assert.deepEqual(issuesOf({autoAttach: 'yes'}), [{path: '$.autoAttach', message: 'expected true or false, got the string "yes"'}])
		assert.deepEqual(issuesOf({drivers: 'cdc_ether'}), [{path: '$.drivers', message: 'expected an array, got the string "cdc_ether"'}])
		assert.deepEqual(issuesOf([]), [{path: '$', message: 'expected an object, got an array'}])
	})

	it('an unknown mode, suggesting the closest', () => {
		assert.deepEqual(issuesOf({mode: 'brdge'}), [
			{path: '$.mode', message: 'expected one of "bridge", "private", got the string "brdge"; did you mean "bridge"?', suggestion: 'bridge'},
		])
		assert.deepEqual(issuesOf({mode: 'switch'}), [{path: '$.mode', message: 'expected one of "bridge", "private", got the string "switch"'}])
	})

	it('a malformed MAC', () => {
		assert.deepEqual(issuesOf({mac: '02-00-5e-10-00-01'}), [
			{path: '$.mac', message: 'expected a unicast MAC address "xx:xx:xx:xx:xx:xx" in hex, e.g. "02:00:5e:10:00:01", got the string "02-00-5e-10-00-01"'},
		])
	})

	it('a multicast MAC', () => {
		assert.deepEqual(issuesOf({mac: '01:00:5e:00:00:01'}), [
			{
				path: '$.mac',
				message:
					'expected a unicast MAC address "xx:xx:xx:xx:xx:xx" in hex, e.g. "02:00:5e:10:00:01", got the multicast address "01:00:5e:00:00:01" (the first octet must be even)',
			},
		])
	})

	it('the all-zero MAC', () => {
		assert.deepEqual(issuesOf({mac: '00:00:00:00:00:00'}), [
			{path: '$.mac', message: 'expected a unicast MAC address "xx:xx:xx:xx:xx:xx" in hex, e.g. "02:00:5e:10:00:01", got the all-zero address'},
		])
	})

	it('more than 16 rules', () => {
		assert.deepEqual(issuesOf({rules: Array.from({length: 17}, () => rule('*', '*'))}), [
			{path: '$.rules', message: 'at most 16 rules (the driver holds no more), got 17'},
		])
	})

	it('bad USB IDs and actions', () => {
		assert.deepEqual(issuesOf({rules: [rule('0x0000', '1234', 'permit')]}), [
			{path: '$.rules[0].vendor', message: 'expected a USB ID, got "0x0000", which the driver reads as any: write "*"'},
			{path: '$.rules[0].product', message: 'expected a USB ID as "0x" and 4 hex digits (e.g. "0x0525") or "*" for any, got the string "1234"'},
			{path: '$.rules[0].action', message: 'expected one of "allow", "deny", got the string "permit"'},
		])
	})

	it('unknown and repeated drivers', () => {
		assert.deepEqual(issuesOf({drivers: ['cdc_ether', 'cdc_ether', 'asix']}), [
			{path: '$.drivers[2]', message: 'expected one of "cdc_ether", "cdc_ncm", "cdc_eem", "rndis_host", got the string "asix"'},
			{path: '$.drivers', message: '"cdc_ether" is listed twice (items 0 and 1)'},
		])
	})

	it('every problem at once, in one error whose message lists them all', () => {
		assert.throws(
			() => validateConfig({mode: 'x', autoAttach: 1}, 'cfg.json'),
			(error: unknown) =>
				error instanceof SchemaValidationError &&
				error.exitCode === 3 &&
				error.message ===
					'cfg.json: invalid configuration, 2 problems:\n' +
						'  $.mode: expected one of "bridge", "private", got the string "x"\n' +
						'  $.autoAttach: expected true or false, got the number 1',
		)
	})
})

describe('DHCP settings: the schema accepts', () => {
	it('every setting, reservations of each kind, null router and MTU', () => {
		const dhcp = {
			enabled: false,
			subnet: '192.168.77.0/24',
			hostAddress: '192.168.77.254',
			pool: {start: '192.168.77.10', end: '192.168.77.99'},
			leaseSeconds: 60,
			declineSeconds: 86400,
			perSlotCap: 256,
			router: null,
			dns: ['1.1.1.1', '9.9.9.9', '192.168.77.254'],
			domain: '',
			mtu: 65535,
			reservations: [
				{ip: '192.168.77.5', mac: '02:AA:BB:CC:DD:EE'},
				{ip: '192.168.77.6', serial: 'ü'.repeat(31)},
				{ip: '192.168.77.7', slot: 31},
			],
		}
		assert.deepEqual(validateConfig({dhcp}, 'x'), {dhcp})
	})

	it('a section with only some keys, checked among themselves', () => {
		assert.doesNotThrow(() => validateConfig({dhcp: {pool: {start: '10.0.0.10', end: '10.0.0.20'}}}, 'x'))
		assert.doesNotThrow(() => validateConfig({dhcp: {enabled: true}}, 'x'))
		assert.doesNotThrow(() => validateConfig({dhcp: {subnet: '10.0.0.0/8', hostAddress: '10.255.255.254'}}, 'x'))
	})
})

describe('DHCP settings: refused, with an exact message', () => {
	it('a misspelled key, suggesting the closest one', () => {
		assert.deepEqual(issuesOf({dhcp: {leaseSecond: 600}}), [
			{path: '$.dhcp.leaseSecond', message: 'unknown key "leaseSecond"; did you mean "leaseSeconds"?', suggestion: 'leaseSeconds'},
		])
		assert.deepEqual(issuesOf({dhcp: {pool: {start: '10.0.0.2', ned: '10.0.0.9'}}}), [
			{path: '$.dhcp.pool', message: 'missing required key "end"'},
			{path: '$.dhcp.pool.ned', message: 'unknown key "ned"; did you mean "end"?', suggestion: 'end'},
		])
	})

	it('malformed addresses and subnets', () => {
		assert.deepEqual(issuesOf({dhcp: {hostAddress: '100.127.254.01', subnet: '100.127.254.0/31', dns: ['8.8.8']}}), [
			{path: '$.dhcp.subnet', message: 'expected a subnet "a.b.c.d/N" with a prefix length from 8 to 30, e.g. "100.127.254.0/24", got the string "100.127.254.0/31"'},
			{path: '$.dhcp.hostAddress', message: 'expected an IPv4 address "a.b.c.d" without leading zeros, e.g. "100.127.254.1", got the string "100.127.254.01"'},
			{path: '$.dhcp.dns[0]', message: 'expected an IPv4 address "a.b.c.d" without leading zeros, e.g. "100.127.254.1", got the string "8.8.8"'},
		])
	})

	it('a router or MTU that is neither a value nor null', () => {
		assert.deepEqual(issuesOf({dhcp: {router: 'none', mtu: 100}}), [
			{path: '$.dhcp.router', message: 'expected an IPv4 address "a.b.c.d" without leading zeros, e.g. "100.127.254.1", or null for none, got the string "none"'},
			{path: '$.dhcp.mtu', message: 'expected an integer from 576 to 65535, or null for none, got the number 100'},
		])
	})

	it('numbers out of range', () => {
		assert.deepEqual(issuesOf({dhcp: {leaseSeconds: 59, declineSeconds: 0, perSlotCap: 257}}), [
			{path: '$.dhcp.leaseSeconds', message: 'expected an integer from 60 to 31536000, got the number 59'},
			{path: '$.dhcp.declineSeconds', message: 'expected an integer from 1 to 86400, got the number 0'},
			{path: '$.dhcp.perSlotCap', message: 'expected an integer from 1 to 256, got the number 257'},
		])
		assert.deepEqual(issuesOf({dhcp: {leaseSeconds: 600.5}}), [{path: '$.dhcp.leaseSeconds', message: 'expected an integer, got the number 600.5'}])
	})

	it('too many DNS servers and reservations, a bad domain', () => {
		const reservations = Array.from({length: 33}, (_, i) => ({ip: `10.0.1.${i + 1}`, slot: 0}))
		assert.deepEqual(issuesOf({dhcp: {dns: ['1.1.1.1', '1.0.0.1', '8.8.8.8', '8.8.4.4'], domain: '-lan', reservations}}), [
			{path: '$.dhcp.dns', message: 'at most 3 DNS servers (the driver sends no more), got 4'},
			{path: '$.dhcp.domain', message: 'expected a domain name of letters, digits, "-" and ".", starting with a letter or digit, got the string "-lan"'},
			{path: '$.dhcp.reservations', message: 'at most 32 reservations (the driver holds no more), got 33'},
		])
		assert.deepEqual(issuesOf({dhcp: {domain: 'a'.repeat(64)}}), [{path: '$.dhcp.domain', message: 'at most 63 characters, got 64'}])
	})

	it('a reservation naming no client, or two', () => {
		assert.deepEqual(issuesOf({dhcp: {reservations: [{ip: '10.0.0.5'}, {ip: '10.0.0.6', mac: '02:00:00:00:00:06', slot: 2}]}}), [
			{path: '$.dhcp.reservations[0]', message: 'a reservation names its client by exactly one of "mac", "serial" or "slot", got none'},
			{path: '$.dhcp.reservations[1]', message: 'a reservation names its client by exactly one of "mac", "serial" or "slot", got "mac" and "slot"'},
		])
	})

	it('bad reservation values', () => {
		assert.deepEqual(issuesOf({dhcp: {reservations: [{ip: '10.0.0.5', mac: '01:00:5e:00:00:01'}, {ip: '10.0.0.6', serial: ''}, {ip: '10.0.0.7', slot: 32}, {ip: '10.0.0.8', sreial: 'X'}, {ip: '10.0.0.9', serial: 'PRN\u0000-1'}]}}), [
			{path: '$.dhcp.reservations[0].mac', message: 'expected a unicast MAC address "xx:xx:xx:xx:xx:xx" in hex, e.g. "02:00:5e:10:00:01", got the multicast address "01:00:5e:00:00:01" (the first octet must be even)'},
			{path: '$.dhcp.reservations[1].serial', message: 'expected a non-empty string'},
			{path: '$.dhcp.reservations[2].slot', message: 'expected an integer from 0 to 31, got the number 32'},
			{path: '$.dhcp.reservations[3]', message: 'a reservation names its client by exactly one of "mac", "serial" or "slot", got none'},
			{path: '$.dhcp.reservations[3].sreial', message: 'unknown key "sreial"; did you mean "serial"?', suggestion: 'serial'},
			{path: '$.dhcp.reservations[4].serial', message: 'expected a USB serial number without NUL characters (the driver stores it NUL-terminated)'},
		])
	})

	it('what only the keys together tell: addresses outside the subnet, host bits, the pool', () => {
		const dhcp = {
			subnet: '100.127.254.1/24',
			hostAddress: '100.127.253.1',
			pool: {start: '100.127.254.2', end: '100.127.254.254'},
		}
		assert.deepEqual(issuesOf({dhcp}), [{path: '$.dhcp.subnet', message: 'host bits set for a /24: the network is "100.127.254.0/24"'}])
		assert.deepEqual(issuesOf({dhcp: {...dhcp, subnet: '100.127.254.0/24', pool: {start: '100.127.254.0', end: '100.127.254.255'}, router: '10.0.0.1'}}), [
			{path: '$.dhcp.hostAddress', message: '"100.127.253.1" is not a host address of 100.127.254.0/24 (inside it, and neither its network nor its broadcast address)'},
			{path: '$.dhcp.pool.start', message: '"100.127.254.0" is not a host address of 100.127.254.0/24 (inside it, and neither its network nor its broadcast address)'},
			{path: '$.dhcp.pool.end', message: '"100.127.254.255" is not a host address of 100.127.254.0/24 (inside it, and neither its network nor its broadcast address)'},
			{path: '$.dhcp.router', message: '"10.0.0.1" is not a host address of 100.127.254.0/24 (inside it, and neither its network nor its broadcast address)'},
		])
	})

	it('a pool backwards, too large, or holding the host address', () => {
		assert.deepEqual(issuesOf({dhcp: {pool: {start: '10.0.0.9', end: '10.0.0.2'}}}), [{path: '$.dhcp.pool', message: 'start "10.0.0.9" comes after end "10.0.0.2"'}])
		assert.deepEqual(issuesOf({dhcp: {pool: {start: '10.0.0.1', end: '10.0.1.1'}}}), [
			{path: '$.dhcp.pool', message: "257 addresses, at most 256 (the size of the driver's lease table)"},
		])
		assert.deepEqual(issuesOf({dhcp: {hostAddress: '100.127.254.1', pool: {start: '100.127.254.1', end: '100.127.254.9'}}}), [
			{path: '$.dhcp.pool', message: 'contains the host address "100.127.254.1"'},
		])
	})

	it('DNS servers that are not unicast, reservations on the host, twice, or for one client twice', () => {
		assert.deepEqual(issuesOf({dhcp: {dns: ['0.0.0.0', '224.0.0.251']}}), [
			{path: '$.dhcp.dns[0]', message: '"0.0.0.0" is not a unicast address'},
			{path: '$.dhcp.dns[1]', message: '"224.0.0.251" is not a unicast address'},
		])
		const reservations = [
			{ip: '100.127.254.1', slot: 0},
			{ip: '100.127.254.5', serial: 'A'},
			{ip: '100.127.254.5', slot: 1},
			{ip: '100.127.254.6', serial: 'A'},
			{ip: '100.127.254.7', mac: '02:00:00:00:00:0A'},
			{ip: '100.127.254.8', mac: '02:00:00:00:00:0a'},
			{ip: '100.127.254.9', serial: 'ü'.repeat(32)},
		]
		assert.deepEqual(issuesOf({dhcp: {hostAddress: '100.127.254.1', reservations}}), [
			{path: '$.dhcp.reservations[0].ip', message: '"100.127.254.1" is the host address'},
			{path: '$.dhcp.reservations[2].ip', message: '"100.127.254.5" is reserved twice (reservations 1 and 2)'},
			{path: '$.dhcp.reservations[3]', message: 'serial "A" has two reservations (1 and 3)'},
			{path: '$.dhcp.reservations[5]', message: 'mac "02:00:00:00:00:0a" has two reservations (4 and 5)'},
			{path: '$.dhcp.reservations[6].serial', message: '64 bytes in UTF-8, at most 63'},
		])
	})
})

describe('invalid JSON is reported with line and column', () => {
	const syntaxError = (text: string): JsonSyntaxError => {
		try {
			parseConfigText(text, 'c.json')
		} catch (error) {
			assert.ok(error instanceof JsonSyntaxError, String(error))
			return error
		}
		assert.fail('parsed')
	}

	it('a trailing comma', () => {
		assert.equal(syntaxError('{"mode": "bridge",}').message, 'c.json:1:19: invalid JSON: expected another key after "," (JSON allows no trailing comma), found "}"')
	})

	it('a missing comma on a later line', () => {
		const error = syntaxError('{\n  "mode": "bridge"\n  "autoAttach": true\n}')
		assert.deepEqual([error.line, error.column], [3, 3])
		assert.equal(error.problem, `expected "," or "}" after the value, found '"'`)
	})

	it('a bare word where V8 gives no position', () => {
		const error = syntaxError('{"autoAttach": yes}')
		assert.deepEqual([error.line, error.column, error.problem], [1, 16, 'expected a value (object, array, string, number, true, false or null), found "y"'])
	})

	it('an empty file and a truncated one', () => {
		assert.equal(syntaxError('').message, 'c.json:1:1: invalid JSON: expected a value (object, array, string, number, true, false or null), found the end of the file')
		assert.equal(syntaxError('{"rules": [').problem, 'expected a value (object, array, string, number, true, false or null), found the end of the file')
	})

	it('a byte order mark is not an error', () => {
		assert.deepEqual(parseConfigText('\uFEFF{"mode": "private"}', 'bom.json'), {mode: 'private'})
	})
})

describe('helpers', () => {
	it('JSON paths from JSON pointers', () => {
		assert.equal(toJsonPath(''), '$')
		assert.equal(toJsonPath('/rules/3/vendor'), '$.rules[3].vendor')
		assert.equal(toJsonPath('', 'a b'), '$["a b"]')
		assert.equal(toJsonPath('/x~1y'), '$["x/y"]')
	})

	it('edit distance and closest match', () => {
		assert.equal(editDistance('kitten', 'sitting'), 3)
		assert.equal(editDistance('', 'abc'), 3)
		assert.equal(editDistance('mdoe', 'mode'), 1)
		assert.equal(closestMatch('mdoe', ['mac', 'mode', 'rules']), 'mode')
		assert.equal(closestMatch('drivrs', ['mac', 'mode', 'drivers']), 'drivers')
		assert.equal(closestMatch('rule', ['mac', 'mode', 'rules']), 'rules')
		assert.equal(closestMatch('zzzz', ['mac', 'mode']), undefined)
	})
})
