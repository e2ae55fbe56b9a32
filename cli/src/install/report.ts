/**
 * How install, uninstall and doctor show their work: one line per step or
 * check as it ends, a spinner with elapsed time while a long step runs on a
 * terminal, progress as log lines otherwise (--json, installer logs).
 */
import {ux} from '@oclif/core'
import {log} from '../log.js'
import type {CheckReport} from './doctor.js'
import type {Step, StepListener, StepReport} from './steps.js'

export interface StepsReport {
	action: 'install' | 'uninstall'
	root: string
	kernel: string
	version: string
	/** No step failed. */
	ok: boolean
	steps: StepReport[]
}

const STATUS_WIDTH = 8
const ID_WIDTH = 13

/** One row; a detail of several lines (a config's problems) goes on indented under it. */
function row(status: string, id: string, detail: string): string {
	const indent = ' '.repeat(STATUS_WIDTH + ID_WIDTH + 2)
	return `${status.padEnd(STATUS_WIDTH)} ${id.padEnd(ID_WIDTH)} ${detail.split('\n').map((l) => l.trim()).join(`\n${indent}`)}`
}

export function formatStep(report: StepReport): string[] {
	const lines = [row(report.status, report.step, report.detail)]
	if (report.fix) lines.push(row('', '', `fix: ${report.fix}`))
	return lines
}

export function formatCheck(report: CheckReport): string[] {
	const lines = [row(report.status, report.check, report.detail)]
	if (report.fix) lines.push(row('', '', `fix: ${report.fix}`))
	return lines
}

/** Seconds between progress log lines when there is no spinner. */
const LOG_EVERY_S = 15

/**
 * Prints each step's line through `print` (nothing with --json: the report
 * is the output) and shows progress: a spinner on a terminal, else a log line
 * every 15 s.
 */
export function stepPrinter(print: (line: string) => void, json: boolean): StepListener {
	const spinner = !json && Boolean(process.stderr.isTTY)
	let active: Step | undefined
	let lastLogged = 0
	return {
		progress(step, text) {
			if (spinner) {
				if (active !== step) {
					ux.action.start(step.title)
					active = step
				}
				ux.action.status = text
				return
			}
			const now = Date.now()
			if (now - lastLogged >= LOG_EVERY_S * 1000 || active !== step) {
				log.info(`${step.id}: ${text}`)
				lastLogged = now
				active = step
			}
		},
		end(step, report) {
			if (spinner && active === step) ux.action.stop(report.status)
			active = undefined
			if (!json) for (const line of formatStep(report)) print(line)
		},
	}
}

export function summary(report: StepsReport): string {
	const count = (status: string) => report.steps.filter((s) => s.status === status).length
	const failed = report.steps.filter((s) => s.status === 'failed').map((s) => s.step)
	const parts = [`${count('done')} done`, `${count('already')} already`, `${count('skipped')} skipped`, `${count('failed')} failed`]
	return `${report.action} ${report.ok ? 'complete' : `incomplete (${failed.join(', ')})`}: ${parts.join(', ')}`
}
