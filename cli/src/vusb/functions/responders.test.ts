import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {PingResponder, SerialEcho, internetChecksum, parseIpv4} from './responders.js'
import type {FramePort} from './cdc-net.js'
import type {SerialPort} from './cdc-acm.js'

const hostMac = Buffer.from('020000000001', 'hex')
const peerMac = Buffer.from('020000000099', 'hex')

class CapturePort implements FramePort {
	readonly sent: Buffer[] = []
	readonly active = true
	readonly packetFilter = 0x0c
	readonly multicastFilters = Buffer.alloc(0)
	sendToHost(frame: Buffer): boolean {
		this.sent.push(frame)
		return true
	}
}

function arpRequest(targetIp: string): Buffer {
	return Buffer.concat([
		Buffer.alloc(6, 0xff), // broadcast destination
		hostMac,
		Buffer.from([0x08, 0x06]), // ARP
		Buffer.from([0, 1, 0x08, 0x00, 6, 4, 0, 1]), // Ethernet/IPv4, request
		hostMac,
		parseIpv4('192.168.77.1'),
		Buffer.alloc(6),
		parseIpv4(targetIp),
	])
}

function pingRequest(payload: Buffer): Buffer {
	const icmp = Buffer.concat([Buffer.from([8, 0, 0, 0, 0x12, 0x34, 0x00, 0x01]), payload])
	icmp.writeUInt16BE(internetChecksum(icmp), 2)
	const ip = Buffer.from([0x45, 0, 0, 0, 0xab, 0xcd, 0x40, 0, 64, 1, 0, 0, ...parseIpv4('192.168.77.1'), ...parseIpv4('192.168.77.2')])
	ip.writeUInt16BE(20 + icmp.length, 2)
	ip.writeUInt16BE(internetChecksum(ip), 10)
	return Buffer.concat([peerMac, hostMac, Buffer.from([0x08, 0x00]), ip, icmp])
}

describe('PingResponder', () => {
	it('answers an ARP request for its address and ignores others', () => {
		const responder = new PingResponder({mac: '02:00:00:00:00:99', ipv4: '192.168.77.2'})
		const port = new CapturePort()
		responder.attach(port)
		responder.frameFromHost(arpRequest('192.168.77.3'))
		assert.equal(port.sent.length, 0)
		responder.frameFromHost(arpRequest('192.168.77.2'))
		const reply = port.sent[0]!
		assert.deepEqual(reply.subarray(0, 6), hostMac)
		assert.deepEqual(reply.subarray(6, 12), peerMac)
		assert.equal(reply.readUInt16BE(20), 2, 'ARP reply')
		assert.deepEqual(reply.subarray(22, 28), peerMac, 'sender hardware address')
		assert.deepEqual([...reply.subarray(28, 32)], [192, 168, 77, 2])
		assert.deepEqual([...reply.subarray(38, 42)], [192, 168, 77, 1])
	})

	it('answers ping with valid checksums and the same payload', () => {
		const responder = new PingResponder({mac: '02:00:00:00:00:99', ipv4: '192.168.77.2'})
		const port = new CapturePort()
		responder.attach(port)
		const payload = Buffer.from('abcdefghijklmnopqrstuvwabcdefghi')
		responder.frameFromHost(pingRequest(payload))
		const reply = port.sent[0]!
		assert.deepEqual(reply.subarray(0, 6), hostMac)
		const ip = reply.subarray(14, 34)
		assert.equal(internetChecksum(ip), 0, 'IPv4 header checksum')
		assert.deepEqual([...ip.subarray(12, 16)], [192, 168, 77, 2])
		assert.deepEqual([...ip.subarray(16, 20)], [192, 168, 77, 1])
		const icmp = reply.subarray(34)
		assert.equal(icmp[0], 0, 'echo reply')
		assert.equal(internetChecksum(icmp), 0, 'ICMP checksum')
		assert.deepEqual(icmp.subarray(8), payload)
	})

	it('ignores truncated and malformed frames without throwing', () => {
		const responder = new PingResponder({mac: '02:00:00:00:00:99', ipv4: '192.168.77.2'})
		const port = new CapturePort()
		responder.attach(port)
		const good = pingRequest(Buffer.alloc(16))
		for (let cut = 0; cut < good.length; cut++) responder.frameFromHost(good.subarray(0, cut))
		const badLength = Buffer.from(good)
		badLength.writeUInt16BE(2000, 16)
		responder.frameFromHost(badLength)
		assert.equal(port.sent.length, 0)
		assert.equal(responder.stats.ignored, good.length + 1)
	})
})

describe('SerialEcho', () => {
	it('sends bytes back', () => {
		const echo = new SerialEcho()
		const written: Buffer[] = []
		const port: SerialPort = {
			writeToHost: (d) => (written.push(d), true),
			lineCoding: {baudRate: 9600, stopBits: 0, parity: 0, dataBits: 8},
			controlLines: {dtr: true, rts: true},
		}
		echo.attach(port)
		echo.bytesFromHost(Buffer.from('hi'))
		assert.deepEqual(written, [Buffer.from('hi')])
	})
})
