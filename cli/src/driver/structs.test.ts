/**
 * The TypeScript mirror of linux-module/uapi/usbvnet.h checked against the
 * header itself: a C program generated from the layouts in structs.ts is
 * compiled with the system cc and prints sizeof/offsetof of every field, the
 * request codes and the constants, which must all equal ours.
 */
import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {fileURLToPath} from 'node:url'
import * as constants from './constants.js'
import {requestCodes} from './requests.js'
import {
	allLayouts,
	decodeAttach,
	decodeConfig,
	decodeDhcpConfig,
	decodeDhcpStats,
	decodeInfo,
	decodeLeases,
	decodeSlotInfo,
	encodeAttach,
	encodeConfig,
	encodeDhcpConfig,
	encodeDhcpStats,
	encodeInfo,
	encodeLeases,
	encodeSlotInfo,
	type ConfigStruct,
	type DhcpConfigStruct,
	type InfoStruct,
	type SlotInfoStruct,
	type StructLayout,
} from './structs.js'

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')
const uapiDir = join(repoRoot, 'linux-module/uapi')

/** The header's constants, by macro or enumerator name, with our value. */
const headerConstants: Record<string, number> = {
	USBVNET_API_VERSION: constants.USBVNET_API_VERSION,
	USBVNET_MAX_SLOTS: constants.USBVNET_MAX_SLOTS,
	USBVNET_IFNAMSIZ: constants.USBVNET_IFNAMSIZ,
	USBVNET_SERIAL_LEN: constants.USBVNET_SERIAL_LEN,
	USBVNET_BUSID_LEN: constants.USBVNET_BUSID_LEN,
	USBVNET_DRIVER_LEN: constants.USBVNET_DRIVER_LEN,
	USBVNET_MAX_RULES: constants.USBVNET_MAX_RULES,
	USBVNET_ANY_SLOT: constants.USBVNET_ANY_SLOT,
	USBVNET_MODE_BRIDGE: constants.UsbvnetMode.bridge,
	USBVNET_MODE_PRIVATE: constants.UsbvnetMode.private,
	USBVNET_DRV_CDC_ETHER: constants.UsbvnetDriverBit.cdc_ether,
	USBVNET_DRV_CDC_NCM: constants.UsbvnetDriverBit.cdc_ncm,
	USBVNET_DRV_CDC_EEM: constants.UsbvnetDriverBit.cdc_eem,
	USBVNET_DRV_RNDIS_HOST: constants.UsbvnetDriverBit.rndis_host,
	USBVNET_DRV_ALL: constants.USBVNET_DRV_ALL,
	USBVNET_CFG_AUTO_ATTACH: constants.USBVNET_CFG_AUTO_ATTACH,
	USBVNET_RULE_ALLOW: constants.UsbvnetRuleAction.allow,
	USBVNET_RULE_DENY: constants.UsbvnetRuleAction.deny,
	USBVNET_IOC_MAGIC: constants.USBVNET_IOC_MAGIC,
	USBVNET_DHCP_ENABLED: constants.USBVNET_DHCP_ENABLED,
	USBVNET_DHCP_MAX_RESERVATIONS: constants.USBVNET_DHCP_MAX_RESERVATIONS,
	USBVNET_DHCP_MAX_DNS: constants.USBVNET_DHCP_MAX_DNS,
	USBVNET_DHCP_DOMAIN_LEN: constants.USBVNET_DHCP_DOMAIN_LEN,
	USBVNET_DHCP_RES_MAC: constants.UsbvnetDhcpReservationKind.mac,
	USBVNET_DHCP_RES_SERIAL: constants.UsbvnetDhcpReservationKind.serial,
	USBVNET_DHCP_RES_SLOT: constants.UsbvnetDhcpReservationKind.slot,
	USBVNET_DHCP_NR_COUNTERS: constants.USBVNET_DHCP_NR_COUNTERS,
	USBVNET_LEASES_MAX: constants.USBVNET_LEASES_MAX,
	USBVNET_LEASES_MAX_V2: constants.USBVNET_LEASES_MAX_V2,
}

function generateProbe(): string {
	const lines = ['#include <stddef.h>', '#include <stdio.h>', '#include "usbvnet.h"', '', 'int main(void)', '{']
	for (const layout of allLayouts) {
		const type = `struct ${layout.name}`
		lines.push(`\tprintf("size ${layout.name} %zu\\n", sizeof(${type}));`)
		for (const field of Object.keys(layout.fields)) {
			lines.push(
				`\tprintf("field ${layout.name}.${field} %zu %zu\\n", offsetof(${type}, ${field}), sizeof(((${type} *)0)->${field}));`,
			)
		}
	}
	for (const name of Object.keys(requestCodes)) {
		lines.push(`\tprintf("ioctl ${name} %lu\\n", (unsigned long)(${name}));`)
	}
	for (const name of Object.keys(headerConstants)) {
		lines.push(`\tprintf("const ${name} %llu\\n", (unsigned long long)(${name}));`)
	}
	// The counter names, in the header's order, from its X-macro list.
	lines.push('#define X(name) printf("counter %s\\n", #name);', '\tUSBVNET_DHCP_COUNTERS', '#undef X')
	lines.push('\treturn 0;', '}', '')
	return lines.join('\n')
}

/** "kind name numbers..." lines of the probe's output, by "kind name". */
type ProbeOutput = Map<string, number[]>

function runProbe(): ProbeOutput | string {
	const work = mkdtempSync(join(tmpdir(), 'usbvnet-uapi-'))
	try {
		writeFileSync(join(work, 'probe.c'), generateProbe())
		try {
			execFileSync(process.env['CC'] ?? 'cc', ['-std=gnu11', '-Wall', '-Werror', `-I${uapiDir}`, '-o', join(work, 'probe'), join(work, 'probe.c')], {
				stdio: ['ignore', 'pipe', 'pipe'],
			})
		} catch (error) {
			const stderr = (error as {stderr?: Buffer}).stderr?.toString() ?? String(error)
			if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'no C compiler (cc) on this machine'
			throw new Error(`the probe does not compile against usbvnet.h:\n${stderr}`)
		}
		const output = execFileSync(join(work, 'probe')).toString()
		const result: ProbeOutput = new Map()
		let counter = 0
		for (const line of output.trim().split('\n')) {
			const [kind, name, ...numbers] = line.split(' ')
			// "counter NAME": its index in the list.
			if (kind === 'counter') result.set(`counter ${name}`, [counter++])
			else result.set(`${kind} ${name}`, numbers.map(Number))
		}
		return result
	} finally {
		rmSync(work, {recursive: true, force: true})
	}
}

describe('uapi mirror matches linux-module/uapi/usbvnet.h', () => {
	let probe: ProbeOutput | string = 'not run'
	before(() => {
		probe = runProbe()
	})
	after(() => {})

	const header = (t: {skip: (message: string) => void}): ProbeOutput | undefined => {
		if (typeof probe === 'string') {
			t.skip(probe)
			return undefined
		}
		return probe
	}

	for (const layout of allLayouts) {
		it(`struct ${layout.name}: size and every field's offset and size`, (t) => {
			const c = header(t)
			if (!c) return
			assert.deepEqual(c.get(`size ${layout.name}`), [layout.size], `sizeof(struct ${layout.name})`)
			for (const [field, {offset, size}] of Object.entries<{offset: number; size: number}>(layout.fields)) {
				assert.deepEqual(c.get(`field ${layout.name}.${field}`), [offset, size], `${layout.name}.${field} (offset, size)`)
			}
		})

		it(`struct ${layout.name}: the fields cover every byte (no C field left out)`, () => {
			assertContiguous(layout)
		})
	}

	it('request codes equal the _IOW/_IOWR macros', (t) => {
		const c = header(t)
		if (!c) return
		for (const [name, code] of Object.entries(requestCodes)) {
			assert.deepEqual(c.get(`ioctl ${name}`), [code], `${name} = 0x${code.toString(16)}`)
		}
	})

	it('DHCP counter names and order equal USBVNET_DHCP_COUNTERS', (t) => {
		const c = header(t)
		if (!c) return
		const names = [...c.keys()].filter((key) => key.startsWith('counter ')).map((key) => key.slice('counter '.length))
		assert.deepEqual(names, [...constants.USBVNET_DHCP_COUNTER_NAMES])
		assert.equal(constants.USBVNET_DHCP_COUNTER_NAMES.length, constants.USBVNET_DHCP_NR_COUNTERS)
	})

	it('constants, enumerators and flag bits equal the header', (t) => {
		const c = header(t)
		if (!c) return
		for (const [name, value] of Object.entries(headerConstants)) {
			assert.deepEqual(c.get(`const ${name}`), [value], name)
		}
	})
})

/** The header pads explicitly, so the named fields must tile the struct exactly. */
function assertContiguous(layout: StructLayout): void {
	const fields = Object.entries(layout.fields).sort(([, a], [, b]) => a.offset - b.offset)
	let next = 0
	for (const [name, {offset, size}] of fields) {
		assert.equal(offset, next, `${layout.name}.${name} should start at ${next}: a gap or overlap`)
		next = offset + size
	}
	assert.equal(next, layout.size, `${layout.name}: fields end at ${next}, struct size is ${layout.size}`)
}

describe('struct encode/decode round-trips', () => {
	it('usbvnet_info', () => {
		const info: InfoStruct = {
			ifname: 'usbvnet0',
			apiVersion: 1,
			ifindex: 7,
			mac: '02:00:5e:10:20:30',
			carrier: true,
			mode: 1,
			maxSlots: 32,
			slotsUsed: 0x80000005,
			nrInstances: 1,
			refusedFull: 1n,
			refusedRules: 2n,
			spoofDrops: 3n,
			purged: 4n,
			rxPackets: 5n,
			rxBytes: 0xffff_ffff_ffff_fffen,
			txPackets: 7n,
			txBytes: 8n,
			rxDropped: 9n,
			txDropped: 10n,
		}
		assert.deepEqual(decodeInfo(encodeInfo(info)), info)
	})

	it('usbvnet_slot_info with a 63-byte serial', () => {
		const slot: SlotInfoStruct = {
			ifname: 'usbvnet0',
			slot: 31,
			inUse: true,
			lower: 'enx0123456789ab',
			lowerIfindex: 12,
			vendor: 0x0525,
			product: 0xa4a2,
			driver: 'cdc_ether',
			busid: '1-1.4.2',
			serial: 'S'.repeat(63),
			lowerMac: 'aa:bb:cc:dd:ee:ff',
			learned: 3,
			rxPackets: 1n,
			rxBytes: 2n,
			rxDropped: 3n,
			txPackets: 4n,
			txBytes: 5n,
			txDropped: 6n,
			spoofDrops: 7n,
			purged: 8n,
		}
		assert.deepEqual(decodeSlotInfo(encodeSlotInfo(slot)), slot)
	})

	it('usbvnet_config with 16 rules', () => {
		const config: ConfigStruct = {
			ifname: '',
			mac: '02:11:22:33:44:55',
			mode: 0,
			flags: 1,
			drivers: 0xf,
			rules: Array.from({length: 16}, (_, index) => ({vendor: 0x1000 + index, product: index, action: index % 2})),
		}
		assert.deepEqual(decodeConfig(encodeConfig(config)), config)
	})

	it('usbvnet_config refuses a 17th rule', () => {
		const rules = Array.from({length: 17}, () => ({vendor: 1, product: 1, action: 0}))
		assert.throws(() => encodeConfig({ifname: '', mac: '02:00:00:00:00:01', mode: 0, flags: 0, drivers: 0, rules}), /at most 16 rules/)
	})

	it('usbvnet_dhcp_config with 3 DNS servers and 32 reservations of every kind', () => {
		const config: DhcpConfigStruct = {
			ifname: 'usbvnet0',
			flags: 1,
			subnet: 0x647ffe00,
			prefixLen: 24,
			hostIp: 0x647ffe01,
			poolStart: 0x647ffe02,
			poolEnd: 0x647ffefe,
			leaseSeconds: 3600,
			declineSeconds: 600,
			perSlotCap: 4,
			router: 0x647ffe01,
			dns: [0x01010101, 0x08080808, 0x647ffe01],
			domain: 'd'.repeat(63),
			mtu: 1500,
			reservations: Array.from({length: 32}, (_, index) => ({
				kind: index % 3,
				ip: 0x647ffe80 + index,
				slot: index % 3 === 2 ? index : 0,
				mac: index % 3 === 0 ? `02:00:00:00:00:${index.toString(16).padStart(2, '0')}` : '00:00:00:00:00:00',
				serial: index % 3 === 1 ? 'S'.repeat(index === 31 ? 63 : index) : '',
			})),
		}
		assert.deepEqual(decodeDhcpConfig(encodeDhcpConfig(config)), config)
	})

	it('usbvnet_dhcp_config refuses a 4th DNS server, a 33rd reservation and a 64-byte domain', () => {
		const base = decodeDhcpConfig(encodeDhcpConfig({
			ifname: '', flags: 0, subnet: 0, prefixLen: 24, hostIp: 0, poolStart: 0, poolEnd: 0, leaseSeconds: 0,
			declineSeconds: 0, perSlotCap: 0, router: 0, dns: [], domain: '', mtu: 0, reservations: [],
		}))
		assert.throws(() => encodeDhcpConfig({...base, dns: [1, 2, 3, 4]}), /at most 3 DNS servers/)
		const reservation = {kind: 2, ip: 1, slot: 0, mac: '00:00:00:00:00:00', serial: ''}
		assert.throws(() => encodeDhcpConfig({...base, reservations: Array.from({length: 33}, () => reservation)}), /at most 32 reservations/)
		assert.throws(() => encodeDhcpConfig({...base, domain: 'd'.repeat(64)}), /too long: at most 63 bytes/)
	})

	it('usbvnet_dhcp_stats keeps the counters the driver reports, at most the header\'s', () => {
		const stats = {ifname: 'usbvnet0', leasesBound: 3, counters: Array.from({length: constants.USBVNET_DHCP_NR_COUNTERS}, (_, index) => index * 1000)}
		assert.deepEqual(decodeDhcpStats(encodeDhcpStats(stats)), stats)
		const older = encodeDhcpStats({...stats, counters: [5, 6]})
		assert.deepEqual(decodeDhcpStats(older).counters, [5, 6])
		const newer = encodeDhcpStats(stats)
		newer.writeUInt32LE(40, 20) // nr_counters of a module that appended more
		assert.equal(decodeDhcpStats(newer).counters.length, constants.USBVNET_DHCP_NR_COUNTERS)
	})

	it('usbvnet_leases', () => {
		const leases = {ifname: 'usbvnet0', buf: 0x7fff_1234_5678n, len: 20496}
		assert.deepEqual(decodeLeases(encodeLeases(leases)), leases)
	})

	it('usbvnet_attach', () => {
		assert.deepEqual(decodeAttach(encodeAttach({ifname: 'usbvnet1', lower: 'usb0', slot: 5})), {ifname: 'usbvnet1', lower: 'usb0', slot: 5})
	})

	it('names of 16 bytes do not fit (no room for the NUL)', () => {
		assert.throws(() => encodeAttach({ifname: '', lower: 'a'.repeat(16), slot: 0}), /too long: at most 15 bytes/)
		assert.doesNotThrow(() => encodeAttach({ifname: '', lower: 'a'.repeat(15), slot: 0}))
	})

	it('a string filling its whole field decodes without running into the next one', () => {
		const buf = encodeAttach({ifname: '', lower: 'usb0', slot: 0x41414141})
		buf.fill(0x42, 0, 16) // ifname without a NUL, as a buggy driver might write it
		assert.equal(decodeAttach(buf).ifname, 'B'.repeat(16))
	})
})
