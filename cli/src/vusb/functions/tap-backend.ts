// The network side of an ECM/NCM function backed by a TAP device on the
// serving machine: frames the host sends come out of the TAP, frames the TAP
// transmits go to the host. The TAP's carrier follows the USB side: on while
// the host has the data interface up (alternate setting 1) with a non-zero
// packet filter, off otherwise (detach, unplug, reset, filter 0), as a phone's
// tethering interface loses its link when the cable is pulled.
//
// The TAP itself (FFI, driver/tap.ts) is behind TapLink so the logic here is
// tested without one. Bad frames in either direction (runts, frames longer
// than the function's segment size plus a VLAN tag) are dropped and counted.

import type {FrameHandler, FramePort} from './cdc-net.js'
import {PacketFilter, parseMac} from './cdc.js'

const ETHERNET_HEADER = 14
const VLAN_TAG = 4

/** What the handler needs of a TAP device. */
export interface TapLink {
	write(frame: Buffer): boolean
	setCarrier(on: boolean): void
	close(): Promise<void>
}

/** Opens the TAP once; frames it reads go to onFrames. */
export type TapOpener = (onFrames: (frames: Buffer[]) => void, onError: (error: Error) => void) => TapLink

export interface TapFrameHandlerOptions {
	/** The host's MAC (the function's hostMac): directed frames for it pass the filter. */
	hostMac: string
	/** The function's wMaxSegmentSize; frames up to that plus a VLAN tag pass. Default 1514. */
	maxSegmentSize?: number
	open: TapOpener
	/** Called once when the TAP reader fails (device deleted, ...). */
	onError?: (error: Error) => void
}

export interface TapStats {
	/** Frames the host sent that were written to the TAP. */
	toTap: number
	/** Frames read from the TAP that were queued for the host. */
	fromTap: number
	/** Shorter than an Ethernet header, either way. */
	runts: number
	/** Longer than maxSegmentSize + 4, either way. */
	tooLong: number
	/** Not wanted by the host's packet filter. */
	filtered: number
	/** Read from the TAP while the host was not listening. */
	linkDown: number
	/** The function's queue for the host was full. */
	queueFull: number
	/** The kernel refused a write to the TAP. */
	writeErrors: number
}

function isBroadcast(mac: Buffer): boolean {
	return mac.every((b) => b === 0xff)
}

/**
 * Whether the host asked to receive `frame` (ECM 1.2 6.2.4 SetEthernetPacketFilter):
 * promiscuous takes all; broadcast, multicast and directed frames each need
 * their bit; multicast without ALL_MULTICAST passes only listed addresses.
 */
export function passesPacketFilter(filter: number, hostMac: Buffer, multicastList: Buffer, frame: Buffer): boolean {
	if (filter & PacketFilter.PROMISCUOUS) return true
	const destination = frame.subarray(0, 6)
	if (isBroadcast(destination)) return (filter & PacketFilter.BROADCAST) !== 0
	if (destination[0]! & 1) {
		if (filter & PacketFilter.ALL_MULTICAST) return true
		if (!(filter & PacketFilter.MULTICAST)) return false
		for (let i = 0; i + 6 <= multicastList.length; i += 6) {
			if (multicastList.subarray(i, i + 6).equals(destination)) return true
		}
		return false
	}
	return (filter & PacketFilter.DIRECTED) !== 0 && destination.equals(hostMac)
}

export class TapFrameHandler implements FrameHandler {
	private readonly hostMac: Buffer
	private readonly maxFrame: number
	private readonly link: TapLink
	private port: FramePort | undefined
	private carrier = false
	private failed = false
	readonly stats: TapStats = {toTap: 0, fromTap: 0, runts: 0, tooLong: 0, filtered: 0, linkDown: 0, queueFull: 0, writeErrors: 0}

	constructor(private readonly options: TapFrameHandlerOptions) {
		this.hostMac = parseMac(options.hostMac)
		this.maxFrame = (options.maxSegmentSize ?? 1514) + VLAN_TAG
		this.link = options.open(
			(frames) => {
				for (const frame of frames) this.frameFromTap(frame)
			},
			(error) => {
				if (this.failed) return
				this.failed = true
				this.options.onError?.(error)
			},
		)
	}

	/** Called by each function built on this TAP (again after `vusb set` rebuilt the device). */
	attach(port: FramePort): void {
		this.port = port
		this.updateCarrier()
	}

	/** True while the TAP shows carrier. */
	get linkUp(): boolean {
		return this.carrier
	}

	frameFromHost(frame: Buffer): void {
		if (frame.length < ETHERNET_HEADER) {
			this.stats.runts++
			return
		}
		if (frame.length > this.maxFrame) {
			this.stats.tooLong++
			return
		}
		if (this.link.write(frame)) this.stats.toTap++
		else this.stats.writeErrors++
	}

	activeChanged(): void {
		this.updateCarrier()
	}

	filterChanged(): void {
		this.updateCarrier()
	}

	/** A frame the TAP's network sends towards the host. */
	frameFromTap(frame: Buffer): void {
		const port = this.port
		if (frame.length < ETHERNET_HEADER) {
			this.stats.runts++
			return
		}
		if (frame.length > this.maxFrame) {
			this.stats.tooLong++
			return
		}
		if (!port?.active) {
			this.stats.linkDown++
			return
		}
		if (!passesPacketFilter(port.packetFilter, this.hostMac, port.multicastFilters, frame)) {
			this.stats.filtered++
			return
		}
		if (port.sendToHost(frame)) this.stats.fromTap++
		else this.stats.queueFull++
	}

	/** Closes the TAP (a non-persistent one disappears). */
	close(): Promise<void> {
		this.port = undefined
		return this.link.close()
	}

	private updateCarrier(): void {
		const on = this.port !== undefined && this.port.active && this.port.packetFilter !== 0
		if (on === this.carrier) return
		this.carrier = on
		try {
			this.link.setCarrier(on)
		} catch (error) {
			this.options.onError?.(error as Error)
		}
	}
}
