// CDC ECM (Ethernet Control Model) function: what Linux's cdc_ether binds.
// One Ethernet frame per bulk transfer, in both directions (ECM 1.2 3.3.1).

import {CdcSubclass, UsbClass} from '../usb/descriptors.js'
import type {FunctionClass, InOutcome, OutOutcome} from '../usb/device.js'
import {bulkMaxPacketSize} from '../usb/device.js'
import {UrbFlag} from '../usbip/protocol.js'
import {CdcNetworkFunction} from './cdc-net.js'
import type {CdcNetworkOptions} from './cdc-net.js'

export type {FrameHandler, FramePort} from './cdc-net.js'
export type CdcEcmOptions = CdcNetworkOptions

/** Reassembly cap for OUT transfers that never end with a short packet. */
const MAX_OUT_TRANSFER = 64 * 1024

export class CdcEcmFunction extends CdcNetworkFunction {
	readonly name = 'cdc-ecm'
	readonly classTriple: FunctionClass = {
		functionClass: UsbClass.CDC,
		functionSubClass: CdcSubclass.ECM,
		functionProtocol: 0,
	}
	protected readonly dataInterfaceProtocol = 0

	/** Bytes of the head frame already handed out when a frame spans URBs. */
	private headOffset = 0
	private outParts: Buffer[] = []
	private outLength = 0

	protected bulkInTransfer(maxLength: number): InOutcome {
		const packet = bulkMaxPacketSize(this.speed)
		for (;;) {
			const head = this.framesToHost[0]
			if (!head) return 'pending'
			const remaining = head.length - this.headOffset
			if (remaining <= maxLength) {
				const chunk = head.subarray(this.headOffset)
				this.framesToHost.shift()
				this.headOffset = 0
				this.stats.framesToHost++
				return chunk
			}
			// The host's buffer is smaller than the frame. A buffer of whole
			// packets fills and the frame goes on in the next URB, as a real
			// device's transfer does; any other size would babble on its last
			// packet (-EOVERFLOW, the frame lost), so the frame is dropped
			// rather than handed out as a truncated frame and a bogus one.
			if (maxLength % packet === 0) {
				const chunk = head.subarray(this.headOffset, this.headOffset + maxLength)
				this.headOffset += maxLength
				return chunk
			}
			this.framesToHost.shift()
			this.headOffset = 0
			this.stats.framesDropped++
		}
	}

	protected bulkOutTransfer(data: Buffer, transferFlags: number): OutOutcome {
		this.outParts.push(Buffer.from(data))
		this.outLength += data.length
		if (this.outLength > MAX_OUT_TRANSFER) {
			this.outParts = []
			this.outLength = 0
			this.stats.framesDropped++
			return 'ok'
		}
		// A transfer (one frame) ends with a short packet, or with the zero-length one URB_ZERO_PACKET asks for.
		const packet = bulkMaxPacketSize(this.speed)
		const ended = data.length % packet !== 0 || data.length === 0 || (transferFlags & UrbFlag.ZERO_PACKET) !== 0
		if (ended) {
			const frame = Buffer.concat(this.outParts, this.outLength)
			this.outParts = []
			this.outLength = 0
			if (frame.length > 0) this.deliverFromHost(frame)
		}
		return 'ok'
	}

	protected abortInTransfer(): void {
		// The host has the head frame's first packets and ended that transfer:
		// its rest would arrive as a frame of its own, so it is dropped.
		if (this.headOffset > 0 && this.framesToHost.shift()) this.stats.framesDropped++
		this.headOffset = 0
	}

	protected abortOutTransfer(): void {
		if (this.outLength > 0) this.stats.framesDropped++
		this.outParts = []
		this.outLength = 0
	}
}
