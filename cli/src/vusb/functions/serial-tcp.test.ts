import {after, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {createServer, connect} from 'node:net'
import type {AddressInfo, Server, Socket} from 'node:net'
import {once} from 'node:events'
import {CdcAcmFunction} from './cdc-acm.js'
import {SerialTcpConnect, SerialTcpListen} from './serial-tcp.js'
import type {SerialHandler} from './cdc-acm.js'

/** A real ACM function, bound and configured as a host would leave it. */
function acm(handler: SerialHandler, maxBufferedBytes?: number): {fn: CdcAcmFunction; bulkIn: number; bulkOut: number} {
	const fn = new CdcAcmFunction({handler, ...(maxBufferedBytes === undefined ? {} : {maxBufferedBytes})})
	let iface = 0
	let inEp = 0x81
	let outEp = 0x01
	fn.bind({speed: 'full', allocateInterface: () => iface++, allocateEndpoint: (d) => (d === 'in' ? inEp++ : outEp++), addString: () => 1, wakeEndpoint: () => {}})
	fn.configure(true)
	const {bulkIn, bulkOut} = fn.endpointAddresses
	return {fn, bulkIn, bulkOut}
}

function client(port: number): Promise<Socket> {
	const socket = connect({host: '127.0.0.1', port})
	return once(socket, 'connect').then(() => socket)
}

/** Collects what a socket receives until `predicate` holds. */
function receive(socket: Socket, predicate: (text: string) => boolean): Promise<string> {
	return new Promise((resolve, reject) => {
		let text = ''
		const timer = setTimeout(() => reject(new Error(`timed out with ${JSON.stringify(text)}`)), 3000)
		const check = (): void => {
			if (!predicate(text)) return
			clearTimeout(timer)
			resolve(text)
		}
		socket.on('data', (d: Buffer) => {
			text += d.toString('latin1')
			check()
		})
		socket.on('end', check)
	})
}

/** Polls the function's bulk IN endpoint until it has `length` bytes. */
async function readFromFunction(fn: CdcAcmFunction, bulkIn: number, length: number): Promise<Buffer> {
	const parts: Buffer[] = []
	let have = 0
	for (let i = 0; i < 300 && have < length; i++) {
		const got = fn.handleIn(bulkIn, 64)
		if (Buffer.isBuffer(got)) {
			parts.push(got)
			have += got.length
		} else await new Promise((r) => setTimeout(r, 10))
	}
	return Buffer.concat(parts)
}

async function waitFor(predicate: () => boolean): Promise<void> {
	for (let i = 0; i < 300 && !predicate(); i++) await new Promise((r) => setTimeout(r, 10))
	assert.ok(predicate(), 'condition not reached in 3 s')
}

describe('SerialTcpListen through a CdcAcmFunction', () => {
	const handlers: {close(): Promise<void>}[] = []
	after(async () => {
		await Promise.all(handlers.map((h) => h.close()))
	})

	it('carries bytes both ways between the host and one TCP client', async () => {
		const tcp = new SerialTcpListen('127.0.0.1', 0)
		handlers.push(tcp)
		const {fn, bulkIn, bulkOut} = acm(tcp)
		await tcp.start()
		const c = await client(tcp.listeningPort)
		await waitFor(() => tcp.peer !== null)
		const got = receive(c, (t) => t === 'from-host')
		assert.equal(fn.handleOut(bulkOut, Buffer.from('from-host')), 'ok')
		assert.equal(await got, 'from-host')
		c.write('from-client')
		assert.equal((await readFromFunction(fn, bulkIn, 11)).toString(), 'from-client')
		assert.deepEqual({...tcp.stats}, {fromHost: 9, toHost: 11, droppedFromHost: 0, droppedToHost: 0, connections: 1, refused: 0})
		c.destroy()
	})

	it('refuses a second client with a line naming the first, then serves the next after the first goes', async () => {
		const tcp = new SerialTcpListen('127.0.0.1', 0)
		handlers.push(tcp)
		const {fn, bulkOut} = acm(tcp)
		await tcp.start()
		const first = await client(tcp.listeningPort)
		await waitFor(() => tcp.peer !== null)
		const second = await client(tcp.listeningPort)
		const refusal = await receive(second, (t) => t.endsWith('\r\n'))
		assert.match(refusal, /already has a client \(127\.0\.0\.1:\d+\)/)
		assert.equal(tcp.stats.refused, 1)
		// The first still owns the line.
		const got = receive(first, (t) => t === 'still-first')
		fn.handleOut(bulkOut, Buffer.from('still-first'))
		assert.equal(await got, 'still-first')

		// Client going away: the host's bytes are dropped and counted, nothing queues.
		first.destroy()
		await waitFor(() => tcp.peer === null)
		fn.handleOut(bulkOut, Buffer.from('nobody'))
		assert.equal(tcp.stats.droppedFromHost, 6)

		const third = await client(tcp.listeningPort)
		await waitFor(() => tcp.peer !== null)
		const got3 = receive(third, (t) => t === 'third')
		fn.handleOut(bulkOut, Buffer.from('third'))
		assert.equal(await got3, 'third')
		assert.equal(tcp.stats.connections, 2)
		third.destroy()
		second.destroy()
	})

	it('drops and counts what the client sends beyond the function buffer', async () => {
		const tcp = new SerialTcpListen('127.0.0.1', 0)
		handlers.push(tcp)
		const {fn, bulkIn} = acm(tcp, 1000)
		await tcp.start()
		const c = await client(tcp.listeningPort)
		c.write(Buffer.alloc(5000, 0x41))
		await waitFor(() => tcp.stats.toHost + tcp.stats.droppedToHost === 5000)
		assert.ok(tcp.stats.toHost <= 1000 && tcp.stats.droppedToHost >= 4000, JSON.stringify(tcp.stats))
		assert.equal((await readFromFunction(fn, bulkIn, tcp.stats.toHost)).length, tcp.stats.toHost)
		c.destroy()
	})

	it('rejects a port in use with EADDRINUSE and still closes cleanly', async () => {
		const tcp = new SerialTcpListen('127.0.0.1', 0)
		handlers.push(tcp)
		await tcp.start()
		const clash = new SerialTcpListen('127.0.0.1', tcp.listeningPort)
		await assert.rejects(clash.start(), {code: 'EADDRINUSE'})
		await clash.close()
	})
})

describe('SerialTcpConnect through a CdcAcmFunction', () => {
	it('connects, carries bytes both ways, and reconnects after the peer drops it', async () => {
		const accepted: Socket[] = []
		const server: Server = createServer((s) => accepted.push(s))
		server.listen(0, '127.0.0.1')
		await once(server, 'listening')
		const port = (server.address() as AddressInfo).port
		const tcp = new SerialTcpConnect('127.0.0.1', port, undefined, {firstMs: 20, maxMs: 100})
		const {fn, bulkIn, bulkOut} = acm(tcp)
		await tcp.start()
		await waitFor(() => accepted.length === 1 && tcp.peer !== null)
		const got = receive(accepted[0]!, (t) => t === 'up')
		fn.handleOut(bulkOut, Buffer.from('up'))
		assert.equal(await got, 'up')
		accepted[0]!.write('down')
		assert.equal((await readFromFunction(fn, bulkIn, 4)).toString(), 'down')

		accepted[0]!.destroy()
		await waitFor(() => accepted.length === 2 && tcp.peer !== null)
		assert.equal(tcp.stats.connections, 2)
		await tcp.close()
		for (const s of accepted) s.destroy()
		server.close()
	})

	it('keeps retrying while nobody listens, dropping what the host writes', async () => {
		const probe = createServer()
		probe.listen(0, '127.0.0.1')
		await once(probe, 'listening')
		const port = (probe.address() as AddressInfo).port
		await new Promise((r) => probe.close(r))
		const tcp = new SerialTcpConnect('127.0.0.1', port, undefined, {firstMs: 20, maxMs: 40})
		const {fn, bulkOut} = acm(tcp)
		await tcp.start()
		fn.handleOut(bulkOut, Buffer.from('lost'))
		assert.equal(tcp.stats.droppedFromHost, 4)
		const late = createServer()
		late.listen(port, '127.0.0.1')
		await once(late, 'listening')
		const conn = once(late, 'connection')
		await conn
		await waitFor(() => tcp.peer !== null)
		await tcp.close()
		await new Promise((r) => late.close(r))
	})
})
