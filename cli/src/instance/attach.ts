/** `usbvnet attach` / `usbvnet detach`: one USB netdev in or out of a slot. */
import {existsSync} from 'node:fs'
import {USBVNET_ANY_SLOT, USBVNET_MAX_SLOTS} from '../driver/constants.js'
import type {UsbvnetDevice} from '../driver/device.js'
import {ExitCode, UsageError, UsbvnetError} from '../errors.js'
import {checkInterfaceName, instanceLabel} from '../names.js'

export class NoSuchNetdevError extends UsbvnetError {
	constructor(netdev: string) {
		super(`no network device "${netdev}" (see "ip link")`, 'NO_SUCH_NETDEV', ExitCode.noSuchDevice)
	}
}

export interface AttachResult {
	instance: string
	netdev: string
	slot: number
}

/** What `detach` was asked to remove: a slot number, or a netdev by name. */
export type DetachTarget = {slot: number} | {netdev: string}

export interface DetachResult {
	instance: string
	detached: DetachTarget
}

export function checkSlotNumber(slot: number): number {
	if (!Number.isInteger(slot) || slot < 0 || slot >= USBVNET_MAX_SLOTS) {
		throw new UsageError(`slot ${slot} does not exist: slots are 0 to ${USBVNET_MAX_SLOTS - 1}`)
	}
	return slot
}

/** A number is a slot; anything else names a netdev (Linux netdev names are never all digits in practice). */
export function parseDetachTarget(text: string): DetachTarget {
	if (/^[0-9]+$/.test(text)) return {slot: checkSlotNumber(Number(text))}
	return {netdev: checkInterfaceName(text, 'network device')}
}

/** parseDetachTarget, and a netdev named must exist: checked before opening the driver. */
export function prepareDetach(text: string): DetachTarget {
	const target = parseDetachTarget(text)
	if ('netdev' in target) checkNetdevExists(target.netdev)
	return target
}

/**
 * Checked here rather than left to the driver, whose ENODEV would not say
 * whether the instance or the netdev is missing.
 */
function checkNetdevExists(netdev: string): void {
	if (existsSync('/sys/class/net') && !existsSync(`/sys/class/net/${netdev}`)) throw new NoSuchNetdevError(netdev)
}

export interface AttachRequest {
	netdev: string
	slot: number
}

/** Checks everything that can be checked without the driver, before opening it. */
export function prepareAttach(netdev: string, slot?: number): AttachRequest {
	checkInterfaceName(netdev, 'network device')
	const wanted = slot === undefined ? USBVNET_ANY_SLOT : checkSlotNumber(slot)
	checkNetdevExists(netdev)
	return {netdev, slot: wanted}
}

export function attachNetdev(device: UsbvnetDevice, instance: string, request: AttachRequest): AttachResult {
	const taken = device.attach(instance, request.netdev, request.slot)
	return {instance: instanceLabel(instance), netdev: request.netdev, slot: taken}
}

export function detach(device: UsbvnetDevice, instance: string, target: DetachTarget): DetachResult {
	if ('slot' in target) device.detachSlot(instance, target.slot)
	else device.detachNetdev(instance, target.netdev)
	return {instance: instanceLabel(instance), detached: target}
}
