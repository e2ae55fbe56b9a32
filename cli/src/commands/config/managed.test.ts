/**
 * Managed profiles through the built command, as an MDM agent and an admin
 * run it. Without the usbvnet module on a build machine, a run that gets past
 * the profiles stops at the driver with exit 4: that is how these tests see
 * that the lock check let a file through, and that a refusal came first.
 * Against the real module: test/vm/scenarios/50-cli.sh.
 */
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {fileURLToPath} from 'node:url'

const bin = join(resolve(dirname(fileURLToPath(import.meta.url)), '../../../..'), 'cli/bin/run.js')

function usbvnet(args: string[]): {status: number | null; stdout: string; stderr: string} {
	const result = spawnSync(process.execPath, [bin, ...args], {
		env: {...process.env, USBVNET_DEVICE: '/nonexistent/usbvnet', NO_COLOR: '1'},
		encoding: 'utf8',
		timeout: 30_000,
	})
	return {status: result.status, stdout: result.stdout, stderr: result.stderr}
}

let work = ''
let managed = ''
const file = (path: string, content: string): string => {
	writeFileSync(path, content)
	return path
}

before(() => {
	work = mkdtempSync(join(tmpdir(), 'usbvnet-managed-cli-'))
	managed = join(work, 'managed.d')
	mkdirSync(managed)
	file(join(managed, '10-fleet.json'), '{"mode": "private", "drivers": ["cdc_ncm"]}\n')
})
after(() => rmSync(work, {recursive: true, force: true}))

describe('config apply/diff under managed profiles', () => {
	it('a file changing a locked setting is refused with exit 3, before the driver is opened', () => {
		const local = file(join(work, 'local.json'), '{"mode": "bridge", "mac": "02:00:00:00:00:02"}')
		const run = usbvnet(['config', 'apply', local, '--managed-dir', managed])
		assert.equal(run.status, 3)
		assert.equal(
			run.stderr,
			`usbvnet: ${local}: changes 1 setting locked by managed profiles, nothing was applied:\n` +
				`  $.mode: locked to "private" by ${join(managed, '10-fleet.json')}; the file sets "bridge"\n` +
				"Leave the setting out of the file, or give it the profile's value.\n",
		)
		assert.equal(usbvnet(['config', 'diff', local, '--managed-dir', managed]).status, 3)
	})

	it('--json: error CONFIG_LOCKED with the violations', () => {
		const local = file(join(work, 'local2.json'), '{"drivers": ["cdc_ether"]}')
		const run = usbvnet(['config', 'apply', local, '--managed-dir', managed, '--json', '--dry-run'])
		assert.equal(run.status, 3)
		const error = (JSON.parse(run.stdout) as {error: Record<string, unknown>}).error
		assert.equal(error['code'], 'CONFIG_LOCKED')
		assert.deepEqual(error['violations'], [{path: '$.drivers', profile: join(managed, '10-fleet.json'), locked: ['cdc_ncm'], value: ['cdc_ether']}])
	})

	it("a file leaving the locked settings alone, or repeating the profile's values, gets to the driver", () => {
		const local = file(join(work, 'ok.json'), '{"mode": "private", "mac": "02:00:00:00:00:02"}')
		const run = usbvnet(['config', 'apply', local, '--managed-dir', managed])
		assert.equal(run.status, 4, run.stderr)
		assert.match(run.stderr, /module not loaded/)
	})

	it('conflicting profiles stop apply and show, naming both files', () => {
		const dir = join(work, 'conflict.d')
		mkdirSync(dir)
		file(join(dir, 'a.json'), '{"autoAttach": true}')
		file(join(dir, 'b.json'), '{"autoAttach": false}')
		const run = usbvnet(['config', 'show', '--managed-dir', dir])
		assert.equal(run.status, 3)
		assert.match(run.stderr, new RegExp(`\\$\\.autoAttach: ${join(dir, 'a.json')} sets true, ${join(dir, 'b.json')} sets false`))
	})

	it('an invalid profile stops apply, naming the profile', () => {
		const dir = join(work, 'invalid.d')
		mkdirSync(dir)
		file(join(dir, 'x.json'), '{"mode": 1}')
		const run = usbvnet(['config', 'apply', file(join(work, 'empty.json'), '{}'), '--managed-dir', dir])
		assert.equal(run.status, 3)
		assert.equal(run.stderr, `usbvnet: ${join(dir, 'x.json')}: invalid configuration, 1 problem:\n  $.mode: expected one of "bridge", "private", got the number 1\n`)
	})
})

describe('config import-profile', () => {
	const mobileconfig = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>PayloadContent</key>
	<array>
		<dict>
			<key>PayloadIdentifier</key><string>com.example.lab.usbvnet</string>
			<key>PayloadType</key><string>org.usbvnet.config</string>
			<key>PayloadUUID</key><string>1F0C8A52-3B7D-4E1A-9C6B-2D4E8F0A1B3C</string>
			<key>PayloadVersion</key><integer>1</integer>
			<key>autoAttach</key><false/>
		</dict>
	</array>
	<key>PayloadIdentifier</key><string>com.example.lab</string>
	<key>PayloadType</key><string>Configuration</string>
	<key>PayloadVersion</key><integer>1</integer>
</dict>
</plist>
`

	it('writes the payload as a managed profile, --json reporting it', () => {
		const input = file(join(work, 'lab.mobileconfig'), mobileconfig)
		const run = usbvnet(['config', 'import-profile', input, '--managed-dir', managed, '--json'])
		assert.equal(run.status, 0, run.stdout + run.stderr)
		const target = join(managed, 'com.example.lab.usbvnet.json')
		assert.deepEqual(JSON.parse(run.stdout), {
			source: input,
			profile: target,
			identifier: 'com.example.lab.usbvnet',
			written: true,
			replaced: false,
			config: {autoAttach: false},
		})
		assert.equal(readFileSync(target, 'utf8'), '{\n  "autoAttach": false\n}\n')
		// It now locks autoAttach.
		const local = file(join(work, 'auto.json'), '{"autoAttach": true}')
		assert.match(usbvnet(['config', 'apply', local, '--managed-dir', managed]).stderr, /\$\.autoAttach: locked to false by .*com\.example\.lab\.usbvnet\.json/)
		rmSync(target)
	})

	it('a signed profile: exit 3, saying how to unwrap it, nothing written', () => {
		const input = join(work, 'signed.mobileconfig')
		writeFileSync(input, Buffer.from('3082012a06092a864886f70d010702a082011b' + '00'.repeat(64), 'hex'))
		const run = usbvnet(['config', 'import-profile', input, '--managed-dir', managed])
		assert.equal(run.status, 3)
		assert.match(run.stderr, /a signed configuration profile \(CMS\/PKCS#7\).*openssl smime -verify -inform der/)
		assert.deepEqual(readdirSync(managed), ['10-fleet.json'])
	})

	it('a payload conflicting with an installed profile: exit 3, nothing written', () => {
		const input = file(join(work, 'bridge.plist'), '<plist><dict><key>mode</key><string>bridge</string></dict></plist>')
		const run = usbvnet(['config', 'import-profile', input, '--managed-dir', managed, '--name', '20-bridge'])
		assert.equal(run.status, 3)
		assert.match(run.stderr, /managed profiles conflict on 1 setting/)
		assert.deepEqual(readdirSync(managed), ['10-fleet.json'])
	})

	it('a bad --name exits with 2; a missing file with 3', () => {
		const input = file(join(work, 'ok.plist'), '<plist><dict/></plist>')
		assert.equal(usbvnet(['config', 'import-profile', input, '--managed-dir', managed, '--name', '../x']).status, 2)
		assert.equal(usbvnet(['config', 'import-profile', join(work, 'absent.plist'), '--managed-dir', managed]).status, 3)
	})
})
