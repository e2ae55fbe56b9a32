// CDC NCM (Network Control Model) function: what Linux's cdc_ncm binds.
// Frames travel packed in NTB16 transfer blocks, several per bulk transfer,
// which is what makes NCM faster than ECM at the same packet rate.

import {CdcSubclass, UsbClass, cdcNcmDescriptor} from '../usb/descriptors.js'
import type {ControlOutcome, FunctionClass, InOutcome, OutOutcome} from '../usb/device.js'
import {RequestType, bulkMaxPacketSize} from '../usb/device.js'
import type {SetupPacket} from '../usbip/protocol.js'
import {UrbFlag} from '../usbip/protocol.js'
import {CdcRequest} from './cdc.js'
import {CdcNetworkFunction} from './cdc-net.js'
import type {CdcNetworkOptions} from './cdc-net.js'
import {NtbError, buildNtb16, ntb16BlockLength, ntb16Size, parseNtb16} from './ncm-ntb.js'
import type {Ntb16Layout} from './ncm-ntb.js'

export interface CdcNcmOptions extends CdcNetworkOptions {
	/** dwNtbInMaxSize we offer the host; default 16384. */
	ntbInMaxSize?: number
	/** dwNtbOutMaxSize we accept; default 16384. */
	ntbOutMaxSize?: number
}

/** bmNetworkCapabilities bit 0: SET_ETHERNET_PACKET_FILTER is supported (NCM 1.0 table 5-2). */
const NCM_CAP_ETHERNET_PACKET_FILTER = 0x01
/** bmNtbFormatsSupported bit 0: NTB16. We do not offer NTB32. */
const NTB16_SUPPORTED = 0x0001
/** NCM 1.0 6.2.7: the host may not ask for an input size below this. */
const MIN_NTB_IN_SIZE = 2048
const NTB_PARAMETERS_LENGTH = 0x1c
/** Datagram alignment we use and ask for: 4-byte boundaries, no payload offset. */
const LAYOUT: Ntb16Layout = {divisor: 4, remainder: 0, ndpAlignment: 4}

export class CdcNcmFunction extends CdcNetworkFunction {
	readonly name = 'cdc-ncm'
	readonly classTriple: FunctionClass = {
		functionClass: UsbClass.CDC,
		functionSubClass: CdcSubclass.NCM,
		functionProtocol: 0,
	}
	/** Data interface protocol 1: "network transfer block" (NCM 1.0 table 4-4). */
	protected readonly dataInterfaceProtocol = 1
	protected override readonly speedBeforeConnection = true

	private readonly maxNtbInSize: number
	private readonly ntbOutMaxSize: number
	private ntbInMaxSize: number
	private sequence = 0
	private outParts: Buffer[] = []
	private outLength = 0
	readonly ncmStats = {ntbsFromHost: 0, ntbsToHost: 0, badNtbs: 0}

	constructor(options: CdcNcmOptions) {
		super(options)
		this.maxNtbInSize = Math.min(options.ntbInMaxSize ?? 16384, 0xffff)
		this.ntbOutMaxSize = Math.min(options.ntbOutMaxSize ?? 16384, 0xffff)
		if (this.maxNtbInSize < MIN_NTB_IN_SIZE || this.ntbOutMaxSize < MIN_NTB_IN_SIZE) {
			throw new RangeError(`NTB sizes must be at least ${MIN_NTB_IN_SIZE} bytes`)
		}
		this.ntbInMaxSize = this.maxNtbInSize
	}

	/** The GET_NTB_PARAMETERS structure (NCM 1.0 table 6-3), 28 bytes. */
	ntbParameters(): Buffer {
		const b = Buffer.alloc(NTB_PARAMETERS_LENGTH)
		b.writeUInt16LE(NTB_PARAMETERS_LENGTH, 0) // wLength
		b.writeUInt16LE(NTB16_SUPPORTED, 2) // bmNtbFormatsSupported
		b.writeUInt32LE(this.maxNtbInSize, 4) // dwNtbInMaxSize
		b.writeUInt16LE(LAYOUT.divisor, 8) // wNdpInDivisor
		b.writeUInt16LE(LAYOUT.remainder, 10) // wNdpInPayloadRemainder
		b.writeUInt16LE(LAYOUT.ndpAlignment, 12) // wNdpInAlignment
		// 14: wReserved
		b.writeUInt32LE(this.ntbOutMaxSize, 16) // dwNtbOutMaxSize
		b.writeUInt16LE(LAYOUT.divisor, 20) // wNdpOutDivisor
		b.writeUInt16LE(LAYOUT.remainder, 22) // wNdpOutPayloadRemainder
		b.writeUInt16LE(LAYOUT.ndpAlignment, 24) // wNdpOutAlignment
		b.writeUInt16LE(0, 26) // wNtbOutMaxDatagrams: no limit
		return b
	}

	get negotiatedNtbInMaxSize(): number {
		return this.ntbInMaxSize
	}

	protected override extraFunctionalDescriptors(): Buffer[] {
		return [cdcNcmDescriptor(NCM_CAP_ETHERNET_PACKET_FILTER)]
	}

	protected override classRequest(setup: SetupPacket, data: Buffer): ControlOutcome | undefined {
		const isIn = (setup.requestType & RequestType.DIR_IN) !== 0
		switch (setup.request) {
			case CdcRequest.GET_NTB_PARAMETERS:
				return isIn ? this.ntbParameters() : 'stall'
			case CdcRequest.GET_NTB_FORMAT:
				return isIn ? Buffer.from([0, 0]) : 'stall' // 0: NTB16
			case CdcRequest.SET_NTB_FORMAT:
				return !isIn && setup.value === 0 ? Buffer.alloc(0) : 'stall'
			case CdcRequest.GET_NTB_INPUT_SIZE: {
				if (!isIn) return 'stall'
				const b = Buffer.alloc(4)
				b.writeUInt32LE(this.ntbInMaxSize, 0)
				return b
			}
			case CdcRequest.SET_NTB_INPUT_SIZE: {
				// 4 bytes, or 8 when the host also sends wNtbInMaxDatagrams (capability bit 5).
				if (isIn || (data.length !== 4 && data.length !== 8)) return 'stall'
				const size = data.readUInt32LE(0)
				if (size < MIN_NTB_IN_SIZE || size > this.maxNtbInSize) return 'stall'
				this.ntbInMaxSize = size
				return Buffer.alloc(0)
			}
			case CdcRequest.GET_CRC_MODE:
				return isIn ? Buffer.from([0, 0]) : 'stall'
			case CdcRequest.SET_CRC_MODE:
				// Only "no CRC" is supported; we did not advertise the CRC capability.
				return !isIn && setup.value === 0 ? Buffer.alloc(0) : 'stall'
			default:
				return undefined
		}
	}

	protected bulkInTransfer(maxLength: number): InOutcome {
		const limit = Math.min(maxLength, this.ntbInMaxSize)
		const batch: Buffer[] = []
		while (this.framesToHost.length > 0) {
			const next = this.framesToHost[0]!
			const lengths = [...batch, next].map((f) => f.length)
			if (ntb16Size(lengths, LAYOUT) > limit) {
				if (batch.length > 0) break
				// A frame that can never fit the host's NTB size is dropped rather than wedging the queue.
				this.framesToHost.shift()
				this.stats.framesDropped++
				continue
			}
			batch.push(next)
			this.framesToHost.shift()
		}
		if (batch.length === 0) return 'pending'
		this.stats.framesToHost += batch.length
		this.ncmStats.ntbsToHost++
		return buildNtb16(batch, this.sequence++, LAYOUT)
	}

	protected bulkOutTransfer(data: Buffer, transferFlags: number): OutOutcome {
		this.outParts.push(Buffer.from(data))
		this.outLength += data.length
		const head = this.outParts.length === 1 ? this.outParts[0]! : Buffer.concat(this.outParts, this.outLength)
		this.outParts = [head]
		const blockLength = ntb16BlockLength(head)
		const packet = bulkMaxPacketSize(this.speed)
		// An NTB ends with a short packet, a zero-length packet, once wBlockLength
		// bytes are in, or at dwNtbOutMaxSize, where NCM 1.0 3.2.1 needs no ZLP.
		const ended =
			data.length % packet !== 0 ||
			(transferFlags & UrbFlag.ZERO_PACKET) !== 0 ||
			(blockLength !== undefined && this.outLength >= blockLength) ||
			this.outLength >= this.ntbOutMaxSize
		if (!ended) return 'ok'
		this.outParts = []
		this.outLength = 0
		if (head.length === 0) return 'ok'
		try {
			const {datagrams} = parseNtb16(head, this.ntbOutMaxSize)
			this.ncmStats.ntbsFromHost++
			for (const frame of datagrams) this.deliverFromHost(frame)
		} catch (err) {
			// A malformed NTB costs its own frames, not the link: real devices drop it and carry on.
			if (!(err instanceof NtbError)) throw err
			this.ncmStats.badNtbs++
		}
		return 'ok'
	}

	protected abortInTransfer(): void {
		// Nothing to drop: every IN transfer is a whole NTB, built when the URB comes.
	}

	protected abortOutTransfer(): void {
		this.outParts = []
		this.outLength = 0
	}

	protected override resetFunction(): void {
		this.ntbInMaxSize = this.maxNtbInSize
		this.sequence = 0
	}
}
