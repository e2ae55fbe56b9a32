/**
 * A session with /dev/usbvnet: one open file descriptor and typed methods for
 * each ioctl of linux-module/uapi/usbvnet.h. Callers get plain objects from
 * structs.ts or a typed DriverError; they never see a Buffer or an errno.
 */
import {log} from '../log.js'
import {instanceLabel} from '../names.js'
import {DEFAULT_DEVICE_PATH, USBVNET_ANY_SLOT, USBVNET_LEASES_MAX_V2, USBVNET_MAX_SLOTS} from './constants.js'
import {ProtocolMismatchError, describeErrno, errorForOpen, errorForRequest} from './errors.js'
import {O_CLOEXEC, O_RDONLY, O_RDWR, libc, type Libc} from './libc.js'
import {requestCodes, type RequestName} from './requests.js'
import {
	decodeAttach,
	decodeConfig,
	decodeDhcpConfig,
	decodeDhcpStats,
	decodeInfo,
	decodeLeases,
	decodeSlotInfo,
	encodeAttach,
	encodeConfig,
	encodeConfigRequest,
	encodeDhcpConfig,
	encodeDhcpConfigRequest,
	encodeDhcpStatsRequest,
	encodeInfoRequest,
	encodeLeases,
	encodeSlotInfoRequest,
	type ConfigStruct,
	type DhcpConfigStruct,
	type DhcpStatsStruct,
	type InfoStruct,
	type SlotInfoStruct,
} from './structs.js'

/** Queries need no privilege; changes need CAP_NET_ADMIN and a writable descriptor. */
export type AccessMode = 'query' | 'change'

/** The control device's path: USBVNET_DEVICE overrides it for tests and debugging. */
export function devicePath(): string {
	const override = process.env['USBVNET_DEVICE']
	return override !== undefined && override !== '' ? override : DEFAULT_DEVICE_PATH
}

export class UsbvnetDevice {
	private fd: number

	private constructor(
		private readonly lib: Libc,
		fd: number,
		readonly path: string,
	) {
		this.fd = fd
	}

	static open(mode: AccessMode, path: string = devicePath()): UsbvnetDevice {
		const lib = libc()
		const flags = (mode === 'change' ? O_RDWR : O_RDONLY) | O_CLOEXEC
		const fd = lib.open(path, flags)
		if (fd < 0) {
			throw errorForOpen(lib.errno(), {operation: 'open', devicePath: path, instance: ''})
		}
		log.debug(`opened ${path} (fd ${fd}) for ${mode}`)
		return new UsbvnetDevice(lib, fd, path)
	}

	close(): void {
		if (this.fd < 0) return
		this.lib.close(this.fd)
		this.fd = -1
	}

	/** The instance as a whole: name, MAC, mode, carrier, slot bitmask and counters. */
	info(instance: string): InfoStruct {
		const argument = encodeInfoRequest(instance)
		this.request('USBVNET_IOC_INFO', argument, instance)
		return decodeInfo(argument)
	}

	slotInfo(instance: string, slot: number): SlotInfoStruct {
		const argument = encodeSlotInfoRequest(instance, slot)
		this.request('USBVNET_IOC_SLOT_INFO', argument, instance, {EINVAL: `slot ${slot} does not exist`})
		return decodeSlotInfo(argument)
	}

	getConfig(instance: string): ConfigStruct {
		const argument = encodeConfigRequest(instance)
		this.request('USBVNET_IOC_GET_CONFIG', argument, instance)
		return decodeConfig(argument)
	}

	/** Replaces the whole configuration at once; on refusal the driver changed nothing. */
	setConfig(config: ConfigStruct): void {
		this.request('USBVNET_IOC_SET_CONFIG', encodeConfig(config), config.ifname)
	}

	/**
	 * Attaches netdev `lower`; returns the slot it took. The explanations
	 * follow linux-module/ctl.c and port.c (usbvnet_check_lower).
	 */
	attach(instance: string, lower: string, slot: number = USBVNET_ANY_SLOT): number {
		const argument = encodeAttach({ifname: instance, lower, slot})
		this.request('USBVNET_IOC_ATTACH', argument, instance, {
			ENODEV: `no usbvnet instance "${instanceLabel(instance)}" or no network device "${lower}"`,
			EBUSY: `${lower} is already attached, bridged or bonded`,
			EADDRINUSE: `slot ${slot} of ${instanceLabel(instance)} is taken by another device`,
			ENOSPC: `no free slot for ${lower}: all ${USBVNET_MAX_SLOTS} slots are in use`,
			ELOOP: `${lower} is a usbvnet interface itself`,
			EXDEV: `${lower} is in another network namespace`,
			EINVAL: `only Ethernet devices can be attached, not ${lower}`,
		})
		return decodeAttach(argument).slot
	}

	detachSlot(instance: string, slot: number): void {
		this.request('USBVNET_IOC_DETACH', encodeAttach({ifname: instance, lower: '', slot}), instance, {
			ENOENT: `slot ${slot} of ${instanceLabel(instance)} is free`,
			EINVAL: `slot ${slot} does not exist`,
		})
	}

	detachNetdev(instance: string, lower: string): void {
		this.request('USBVNET_IOC_DETACH', encodeAttach({ifname: instance, lower, slot: USBVNET_ANY_SLOT}), instance, {
			ENODEV: `no usbvnet instance "${instanceLabel(instance)}" or no network device "${lower}"`,
			ENOENT: `${lower} is not attached to ${instanceLabel(instance)}`,
		})
	}

	getDhcp(instance: string): DhcpConfigStruct {
		const argument = encodeDhcpConfigRequest(instance)
		this.request('USBVNET_IOC_GET_DHCP', argument, instance)
		return decodeDhcpConfig(argument)
	}

	/** Replaces every DHCP setting at once; on refusal the driver changed nothing. */
	setDhcp(config: DhcpConfigStruct): void {
		this.request('USBVNET_IOC_SET_DHCP', encodeDhcpConfig(config), config.ifname)
	}

	dhcpStats(instance: string): DhcpStatsStruct {
		const argument = encodeDhcpStatsRequest(instance)
		this.request('USBVNET_IOC_DHCP_STATS', argument, instance)
		return decodeDhcpStats(argument)
	}

	/** The lease table as the driver exports it: an opaque blob (see ../dhcp/lease-table.ts). */
	exportLeases(instance: string): Buffer {
		let size: number = USBVNET_LEASES_MAX_V2
		// A newer module may export more than this command's maximum: it says how much.
		for (let attempt = 0; attempt < 3; attempt++) {
			const table = Buffer.alloc(size)
			const argument = encodeLeases({ifname: instance, buf: this.lib.address(table), len: table.length})
			const errno = this.call('USBVNET_IOC_LEASES_EXPORT', argument, instance)
			const {len} = decodeLeases(argument)
			if (errno === 0) return table.subarray(0, len)
			if (describeErrno(errno).name !== 'ENOSPC' || len <= size) {
				const explain = {ENOSPC: `the lease table does not fit in ${size} bytes`}
				throw errorForRequest(errno, {operation: 'USBVNET_IOC_LEASES_EXPORT', devicePath: this.path, instance, explain})
			}
			size = len
		}
		throw new ProtocolMismatchError(`the driver asked for ever larger lease table buffers (last ${size} bytes)`)
	}

	/** Replaces the lease table; the driver checks all of it first and on refusal changes nothing. */
	importLeases(instance: string, table: Buffer): void {
		const argument = encodeLeases({ifname: instance, buf: this.lib.address(table), len: table.length})
		this.request('USBVNET_IOC_LEASES_IMPORT', argument, instance, {
			EINVAL: 'the lease table does not fit the current DHCP settings (an address outside the pool, reserved to another client, or twice), or is corrupt',
		})
	}

	private request(name: RequestName, argument: Buffer, instance: string, explain?: Partial<Record<string, string>>): void {
		const errno = this.call(name, argument, instance)
		if (errno !== 0) {
			throw errorForRequest(errno, {operation: name, devicePath: this.path, instance, ...(explain ? {explain} : {})})
		}
	}

	/** Issues one request; returns 0 or the errno it failed with. */
	private call(name: RequestName, argument: Buffer, instance: string): number {
		if (this.fd < 0) throw new Error(`${name} on a closed ${this.path}`)
		const code = requestCodes[name]
		log.debug(`ioctl ${name} (0x${code.toString(16)}) instance "${instance}"`)
		return this.lib.ioctl(this.fd, code, argument) < 0 ? this.lib.errno() : 0
	}
}

/** Opens the device, runs `use`, and closes it whatever happens. */
export function withDevice<T>(mode: AccessMode, use: (device: UsbvnetDevice) => T): T {
	const device = UsbvnetDevice.open(mode)
	try {
		return use(device)
	} finally {
		device.close()
	}
}
