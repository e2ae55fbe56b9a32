/**
 * `usbvnet config show|diff|apply` against the driver: read the current
 * configuration, merge the file over it, diff, and commit everything with a
 * single USBVNET_IOC_SET_CONFIG, which the driver applies entirely or not at all.
 */
import type {UsbvnetDevice} from '../driver/device.js'
import {DriverError} from '../driver/errors.js'
import {log} from '../log.js'
import {instanceLabel} from '../names.js'
import {configFromStruct, configToStruct, mergeConfig} from './convert.js'
import {diffConfigs, type ConfigChange} from './diff.js'
import type {CompleteConfig, UsbvnetConfig} from './types.js'

export interface ConfigPlan {
	instance: string
	/** The file the desired configuration comes from. */
	source: string
	current: CompleteConfig
	desired: CompleteConfig
	changes: ConfigChange[]
}

export function readDriverConfig(device: UsbvnetDevice, instance: string): CompleteConfig {
	return configFromStruct(device.getConfig(instance))
}

export function planConfig(device: UsbvnetDevice, instance: string, file: UsbvnetConfig, source: string): ConfigPlan {
	const current = readDriverConfig(device, instance)
	const desired = mergeConfig(current, file)
	return {instance: instanceLabel(instance), source, current, desired, changes: diffConfigs(current, desired)}
}

/**
 * Commits a plan. A refusal leaves the driver unchanged, and the error says
 * so; reading back afterwards catches a driver that silently adjusted a value.
 */
export function applyPlan(device: UsbvnetDevice, instance: string, plan: ConfigPlan): void {
	try {
		device.setConfig(configToStruct(plan.desired, instance))
	} catch (error) {
		if (error instanceof DriverError) {
			error.message = `${plan.instance} refused the configuration from ${plan.source}, nothing was changed: ${error.message}`
		}
		throw error
	}
	const after = readDriverConfig(device, instance)
	const drift = diffConfigs(plan.desired, after)
	if (drift.length > 0) {
		log.warn(`the driver holds values other than those applied: ${drift.map((change) => change.path).join(', ')}`)
	}
}
