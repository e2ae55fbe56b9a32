/**
 * Constants of the control interface, mirroring linux-module/uapi/usbvnet.h.
 * structs.test.ts compiles the header and checks every value here against it.
 */

export const USBVNET_API_VERSION = 1
export const USBVNET_MAX_SLOTS = 32
export const USBVNET_IFNAMSIZ = 16
export const USBVNET_SERIAL_LEN = 64
export const USBVNET_BUSID_LEN = 32
export const USBVNET_DRIVER_LEN = 16
export const USBVNET_MAX_RULES = 16
export const USBVNET_ANY_SLOT = 0xffffffff

/** enum usbvnet_mode */
export const UsbvnetMode = {
	bridge: 0,
	private: 1,
} as const

/** USBVNET_DRV_*: bits of usbvnet_config.drivers, keyed by the kernel driver's name. */
export const UsbvnetDriverBit = {
	cdc_ether: 1 << 0,
	cdc_ncm: 1 << 1,
	cdc_eem: 1 << 2,
	rndis_host: 1 << 3,
} as const
export const USBVNET_DRV_ALL = 0xf

/** USBVNET_CFG_*: bits of usbvnet_config.flags */
export const USBVNET_CFG_AUTO_ATTACH = 1 << 0

/** enum usbvnet_rule_action */
export const UsbvnetRuleAction = {
	allow: 0,
	deny: 1,
} as const

// ---- the DHCP server inside the driver ---------------------------------------

/** USBVNET_DHCP_*: bits of usbvnet_dhcp_config.flags */
export const USBVNET_DHCP_ENABLED = 1 << 0
/** RFC 4039: a DISCOVER with Rapid Commit (option 80) is ACKed at once. */
export const USBVNET_DHCP_RAPID_COMMIT = 1 << 1
export const USBVNET_DHCP_MAX_RESERVATIONS = 32
export const USBVNET_DHCP_MAX_DNS = 3
export const USBVNET_DHCP_DOMAIN_LEN = 64

/** enum usbvnet_dhcp_reservation_kind */
export const UsbvnetDhcpReservationKind = {
	mac: 0,
	serial: 1,
	slot: 2,
} as const

/** USBVNET_DHCP_COUNTERS: the counters of usbvnet_dhcp_stats, in the header's order. */
export const USBVNET_DHCP_COUNTER_NAMES = [
	'received',
	'truncated',
	'bad_ip',
	'bad_udp',
	'not_request',
	'bad_chaddr',
	'bad_cookie',
	'bad_option',
	'no_end',
	'overload',
	'no_msg_type',
	'bad_msg_type',
	'relayed',
	'disabled',
	'reply_too_small',
	'discover',
	'request',
	'decline',
	'release',
	'inform',
	'offer',
	'ack',
	'nak',
	'exhausted',
	'slot_cap',
	'foreign',
	'other_server',
	'ignored',
	'rapid_commit',
] as const
export type DhcpCounterName = (typeof USBVNET_DHCP_COUNTER_NAMES)[number]
export const USBVNET_DHCP_NR_COUNTERS = 29

/** The largest version 1 lease table: header + 256 records of 80 bytes. */
export const USBVNET_LEASES_MAX = 16 + 256 * 80
/** The largest version 2 lease table (records of 148 bytes), what the driver exports now. */
export const USBVNET_LEASES_MAX_V2 = 16 + 256 * 148

/** The misc device the module creates; USBVNET_DEVICE overrides it (tests, debugging). */
export const DEFAULT_DEVICE_PATH = '/dev/usbvnet'

// ---- ioctl request encoding -------------------------------------------------
// The generic _IOC layout of include/uapi/asm-generic/ioctl.h: 2 direction
// bits, 14 size bits, 8 type bits, 8 number bits. x86, arm and riscv use it;
// powerpc, mips, sparc and alpha do not (libc.ts refuses those).
const IOC_NRSHIFT = 0
const IOC_TYPESHIFT = 8
const IOC_SIZESHIFT = 16
const IOC_DIRSHIFT = 30
const IOC_SIZEMASK = (1 << 14) - 1
export const IOC_WRITE = 1
export const IOC_READ = 2

export function ioc(direction: number, type: number, nr: number, size: number): number {
	if (size < 0 || size > IOC_SIZEMASK) throw new RangeError(`ioctl argument size ${size} does not fit in 14 bits`)
	// >>> 0 keeps the result unsigned: bit 31 is set for every _IOR/_IOWR code.
	return ((direction << IOC_DIRSHIFT) | (size << IOC_SIZESHIFT) | (type << IOC_TYPESHIFT) | (nr << IOC_NRSHIFT)) >>> 0
}
export const iow = (type: number, nr: number, size: number): number => ioc(IOC_WRITE, type, nr, size)
export const iowr = (type: number, nr: number, size: number): number => ioc(IOC_READ | IOC_WRITE, type, nr, size)

export const USBVNET_IOC_MAGIC = 0xb8
