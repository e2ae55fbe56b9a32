// Small user-space peers for emulated functions, so a host can be tested
// end to end without a TAP device: an IPv4 neighbour that answers ARP and
// ping on a network function, and an echo on a serial function.

import type {FrameHandler, FramePort} from './cdc-net.js'
import type {SerialHandler, SerialPort} from './cdc-acm.js'
import {parseMac} from './cdc.js'

const ETHERTYPE_IPV4 = 0x0800
const ETHERTYPE_ARP = 0x0806
const ETHERNET_HEADER = 14
const ARP_LENGTH = 28
const IP_PROTOCOL_ICMP = 1
const ICMP_ECHO_REPLY = 0
const ICMP_ECHO_REQUEST = 8

/** The Internet checksum (RFC 1071) of a byte range. */
export function internetChecksum(bytes: Buffer): number {
	let sum = 0
	for (let i = 0; i + 1 < bytes.length; i += 2) sum += bytes.readUInt16BE(i)
	if (bytes.length % 2 === 1) sum += bytes[bytes.length - 1]! << 8
	while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16)
	return ~sum & 0xffff
}

export function parseIpv4(text: string): Buffer {
	const parts = text.split('.')
	if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255)) {
		throw new RangeError(`"${text}" is not an IPv4 address`)
	}
	return Buffer.from(parts.map(Number))
}

export interface PingResponderOptions {
	/** The emulated peer's own MAC (not the host's). */
	mac: string
	ipv4: string
}

/**
 * An IPv4 neighbour on the emulated link: answers ARP requests for its
 * address and ICMP echo requests sent to it, and counts everything else.
 */
export class PingResponder implements FrameHandler {
	private readonly mac: Buffer
	private readonly ip: Buffer
	private port: FramePort | undefined
	readonly stats = {arpReplies: 0, echoReplies: 0, ignored: 0}

	constructor(options: PingResponderOptions) {
		this.mac = parseMac(options.mac)
		this.ip = parseIpv4(options.ipv4)
	}

	attach(port: FramePort): void {
		this.port = port
	}

	frameFromHost(frame: Buffer): void {
		const reply = frame.length >= ETHERNET_HEADER ? this.answer(frame) : undefined
		if (reply && this.port?.sendToHost(reply)) return
		if (!reply) this.stats.ignored++
	}

	private answer(frame: Buffer): Buffer | undefined {
		const etherType = frame.readUInt16BE(12)
		if (etherType === ETHERTYPE_ARP) return this.answerArp(frame)
		if (etherType === ETHERTYPE_IPV4) return this.answerPing(frame)
		return undefined
	}

	private answerArp(frame: Buffer): Buffer | undefined {
		if (frame.length < ETHERNET_HEADER + ARP_LENGTH) return undefined
		const arp = frame.subarray(ETHERNET_HEADER, ETHERNET_HEADER + ARP_LENGTH)
		// Ethernet/IPv4 request (htype 1, ptype 0x0800, hlen 6, plen 4, op 1) for our address.
		const isRequest =
			arp.readUInt16BE(0) === 1 && arp.readUInt16BE(2) === ETHERTYPE_IPV4 && arp[4] === 6 && arp[5] === 4 && arp.readUInt16BE(6) === 1
		if (!isRequest || !arp.subarray(24, 28).equals(this.ip)) return undefined
		const senderMac = arp.subarray(8, 14)
		const senderIp = arp.subarray(14, 18)
		const reply = Buffer.alloc(ETHERNET_HEADER + ARP_LENGTH)
		senderMac.copy(reply, 0)
		this.mac.copy(reply, 6)
		reply.writeUInt16BE(ETHERTYPE_ARP, 12)
		const r = reply.subarray(ETHERNET_HEADER)
		r.writeUInt16BE(1, 0)
		r.writeUInt16BE(ETHERTYPE_IPV4, 2)
		r[4] = 6
		r[5] = 4
		r.writeUInt16BE(2, 6) // reply
		this.mac.copy(r, 8)
		this.ip.copy(r, 14)
		senderMac.copy(r, 18)
		senderIp.copy(r, 24)
		this.stats.arpReplies++
		return reply
	}

	private answerPing(frame: Buffer): Buffer | undefined {
		if (!frame.subarray(0, 6).equals(this.mac)) return undefined
		const ip = frame.subarray(ETHERNET_HEADER)
		if (ip.length < 20 || ip[0]! >> 4 !== 4) return undefined
		const headerLength = (ip[0]! & 0x0f) * 4
		const totalLength = ip.readUInt16BE(2)
		// Fragments and malformed lengths are not worth answering.
		const fragmented = (ip.readUInt16BE(6) & 0x3fff) !== 0
		if (headerLength < 20 || totalLength < headerLength + 8 || totalLength > ip.length || fragmented) return undefined
		if (ip[9] !== IP_PROTOCOL_ICMP || !ip.subarray(16, 20).equals(this.ip)) return undefined
		const icmp = ip.subarray(headerLength, totalLength)
		if (icmp[0] !== ICMP_ECHO_REQUEST || icmp[1] !== 0) return undefined

		const reply = Buffer.from(frame.subarray(0, ETHERNET_HEADER + totalLength))
		frame.copy(reply, 0, 6, 12) // destination: whoever asked
		this.mac.copy(reply, 6)
		const rip = reply.subarray(ETHERNET_HEADER, ETHERNET_HEADER + totalLength)
		ip.copy(rip, 16, 12, 16) // destination address: the sender
		this.ip.copy(rip, 12)
		rip[8] = 64 // TTL
		rip.writeUInt16BE(0, 10)
		rip.writeUInt16BE(internetChecksum(rip.subarray(0, headerLength)), 10)
		const ricmp = rip.subarray(headerLength)
		ricmp[0] = ICMP_ECHO_REPLY
		ricmp.writeUInt16BE(0, 2)
		ricmp.writeUInt16BE(internetChecksum(ricmp), 2)
		this.stats.echoReplies++
		return reply
	}
}

/** Sends every byte the host writes straight back, like a loopback plug. */
export class SerialEcho implements SerialHandler {
	private port: SerialPort | undefined

	attach(port: SerialPort): void {
		this.port = port
	}

	bytesFromHost(data: Buffer): void {
		this.port?.writeToHost(data)
	}
}
