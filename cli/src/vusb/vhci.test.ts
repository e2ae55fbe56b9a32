import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {
	VhciError,
	attachLine,
	chooseFreePort,
	devidOf,
	findVhciDirectory,
	formatRecord,
	parseRecord,
	parseVhciStatus,
	readVhciPorts,
	resolveDetachTarget,
	statusFileOrder,
	type VhciPort,
} from './vhci.js'
import {encodeSockaddr, ipv6Bytes} from '../driver/socket.js'

// As Debian's 6.1 vhci_hcd prints it: 8 high-speed then 8 SuperSpeed ports per controller.
const STATUS0 = `hub port sta spd dev      sockfd local_busid
hs  0000 006 003 00010002 000003 3-1
hs  0001 004 000 00000000 000000 0-0
hs  0002 006 002 00010004 000005 3-2
hs  0003 004 000 00000000 000000 0-0
ss  0004 004 000 00000000 000000 0-0
ss  0005 006 005 00020003 000007 4-1
`
const STATUS1 = `hub port sta spd dev      sockfd local_busid
hs  0008 004 000 00000000 000000 0-0
ss  0012 004 000 00000000 000000 0-0
`

describe('vhci_hcd status files', () => {
	it('parses every port with its state, speed, devid and local busid', () => {
		const ports = parseVhciStatus(STATUS0)
		assert.equal(ports.length, 6)
		assert.deepEqual(ports[0], {port: 0, hub: 'hs', status: 6, speed: 3, devid: 0x10002, sockfd: 3, localBusid: '3-1'})
		assert.deepEqual(ports[1], {port: 1, hub: 'hs', status: 4, speed: 0, devid: 0, sockfd: 0, localBusid: undefined})
		assert.equal(ports[5]!.hub, 'ss')
		assert.equal(ports[5]!.localBusid, '4-1')
	})

	it('refuses layouts it does not know (old kernels) instead of guessing', () => {
		assert.throws(() => parseVhciStatus('prt sta spd bus dev socket local_busid\n0000 004 000 000 000 000000 0-0\n'), VhciError)
		assert.throws(() => parseVhciStatus(`${STATUS0}garbage line\n`), /cannot parse/)
		assert.throws(() => parseVhciStatus(''), VhciError)
	})

	it('orders status, status.1, status.2, ... status.10 by controller', () => {
		assert.deepEqual(statusFileOrder(['status.10', 'attach', 'status.2', 'status', 'nports', 'status.1']), [
			'status',
			'status.1',
			'status.2',
			'status.10',
		])
	})

	it('finds vhci_hcd.0, or another instance with an attach file, or says it is not loaded', () => {
		const root = mkdtempSync(join(tmpdir(), 'vhci-'))
		assert.throws(() => findVhciDirectory(root), /modprobe vhci-hcd/)
		const other = join(root, 'bus/platform/drivers/vhci_hcd/vhci_hcd.3')
		mkdirSync(other, {recursive: true})
		assert.throws(() => findVhciDirectory(root), /not loaded/)
		writeFileSync(join(other, 'attach'), '')
		assert.equal(findVhciDirectory(root), other)
		const usual = join(root, 'devices/platform/vhci_hcd.0')
		mkdirSync(usual, {recursive: true})
		writeFileSync(join(usual, 'attach'), '')
		assert.equal(findVhciDirectory(root), usual)
		writeFileSync(join(usual, 'status'), STATUS0)
		writeFileSync(join(usual, 'status.1'), STATUS1)
		assert.deepEqual(
			readVhciPorts(usual).map((p) => p.port),
			[0, 1, 2, 3, 4, 5, 8, 12],
		)
	})
})

describe('choosing a port and building the attach line', () => {
	const ports = [...parseVhciStatus(STATUS0), ...parseVhciStatus(STATUS1)]

	it('takes the first free high-speed port for low, full and high speed', () => {
		for (const speed of [1, 2, 3]) assert.equal(chooseFreePort(ports, speed)?.port, 1)
	})

	it('takes a SuperSpeed port for SuperSpeed devices', () => {
		assert.equal(chooseFreePort(ports, 5)?.port, 4)
		assert.equal(chooseFreePort(ports, 6)?.port, 4)
	})

	it('skips ports that failed with EBUSY, and finds none when all are taken', () => {
		assert.equal(chooseFreePort(ports, 3, new Set([1]))?.port, 3)
		assert.equal(chooseFreePort(ports, 3, new Set([1, 3]))?.port, 8)
		assert.equal(chooseFreePort(ports, 3, new Set([1, 3, 8])), undefined)
	})

	it('writes "port sockfd devid speed" with devid = busnum << 16 | devnum', () => {
		assert.equal(devidOf(1, 2), 0x10002)
		assert.equal(devidOf(0xffff, 127), 0xffff007f)
		assert.equal(attachLine(1, 17, devidOf(1, 2), 3), '1 17 65538 3')
		assert.throws(() => attachLine(-1, 3, 0, 3), RangeError)
		assert.throws(() => attachLine(1, 3.5, 0, 3), RangeError)
	})
})

describe('connection records and detach targets', () => {
	it('reads and writes usbip(8) records', () => {
		assert.equal(formatRecord({host: '127.0.0.1', port: '3240', busid: '1-1'}), '127.0.0.1 3240 1-1\n')
		assert.deepEqual(parseRecord('127.0.0.1 3240 1-1\n'), {host: '127.0.0.1', port: '3240', busid: '1-1'})
		assert.equal(parseRecord('garbage'), undefined)
	})

	const ports: VhciPort[] = parseVhciStatus(STATUS0)
	const records: Record<number, string> = {0: '1-1', 2: '1-3'}
	const recordOf = (p: number): {host: string; port: string; busid: string} | undefined =>
		records[p] ? {host: 'h', port: '3240', busid: records[p]!} : undefined

	it('takes a number as a port that must be in use', () => {
		assert.equal((resolveDetachTarget('2', ports, recordOf) as VhciPort).port, 2)
		assert.match((resolveDetachTarget('1', ports, recordOf) as {error: string}).error, /not in use/)
		assert.match((resolveDetachTarget('99', ports, recordOf) as {error: string}).error, /no port 99/)
	})

	it('takes a busid as the server named it first, then as the local bus names it', () => {
		assert.equal((resolveDetachTarget('1-3', ports, recordOf) as VhciPort).port, 2)
		assert.equal((resolveDetachTarget('3-2', ports, recordOf) as VhciPort).port, 2)
		assert.equal((resolveDetachTarget('4-1', ports, recordOf) as VhciPort).port, 5)
		assert.match((resolveDetachTarget('1-9', ports, recordOf) as {error: string}).error, /no vhci_hcd port imports/)
		assert.match((resolveDetachTarget('usb0', ports, recordOf) as {error: string}).error, /neither/)
	})

	it('refuses a busid imported twice (from two servers) without a port', () => {
		const twice = (p: number): {host: string; port: string; busid: string} | undefined =>
			p === 0 || p === 2 ? {host: 'h', port: '1', busid: '1-1'} : undefined
		assert.match((resolveDetachTarget('1-1', ports, twice) as {error: string}).error, /several ports \(0, 2\)/)
	})
})

describe('socket addresses for the libc connect', () => {
	it('builds sockaddr_in with the port in network order', () => {
		assert.equal(encodeSockaddr('127.0.0.1', 3240).toString('hex'), '02000ca87f0000010000000000000000')
	})

	it('builds sockaddr_in6 from any IPv6 spelling', () => {
		const sa = encodeSockaddr('::1', 3240)
		assert.equal(sa.length, 28)
		assert.equal(sa.subarray(0, 4).toString('hex'), '0a000ca8')
		assert.equal(sa.subarray(8, 24).toString('hex'), '00000000000000000000000000000001')
		assert.equal(ipv6Bytes('fe80::1:2').toString('hex'), 'fe800000000000000000000000010002')
		assert.equal(ipv6Bytes('::ffff:192.0.2.1').toString('hex'), '00000000000000000000ffffc0000201')
		assert.equal(ipv6Bytes('2001:db8:0:0:0:0:0:1').toString('hex'), '20010db8000000000000000000000001')
	})

	it('refuses names: they are resolved before', () => {
		assert.throws(() => encodeSockaddr('localhost', 1), RangeError)
	})
})
