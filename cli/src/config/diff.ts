/**
 * What applying a configuration changes: one entry per changed setting, and
 * per rule (rules are ordered, first match wins, so they compare by index).
 */
import type {CompleteConfig, DhcpReservation, RuleConfig} from './types.js'
import {CONFIG_KEYS} from './types.js'

export type JsonValue = string | boolean | number | null | string[] | RuleConfig | DhcpReservation | {start: string; end: string}

export interface ConfigChange {
	/** A JSONPath into the configuration: $.mode, $.rules[2] */
	path: string
	kind: 'changed' | 'added' | 'removed'
	from?: JsonValue
	to?: JsonValue
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b)

/** Both sides must be normalized (convert.ts) for equal settings to compare equal. */
export function diffConfigs(current: CompleteConfig, desired: CompleteConfig): ConfigChange[] {
	const changes: ConfigChange[] = []
	for (const key of CONFIG_KEYS) {
		if (key === 'rules') continue
		if (!same(current[key], desired[key])) changes.push({path: `$.${key}`, kind: 'changed', from: current[key], to: desired[key]})
	}
	const count = Math.max(current.rules.length, desired.rules.length)
	for (let index = 0; index < count; index++) {
		const from = current.rules[index]
		const to = desired.rules[index]
		const path = `$.rules[${index}]`
		if (from && to) {
			if (!same(from, to)) changes.push({path, kind: 'changed', from, to})
		} else if (to) {
			changes.push({path, kind: 'added', to})
		} else if (from) {
			changes.push({path, kind: 'removed', from})
		}
	}
	return changes
}

const show = (value: JsonValue | undefined): string => JSON.stringify(value)

/** One line per change, like a unified diff: "~ $.mode: "bridge" -> "private"". */
export function formatChanges(changes: readonly ConfigChange[]): string[] {
	return changes.map((change) => {
		switch (change.kind) {
			case 'added':
				return `+ ${change.path}: ${show(change.to)}`
			case 'removed':
				return `- ${change.path}: ${show(change.from)}`
			case 'changed':
				return `~ ${change.path}: ${show(change.from)} -> ${show(change.to)}`
		}
	})
}
