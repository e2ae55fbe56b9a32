/**
 * Steps of install and uninstall, and the runner that reports each as done,
 * already (nothing to do), skipped (not applicable here) or failed (with
 * what to do about it). Every step looks before it acts, so that running
 * install or uninstall twice is safe and the second run says "already".
 */
import {chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, rmdirSync, symlinkSync, writeFileSync} from 'node:fs'
import {dirname} from 'node:path'
import {onHost, type Layout} from './layout.js'

export type StepStatus = 'done' | 'already' | 'skipped' | 'failed'

export interface StepOutcome {
	status: StepStatus
	/** What was done or found, one line. */
	detail: string
	/** For a failed step: what the user can do. */
	fix?: string
}

export interface StepReport extends StepOutcome {
	step: string
}

/** Lets a long step say how it is getting on (DKMS builds). */
export type ProgressSink = (text: string) => void

export interface Step {
	id: string
	/** What the step is about, for progress lines: "DKMS build for 6.1.0-56-amd64". */
	title: string
	run(progress: ProgressSink): StepOutcome | Promise<StepOutcome>
}

export interface StepListener {
	start?(step: Step): void
	progress?(step: Step, text: string): void
	end?(step: Step, report: StepReport): void
}

export const done = (detail: string): StepOutcome => ({status: 'done', detail})
export const already = (detail: string): StepOutcome => ({status: 'already', detail})
export const skipped = (detail: string): StepOutcome => ({status: 'skipped', detail})
export const failed = (detail: string, fix: string): StepOutcome => ({status: 'failed', detail, fix})

/** Runs every step in order; a failed step does not stop the others (each is independent or checks its own inputs). */
export async function runSteps(steps: Step[], listener: StepListener = {}): Promise<StepReport[]> {
	const reports: StepReport[] = []
	for (const step of steps) {
		listener.start?.(step)
		let outcome: StepOutcome
		try {
			outcome = await step.run((text) => listener.progress?.(step, text))
		} catch (error) {
			outcome = failed((error as Error).message, 'run again with --verbose to see the commands run')
		}
		const report = {step: step.id, ...outcome}
		reports.push(report)
		listener.end?.(step, report)
	}
	return reports
}

// ---- files ------------------------------------------------------------------

function readOrUndefined(path: string): Buffer | undefined {
	try {
		return readFileSync(path)
	} catch {
		return undefined
	}
}

/** The file at `path` (as the installed system sees it) has exactly `content`. */
export function fileMatches(layout: Layout, path: string, content: string | Buffer): boolean {
	const current = readOrUndefined(onHost(layout, path))
	return current !== undefined && current.equals(typeof content === 'string' ? Buffer.from(content) : content)
}

/** Writes `content` unless the file already holds it; "done" or "already". */
export function writeFile(layout: Layout, path: string, content: string | Buffer, mode = 0o644): StepOutcome {
	const host = onHost(layout, path)
	if (fileMatches(layout, path, content)) return already(path)
	const existed = existsSync(host)
	mkdirSync(dirname(host), {recursive: true})
	// Written beside and renamed would be atomic; a half-written file here is rewritten by the next install.
	writeFileSync(host, content, {mode})
	chmodSync(host, mode)
	return done(`${path} ${existed ? 'updated' : 'written'}`)
}

export function copyFile(layout: Layout, from: string, path: string, mode = 0o644): StepOutcome {
	return writeFile(layout, path, readFileSync(from), mode)
}

/** Removes a file or symlink; "already" when it is not there. */
export function removeFile(layout: Layout, path: string): StepOutcome {
	const host = onHost(layout, path)
	if (!pathExists(host)) return already(`${path} not there`)
	rmSync(host, {force: true})
	return done(`${path} removed`)
}

/** Removes a directory tree; "already" when it is not there. */
export function removeTree(layout: Layout, path: string): StepOutcome {
	const host = onHost(layout, path)
	if (!pathExists(host)) return already(`${path} not there`)
	rmSync(host, {recursive: true, force: true})
	return done(`${path} removed`)
}

/** Removes a directory if it is empty; true if it is gone. */
export function removeEmptyDir(layout: Layout, path: string): boolean {
	const host = onHost(layout, path)
	try {
		if (readdirSync(host).length > 0) return false
		rmdirSync(host)
		return true
	} catch {
		return !existsSync(host)
	}
}

/** A symlink at `path` pointing to `target`, as `systemctl enable` makes them. */
export function symlink(layout: Layout, path: string, target: string): StepOutcome {
	const host = onHost(layout, path)
	if (pathExists(host)) {
		if (lstatSync(host).isSymbolicLink() && readlinkSync(host) === target) return already(`${path} -> ${target}`)
		rmSync(host, {force: true})
	}
	mkdirSync(dirname(host), {recursive: true})
	symlinkSync(target, host)
	return done(`${path} -> ${target}`)
}

/** Exists, even as a dangling symlink. */
export function pathExists(host: string): boolean {
	try {
		lstatSync(host)
		return true
	} catch {
		return false
	}
}

