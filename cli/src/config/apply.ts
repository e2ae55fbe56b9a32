/**
 * `usbvnet config show|diff|apply` against the driver: read the current
 * configuration (two requests: GET_CONFIG and GET_DHCP), merge the file over
 * it, diff, and commit it with SET_CONFIG then SET_DHCP. Each request is
 * applied by the driver entirely or not at all; if SET_DHCP is refused after
 * SET_CONFIG was applied, SET_CONFIG is sent again with the settings read
 * first, so that the driver ends as it began.
 */
import type {UsbvnetDevice} from '../driver/device.js'
import {DriverError} from '../driver/errors.js'
import {encodeConfig, encodeDhcpConfig, type ConfigStruct, type DhcpConfigStruct} from '../driver/structs.js'
import {ExitCode, UsbvnetError} from '../errors.js'
import {log} from '../log.js'
import {instanceLabel} from '../names.js'
import {configFromStruct, configToStruct, mergeConfig} from './convert.js'
import {checkDhcp, dhcpFromStruct, dhcpToStruct, diffDhcp, mergeDhcp} from './dhcp.js'
import {diffConfigs, type ConfigChange} from './diff.js'
import {SchemaValidationError} from './errors.js'
import type {InstanceConfig, UsbvnetConfig} from './types.js'

/** The driver's state as read, kept byte for byte to restore it. */
interface DriverState {
	config: ConfigStruct
	dhcp: DhcpConfigStruct
}

export interface ConfigPlan {
	instance: string
	/** The file the desired configuration comes from. */
	source: string
	current: InstanceConfig
	desired: InstanceConfig
	changes: ConfigChange[]
	/** What the driver held when the plan was made. */
	before: DriverState
}

function readState(device: UsbvnetDevice, instance: string): DriverState {
	return {config: device.getConfig(instance), dhcp: device.getDhcp(instance)}
}

function configOf(state: DriverState): InstanceConfig {
	return {...configFromStruct(state.config), dhcp: dhcpFromStruct(state.dhcp)}
}

export function readDriverConfig(device: UsbvnetDevice, instance: string): InstanceConfig {
	return configOf(readState(device, instance))
}

export function diffInstanceConfigs(current: InstanceConfig, desired: InstanceConfig): ConfigChange[] {
	return [...diffConfigs(current, desired), ...diffDhcp(current.dhcp, desired.dhcp)]
}

export interface PlanOptions {
	/**
	 * Check the merged DHCP settings across keys before any request (default).
	 * Off, only the driver checks them: for testing its refusal and the rollback.
	 */
	precheck?: boolean
}

/**
 * The file over the driver's current state. The merged DHCP settings are
 * checked as a whole: a file may set only the pool, which must then fit the
 * driver's subnet.
 */
export function planConfig(device: UsbvnetDevice, instance: string, file: UsbvnetConfig, source: string, options: PlanOptions = {}): ConfigPlan {
	const before = readState(device, instance)
	const current = configOf(before)
	const desired: InstanceConfig = {...mergeConfig(current, file), dhcp: mergeDhcp(current.dhcp, file.dhcp)}
	if (options.precheck !== false) {
		const issues = checkDhcp(desired.dhcp)
		if (issues.length > 0) {
			throw new SchemaValidationError(`${source} (over the driver's current DHCP settings)`, issues)
		}
	}
	checkEncodable(desired, instance, source)
	return {instance: instanceLabel(instance), source, current, desired, changes: diffInstanceConfigs(current, desired), before}
}

/**
 * Encodes both requests once, so that a value the schema let through but
 * the driver's structs cannot hold is refused before anything is sent,
 * rather than between SET_CONFIG and SET_DHCP.
 */
function checkEncodable(desired: InstanceConfig, instance: string, source: string): void {
	try {
		encodeConfig(configToStruct(desired, instance))
		encodeDhcpConfig(dhcpToStruct(desired.dhcp, instance))
	} catch (error) {
		if (error instanceof RangeError) throw new SchemaValidationError(source, [{path: '$', message: error.message}])
		throw error
	}
}

/** The rollback itself failed: the driver holds part of the new configuration. */
export class PartialApplyError extends UsbvnetError {
	constructor(message: string, options?: ErrorOptions) {
		super(message, 'PARTIALLY_APPLIED', ExitCode.refused, options)
	}
}

/**
 * Commits a plan: SET_CONFIG if the base settings change, then SET_DHCP if
 * the DHCP settings do. A refusal leaves the driver as the plan found it,
 * and the error says so; reading back afterwards catches a driver that
 * silently adjusted a value.
 */
export function applyPlan(device: UsbvnetDevice, instance: string, plan: ConfigPlan): void {
	const configChanges = diffConfigs(plan.current, plan.desired).length > 0
	const dhcpChanges = diffDhcp(plan.current.dhcp, plan.desired.dhcp).length > 0
	const refused = (error: unknown, what: string): unknown => {
		if (error instanceof DriverError) {
			error.message = `${plan.instance} refused the ${what} from ${plan.source}, nothing was changed: ${error.message}`
		}
		return error
	}
	if (configChanges) {
		try {
			device.setConfig(configToStruct(plan.desired, instance))
		} catch (error) {
			throw refused(error, 'configuration')
		}
	}
	if (dhcpChanges) {
		try {
			device.setDhcp(dhcpToStruct(plan.desired.dhcp, instance))
		} catch (error) {
			if (configChanges) restoreConfig(device, instance, plan, error)
			const why = checkDhcp(plan.desired.dhcp).map((issue) => `${issue.path}: ${issue.message}`)
			throw refused(error, `DHCP settings${why.length > 0 ? ` (${why.join('; ')})` : ''}`)
		}
	}
	const after = readDriverConfig(device, instance)
	const drift = diffInstanceConfigs(plan.desired, after)
	if (drift.length > 0) {
		log.warn(`the driver holds values other than those applied: ${drift.map((change) => change.path).join(', ')}`)
	}
}

/** Puts back the base settings read before SET_CONFIG, after SET_DHCP was refused. */
function restoreConfig(device: UsbvnetDevice, instance: string, plan: ConfigPlan, cause: unknown): void {
	log.debug(`SET_DHCP refused: restoring the configuration ${plan.instance} had before`)
	try {
		device.setConfig({...plan.before.config, ifname: instance})
	} catch (error) {
		const first = cause instanceof Error ? cause.message : String(cause)
		const second = error instanceof Error ? error.message : String(error)
		throw new PartialApplyError(
			`${plan.instance} refused the DHCP settings from ${plan.source} (${first}), and restoring its previous configuration failed (${second}): ` +
				`it now holds the new mac, mode, autoAttach, drivers and rules with its old DHCP settings`,
			{cause: error},
		)
	}
}
