/**
 * The ioctl request codes of /dev/usbvnet, computed like the header's
 * _IOWR/_IOW macros from the struct sizes in structs.ts (the size is part of
 * the code, so a layout mismatch shows up as ENOTTY or EINVAL, never as
 * silently misread fields). structs.test.ts checks them against the header.
 */
import {USBVNET_IOC_MAGIC, iow, iowr} from './constants.js'
import {
	usbvnetAttachLayout,
	usbvnetConfigLayout,
	usbvnetDhcpConfigLayout,
	usbvnetDhcpStatsLayout,
	usbvnetInfoLayout,
	usbvnetLeasesLayout,
	usbvnetSlotInfoLayout,
} from './structs.js'

export const USBVNET_IOC_INFO = iowr(USBVNET_IOC_MAGIC, 0x01, usbvnetInfoLayout.size)
export const USBVNET_IOC_SLOT_INFO = iowr(USBVNET_IOC_MAGIC, 0x02, usbvnetSlotInfoLayout.size)
export const USBVNET_IOC_GET_CONFIG = iowr(USBVNET_IOC_MAGIC, 0x03, usbvnetConfigLayout.size)
export const USBVNET_IOC_SET_CONFIG = iow(USBVNET_IOC_MAGIC, 0x04, usbvnetConfigLayout.size)
export const USBVNET_IOC_ATTACH = iowr(USBVNET_IOC_MAGIC, 0x05, usbvnetAttachLayout.size)
export const USBVNET_IOC_DETACH = iow(USBVNET_IOC_MAGIC, 0x06, usbvnetAttachLayout.size)
export const USBVNET_IOC_GET_DHCP = iowr(USBVNET_IOC_MAGIC, 0x07, usbvnetDhcpConfigLayout.size)
export const USBVNET_IOC_SET_DHCP = iow(USBVNET_IOC_MAGIC, 0x08, usbvnetDhcpConfigLayout.size)
export const USBVNET_IOC_DHCP_STATS = iowr(USBVNET_IOC_MAGIC, 0x09, usbvnetDhcpStatsLayout.size)
export const USBVNET_IOC_LEASES_EXPORT = iowr(USBVNET_IOC_MAGIC, 0x0a, usbvnetLeasesLayout.size)
export const USBVNET_IOC_LEASES_IMPORT = iow(USBVNET_IOC_MAGIC, 0x0b, usbvnetLeasesLayout.size)

/** Request names for messages and logs, keyed like the header's macros. */
export const requestCodes = {
	USBVNET_IOC_INFO,
	USBVNET_IOC_SLOT_INFO,
	USBVNET_IOC_GET_CONFIG,
	USBVNET_IOC_SET_CONFIG,
	USBVNET_IOC_ATTACH,
	USBVNET_IOC_DETACH,
	USBVNET_IOC_GET_DHCP,
	USBVNET_IOC_SET_DHCP,
	USBVNET_IOC_DHCP_STATS,
	USBVNET_IOC_LEASES_EXPORT,
	USBVNET_IOC_LEASES_IMPORT,
} as const

export type RequestName = keyof typeof requestCodes
