/**
 * The JSON configuration <-> struct usbvnet_config. Both directions produce
 * canonical values (lower-case hex, drivers in bit order) so that a
 * configuration read back from the driver compares equal to the one applied.
 */
import {USBVNET_CFG_AUTO_ATTACH, USBVNET_DRV_ALL, UsbvnetDriverBit, UsbvnetMode, UsbvnetRuleAction} from '../driver/constants.js'
import {ProtocolMismatchError} from '../driver/errors.js'
import type {ConfigStruct, RuleStruct} from '../driver/structs.js'
import {CONFIG_KEYS, DRIVER_NAMES, MODES, type CompleteConfig, type DriverName, type Mode, type RuleConfig, type UsbvnetConfig} from './types.js'

const ANY_ID = '*'

function idToNumber(id: string): number {
	return id === ANY_ID ? 0 : Number.parseInt(id.slice(2), 16)
}

function idToText(id: number): string {
	return id === 0 ? ANY_ID : `0x${id.toString(16).padStart(4, '0')}`
}

function modeName(mode: number): Mode {
	const name = MODES.find((m) => UsbvnetMode[m] === mode)
	if (!name) throw new ProtocolMismatchError(`the driver reports mode ${mode}, unknown to this command`)
	return name
}

function ruleFromStruct(rule: RuleStruct, index: number): RuleConfig {
	const action = rule.action === UsbvnetRuleAction.allow ? 'allow' : rule.action === UsbvnetRuleAction.deny ? 'deny' : undefined
	if (!action) throw new ProtocolMismatchError(`the driver reports action ${rule.action} in rule ${index}, unknown to this command`)
	return {vendor: idToText(rule.vendor), product: idToText(rule.product), action}
}

export function configFromStruct(struct: ConfigStruct): CompleteConfig {
	const unknownFlags = struct.flags & ~USBVNET_CFG_AUTO_ATTACH
	if (unknownFlags !== 0) throw new ProtocolMismatchError(`the driver reports config flags 0x${unknownFlags.toString(16)}, unknown to this command`)
	const unknownDrivers = struct.drivers & ~USBVNET_DRV_ALL
	if (unknownDrivers !== 0) throw new ProtocolMismatchError(`the driver reports driver bits 0x${unknownDrivers.toString(16)}, unknown to this command`)
	return {
		mac: struct.mac,
		mode: modeName(struct.mode),
		autoAttach: (struct.flags & USBVNET_CFG_AUTO_ATTACH) !== 0,
		drivers: DRIVER_NAMES.filter((name) => (struct.drivers & UsbvnetDriverBit[name]) !== 0),
		rules: struct.rules.map(ruleFromStruct),
	}
}

/** `instance` is the interface name the struct addresses; empty = the default instance. */
export function configToStruct(config: CompleteConfig, instance: string): ConfigStruct {
	return {
		ifname: instance,
		mac: config.mac.toLowerCase(),
		mode: UsbvnetMode[config.mode],
		flags: config.autoAttach ? USBVNET_CFG_AUTO_ATTACH : 0,
		drivers: config.drivers.reduce((bits, name) => bits | UsbvnetDriverBit[name], 0),
		rules: config.rules.map((rule) => ({
			vendor: idToNumber(rule.vendor),
			product: idToNumber(rule.product),
			action: UsbvnetRuleAction[rule.action],
		})),
	}
}

function normalizeRule(rule: RuleConfig): RuleConfig {
	return {vendor: idToText(idToNumber(rule.vendor)), product: idToText(idToNumber(rule.product)), action: rule.action}
}

/** The spelling the driver would give back: lower-case hex, drivers once each and in bit order. */
export function normalizeConfig(config: CompleteConfig): CompleteConfig {
	const drivers = new Set<DriverName>(config.drivers)
	return {
		mac: config.mac.toLowerCase(),
		mode: config.mode,
		autoAttach: config.autoAttach,
		drivers: DRIVER_NAMES.filter((name) => drivers.has(name)),
		rules: config.rules.map(normalizeRule),
	}
}

/** What applying `file` on top of the driver's `current` configuration sets: keys left out stay. */
export function mergeConfig(current: CompleteConfig, file: UsbvnetConfig): CompleteConfig {
	const merged: CompleteConfig = {...current}
	for (const key of CONFIG_KEYS) {
		if (file[key] !== undefined) Object.assign(merged, {[key]: file[key]})
	}
	return normalizeConfig(merged)
}
