/**
 * `usbvnet doctor`: checks each piece install sets up, and for each one that
 * is wrong says what to run. Reads only; needs no privilege.
 */
import {existsSync, readFileSync, statSync} from 'node:fs'
import {ConfigError} from '../config/errors.js'
import {parseConfigText} from '../config/load.js'
import {DEFAULT_MANAGED_DIR, ConfigLockedError, effectiveConfig, loadManagedLayer, showValue, type ManagedLayer} from '../config/profiles.js'
import type {UsbvnetConfig} from '../config/types.js'
import {USBVNET_API_VERSION} from '../driver/constants.js'
import {withDevice} from '../driver/device.js'
import {UsbvnetError} from '../errors.js'
import {DEFAULT_INSTANCE} from '../names.js'
import {dkmsStatus} from './dkms.js'
import {modulesLoadConf, networkdFile, udevRule, unitFile} from './files.js'
import {iproute2PluginSource} from './install.js'
import {MODULE_NAME, UNIT_NAME, isLiveRoot, onHost, type Layout} from './layout.js'
import {run, systemdRunning} from './system.js'
import {fileMatches, pathExists} from './steps.js'

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip'

export interface CheckReport {
	check: string
	status: CheckStatus
	detail: string
	/** What to run or change, for warn and fail. */
	fix?: string
}

type Outcome = Omit<CheckReport, 'check'>
const ok = (detail: string): Outcome => ({status: 'ok', detail})
const skip = (detail: string): Outcome => ({status: 'skip', detail})
const warn = (detail: string, fix: string): Outcome => ({status: 'warn', detail, fix})
const fail = (detail: string, fix: string): Outcome => ({status: 'fail', detail, fix})

const REINSTALL = 'usbvnet install'

/**
 * Managed profiles: all readable and valid, agreeing with one another, and
 * the local file changing no setting they lock (else `config apply` and the
 * unit's start refuse it). Messages name the profiles as found.
 */
function managedCheck(layout: Layout): Outcome {
	let layer: ManagedLayer
	try {
		layer = loadManagedLayer(onHost(layout, DEFAULT_MANAGED_DIR))
	} catch (error) {
		if (error instanceof ConfigError) return fail(error.message.split('\n').join(' '), 'fix or remove that profile (usbvnet config validate FILE)')
		throw error
	}
	if (layer.profiles.length === 0) return skip(`no managed profiles in ${DEFAULT_MANAGED_DIR}`)
	const counted = `${layer.profiles.length} profile(s) locking ${layer.locks.length} setting(s)`
	const path = layout.at.config
	let local: UsbvnetConfig
	try {
		local = parseConfigText(readFileSync(onHost(layout, path), 'utf8'), path)
	} catch {
		return skip(`${counted}; ${path} is missing or invalid (see the config check)`)
	}
	try {
		effectiveConfig(local, path, layer)
	} catch (error) {
		if (error instanceof ConfigLockedError) {
			const what = error.violations.map((v) => `${v.path} locked to ${showValue(v.locked)} by ${v.profile}, the file sets ${showValue(v.value)}`)
			return fail(`${path} contradicts the managed profiles: ${what.join('; ')}`, `leave those settings out of ${path}, or give them the profiles' values`)
		}
		if (error instanceof ConfigError) return fail(error.message.split('\n').join(' '), `fix ${path} or the profiles`)
		throw error
	}
	return ok(`${counted}; ${path} agrees with them`)
}

/** The file of the module the layout's kernel would load, as modinfo finds it (through depmod's index). */
function installedModule(layout: Layout): string | undefined {
	const base = isLiveRoot(layout) ? [] : ['-b', layout.root]
	const result = run('modinfo', [...base, '-k', layout.kernel, '-F', 'filename', MODULE_NAME])
	return result.status === 0 ? result.stdout.trim().split('\n')[0] : undefined
}

/**
 * Whether the loaded module is the installed file: its GNU build ID note (in
 * sysfs) appears in the file. Debian builds without CONFIG_MODULE_SRCVERSION_ALL,
 * so srcversion is not there to compare.
 */
function sameBuild(file: string): Outcome {
	const notePath = `/sys/module/${MODULE_NAME}/notes/.note.gnu.build-id`
	if (!existsSync(notePath)) return skip('the loaded module has no build ID to compare')
	if (!file.endsWith('.ko')) return skip(`cannot compare with a compressed module (${file})`)
	const note = readFileSync(notePath)
	const id = note.subarray(Math.max(0, note.length - 20)).toString('hex')
	if (readFileSync(file).includes(note)) return ok(`the loaded module is ${file} (build ID ${id})`)
	return fail(`the loaded module (build ID ${id}) is not ${file}`, `rmmod ${MODULE_NAME} && modprobe ${MODULE_NAME} (or reboot)`)
}

function managedFile(layout: Layout, path: string, content: string, what: string): Outcome {
	if (!existsSync(onHost(layout, path))) return fail(`${path} missing: ${what}`, REINSTALL)
	if (!fileMatches(layout, path, content)) return warn(`${path} differs from what this version writes`, `${REINSTALL} (rewrites it)`)
	return ok(path)
}

export function runChecks(layout: Layout): CheckReport[] {
	const live = isLiveRoot(layout)
	const systemd = live && systemdRunning()
	const {version} = layout.pkg
	const reports: CheckReport[] = []
	const check = (name: string, outcome: () => Outcome) => {
		let result: Outcome
		try {
			result = outcome()
		} catch (error) {
			result = fail(`could not check: ${(error as Error).message}`, 'run again with --verbose')
		}
		reports.push({check: name, ...result})
		return result
	}

	const installed = installedModule(layout)
	check('module', () =>
		installed
			? ok(`${installed} for ${layout.kernel}`)
			: fail(`no ${MODULE_NAME} module for kernel ${layout.kernel}`, `${REINSTALL} (DKMS builds it; needs linux-headers-${layout.kernel})`),
	)

	const loaded = live && existsSync(`/sys/module/${MODULE_NAME}`)
	check('loaded', () => {
		if (!live) return skip('another root: nothing is loaded from it here')
		return loaded ? ok(`${MODULE_NAME} loaded`) : fail(`${MODULE_NAME} is not loaded`, `modprobe ${MODULE_NAME}`)
	})

	check('device', () => {
		if (!loaded) return skip('the module is not loaded')
		try {
			const info = withDevice('query', (device) => device.info(''))
			if (info.apiVersion !== USBVNET_API_VERSION) {
				return fail(`${DEFAULT_INSTANCE}: the module speaks API ${info.apiVersion}, this command ${USBVNET_API_VERSION}`, `reload the installed module: rmmod ${MODULE_NAME} && modprobe ${MODULE_NAME}`)
			}
			return ok(`/dev/usbvnet answers: ${DEFAULT_INSTANCE} ${info.mac}, API ${info.apiVersion}`)
		} catch (error) {
			if (error instanceof UsbvnetError) return fail(error.message, `rmmod ${MODULE_NAME} && modprobe ${MODULE_NAME}, then usbvnet status`)
			throw error
		}
	})

	check('version', () => {
		if (!loaded || !installed) return skip(loaded ? 'no installed module to compare with' : 'the module is not loaded')
		return sameBuild(installed)
	})

	check('dkms', () => {
		const entries = dkmsStatus(layout)
		const others = [...new Set(entries.filter((e) => e.version !== version).map((e) => e.version))]
		if (!existsSync(onHost(layout, layout.at.source))) {
			if (others.length) return warn(`DKMS holds other versions: ${others.join(', ')}`, `dkms remove ${MODULE_NAME}/${others[0]} --all`)
			return skip(`not installed with DKMS (no ${layout.at.source})`)
		}
		const ours = entries.filter((e) => e.version === version)
		const forKernel = ours.find((e) => e.kernel === layout.kernel)
		if (forKernel?.state === 'installed') {
			if (others.length) return warn(`${MODULE_NAME}/${version} installed for ${layout.kernel}; DKMS also holds ${others.join(', ')}`, REINSTALL)
			return ok(`${MODULE_NAME}/${version} installed for ${layout.kernel}`)
		}
		const state = forKernel?.state ?? (ours.length ? ours.map((e) => e.state).join(', ') : 'unknown to DKMS')
		return fail(`${MODULE_NAME}/${version} for ${layout.kernel}: ${state}`, `${REINSTALL} (or dkms install ${MODULE_NAME}/${version} -k ${layout.kernel})`)
	})

	check('modules-load', () => {
		const path = layout.at.modulesLoad
		const host = onHost(layout, path)
		if (!existsSync(host)) return fail(`${path} missing: the module is not loaded at boot`, REINSTALL)
		const lines = readFileSync(host, 'utf8').split('\n').map((l) => l.replace(/#.*/, '').trim())
		if (!lines.includes(MODULE_NAME)) return fail(`${path} does not name ${MODULE_NAME}`, REINSTALL)
		return fileMatches(layout, path, modulesLoadConf()) ? ok(path) : ok(`${path} (edited, names ${MODULE_NAME})`)
	})

	check('unit', () => managedFile(layout, layout.at.unit, unitFile(layout), 'the configuration is not applied at boot'))

	check('enabled', () => {
		if (systemd) {
			const state = run('systemctl', ['is-enabled', UNIT_NAME]).stdout.trim()
			return state === 'enabled' ? ok(`${UNIT_NAME} enabled`) : fail(`${UNIT_NAME} is ${state || 'unknown to systemd'}`, `systemctl enable ${UNIT_NAME}`)
		}
		return pathExists(onHost(layout, layout.at.unitWants))
			? ok(`${layout.at.unitWants}`)
			: fail(`${UNIT_NAME} is not enabled (no ${layout.at.unitWants})`, `systemctl enable ${UNIT_NAME}`)
	})

	check('active', () => {
		if (!systemd) return skip('systemd is not running here')
		const state = run('systemctl', ['is-active', UNIT_NAME]).stdout.trim()
		return state === 'active' ? ok(`${UNIT_NAME} active`) : fail(`${UNIT_NAME} is ${state}`, `systemctl start ${UNIT_NAME}; journalctl -u ${UNIT_NAME}`)
	})

	check('config', () => {
		const path = layout.at.config
		const host = onHost(layout, path)
		if (!existsSync(host)) return fail(`${path} missing`, `${REINSTALL} (writes a default one)`)
		try {
			parseConfigText(readFileSync(host, 'utf8'), path)
			return ok(`${path} valid`)
		} catch (error) {
			if (error instanceof ConfigError) return fail(error.message, `fix ${path} (usbvnet config validate ${path})`)
			throw error
		}
	})

	check('managed', () => managedCheck(layout))

	check('udev', () => managedFile(layout, layout.at.udevRule, udevRule(), 'NetworkManager manages the USB devices behind usbvnet0'))
	check('networkd', () => managedFile(layout, layout.at.networkd, networkdFile(), 'systemd-networkd manages the USB devices behind usbvnet0'))

	check('leases', () => {
		const dir = onHost(layout, layout.at.stateDir)
		if (!existsSync(dir)) return fail(`${layout.at.stateDir} missing: leases cannot be saved`, REINSTALL)
		const file = onHost(layout, layout.at.leases)
		if (!existsSync(file)) return ok(`none saved yet (${UNIT_NAME} saves them to ${layout.at.leases} when it stops)`)
		const stat = statSync(file)
		return stat.size > 0 ? ok(`${layout.at.leases}: ${stat.size} bytes, saved ${stat.mtime.toISOString()}`) : warn(`${layout.at.leases} is empty`, `usbvnet leases save`)
	})

	check('iproute2', () => {
		if (!existsSync(iproute2PluginSource(layout))) return skip('the package has no iproute2 plugin')
		const path = layout.at.iproute2Plugin
		if (!existsSync(onHost(layout, path))) return fail(`${path} missing: ip link shows no usbvnet details`, REINSTALL)
		return fileMatches(layout, path, readFileSync(iproute2PluginSource(layout))) ? ok(path) : warn(`${path} is not this version's`, REINSTALL)
	})
	return reports
}

export function healthy(reports: CheckReport[]): boolean {
	return reports.every((r) => r.status !== 'fail')
}
