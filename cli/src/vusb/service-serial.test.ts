import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {connect, createServer} from 'node:net'
import type {AddressInfo} from 'node:net'
import {once} from 'node:events'
import {VusbService, VusbServiceError} from './service.js'
import {UsbipServer} from './usbip/server.js'
import {parseDeviceConfigText} from './device-config.js'
import type {VusbDeviceConfig} from './device-config.js'
import {ExitCode} from '../errors.js'
import {existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

function device(busid: string, functions: unknown[]): VusbDeviceConfig {
	return parseDeviceConfigText(JSON.stringify({busid, vendorId: '0x1209', productId: '0x0003', functions}), `${busid}.json`)
}

/** A loopback port nothing listens on right now. */
async function freePort(): Promise<number> {
	const probe = createServer()
	probe.listen(0, '127.0.0.1')
	await once(probe, 'listening')
	const port = (probe.address() as AddressInfo).port
	await new Promise((r) => probe.close(r))
	return port
}

function problems(functions: unknown[]): string[] {
	try {
		device('1-1', functions)
		return []
	} catch (error) {
		return ((error as {issues?: {path: string; message: string}[]}).issues ?? []).map((i) => `${i.path}: ${i.message}`)
	}
}

describe('serial TCP backends in the service', () => {
	it('listens once ready, reports the backend, keeps it across set and closes it on unplug', async () => {
		const port = await freePort()
		const service = new VusbService(new UsbipServer())
		service.plug(device('1-1', [{type: 'cdc-acm', backend: {tcp: {listen: `127.0.0.1:${port}`}}}]), '1-1.json')
		await service.ready()
		assert.deepEqual(service.list()[0]!.functions[0]!.tcp, {
			listen: `127.0.0.1:${port}`,
			connect: null,
			peer: null,
			stats: {fromHost: 0, toHost: 0, droppedFromHost: 0, droppedToHost: 0, connections: 0, refused: 0},
		})
		const probe = connect({host: '127.0.0.1', port})
		await once(probe, 'connect')
		probe.destroy()

		const after = await service.set('1-1', ['cdc-ecm', 'cdc-acm'])
		assert.equal(after.functions[1]!.tcp?.listen, `127.0.0.1:${port}`)
		assert.equal(after.functions[1]!.tcp?.stats.connections, 1, 'the same listener, its counters kept')

		service.unplug('1-1')
		await new Promise((r) => setTimeout(r, 50))
		// Closed: the port is free again.
		const again = createServer()
		again.listen(port, '127.0.0.1')
		await once(again, 'listening')
		await new Promise((r) => again.close(r))
		await service.close()
	})

	it('names a port in use at ready() with exit code 7, and close() leaves nothing listening', async () => {
		const holder = createServer()
		holder.listen(0, '127.0.0.1')
		await once(holder, 'listening')
		const port = (holder.address() as AddressInfo).port
		const service = new VusbService(new UsbipServer())
		service.plug(device('1-1', [{type: 'cdc-acm', backend: {tcp: {listen: `127.0.0.1:${port}`}}}]), 'acm.json')
		await assert.rejects(service.ready(), (error: unknown) => {
			assert.ok(error instanceof VusbServiceError)
			assert.equal(error.exitCode, ExitCode.busy)
			assert.match(error.message, new RegExp(`acm\\.json: serial backend tcp listen 127\\.0\\.0\\.1:${port}: address already in use`))
			return true
		})
		await service.close()
		await new Promise((r) => holder.close(r))
	})

	it('names a local address the machine does not have', async () => {
		const service = new VusbService(new UsbipServer())
		service.plug(device('1-1', [{type: 'cdc-acm', backend: {tcp: {listen: '192.0.2.1:4001'}}}]), 'acm.json')
		await assert.rejects(service.ready(), {exitCode: ExitCode.usage, message: /no such local address/})
		await service.close()
	})
})

describe('serial pseudo-terminal backends in the service', () => {
	it('opens a pty with its link, reports it, and removes the link on unplug', async () => {
		const dir = mkdtempSync(join(tmpdir(), 'vusb-svc-pty-'))
		const link = join(dir, 'ttyVUSB0')
		try {
			const service = new VusbService(new UsbipServer())
			service.plug(device('1-1', [{type: 'cdc-acm', backend: {pty: {link}}}]), '1-1.json')
			await service.ready()
			const pty = service.list()[0]!.functions[0]!.pty
			assert.match(pty?.slave ?? '', /^\/dev\/pts\/\d+$/)
			assert.equal(pty?.link, link)
			assert.equal(readlinkSync(link), pty?.slave)
			service.unplug('1-1')
			await waitGone(link)
			await service.close()
		} finally {
			rmSync(dir, {recursive: true, force: true})
		}
	})

	it('names a link it cannot make at ready(), leaving what is there', async () => {
		const dir = mkdtempSync(join(tmpdir(), 'vusb-svc-pty-'))
		const file = join(dir, 'file')
		writeFileSync(file, 'keep')
		try {
			const service = new VusbService(new UsbipServer())
			service.plug(device('1-1', [{type: 'cdc-acm', backend: {pty: {link: file}}}]), 'acm.json')
			await assert.rejects(service.ready(), {exitCode: ExitCode.busy, message: new RegExp(`acm\\.json: serial backend pty \\(link ${file}\\): ${file} exists and is not a symlink`)})
			await service.close()
			assert.equal(readFileSync(file, 'utf8'), 'keep')
		} finally {
			rmSync(dir, {recursive: true, force: true})
		}
	})
})

async function waitGone(path: string): Promise<void> {
	for (let i = 0; i < 100 && existsSync(path); i++) await new Promise((r) => setTimeout(r, 10))
	assert.ok(!existsSync(path), `${path} still there`)
}

describe('device files with serial backends', () => {
	it('accept listen and connect, and reject bad addresses, both at once and a listen used twice', () => {
		assert.deepEqual(problems([{type: 'cdc-acm', backend: {tcp: {listen: '127.0.0.1:4001'}}}]), [])
		assert.deepEqual(problems([{type: 'cdc-acm', backend: {tcp: {connect: '[::1]:4001'}}}]), [])
		assert.deepEqual(problems([{type: 'cdc-acm', backend: {tcp: {connect: 'localhost:4001'}}}]), [])
		assert.match(problems([{type: 'cdc-acm', backend: {tcp: {listen: '127.0.0.1'}}}]).join('\n'), /backend\.tcp\.listen: expected HOST:PORT/)
		assert.match(problems([{type: 'cdc-acm', backend: {tcp: {listen: '127.0.0.1:65536'}}}]).join('\n'), /expected HOST:PORT/)
		assert.match(problems([{type: 'cdc-acm', backend: {tcp: {listen: '127.0.0.1:0'}}}]).join('\n'), /expected HOST:PORT/)
		assert.match(problems([{type: 'cdc-acm', backend: {tcp: {listen: '127.0.0.1:1', connect: '127.0.0.1:2'}}}]).join('\n'), /backend\.tcp/)
		assert.match(problems([{type: 'cdc-acm', backend: {tcp: {}}}]).join('\n'), /backend\.tcp/)
		assert.deepEqual(problems([{type: 'cdc-acm', backend: {pty: {}}}]), [])
		assert.deepEqual(problems([{type: 'cdc-acm', backend: {pty: {link: '/run/usbvnet/ttyVUSB0'}}}]), [])
		assert.match(problems([{type: 'cdc-acm', backend: {pty: {link: 'relative'}}}]).join('\n'), /backend\.pty\.link: expected an absolute path/)
		assert.match(problems([{type: 'cdc-acm', backend: {pty: {}, tcp: {listen: '127.0.0.1:1'}}}]).join('\n'), /backend/)
		assert.match(problems([{type: 'cdc-acm', backend: {}}]).join('\n'), /backend/)
		assert.match(problems([{type: 'cdc-acm', backend: {tcp: {lisen: '127.0.0.1:1'}}}]).join('\n'), /did you mean "listen"/)
		assert.match(
			problems([
				{type: 'cdc-acm', backend: {tcp: {listen: '127.0.0.1:4001'}}},
				{type: 'cdc-acm', backend: {tcp: {listen: '127.0.0.1:4001'}}},
			]).join('\n'),
			/functions\[1\]\.backend\.tcp\.listen: 127\.0\.0\.1:4001 is already where functions\[0\] listens/,
		)
	})
})
