import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {dhcpToStruct} from '../config/dhcp.js'
import {dhcpSettingsFixture} from '../config/dhcp-settings.fixture.js'
import type {UsbvnetDevice} from '../driver/device.js'
import {camelCase, formatDhcp, groupTotal, readDhcp, summarizeDhcp} from './stats.js'

const settings = dhcpSettingsFixture({reservations: [{ip: '100.127.254.200', slot: 1}]})

// A module that counts only the first 3 counters (an older one).
const device = {
	getDhcp: () => dhcpToStruct(settings, 'usbvnet0'),
	dhcpStats: () => ({ifname: 'usbvnet0', leasesBound: 2, counters: [7, 1, 2]}),
} as unknown as UsbvnetDevice

describe('usbvnet dhcp', () => {
	it('counters by the header names in camelCase, those the module has', () => {
		assert.equal(camelCase('reply_too_small'), 'replyTooSmall')
		const report = readDhcp(device, '')
		assert.deepEqual(report, {
			instance: 'usbvnet0',
			enabled: true,
			rapidCommit: true,
			subnet: '100.127.254.0/24',
			hostAddress: '100.127.254.1',
			pool: {start: '100.127.254.2', end: '100.127.254.254'},
			reservations: 1,
			leasesBound: 2,
			counters: {received: 7, truncated: 1, badIp: 2},
		})
		assert.equal(
			formatDhcp(report),
			[
				'DHCP server of usbvnet0',
				'  server        on',
				'  rapid commit  on',
				'  subnet        100.127.254.0/24',
				'  host address  100.127.254.1',
				'  pool          100.127.254.2 - 100.127.254.254',
				'  reservations  1',
				'  leases bound  2',
				'',
				'             COUNTER    VALUE',
				'  requests   received       7',
				'  malformed  truncated      1',
				'             bad_ip         2',
			].join('\n'),
		)
	})

	it('in brief for status: refused and malformed summed by the groups the module counts', () => {
		const report = readDhcp(device, '')
		// The older module counts none of the refused group.
		assert.deepEqual(summarizeDhcp(report), {
			enabled: true,
			subnet: '100.127.254.0/24',
			hostAddress: '100.127.254.1',
			leasesBound: 2,
			malformed: 3,
		})
		const counters = {...report.counters, exhausted: 4, slotCap: 1, ignored: 2, offer: 9}
		assert.equal(groupTotal(counters, 'refused'), 7)
		assert.equal(groupTotal(counters, 'answers'), 9)
		assert.deepEqual(summarizeDhcp({...report, enabled: false, counters}), {
			enabled: false,
			subnet: '100.127.254.0/24',
			hostAddress: '100.127.254.1',
			leasesBound: 2,
			refused: 7,
			malformed: 3,
		})
	})
})
