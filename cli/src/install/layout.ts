/**
 * Where install, uninstall and doctor read and write: every path of an
 * installation, under a root ("/" normally; another directory for tests and
 * image builders), and where the package itself lies (its linux-module/,
 * core/, schemas/ and the command that the systemd unit runs).
 */
import {readFileSync} from 'node:fs'
import {release} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {UsageError} from '../errors.js'

export const MODULE_NAME = 'usbvnet'
export const UNIT_NAME = 'usbvnet.service'
/** The leases file the unit saves on stop and restores on start (`usbvnet leases save|restore` default). */
export const LEASES_PATH = '/var/lib/usbvnet/leases.bin'
/** Environment variable naming the root when --root is not given. */
export const ROOT_ENV = 'USBVNET_ROOT'

/** The package: the directory holding package.json, cli/, linux-module/, core/ and schemas/. */
export interface PackageInfo {
	root: string
	version: string
	/** How the unit runs this command: node and cli/bin/run.js, absolute. */
	command: string[]
}

/** The package this code runs from (cli/dist/install/ -> three levels up). */
export function currentPackage(): PackageInfo {
	const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')
	return packageAt(root)
}

export function packageAt(root: string): PackageInfo {
	let version: unknown
	try {
		version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {version?: unknown}).version
	} catch (error) {
		throw new UsageError(`cannot read the package's version from ${join(root, 'package.json')}: ${(error as Error).message}`)
	}
	if (typeof version !== 'string' || !/^[0-9A-Za-z.+~-]+$/.test(version)) {
		throw new UsageError(`${join(root, 'package.json')}: "version" must be a plain version string`)
	}
	return {root, version, command: [process.execPath, join(root, 'cli/bin/run.js')]}
}

/** Every path of an installation. `at` are paths as the installed system sees them; `host` under the root. */
export interface Layout {
	/** "/" or the directory standing for it. */
	root: string
	/** The kernel release modules are built and installed for. */
	kernel: string
	pkg: PackageInfo
	/** Absolute paths as seen from inside the root (what files refer to). */
	at: {
		source: string
		dkmsConf: string
		dkmsTree: string
		modulesDir: string
		prebuiltModule: string
		modulesLoad: string
		configDir: string
		config: string
		stateDir: string
		leases: string
		unit: string
		unitWants: string
		udevRule: string
		networkd: string
		iproute2Plugin: string
	}
}

export interface LayoutOptions {
	root?: string | undefined
	kernel?: string | undefined
	pkg?: PackageInfo | undefined
}

export function makeLayout(options: LayoutOptions = {}): Layout {
	const root = resolve(options.root ?? (process.env[ROOT_ENV] || '/'))
	const kernel = options.kernel ?? release()
	if (!/^[0-9A-Za-z._+~-]+$/.test(kernel)) throw new UsageError(`kernel "${kernel}": not a kernel release name`)
	const pkg = options.pkg ?? currentPackage()
	const source = `/usr/src/${MODULE_NAME}-${pkg.version}`
	const modulesDir = `/lib/modules/${kernel}`
	return {
		root,
		kernel,
		pkg,
		at: {
			source,
			dkmsConf: `${source}/dkms.conf`,
			dkmsTree: '/var/lib/dkms',
			modulesDir,
			// Not updates/dkms/, where DKMS installs: uninstall can tell them apart.
			prebuiltModule: `${modulesDir}/updates/${MODULE_NAME}.ko`,
			modulesLoad: `/etc/modules-load.d/${MODULE_NAME}.conf`,
			configDir: '/etc/usbvnet',
			config: '/etc/usbvnet/config.json',
			stateDir: '/var/lib/usbvnet',
			leases: LEASES_PATH,
			unit: `/etc/systemd/system/${UNIT_NAME}`,
			unitWants: `/etc/systemd/system/multi-user.target.wants/${UNIT_NAME}`,
			udevRule: '/etc/udev/rules.d/70-usbvnet.rules',
			networkd: '/etc/systemd/network/10-usbvnet-lower.network',
			iproute2Plugin: '/usr/lib/ip/link_usbvnet.so',
		},
	}
}

/** A path of the installed system, as this process reaches it (under the root). */
export function onHost(layout: Layout, path: string): string {
	return layout.root === '/' ? path : join(layout.root, path)
}

/** True when the root is this machine's own: services, udev and loaded modules are live. */
export function isLiveRoot(layout: Layout): boolean {
	return layout.root === '/'
}
