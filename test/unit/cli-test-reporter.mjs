// A node:test reporter printing one line per test case in the form
// test/run-suites.sh counts: "PASS cli: <file>: <suite> > <test>" or
// "FAIL cli: ...", then the first lines of the failure. Test cases are the
// leaves; a suite or test with subtests is reported only when it failed
// without any of its subtests failing (a failed hook, a file that does not
// load), so that no failure goes unreported. Skipped tests print "SKIP cli:".
// The last line, "cli tests: N passed, N failed", tells the caller that the
// run completed.
import {relative} from 'node:path'

const root = new URL('../../cli/dist/', import.meta.url).pathname

function fileLabel(file) {
	if (!file) return '?'
	return relative(root, file).replace(/\.test\.js$/, '')
}

function failureDetails(error) {
	// The runner wraps the test's own error: show that one.
	const cause = error?.cause ?? error
	const text = cause instanceof Error ? cause.message : String(cause ?? '')
	return text
		.split('\n')
		.slice(0, 12)
		.map((line) => `    ${line}`)
		.join('\n')
}

export default async function* cliTestReporter(source) {
	// Per file, the tests open at each nesting level: {name, hasChildren, childFailed}.
	const open = new Map()
	// What each file's process wrote to stderr: the only clue when it fails to load.
	const stderr = new Map()
	let passed = 0
	let failed = 0
	for await (const event of source) {
		if (event.type === 'test:stderr') {
			stderr.set(event.data.file, (stderr.get(event.data.file) ?? '') + event.data.message)
			continue
		}
		if (!['test:start', 'test:pass', 'test:fail'].includes(event.type)) continue
		const {file, nesting, name} = event.data
		const stack = open.get(file) ?? []
		open.set(file, stack)
		if (event.type === 'test:start') {
			stack[nesting] = {name, hasChildren: false, childFailed: false}
			stack.length = nesting + 1
			if (nesting > 0 && stack[nesting - 1]) stack[nesting - 1].hasChildren = true
			continue
		}
		// A file that fails before any test starts has no start event.
		const entry = stack[nesting] ?? {name, hasChildren: false, childFailed: false}
		const path = [...stack.slice(0, nesting).map((parent) => parent.name), name].join(' > ')
		const label = `cli: ${fileLabel(file)}: ${path}`
		const isFailure = event.type === 'test:fail'
		if (isFailure && nesting > 0 && stack[nesting - 1]) stack[nesting - 1].childFailed = true
		if (entry.hasChildren && !(isFailure && !entry.childFailed)) continue
		if (event.data.skip !== undefined || event.data.todo !== undefined) {
			const reason = event.data.skip ?? event.data.todo
			yield `SKIP ${label}${typeof reason === 'string' ? ` (${reason})` : ''}\n`
		} else if (isFailure) {
			failed++
			const loadFailure = nesting === 0 && name === file && stderr.has(file)
			const details = loadFailure ? stderr.get(file) : event.data.details?.error
			yield `FAIL ${label}\n${failureDetails(details)}\n`
		} else {
			passed++
			yield `PASS ${label}\n`
		}
	}
	yield `cli tests: ${passed} passed, ${failed} failed\n`
}
