/**
 * The steps of `usbvnet install` and `usbvnet uninstall`, in order, for a
 * layout (layout.ts). Each step reads the current state first (steps.ts), so
 * both are idempotent.
 */
import {existsSync, mkdirSync, readdirSync, readFileSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {ConfigError} from '../config/errors.js'
import {parseConfigText} from '../config/load.js'
import {depmod, dkms, dkmsInstalled, dkmsMakeLog, dkmsStatus, dkmsWithProgress} from './dkms.js'
import {defaultConfigText, dkmsConf, modulesLoadConf, networkdFile, udevRule, unitFile} from './files.js'
import {MODULE_NAME, UNIT_NAME, isLiveRoot, onHost, type Layout} from './layout.js'
import {run, systemdRunning, tail, udevRunning} from './system.js'
import {
	already,
	copyFile,
	done,
	failed,
	fileMatches,
	removeEmptyDir,
	removeFile,
	removeTree,
	skipped,
	symlink,
	writeFile,
	type Step,
	type StepOutcome,
} from './steps.js'

export interface InstallOptions {
	/** The module comes prebuilt (linux-module/usbvnet.ko in the package) or from elsewhere: no DKMS. */
	dkms: boolean
}

export interface UninstallOptions {
	/** Also remove the configuration and the saved leases. */
	purge: boolean
}

/** The module's sources DKMS builds from, relative to the package root: the Kbuild tree and the core it links. */
export function moduleSources(packageRoot: string): string[] {
	const list = (dir: string, keep: (name: string) => boolean) =>
		readdirSync(join(packageRoot, dir))
			.filter((name) => keep(name) && statSync(join(packageRoot, dir, name)).isFile())
			.sort()
			.map((name) => `${dir}/${name}`)
	// Not the build's own: usbvnet.mod.c is generated next to the sources.
	const source = (name: string) => /\.[ch]$/.test(name) && !name.endsWith('.mod.c') && !name.startsWith('.')
	return [
		...list('linux-module', (name) => name === 'Kbuild' || name === 'Makefile' || source(name)),
		...list('linux-module/uapi', (name) => name.endsWith('.h')),
		...list('core', source),
	]
}

/** The package's prebuilt module, if it ships one. */
export function prebuiltModule(layout: Layout): string {
	return join(layout.pkg.root, 'linux-module', `${MODULE_NAME}.ko`)
}

/** The iproute2 plugin (`ip link ... type usbvnet` options), when the package has it built. */
export function iproute2PluginSource(layout: Layout): string {
	return join(layout.pkg.root, 'build/iproute2/link_usbvnet.so')
}

// ---- install ------------------------------------------------------------------

function sourceStep(layout: Layout): Step {
	return {
		id: 'source',
		title: `module sources in ${layout.at.source}`,
		run() {
			const files = moduleSources(layout.pkg.root)
			const changed = files.filter((file) => copyFile(layout, join(layout.pkg.root, file), `${layout.at.source}/${file}`).status === 'done')
			const conf = writeFile(layout, layout.at.dkmsConf, dkmsConf(layout))
			// A file of an older copy that this version no longer has would be built too.
			const wanted = new Set([...files, 'dkms.conf'])
			const stale = listTree(onHost(layout, layout.at.source)).filter((file) => !wanted.has(file))
			for (const file of stale) removeFile(layout, `${layout.at.source}/${file}`)
			if (changed.length === 0 && conf.status === 'already' && stale.length === 0) return already(`${layout.at.source}: ${files.length} files`)
			return done(`${layout.at.source}: ${changed.length + (conf.status === 'done' ? 1 : 0)} of ${files.length + 1} files written${stale.length ? `, ${stale.length} stale removed` : ''}`)
		},
	}
}

function listTree(dir: string, prefix = ''): string[] {
	if (!existsSync(dir)) return []
	return readdirSync(dir, {withFileTypes: true}).flatMap((entry) =>
		entry.isDirectory() ? listTree(join(dir, entry.name), `${prefix}${entry.name}/`) : [`${prefix}${entry.name}`],
	)
}

/** add, build (with progress: it takes a minute or more), install; a changed source tree is rebuilt. */
function dkmsStep(layout: Layout, sourceChanged: () => boolean): Step {
	const {version} = layout.pkg
	const kernel = layout.kernel
	const ref = `${MODULE_NAME}/${version}`
	return {
		id: 'dkms',
		title: `DKMS build of ${ref} for ${kernel}`,
		async run(progress) {
			if (!dkmsInstalled()) {
				return failed('dkms is not installed', `apt-get install dkms linux-headers-${kernel}, or install with --no-dkms if the module comes prebuilt`)
			}
			if (!existsSync(`/lib/modules/${kernel}/build`)) {
				return failed(`no kernel headers for ${kernel} (/lib/modules/${kernel}/build)`, `apt-get install linux-headers-${kernel}`)
			}
			const steps: string[] = []
			let entries = dkmsStatus(layout)
			// Other versions: an upgrade replaces them (they would install the same module name).
			for (const old of new Set(entries.filter((e) => e.version !== version).map((e) => e.version))) {
				const removed = dkms(layout, 'remove', [`${MODULE_NAME}/${old}`, '--all'])
				if (removed.status !== 0) return failed(`dkms remove ${MODULE_NAME}/${old} failed: ${tail(removed)}`, `dkms remove ${MODULE_NAME}/${old} --all`)
				removeTree(layout, `/usr/src/${MODULE_NAME}-${old}`)
				steps.push(`removed ${old}`)
			}
			entries = entries.filter((e) => e.version === version)
			const installed = entries.some((e) => e.kernel === kernel && e.state === 'installed')
			if (installed && !sourceChanged()) return already(`${ref} installed for ${kernel}`)
			if (entries.length > 0 && sourceChanged()) {
				const removed = dkms(layout, 'remove', [ref, '--all'])
				if (removed.status !== 0) return failed(`dkms remove ${ref} failed: ${tail(removed)}`, `dkms remove ${ref} --all`)
				entries = []
				steps.push('sources changed, removed the old build')
			}
			if (entries.length === 0) {
				// Under another root, its trees may not exist yet (DKMS insists on them).
				if (!isLiveRoot(layout)) for (const dir of [layout.at.dkmsTree, layout.at.modulesDir]) mkdirSync(onHost(layout, dir), {recursive: true})
				const added = dkms(layout, 'add', [ref])
				if (added.status !== 0) return failed(`dkms add ${ref} failed: ${tail(added)}`, `check ${layout.at.dkmsConf} and ${layout.at.dkmsTree}, then install again`)
				steps.push('added')
			}
			progress(`building ${ref} for ${kernel}`)
			const started = Date.now()
			const built = await dkmsWithProgress(layout, 'build', [ref, '-k', kernel], (seconds) => progress(`building ${ref} for ${kernel} (${seconds} s)`))
			if (built.status !== 0) {
				return failed(`dkms build ${ref} for ${kernel} failed: ${tail(built, 3)}`, `read ${dkmsMakeLog(layout)}`)
			}
			const seconds = Math.round((Date.now() - started) / 1000)
			steps.push(`built in ${seconds} s`)
			const inst = dkms(layout, 'install', [ref, '-k', kernel, '--force'])
			if (inst.status !== 0) return failed(`dkms install ${ref} for ${kernel} failed: ${tail(inst)}`, `dkms install ${ref} -k ${kernel}`)
			if (!isLiveRoot(layout)) {
				const dep = depmod(layout)
				if (dep.status !== 0) return failed(`depmod failed: ${tail(dep)}`, `depmod -b ${layout.root} -a ${kernel}`)
			}
			return done(`${ref} for ${kernel}: ${[...steps, 'installed'].join(', ')}`)
		},
	}
}

/** --no-dkms: the package's prebuilt module, if it has one for this kernel, into updates/. */
function prebuiltStep(layout: Layout): Step {
	return {
		id: 'module',
		title: `prebuilt module for ${layout.kernel}`,
		run() {
			const source = prebuiltModule(layout)
			if (!existsSync(source)) return skipped(`no prebuilt module in the package (${source}): the module is installed otherwise`)
			const magic = run('modinfo', ['-F', 'vermagic', source])
			const built = magic.stdout.trim().split(/\s+/)[0] ?? ''
			if (magic.status !== 0) return failed(`modinfo ${source} failed: ${tail(magic)}`, 'is kmod installed? apt-get install kmod')
			if (built !== layout.kernel) {
				return failed(`${source} is built for ${built}, not ${layout.kernel}`, `install without --no-dkms to build it for ${layout.kernel}, or ship a module built for it`)
			}
			const copied = copyFile(layout, source, layout.at.prebuiltModule)
			if (copied.status === 'already') return copied
			const dep = depmod(layout)
			if (dep.status !== 0) return failed(`depmod failed: ${tail(dep)}`, `depmod -a ${layout.kernel}`)
			return done(`${copied.detail}, depmod ${layout.kernel}`)
		},
	}
}

function fileStep(layout: Layout, id: string, path: string, content: () => string, after?: () => string | undefined): Step {
	return {
		id,
		title: path,
		run() {
			const outcome = writeFile(layout, path, content())
			if (outcome.status !== 'done' || !after) return outcome
			const note = after()
			return note ? {...outcome, detail: `${outcome.detail}; ${note}`} : outcome
		},
	}
}

function configStep(layout: Layout): Step {
	const path = layout.at.config
	return {
		id: 'config',
		title: path,
		run() {
			const host = onHost(layout, path)
			if (!existsSync(host)) return writeFile(layout, path, defaultConfigText(), 0o644)
			try {
				parseConfigText(readFileSync(host, 'utf8'), path)
				return already(`${path} kept`)
			} catch (error) {
				if (error instanceof ConfigError) return failed(`${path} is kept but invalid: ${error.message}`, `fix it (usbvnet config validate ${path}) or remove it and install again`)
				throw error
			}
		},
	}
}

function stateDirStep(layout: Layout): Step {
	return {
		id: 'state',
		title: layout.at.stateDir,
		run() {
			const host = onHost(layout, layout.at.stateDir)
			if (existsSync(host)) return already(layout.at.stateDir)
			mkdirSync(host, {recursive: true, mode: 0o755})
			return done(`${layout.at.stateDir} created (leases are saved there)`)
		},
	}
}

function reloadUdev(layout: Layout): string | undefined {
	if (!isLiveRoot(layout) || !udevRunning()) return undefined
	const reloaded = run('udevadm', ['control', '--reload'])
	return reloaded.status === 0 ? 'udev rules reloaded (devices plugged from now on)' : `udevadm control --reload failed: ${tail(reloaded, 1)}`
}

function daemonReload(layout: Layout): string | undefined {
	if (!isLiveRoot(layout) || !systemdRunning()) return undefined
	const reloaded = run('systemctl', ['daemon-reload'])
	return reloaded.status === 0 ? 'systemd reloaded' : `systemctl daemon-reload failed: ${tail(reloaded, 1)}`
}

function iproute2Step(layout: Layout): Step {
	return {
		id: 'iproute2',
		title: layout.at.iproute2Plugin,
		run() {
			const source = iproute2PluginSource(layout)
			if (!existsSync(source)) return skipped(`the package has no iproute2 plugin (${source})`)
			return copyFile(layout, source, layout.at.iproute2Plugin, 0o755)
		},
	}
}

function enableStep(layout: Layout): Step {
	return {
		id: 'enable',
		title: `enable ${UNIT_NAME}`,
		run() {
			if (isLiveRoot(layout) && systemdRunning()) {
				const was = run('systemctl', ['is-enabled', UNIT_NAME]).stdout.trim()
				if (was === 'enabled') return already(`${UNIT_NAME} enabled`)
				const enabled = run('systemctl', ['enable', UNIT_NAME])
				if (enabled.status !== 0) return failed(`systemctl enable ${UNIT_NAME} failed: ${tail(enabled)}`, `systemctl enable ${UNIT_NAME}`)
				return done(`${UNIT_NAME} enabled`)
			}
			// No systemd running (a container, an image being built): the link systemctl enable makes.
			return symlink(layout, layout.at.unitWants, layout.at.unit)
		},
	}
}

function startStep(layout: Layout): Step {
	return {
		id: 'start',
		title: `start ${UNIT_NAME}`,
		run() {
			if (!isLiveRoot(layout) || !systemdRunning()) return skipped('systemd is not running here: the unit starts at the next boot')
			if (run('systemctl', ['is-active', '--quiet', UNIT_NAME]).status === 0) return already(`${UNIT_NAME} active`)
			const started = run('systemctl', ['start', UNIT_NAME])
			if (started.status !== 0) return failed(`systemctl start ${UNIT_NAME} failed: ${tail(started)}`, `journalctl -u ${UNIT_NAME}; then usbvnet doctor`)
			return done(`${UNIT_NAME} started: module loaded, configuration applied`)
		},
	}
}

export function planInstall(layout: Layout, options: InstallOptions): Step[] {
	let sourceChanged = false
	const source = sourceStep(layout)
	const trackedSource: Step = {
		...source,
		async run(progress) {
			const outcome = await source.run(progress)
			sourceChanged = outcome.status === 'done'
			return outcome
		},
	}
	return [
		...(options.dkms ? [trackedSource, dkmsStep(layout, () => sourceChanged)] : [prebuiltStep(layout)]),
		fileStep(layout, 'modules-load', layout.at.modulesLoad, modulesLoadConf),
		configStep(layout),
		stateDirStep(layout),
		fileStep(layout, 'unit', layout.at.unit, () => unitFile(layout), () => daemonReload(layout)),
		fileStep(layout, 'udev', layout.at.udevRule, udevRule, () => reloadUdev(layout)),
		fileStep(layout, 'networkd', layout.at.networkd, networkdFile),
		iproute2Step(layout),
		enableStep(layout),
		startStep(layout),
	]
}

// ---- uninstall ------------------------------------------------------------------

function stopStep(layout: Layout): Step {
	return {
		id: 'stop',
		title: `stop ${UNIT_NAME}`,
		run() {
			if (!isLiveRoot(layout) || !systemdRunning()) return skipped('systemd is not running here')
			if (run('systemctl', ['is-active', '--quiet', UNIT_NAME]).status !== 0) return already(`${UNIT_NAME} not active`)
			const stopped = run('systemctl', ['stop', UNIT_NAME])
			if (stopped.status !== 0) return failed(`systemctl stop ${UNIT_NAME} failed: ${tail(stopped)}`, `journalctl -u ${UNIT_NAME}`)
			return done(`${UNIT_NAME} stopped (leases saved)`)
		},
	}
}

function disableStep(layout: Layout): Step {
	return {
		id: 'disable',
		title: `disable ${UNIT_NAME}`,
		run() {
			if (isLiveRoot(layout) && systemdRunning() && existsSync(layout.at.unit)) {
				if (run('systemctl', ['is-enabled', UNIT_NAME]).stdout.trim() !== 'enabled') return already(`${UNIT_NAME} not enabled`)
				const disabled = run('systemctl', ['disable', UNIT_NAME])
				if (disabled.status !== 0) return failed(`systemctl disable ${UNIT_NAME} failed: ${tail(disabled)}`, `systemctl disable ${UNIT_NAME}`)
				return done(`${UNIT_NAME} disabled`)
			}
			return removeFile(layout, layout.at.unitWants)
		},
	}
}

function unloadStep(layout: Layout): Step {
	return {
		id: 'unload',
		title: `unload ${MODULE_NAME}`,
		run() {
			if (!isLiveRoot(layout)) return skipped('another root: its modules are not loaded here')
			if (!existsSync(`/sys/module/${MODULE_NAME}`)) return already(`${MODULE_NAME} not loaded`)
			const removed = run('rmmod', [MODULE_NAME])
			if (removed.status !== 0) return failed(`rmmod ${MODULE_NAME} failed: ${tail(removed, 1)}`, `rmmod ${MODULE_NAME} when nothing uses it (or reboot)`)
			return done(`${MODULE_NAME} unloaded`)
		},
	}
}

function removeStep(layout: Layout, id: string, path: string, after?: () => string | undefined): Step {
	return {
		id,
		title: path,
		run() {
			const outcome = removeFile(layout, path)
			const note = outcome.status === 'done' ? after?.() : undefined
			return note ? {...outcome, detail: `${outcome.detail}; ${note}`} : outcome
		},
	}
}

function dkmsRemoveStep(layout: Layout): Step {
	return {
		id: 'dkms',
		title: `DKMS entries of ${MODULE_NAME}`,
		run() {
			const versions = [...new Set(dkmsStatus(layout).map((e) => e.version))]
			const removedVersions: string[] = []
			for (const version of versions) {
				const removed = dkms(layout, 'remove', [`${MODULE_NAME}/${version}`, '--all'])
				if (removed.status !== 0) return failed(`dkms remove ${MODULE_NAME}/${version} failed: ${tail(removed)}`, `dkms remove ${MODULE_NAME}/${version} --all`)
				removedVersions.push(version)
			}
			const sourceGone = removeTree(layout, layout.at.source)
			removeEmptyDir(layout, `${layout.at.dkmsTree}/${MODULE_NAME}`)
			if (removedVersions.length === 0 && sourceGone.status === 'already') return already(`DKMS has no ${MODULE_NAME}`)
			if (removedVersions.length > 0 && !isLiveRoot(layout)) depmod(layout)
			const what = removedVersions.length ? `${removedVersions.map((v) => `${MODULE_NAME}/${v}`).join(', ')} removed from DKMS` : 'not in DKMS'
			return done(`${what}; ${sourceGone.detail}`)
		},
	}
}

function prebuiltRemoveStep(layout: Layout): Step {
	return {
		id: 'module',
		title: layout.at.prebuiltModule,
		run() {
			const outcome = removeFile(layout, layout.at.prebuiltModule)
			if (outcome.status !== 'done') return outcome
			const dep = depmod(layout)
			if (dep.status !== 0) return failed(`${outcome.detail}, but depmod failed: ${tail(dep)}`, `depmod -a ${layout.kernel}`)
			return done(`${outcome.detail}, depmod ${layout.kernel}`)
		},
	}
}

function purgeStep(layout: Layout, id: string, path: string, purge: boolean, what: string): Step {
	return {
		id,
		title: path,
		run() {
			if (!purge) return skipped(`${path} kept (--purge removes ${what})`)
			return removeTree(layout, path)
		},
	}
}

export function planUninstall(layout: Layout, options: UninstallOptions): Step[] {
	return [
		stopStep(layout),
		disableStep(layout),
		unloadStep(layout),
		removeStep(layout, 'unit', layout.at.unit, () => daemonReload(layout)),
		removeStep(layout, 'udev', layout.at.udevRule, () => reloadUdev(layout)),
		removeStep(layout, 'networkd', layout.at.networkd),
		removeStep(layout, 'iproute2', layout.at.iproute2Plugin),
		removeStep(layout, 'modules-load', layout.at.modulesLoad),
		dkmsRemoveStep(layout),
		prebuiltRemoveStep(layout),
		purgeStep(layout, 'config', layout.at.configDir, options.purge, 'the configuration'),
		purgeStep(layout, 'state', layout.at.stateDir, options.purge, 'the saved leases'),
	]
}

/** Whether the unit file install would write is the one there (doctor). */
export function unitCurrent(layout: Layout): boolean {
	return fileMatches(layout, layout.at.unit, unitFile(layout))
}

export type {StepOutcome}
