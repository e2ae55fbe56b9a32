/**
 * DKMS: what it knows about usbvnet (`dkms status`), and its commands for an
 * installation root. Under another root than "/" DKMS is pointed at the
 * root's trees and depmod runs on the root's module directory.
 */
import {existsSync} from 'node:fs'
import {MODULE_NAME, isLiveRoot, onHost, type Layout} from './layout.js'
import {run, runWithProgress, type RunResult} from './system.js'

export type DkmsState = 'added' | 'built' | 'installed' | string

export interface DkmsEntry {
	module: string
	version: string
	/** Empty for "added", which is not per kernel. */
	kernel: string
	arch: string
	state: DkmsState
}

/**
 * Parses `dkms status` lines, as DKMS 2.8 and 3.x print them:
 *   usbvnet/0.1.0, 6.1.0-56-amd64, x86_64: installed
 *   usbvnet/0.1.0: added
 * and the older "usbvnet, 0.1.0, 6.1.0, x86_64: installed". Other lines are ignored.
 */
export function parseDkmsStatus(text: string): DkmsEntry[] {
	const entries: DkmsEntry[] = []
	for (const raw of text.split('\n')) {
		const line = raw.trim()
		const colon = line.lastIndexOf(': ')
		if (colon < 0) continue
		const state = (line.slice(colon + 2).split(/\s/)[0] ?? '').replace(/[^a-z]/g, '')
		const fields = line.slice(0, colon).split(',').map((f) => f.trim())
		let module: string, version: string, rest: string[]
		if (fields[0]?.includes('/')) {
			const [m = '', v = ''] = fields[0].split('/')
			;[module, version, rest] = [m, v, fields.slice(1)]
		} else {
			;[module, version, rest] = [fields[0] ?? '', fields[1] ?? '', fields.slice(2)]
		}
		if (module === '' || version === '' || state === '') continue
		entries.push({module, version, kernel: rest[0] ?? '', arch: rest[1] ?? '', state})
	}
	return entries
}

/** DKMS's options for the layout's trees (none for the live root). */
export function dkmsTreeArgs(layout: Layout): string[] {
	if (isLiveRoot(layout)) return []
	return [
		'--sourcetree', onHost(layout, '/usr/src'),
		'--dkmstree', onHost(layout, layout.at.dkmsTree),
		'--installtree', onHost(layout, '/lib/modules'),
		'--no-depmod',
	]
}

export function dkmsInstalled(): boolean {
	return run('dkms', ['--version']).status === 0
}

/** usbvnet's entries, every version and kernel; [] when DKMS is absent or knows none. */
export function dkmsStatus(layout: Layout): DkmsEntry[] {
	if (!existsSync(onHost(layout, `${layout.at.dkmsTree}/${MODULE_NAME}`))) return []
	const result = run('dkms', ['status', ...dkmsTreeArgs(layout), MODULE_NAME])
	return result.status === 0 ? parseDkmsStatus(result.stdout).filter((e) => e.module === MODULE_NAME) : []
}

export function dkms(layout: Layout, action: string, args: string[]): RunResult {
	return run('dkms', [action, ...dkmsTreeArgs(layout), ...args])
}

export function dkmsWithProgress(layout: Layout, action: string, args: string[], tick: (seconds: number) => void): Promise<RunResult> {
	return runWithProgress('dkms', [action, ...dkmsTreeArgs(layout), ...args], tick)
}

/** depmod for the layout's kernel; under another root, on that root's tree only. */
export function depmod(layout: Layout): RunResult {
	return isLiveRoot(layout) ? run('depmod', ['-a', layout.kernel]) : run('depmod', ['-b', layout.root, '-a', layout.kernel])
}

/** The DKMS build log, where a failed build says why. */
export function dkmsMakeLog(layout: Layout): string {
	return `${layout.at.dkmsTree}/${MODULE_NAME}/${layout.pkg.version}/build/make.log`
}
