/**
 * The programs install and doctor run (dkms, depmod, modinfo, systemctl,
 * udevadm): found on the PATH or reported missing, run with their output
 * captured, never through a shell.
 */
import {spawn, spawnSync} from 'node:child_process'
import {accessSync, constants, existsSync} from 'node:fs'
import {join} from 'node:path'
import {log} from '../log.js'

export interface RunResult {
	status: number
	stdout: string
	stderr: string
}

const SYSTEM_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']

/** The absolute path of a program, or undefined: the PATH, then the system directories (sudo, systemd strip sbin). */
export function which(program: string): string | undefined {
	const dirs = [...(process.env['PATH'] ?? '').split(':').filter(Boolean), ...SYSTEM_PATH]
	for (const dir of dirs) {
		const path = join(dir, program)
		try {
			accessSync(path, constants.X_OK)
			return path
		} catch {
			// not here
		}
	}
	return undefined
}

/** Runs a program to completion; a program that cannot start has status 127 and says why in stderr. */
export function run(program: string, args: string[]): RunResult {
	const path = which(program)
	if (!path) return {status: 127, stdout: '', stderr: `${program}: not found`}
	log.debug(`run: ${path} ${args.join(' ')}`)
	const result = spawnSync(path, args, {encoding: 'utf8', env: {...process.env, LC_ALL: 'C'}})
	if (result.error) return {status: 127, stdout: '', stderr: `${program}: ${result.error.message}`}
	return {status: result.status ?? 128, stdout: result.stdout, stderr: result.stderr}
}

/**
 * Runs a long program (a DKMS build), calling `tick` with the seconds elapsed
 * every `everyMs` while it runs, so that the user sees it is still going.
 */
export function runWithProgress(program: string, args: string[], tick: (seconds: number) => void, everyMs = 1000): Promise<RunResult> {
	const path = which(program)
	if (!path) return Promise.resolve({status: 127, stdout: '', stderr: `${program}: not found`})
	log.debug(`run: ${path} ${args.join(' ')}`)
	const started = Date.now()
	return new Promise((resolvePromise) => {
		const child = spawn(path, args, {env: {...process.env, LC_ALL: 'C'}, stdio: ['ignore', 'pipe', 'pipe']})
		let stdout = ''
		let stderr = ''
		child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
		child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
		const timer = setInterval(() => tick(Math.round((Date.now() - started) / 1000)), everyMs)
		child.on('error', (error) => {
			clearInterval(timer)
			resolvePromise({status: 127, stdout, stderr: `${program}: ${error.message}`})
		})
		child.on('close', (status, signal) => {
			clearInterval(timer)
			resolvePromise({status: status ?? 128, stdout, stderr: signal ? `${stderr}${program}: killed by ${signal}` : stderr})
		})
	})
}

/** The last lines of a program's output, for an error message. */
export function tail(result: RunResult, lines = 6): string {
	const text = `${result.stdout}\n${result.stderr}`.trim().split('\n').filter((l) => l.trim() !== '')
	return text.slice(-lines).join('\n')
}

/** systemd is the running init (sd_booted(3)). */
export function systemdRunning(): boolean {
	return existsSync('/run/systemd/system')
}

/** udevd is running and can be told to reload its rules. */
export function udevRunning(): boolean {
	return existsSync('/run/udev/control')
}
