// Shared CDC pieces: class request codes, notifications and MAC helpers.

/** bRequest codes of CDC class requests (CDC 1.2 table 19, ECM 1.2 6.2, NCM 1.0 6.2). */
export const CdcRequest = {
	SEND_ENCAPSULATED_COMMAND: 0x00,
	GET_ENCAPSULATED_RESPONSE: 0x01,
	SET_LINE_CODING: 0x20,
	GET_LINE_CODING: 0x21,
	SET_CONTROL_LINE_STATE: 0x22,
	SEND_BREAK: 0x23,
	SET_ETHERNET_MULTICAST_FILTERS: 0x40,
	SET_ETHERNET_PM_PATTERN_FILTER: 0x41,
	GET_ETHERNET_PM_PATTERN_FILTER: 0x42,
	SET_ETHERNET_PACKET_FILTER: 0x43,
	GET_ETHERNET_STATISTIC: 0x44,
	GET_NTB_PARAMETERS: 0x80,
	GET_NET_ADDRESS: 0x81,
	SET_NET_ADDRESS: 0x82,
	GET_NTB_FORMAT: 0x83,
	SET_NTB_FORMAT: 0x84,
	GET_NTB_INPUT_SIZE: 0x85,
	SET_NTB_INPUT_SIZE: 0x86,
	GET_MAX_DATAGRAM_SIZE: 0x87,
	SET_MAX_DATAGRAM_SIZE: 0x88,
	GET_CRC_MODE: 0x89,
	SET_CRC_MODE: 0x8a,
} as const

/** bNotification codes (CDC 1.2 table 20). */
export const CdcNotification = {
	NETWORK_CONNECTION: 0x00,
	RESPONSE_AVAILABLE: 0x01,
	SERIAL_STATE: 0x20,
	CONNECTION_SPEED_CHANGE: 0x2a,
} as const

/** SET_ETHERNET_PACKET_FILTER bits (ECM 1.2 table 8). */
export const PacketFilter = {
	PROMISCUOUS: 0x01,
	ALL_MULTICAST: 0x02,
	DIRECTED: 0x04,
	BROADCAST: 0x08,
	MULTICAST: 0x10,
} as const

/** bmRequestType of a notification: device-to-host, class, interface. */
const NOTIFICATION_REQUEST_TYPE = 0xa1

/** An 8-byte notification header followed by its data (CDC 1.2 6.3). */
export function cdcNotification(code: number, value: number, interfaceNumber: number, data: Buffer = Buffer.alloc(0)): Buffer {
	const b = Buffer.alloc(8 + data.length)
	b[0] = NOTIFICATION_REQUEST_TYPE
	b[1] = code
	b.writeUInt16LE(value, 2)
	b.writeUInt16LE(interfaceNumber, 4)
	b.writeUInt16LE(data.length, 6)
	data.copy(b, 8)
	return b
}

export function networkConnectionNotification(interfaceNumber: number, connected: boolean): Buffer {
	return cdcNotification(CdcNotification.NETWORK_CONNECTION, connected ? 1 : 0, interfaceNumber)
}

/** CONNECTION_SPEED_CHANGE carries downstream then upstream bit rates, little-endian u32 each. */
export function connectionSpeedChangeNotification(interfaceNumber: number, downBps: number, upBps: number): Buffer {
	const rates = Buffer.alloc(8)
	rates.writeUInt32LE(Math.min(downBps, 0xffffffff), 0)
	rates.writeUInt32LE(Math.min(upBps, 0xffffffff), 4)
	return cdcNotification(CdcNotification.CONNECTION_SPEED_CHANGE, 0, interfaceNumber, rates)
}

const MAC_PATTERN = /^[0-9a-f]{2}([:-]?[0-9a-f]{2}){5}$/i

/** Parses "02:00:00:00:00:01", "02-00-..." or "020000000001" into 6 bytes. */
export function parseMac(text: string): Buffer {
	if (!MAC_PATTERN.test(text)) throw new RangeError(`"${text}" is not a MAC address`)
	return Buffer.from(text.replace(/[:-]/g, ''), 'hex')
}

/** The iMACAddress string form: 12 upper-case hex digits (ECM 1.2 5.4). */
export function macString(mac: Buffer): string {
	return mac.toString('hex').toUpperCase()
}

export function formatMac(mac: Buffer): string {
	return [...mac].map((b) => b.toString(16).padStart(2, '0')).join(':')
}
