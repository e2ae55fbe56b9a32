/** IPv4 addresses as the driver holds them: u32 in host byte order (100.127.254.1 is 0x647ffe01). */

const DOTTED = /^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$/

export function formatIpv4(ip: number): string {
	return [ip >>> 24, (ip >>> 16) & 0xff, (ip >>> 8) & 0xff, ip & 0xff].join('.')
}

/** "a.b.c.d" (no leading zeros) to its number; throws RangeError otherwise. */
export function parseIpv4(text: string): number {
	if (!DOTTED.test(text)) throw new RangeError(`"${text}" is not an IPv4 address`)
	return text.split('.').reduce((ip, octet) => ((ip << 8) | Number(octet)) >>> 0, 0)
}

/** The netmask of a prefix length 0..32. */
export function prefixMask(prefixLen: number): number {
	return prefixLen <= 0 ? 0 : (0xffffffff << (32 - prefixLen)) >>> 0
}
