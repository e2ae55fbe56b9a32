/**
 * The files install writes, as text: pure functions of the layout, so that
 * install can tell "already there" from "needs writing" by comparing, and
 * doctor can tell an outdated file from a current one.
 */
import {DRIVER_NAMES, type UsbvnetConfig} from '../config/types.js'
import {MODULE_NAME, type Layout} from './layout.js'

export const MARK = 'Written by "usbvnet install"; "usbvnet uninstall" removes it.'

/** Quotes one word of an Exec= line as systemd.service(5) reads it. */
export function systemdQuote(word: string): string {
	if (word !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word
	return `"${word.replace(/["\\]/g, (c) => `\\${c}`)}"`
}

/** The DKMS description of the module: the build needs linux-module/ and core/ side by side (Kbuild links ../core). */
export function dkmsConf(layout: Layout): string {
	const build = '${dkms_tree}/${PACKAGE_NAME}/${PACKAGE_VERSION}/build/linux-module'
	return [
		`# ${MARK}`,
		`PACKAGE_NAME="${MODULE_NAME}"`,
		`PACKAGE_VERSION="${layout.pkg.version}"`,
		'# linux-module/Kbuild links the portable core from ../core.',
		`MAKE[0]="make -C \${kernel_source_dir} M=${build} modules"`,
		`CLEAN="make -C \${kernel_source_dir} M=${build} clean"`,
		`BUILT_MODULE_NAME[0]="${MODULE_NAME}"`,
		'BUILT_MODULE_LOCATION[0]="linux-module/"',
		'DEST_MODULE_LOCATION[0]="/updates/dkms"',
		'AUTOINSTALL="yes"',
		'',
	].join('\n')
}

export function modulesLoadConf(): string {
	return `# ${MARK}\n# Loads the usbvnet module at boot, so that usbvnet0 exists from the start.\n${MODULE_NAME}\n`
}

/** The command lines of the unit, without systemd's prefixes: what a test runs as a "reboot". */
export interface UnitCommands {
	startPre: string[][]
	start: string[][]
	stop: string[][]
}

export function unitCommands(layout: Layout): UnitCommands {
	const usbvnet = layout.pkg.command
	return {
		startPre: [['/sbin/modprobe', MODULE_NAME]],
		start: [
			[...usbvnet, 'config', 'apply', layout.at.config],
			[...usbvnet, 'leases', 'restore', '--missing-ok'],
		],
		stop: [[...usbvnet, 'leases', 'save']],
	}
}

export function unitFile(layout: Layout): string {
	const commands = unitCommands(layout)
	const line = (key: string, words: string[], prefix = '') => `${key}=${prefix}${words.map(systemdQuote).join(' ')}`
	const [apply, restore] = commands.start as [string[], string[]]
	return [
		`# ${MARK}`,
		`# usbvnet ${layout.pkg.version} from ${layout.pkg.root}`,
		'[Unit]',
		'Description=usbvnet: apply the configuration, keep DHCP leases across module reloads and reboots',
		'After=systemd-modules-load.service',
		'Wants=systemd-modules-load.service',
		// Before the network managers configure usbvnet0: its MAC and mode are set by then.
		'Before=network-pre.target',
		'Wants=network-pre.target',
		'',
		'[Service]',
		'Type=oneshot',
		'RemainAfterExit=yes',
		'StateDirectory=usbvnet',
		...commands.startPre.map((words) => line('ExecStartPre', words)),
		line('ExecStart', apply),
		// A failed start leaves the unit inactive, and then ExecStop (leases save) never runs.
		'# "-": leases that no longer fit the configuration do not fail the unit (its stop saves the new ones).',
		line('ExecStart', restore, '-'),
		...commands.stop.map((words) => line('ExecStop', words)),
		'',
		'[Install]',
		'WantedBy=multi-user.target',
		'',
	].join('\n')
}

/**
 * udev: the netdevs of the drivers usbvnet enslaves are its ports, not
 * interfaces of their own. NetworkManager reads NM_UNMANAGED; systemd-networkd
 * reads ID_NET_MANAGED_BY from v255 on (older ones, Debian 12's 252 among
 * them, need networkdFile below).
 */
export function udevRule(): string {
	return [
		`# ${MARK}`,
		'# USB network devices of the drivers usbvnet attaches are ports of usbvnet0:',
		'# desktop tools leave them alone and show usbvnet0 instead.',
		'ACTION=="remove", GOTO="usbvnet_end"',
		'SUBSYSTEM!="net", GOTO="usbvnet_end"',
		`DRIVERS=="${DRIVER_NAMES.join('|')}", ENV{NM_UNMANAGED}="1", ENV{ID_NET_MANAGED_BY}="${MODULE_NAME}"`,
		'LABEL="usbvnet_end"',
		'',
	].join('\n')
}

/** systemd-networkd before v255 honours only Unmanaged=yes in the first .network file that matches. */
export function networkdFile(): string {
	return [
		`# ${MARK}`,
		'# USB network devices of the drivers usbvnet attaches are ports of usbvnet0.',
		'[Match]',
		`Driver=${DRIVER_NAMES.join(' ')}`,
		'',
		'[Link]',
		'Unmanaged=yes',
		'',
	].join('\n')
}

/** What a fresh install configures: the driver's defaults, written out so that admins see the main keys. */
export const DEFAULT_CONFIG: UsbvnetConfig = {mode: 'bridge', autoAttach: true}

export function defaultConfigText(): string {
	return `${JSON.stringify(DEFAULT_CONFIG, null, 2)}\n`
}

