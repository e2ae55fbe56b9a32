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
		assert.deepEqual(issuesOf({dhcp: {}}), [{path: '$.dhcp', message: 'unknown key "dhcp"; valid keys here: mac, mode, autoAttach, drivers, rules'}])
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
