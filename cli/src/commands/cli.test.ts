/**
 * The built usbvnet command run as a child process, as installers and admins
 * run it. There is no usbvnet module on a build machine, so these tests cover
 * what works without one (validation, usage errors, help) and the failures a
 * real kernel gives: no /dev/usbvnet (ENOENT), a device that does not know
 * our requests (/dev/null: ENOTTY), a device node we may not open (EACCES).
 * The commands against the real module run in the VM lab (test/vm).
 */
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {chmodSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {fileURLToPath} from 'node:url'

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')
const bin = join(repoRoot, 'cli/bin/run.js')
const NO_DEVICE = '/nonexistent/usbvnet'

interface Run {
	status: number | null
	stdout: string
	stderr: string
}

function usbvnet(args: string[], options: {device?: string; input?: string; prefix?: string[]; home?: string} = {}): Run {
	const command = [...(options.prefix ?? []), process.execPath, bin, ...args]
	const home = options.home === undefined ? {} : {HOME: options.home}
	const result = spawnSync(command[0] as string, command.slice(1), {
		env: {...process.env, ...home, USBVNET_DEVICE: options.device ?? NO_DEVICE, NO_COLOR: '1'},
		input: options.input ?? '',
		encoding: 'utf8',
		timeout: 30_000,
	})
	return {status: result.status, stdout: result.stdout, stderr: result.stderr}
}

function parseJson(text: string): Record<string, unknown> {
	try {
		return JSON.parse(text) as Record<string, unknown>
	} catch {
		assert.fail(`stdout is not pure JSON:\n${text}`)
	}
}

let work = ''
const file = (name: string, content: string): string => {
	const path = join(work, name)
	writeFileSync(path, content)
	return path
}

before(() => {
	work = mkdtempSync(join(tmpdir(), 'usbvnet-cli-'))
})
after(() => {
	rmSync(work, {recursive: true, force: true})
})

describe('usbvnet help', () => {
	const commands = [
		'status', 'slots', 'attach', 'detach', 'config validate', 'config show', 'config apply', 'config diff', 'config import-profile',
		'dhcp', 'leases', 'leases save', 'leases restore',
	]

	it('lists every command and the config topic', () => {
		const run = usbvnet(['--help'])
		assert.equal(run.status, 0, run.stderr)
		for (const command of ['status', 'slots', 'attach', 'detach', 'config']) assert.match(run.stdout, new RegExp(`\\n  ${command} `), command)
		const topic = usbvnet(['config', '--help'])
		for (const command of ['validate', 'show', 'apply', 'diff', 'import-profile']) assert.match(topic.stdout, new RegExp(`\\n  config ${command} `), command)
	})

	for (const command of commands) {
		it(`${command} --help shows usage and examples`, () => {
			const run = usbvnet([...command.split(' '), '--help'])
			assert.equal(run.status, 0, run.stderr)
			assert.match(run.stdout, new RegExp(`USAGE\\n  \\$ usbvnet ${command}`))
			assert.match(run.stdout, /EXAMPLES\n/)
		})
	}
})

describe('usbvnet usage errors exit with 2', () => {
	it('an unknown flag', () => {
		const run = usbvnet(['status', '--bogus'])
		assert.equal(run.status, 2)
		assert.match(run.stderr, /Nonexistent flag: --bogus/)
	})

	it('an unknown flag with --json gives a JSON error on stdout', () => {
		const run = usbvnet(['status', '--json', '--bogus'])
		assert.equal(run.status, 2)
		assert.deepEqual(parseJson(run.stdout)['error'], {code: 'USAGE', message: 'Nonexistent flag: --bogus', exitCode: 2})
	})

	it('attach without a netdev', () => {
		const run = usbvnet(['attach'])
		assert.equal(run.status, 2)
		assert.match(run.stderr, /Missing 1 required arg:\nnetdev/)
	})

	it('a slot out of range, before the driver is asked', () => {
		assert.equal(usbvnet(['attach', 'lo', '--slot', '32']).status, 2)
		const run = usbvnet(['detach', '32'])
		assert.equal(run.status, 2)
		assert.equal(run.stderr, 'usbvnet: slot 32 does not exist: slots are 0 to 31\n')
	})

	it('an instance name too long for an interface', () => {
		const run = usbvnet(['slots', '--instance', 'usbvnet-far-too-long'])
		assert.equal(run.status, 2)
		assert.equal(run.stderr, 'usbvnet: --instance: instance "usbvnet-far-too-long": too long, interface names have at most 15 bytes\n')
	})

	it('a bad flag value with --json: the reason alone, without oclif\'s wrapping', () => {
		const run = usbvnet(['slots', '--instance', 'a b', '--json'])
		assert.equal(run.status, 2)
		assert.deepEqual(parseJson(run.stdout)['error'], {code: 'USAGE', message: '--instance: instance "a b": not a valid interface name (no "/", ":" or spaces)', exitCode: 2})
	})

	it('attach of a netdev that does not exist exits with 6', () => {
		const run = usbvnet(['attach', 'nosuchnetdev0'])
		assert.equal(run.status, 6)
		assert.equal(run.stderr, 'usbvnet: no network device "nosuchnetdev0" (see "ip link")\n')
	})
})

describe('usbvnet config validate', () => {
	it('accepts a valid file', () => {
		const path = file('good.json', '{"mode": "private", "autoAttach": true, "drivers": ["cdc_ncm"]}')
		const run = usbvnet(['config', 'validate', path])
		assert.equal(run.status, 0, run.stderr)
		assert.equal(run.stdout, `${path}: valid\n`)
	})

	it('--json prints the configuration', () => {
		const path = file('good2.json', '{"mode": "bridge"}')
		const run = usbvnet(['config', 'validate', path, '--json'])
		assert.equal(run.status, 0, run.stderr)
		assert.deepEqual(parseJson(run.stdout), {file: path, valid: true, config: {mode: 'bridge'}})
	})

	it('refuses a misspelled key with a suggestion, exit 3', () => {
		const path = file('typo.json', '{"mdoe": "bridge"}')
		const run = usbvnet(['config', 'validate', path])
		assert.equal(run.status, 3)
		assert.equal(run.stdout, '')
		assert.equal(run.stderr, `usbvnet: ${path}: invalid configuration, 1 problem:\n  $.mdoe: unknown key "mdoe"; did you mean "mode"?\n`)
	})

	it('refuses invalid JSON with line and column', () => {
		const path = file('syntax.json', '{\n  "mode": "bridge",\n}\n')
		const run = usbvnet(['config', 'validate', path])
		assert.equal(run.status, 3)
		assert.equal(run.stderr, `usbvnet: ${path}:3:1: invalid JSON: expected another key after "," (JSON allows no trailing comma), found "}"\n`)
	})

	it('--json reports every issue with its path', () => {
		const path = file('bad.json', '{"mode": "hub", "mac": "ff:ff:ff:ff:ff:ff"}')
		const run = usbvnet(['config', 'validate', path, '--json'])
		assert.equal(run.status, 3)
		const error = parseJson(run.stdout)['error'] as {code: string; issues: {path: string}[]}
		assert.equal(error.code, 'CONFIG_SCHEMA')
		assert.deepEqual(
			error.issues.map((issue) => issue.path),
			['$.mac', '$.mode'],
		)
	})

	it('reads standard input for "-"', () => {
		const run = usbvnet(['config', 'validate', '-'], {input: '{"rules": [{"vendor": "*", "product": "*", "action": "deny"}]}'})
		assert.equal(run.status, 0, run.stderr)
		assert.equal(run.stdout, '-: valid\n')
	})

	it('a missing file exits with 3', () => {
		const run = usbvnet(['config', 'validate', join(work, 'absent.json')])
		assert.equal(run.status, 3)
		assert.match(run.stderr, /absent\.json: cannot read the configuration: no such file/)
	})
})

describe('usbvnet without the module', () => {
	it('status says "module not loaded" and exits with 4', () => {
		const run = usbvnet(['status'])
		assert.equal(run.status, 4)
		assert.equal(run.stdout, '')
		assert.equal(run.stderr, `usbvnet: module not loaded (no ${NO_DEVICE}): load it with "modprobe usbvnet"\n`)
	})

	it('status --json keeps stdout pure JSON', () => {
		const run = usbvnet(['status', '--json'])
		assert.equal(run.status, 4)
		const error = parseJson(run.stdout)['error'] as Record<string, unknown>
		assert.equal(error['code'], 'MODULE_NOT_LOADED')
		assert.equal(error['errnoName'], 'ENOENT')
		assert.equal(error['exitCode'], 4)
	})

	for (const args of [['slots'], ['config', 'show'], ['detach', '3'], ['detach', 'lo'], ['attach', 'lo'], ['dhcp'], ['leases'], ['leases', 'save', '/nonexistent/leases.bin']]) {
		it(`${args.join(' ')} exits with 4`, () => {
			const run = usbvnet(args)
			assert.equal(run.status, 4, run.stderr)
			assert.match(run.stderr, /module not loaded/)
		})
	}

	it('config apply validates the file before looking for the driver', () => {
		const bad = file('apply-bad.json', '{"rules": "none"}')
		const run = usbvnet(['config', 'apply', bad])
		assert.equal(run.status, 3)
		assert.match(run.stderr, /\$\.rules: expected an array, got the string "none"/)
		const good = file('apply-good.json', '{"rules": []}')
		assert.equal(usbvnet(['config', 'apply', good, '--dry-run']).status, 4)
		assert.equal(usbvnet(['config', 'diff', good]).status, 4)
	})
})

describe('usbvnet leases restore checks its file before the driver', () => {
	it('a missing file exits with 3, naming it', () => {
		const run = usbvnet(['leases', 'restore', join(work, 'none.bin')])
		assert.equal(run.status, 3)
		assert.equal(run.stderr, `usbvnet: ${join(work, 'none.bin')}: cannot read the lease table: no such file\n`)
	})

	it('--missing-ok: nothing to restore is not an error', () => {
		const run = usbvnet(['leases', 'restore', join(work, 'none.bin'), '--missing-ok', '--json'])
		assert.equal(run.status, 0, run.stderr)
		assert.deepEqual(parseJson(run.stdout), {file: join(work, 'none.bin'), restored: false})
	})

	it('a file that is not a lease table exits with 3, --json says why', () => {
		const run = usbvnet(['leases', 'restore', file('leases.json', '{"leases": []}'), '--json'])
		assert.equal(run.status, 3)
		const error = parseJson(run.stdout)['error'] as Record<string, unknown>
		assert.equal(error['code'], 'LEASES_CORRUPT')
		assert.match(String(error['message']), /not a usbvnet lease table \(no "UVNL" header\)$/)
	})

	it('a valid file reaches the driver (here: no module, exit 4)', () => {
		// An empty version 1 table: the FNV-1a of no bytes is 0x811c9dc5.
		const empty = join(work, 'empty.bin')
		writeFileSync(empty, Buffer.from('55564e4c' + '0100' + '5000' + '00000000' + 'c59d1c81', 'hex'))
		assert.equal(usbvnet(['leases', 'restore', empty]).status, 4)
	})
})

describe('usbvnet against devices that are not usbvnet (real kernel errors)', () => {
	it('a device without our ioctls (/dev/null, ENOTTY): version mismatch, exit 9', () => {
		const run = usbvnet(['status'], {device: '/dev/null'})
		assert.equal(run.status, 9)
		assert.equal(run.stderr, 'usbvnet: driver does not support this request: version mismatch? (ENOTTY from USBVNET_IOC_INFO)\n')
	})

	it('--verbose logs the requests as JSON lines on a non-terminal stderr', () => {
		const run = usbvnet(['config', 'show', '--verbose', '--json'], {device: '/dev/null'})
		assert.equal(run.status, 9)
		assert.equal((parseJson(run.stdout)['error'] as {operation: string}).operation, 'USBVNET_IOC_GET_CONFIG')
		const logs = run.stderr
			.trim()
			.split('\n')
			.map((line) => parseJson(line))
		assert.ok(logs.some((entry) => entry['level'] === 'debug' && /ioctl USBVNET_IOC_GET_CONFIG \(0xc0a8b803\)/.test(String(entry['message']))), run.stderr)
	})

	it('a device node we may not open (EACCES): needs root, exit 5', (t) => {
		const node = file('locked-device', '')
		chmodSync(node, 0o000)
		// Root opens anything: drop to nobody for the check when we are root.
		const isRoot = process.getuid?.() === 0
		const prefix = isRoot ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--'] : []
		if (isRoot && spawnSync('setpriv', ['--version']).error) {
			t.skip('running as root without setpriv to drop privileges')
			return
		}
		chmodSync(work, 0o755)
		// oclif looks for user plugins under $HOME: give nobody one it may read.
		const run = usbvnet(['detach', '3'], {device: node, prefix, home: work})
		assert.equal(run.status, 5, run.stderr)
		assert.equal(run.stderr, `usbvnet: needs root (CAP_NET_ADMIN): cannot open ${node}\n`)
	})
})
