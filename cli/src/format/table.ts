/** Plain-text tables for human output: padded columns, numbers right-aligned. */

export interface Column {
	header: string
	/** Right-align (counters, slot numbers). */
	numeric?: boolean
}

export function formatTable(columns: readonly Column[], rows: readonly (readonly string[])[], indent = ''): string {
	const widths = columns.map((column, index) => Math.max(column.header.length, ...rows.map((row) => (row[index] ?? '').length)))
	const line = (cells: readonly string[]): string =>
		indent +
		cells
			.map((cell, index) => (columns[index]?.numeric ? cell.padStart(widths[index] ?? 0) : cell.padEnd(widths[index] ?? 0)))
			.join('  ')
			.trimEnd()
	return [line(columns.map((column) => column.header)), ...rows.map(line)].join('\n')
}

/** Two columns, label and value, for key facts. */
export function formatFacts(facts: readonly (readonly [string, string])[], indent = ''): string {
	const width = Math.max(...facts.map(([label]) => label.length))
	return facts.map(([label, value]) => `${indent}${label.padEnd(width)}  ${value}`).join('\n')
}
