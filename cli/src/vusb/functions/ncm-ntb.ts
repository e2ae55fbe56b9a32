// NCM 1.0 NTB16 transfer blocks: parse what the host sends, build what it
// receives. An NTB is a 12-byte NTH16 header, one or more NDP16 datagram
// pointer tables, and the Ethernet frames they point at; all fields are
// little-endian. The parser trusts no offset or length in the block.

export const NTH16_SIGNATURE = 0x484d434e // "NCMH"
export const NDP16_SIGNATURE_NO_CRC = 0x304d434e // "NCM0"
export const NDP16_SIGNATURE_CRC = 0x314d434e // "NCM1"
export const NTH16_LENGTH = 12
export const NDP16_HEADER_LENGTH = 8
export const NDP16_ENTRY_LENGTH = 4
/** Smallest legal NDP16: header, one datagram pointer and the terminating null entry. */
export const NDP16_MIN_LENGTH = 16
/** Chained NDPs beyond this are treated as a loop. */
const MAX_NDPS_PER_NTB = 32
/** Ethernet header length: anything shorter is no frame. */
const MIN_DATAGRAM_LENGTH = 14

export class NtbError extends Error {
	constructor(message: string) {
		super(message)
		this.name = 'NtbError'
	}
}

export interface ParsedNtb {
	sequence: number
	datagrams: Buffer[]
}

function read16(buf: Buffer, offset: number, what: string): number {
	if (offset < 0 || offset + 2 > buf.length) throw new NtbError(`${what} at ${offset} lies outside the ${buf.length}-byte block`)
	return buf.readUInt16LE(offset)
}

function read32(buf: Buffer, offset: number, what: string): number {
	if (offset < 0 || offset + 4 > buf.length) throw new NtbError(`${what} at ${offset} lies outside the ${buf.length}-byte block`)
	return buf.readUInt32LE(offset)
}

/** Length of the NTB starting at buf, from its NTH16, or undefined until 12 bytes are in. */
export function ntb16BlockLength(buf: Buffer): number | undefined {
	if (buf.length < NTH16_LENGTH) return undefined
	if (buf.readUInt32LE(0) !== NTH16_SIGNATURE) return undefined
	return buf.readUInt16LE(8)
}

/**
 * Extracts the datagrams of one NTB16. `maxBlockLength` is the dwNtbOutMaxSize
 * we advertised; blocks larger than that, or with pointers outside the block,
 * overlapping the header, or chained in loops, are rejected as a whole.
 */
export function parseNtb16(block: Buffer, maxBlockLength = 0xffff): ParsedNtb {
	if (read32(block, 0, 'NTH16 signature') !== NTH16_SIGNATURE) throw new NtbError('missing NCMH signature')
	const headerLength = read16(block, 4, 'wHeaderLength')
	if (headerLength !== NTH16_LENGTH) throw new NtbError(`wHeaderLength ${headerLength}, expected ${NTH16_LENGTH}`)
	const sequence = read16(block, 6, 'wSequence')
	const blockLength = read16(block, 8, 'wBlockLength')
	// A wBlockLength of 0 is not allowed for NTB16 (only NTB32 has the "unknown" convention elsewhere).
	if (blockLength < NTH16_LENGTH || blockLength > block.length) {
		throw new NtbError(`wBlockLength ${blockLength} does not fit the ${block.length} bytes received`)
	}
	if (blockLength > maxBlockLength) throw new NtbError(`wBlockLength ${blockLength} exceeds dwNtbOutMaxSize ${maxBlockLength}`)
	const ntb = block.subarray(0, blockLength)
	const datagrams: Buffer[] = []
	const seen = new Set<number>()
	let ndpIndex = read16(ntb, 10, 'wNdpIndex')
	if (ndpIndex === 0) throw new NtbError('NTB has no NDP')
	while (ndpIndex !== 0) {
		if (seen.has(ndpIndex) || seen.size >= MAX_NDPS_PER_NTB) throw new NtbError('NDP chain loops or is too long')
		seen.add(ndpIndex)
		if (ndpIndex < NTH16_LENGTH || ndpIndex % 4 !== 0) throw new NtbError(`NDP index ${ndpIndex} is misplaced`)
		const signature = read32(ntb, ndpIndex, 'NDP16 signature')
		if (signature !== NDP16_SIGNATURE_NO_CRC && signature !== NDP16_SIGNATURE_CRC) {
			throw new NtbError(`bad NDP16 signature 0x${signature.toString(16)} at ${ndpIndex}`)
		}
		const ndpLength = read16(ntb, ndpIndex + 4, 'NDP16 wLength')
		if (ndpLength < NDP16_MIN_LENGTH || ndpLength % 4 !== 0 || ndpIndex + ndpLength > ntb.length) {
			throw new NtbError(`NDP16 wLength ${ndpLength} at ${ndpIndex} is invalid`)
		}
		const next = read16(ntb, ndpIndex + 6, 'wNextNdpIndex')
		const entries = (ndpLength - NDP16_HEADER_LENGTH) / NDP16_ENTRY_LENGTH
		for (let i = 0; i < entries; i++) {
			const at = ndpIndex + NDP16_HEADER_LENGTH + i * NDP16_ENTRY_LENGTH
			const index = read16(ntb, at, 'wDatagramIndex')
			const length = read16(ntb, at + 2, 'wDatagramLength')
			if (index === 0 || length === 0) break // the null entry ends the table
			if (index < NTH16_LENGTH || index + length > ntb.length) {
				throw new NtbError(`datagram ${i} of NDP at ${ndpIndex} (${index}+${length}) lies outside the block`)
			}
			if (length < MIN_DATAGRAM_LENGTH) continue // too short to be Ethernet; drop just this one
			// With CRC the last 4 bytes are the frame's CRC-32, which the frame handler does not want.
			const payloadLength = signature === NDP16_SIGNATURE_CRC ? length - 4 : length
			datagrams.push(Buffer.from(ntb.subarray(index, index + payloadLength)))
		}
		ndpIndex = next
	}
	return {sequence, datagrams}
}

export interface Ntb16Layout {
	/** Datagram start offsets satisfy offset % divisor === remainder (wNdpInDivisor / wNdpInPayloadRemainder). */
	divisor: number
	remainder: number
	/** NDP alignment (wNdpInAlignment). */
	ndpAlignment: number
}

function alignUp(offset: number, divisor: number, remainder = 0): number {
	const r = ((offset - remainder) % divisor + divisor) % divisor
	return r === 0 ? offset : offset + (divisor - r)
}

/** Bytes an NTB16 holding exactly these datagram lengths needs. */
export function ntb16Size(lengths: number[], layout: Ntb16Layout): number {
	let offset = alignUp(NTH16_LENGTH, layout.ndpAlignment) + NDP16_HEADER_LENGTH + NDP16_ENTRY_LENGTH * (lengths.length + 1)
	for (const length of lengths) offset = alignUp(offset, layout.divisor, layout.remainder) + length
	return offset
}

/** Builds one NTB16: NTH16, then a single NDP16, then the aligned datagrams. */
export function buildNtb16(datagrams: Buffer[], sequence: number, layout: Ntb16Layout): Buffer {
	if (datagrams.length === 0) throw new RangeError('an NTB needs at least one datagram')
	const size = ntb16Size(
		datagrams.map((d) => d.length),
		layout,
	)
	if (size > 0xffff) throw new RangeError(`NTB16 of ${size} bytes exceeds 65535`)
	const ntb = Buffer.alloc(size)
	const ndpIndex = alignUp(NTH16_LENGTH, layout.ndpAlignment)
	const ndpLength = NDP16_HEADER_LENGTH + NDP16_ENTRY_LENGTH * (datagrams.length + 1)
	ntb.writeUInt32LE(NTH16_SIGNATURE, 0)
	ntb.writeUInt16LE(NTH16_LENGTH, 4)
	ntb.writeUInt16LE(sequence & 0xffff, 6)
	ntb.writeUInt16LE(size, 8)
	ntb.writeUInt16LE(ndpIndex, 10)
	ntb.writeUInt32LE(NDP16_SIGNATURE_NO_CRC, ndpIndex)
	ntb.writeUInt16LE(ndpLength, ndpIndex + 4)
	ntb.writeUInt16LE(0, ndpIndex + 6)
	let offset = ndpIndex + ndpLength
	datagrams.forEach((d, i) => {
		offset = alignUp(offset, layout.divisor, layout.remainder)
		d.copy(ntb, offset)
		const entry = ndpIndex + NDP16_HEADER_LENGTH + i * NDP16_ENTRY_LENGTH
		ntb.writeUInt16LE(offset, entry)
		ntb.writeUInt16LE(d.length, entry + 2)
		offset += d.length
	})
	// The table's last entry stays zero: the terminator.
	return ntb
}
