import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {ProtocolMismatchError} from '../driver/errors.js'
import {decodeConfig, encodeConfig, type ConfigStruct} from '../driver/structs.js'
import {configFromStruct, configToStruct, mergeConfig, normalizeConfig} from './convert.js'
import {diffConfigs, formatChanges} from './diff.js'
import type {CompleteConfig} from './types.js'

const sample: CompleteConfig = {
	mac: '02:00:5e:10:00:01',
	mode: 'private',
	autoAttach: true,
	drivers: ['cdc_ether', 'rndis_host'],
	rules: [
		{vendor: '0x0525', product: '0xa4a2', action: 'allow'},
		{vendor: '*', product: '*', action: 'deny'},
	],
}

describe('config <-> struct usbvnet_config', () => {
	it('maps every setting to its field', () => {
		assert.deepEqual(configToStruct(sample, 'usbvnet1'), {
			ifname: 'usbvnet1',
			mac: '02:00:5e:10:00:01',
			mode: 1,
			flags: 1,
			drivers: 0b1001,
			rules: [
				{vendor: 0x0525, product: 0xa4a2, action: 0},
				{vendor: 0, product: 0, action: 1},
			],
		})
	})

	it('round-trips through the struct bytes', () => {
		const bytes = encodeConfig(configToStruct(sample, ''))
		assert.deepEqual(configFromStruct(decodeConfig(bytes)), sample)
	})

	it('round-trips to the canonical spelling: lower-case hex, drivers in bit order', () => {
		const spelled: CompleteConfig = {
			...sample,
			mac: '02:AB:CD:EF:00:01',
			drivers: ['rndis_host', 'cdc_ether'],
			rules: [{vendor: '0xABCD', product: '*', action: 'allow'}],
		}
		const back = configFromStruct(decodeConfig(encodeConfig(configToStruct(spelled, ''))))
		assert.deepEqual(back, normalizeConfig(spelled))
		assert.deepEqual(back.drivers, ['cdc_ether', 'rndis_host'])
		assert.equal(back.rules[0]?.vendor, '0xabcd')
	})

	it('refuses values a newer module may report rather than guessing', () => {
		const struct: ConfigStruct = configToStruct(sample, '')
		assert.throws(() => configFromStruct({...struct, mode: 7}), ProtocolMismatchError)
		assert.throws(() => configFromStruct({...struct, flags: 0b10}), /config flags 0x2, unknown/)
		assert.throws(() => configFromStruct({...struct, drivers: 0x10}), /driver bits 0x10/)
		assert.throws(() => configFromStruct({...struct, rules: [{vendor: 1, product: 1, action: 2}]}), /action 2 in rule 0/)
	})
})

describe('merge and diff', () => {
	it('keys left out of the file keep the driver value', () => {
		assert.deepEqual(mergeConfig(sample, {mode: 'bridge'}), {...sample, mode: 'bridge'})
		assert.deepEqual(mergeConfig(sample, {}), sample)
		assert.deepEqual(mergeConfig(sample, {rules: []}), {...sample, rules: []})
	})

	it('no change, no entry', () => {
		assert.deepEqual(diffConfigs(sample, mergeConfig(sample, {drivers: ['rndis_host', 'cdc_ether'], mac: '02:00:5E:10:00:01'})), [])
	})

	it('every kind of change, one line each', () => {
		const desired = mergeConfig(sample, {
			mode: 'bridge',
			drivers: ['cdc_ncm'],
			rules: [
				{vendor: '0x0525', product: '0xa4a2', action: 'deny'},
				{vendor: '*', product: '*', action: 'deny'},
				{vendor: '0x1d6b', product: '*', action: 'allow'},
			],
		})
		const changes = diffConfigs(sample, desired)
		assert.deepEqual(formatChanges(changes), [
			'~ $.mode: "private" -> "bridge"',
			'~ $.drivers: ["cdc_ether","rndis_host"] -> ["cdc_ncm"]',
			'~ $.rules[0]: {"vendor":"0x0525","product":"0xa4a2","action":"allow"} -> {"vendor":"0x0525","product":"0xa4a2","action":"deny"}',
			'+ $.rules[2]: {"vendor":"0x1d6b","product":"*","action":"allow"}',
		])
		assert.deepEqual(formatChanges(diffConfigs(desired, {...desired, rules: []})), [
			'- $.rules[0]: {"vendor":"0x0525","product":"0xa4a2","action":"deny"}',
			'- $.rules[1]: {"vendor":"*","product":"*","action":"deny"}',
			'- $.rules[2]: {"vendor":"0x1d6b","product":"*","action":"allow"}',
		])
	})
})
