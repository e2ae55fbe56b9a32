/**
 * install, uninstall and doctor against a temporary root, with a package of
 * our own making (the module sources, no prebuilt module): every file they
 * write, that a second run changes nothing, that doctor names what is broken,
 * that uninstall leaves nothing behind. DKMS itself is exercised by
 * test/install/dkms-host.sh (a real build), the live root by the VM lab
 * (test/vm/scenarios/57-install.sh).
 */
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {cpSync, existsSync, mkdtempSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {fileURLToPath} from 'node:url'
import {DRIVER_NAMES} from '../config/types.js'
import {validateConfig} from '../config/validate.js'
import {parseDkmsStatus} from './dkms.js'
import {healthy, runChecks} from './doctor.js'
import {DEFAULT_CONFIG, defaultConfigText, dkmsConf, networkdFile, systemdQuote, udevRule, unitCommands, unitFile} from './files.js'
import {moduleSources, planInstall, planUninstall} from './install.js'
import {makeLayout, packageAt, type Layout} from './layout.js'
import {runSteps, type StepReport} from './steps.js'

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')
const KERNEL = '6.1.0-99-amd64'

let work = ''
let pkgRoot = ''

/** A package like the one npm installs: package.json, the module's sources, schemas/. */
function makePackage(dir: string, version: string): string {
	mkdirSync(dir, {recursive: true})
	writeFileSync(join(dir, 'package.json'), JSON.stringify({name: 'usbvnet', version}))
	for (const file of moduleSources(repoRoot)) cpSync(join(repoRoot, file), join(dir, file), {recursive: true})
	// A build's leftovers are not sources.
	writeFileSync(join(dir, 'linux-module/usbvnet.mod.c'), '/* generated */\n')
	return dir
}

function freshLayout(name: string): Layout {
	const root = join(work, name)
	mkdirSync(root, {recursive: true})
	return makeLayout({root, kernel: KERNEL, pkg: packageAt(pkgRoot)})
}

/** Every file and symlink under a directory, relative, sorted. */
function tree(dir: string, prefix = ''): string[] {
	if (!existsSync(dir)) return []
	return readdirSync(dir, {withFileTypes: true})
		.flatMap((e) => (e.isDirectory() ? tree(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]))
		.sort()
}

const statusOf = (reports: StepReport[]) => Object.fromEntries(reports.map((r) => [r.step, r.status]))

before(() => {
	work = mkdtempSync(join(tmpdir(), 'usbvnet-install-'))
	pkgRoot = makePackage(join(work, 'pkg'), '1.2.3')
})
after(() => rmSync(work, {recursive: true, force: true}))

describe('install files', () => {
	it('the default configuration is valid against the schema', () => {
		assert.deepEqual(validateConfig(JSON.parse(defaultConfigText()), 'default'), DEFAULT_CONFIG)
	})

	it('udev and networkd rules name every driver usbvnet attaches', () => {
		const rule = udevRule()
		assert.match(rule, new RegExp(`DRIVERS=="${DRIVER_NAMES.join('\\|')}", ENV\\{NM_UNMANAGED\\}="1", ENV\\{ID_NET_MANAGED_BY\\}="usbvnet"`))
		assert.match(rule, /^ACTION=="remove", GOTO="usbvnet_end"$/m)
		assert.match(networkdFile(), new RegExp(`^Driver=${DRIVER_NAMES.join(' ')}$`, 'm'))
		assert.match(networkdFile(), /^\[Link\]\nUnmanaged=yes$/m)
	})

	it('the unit applies the config and restores leases on start, saves them on stop', () => {
		const layout = makeLayout({root: '/', kernel: KERNEL, pkg: {root: '/opt/my pkg', version: '1.2.3', command: ['/usr/bin/node', '/opt/my pkg/cli/bin/run.js']}})
		const unit = unitFile(layout)
		assert.match(unit, /^Type=oneshot$/m)
		assert.match(unit, /^RemainAfterExit=yes$/m)
		assert.match(unit, /^ExecStartPre=\/sbin\/modprobe usbvnet$/m)
		assert.match(unit, /^ExecStart=\/usr\/bin\/node "\/opt\/my pkg\/cli\/bin\/run.js" config apply \/etc\/usbvnet\/config.json$/m)
		assert.match(unit, /^ExecStart=-\/usr\/bin\/node "\/opt\/my pkg\/cli\/bin\/run.js" leases restore --missing-ok$/m)
		assert.match(unit, /^ExecStop=\/usr\/bin\/node "\/opt\/my pkg\/cli\/bin\/run.js" leases save$/m)
		assert.match(unit, /^WantedBy=multi-user.target$/m)
		assert.deepEqual(unitCommands(layout).stop, [['/usr/bin/node', '/opt/my pkg/cli/bin/run.js', 'leases', 'save']])
	})

	it('systemd quoting leaves plain words alone and quotes the rest', () => {
		assert.equal(systemdQuote('/usr/bin/node'), '/usr/bin/node')
		assert.equal(systemdQuote('a b'), '"a b"')
		assert.equal(systemdQuote('say "hi"\\'), '"say \\"hi\\"\\\\"')
		assert.equal(systemdQuote(''), '""')
	})

	it('dkms.conf builds linux-module/ in the DKMS build tree, with core/ beside it', () => {
		const conf = dkmsConf(makeLayout({root: '/', kernel: KERNEL, pkg: packageAt(pkgRoot)}))
		assert.match(conf, /^PACKAGE_VERSION="1.2.3"$/m)
		assert.match(conf, /^MAKE\[0\]="make -C \$\{kernel_source_dir\} M=\$\{dkms_tree\}\/\$\{PACKAGE_NAME\}\/\$\{PACKAGE_VERSION\}\/build\/linux-module modules"$/m)
		assert.match(conf, /^BUILT_MODULE_LOCATION\[0\]="linux-module\/"$/m)
	})

	it('the module sources are the Kbuild tree and core, without tests or build leftovers', () => {
		const files = moduleSources(pkgRoot)
		for (const file of ['linux-module/Kbuild', 'linux-module/main.c', 'linux-module/uapi/usbvnet.h', 'core/uvn_dhcp.c', 'core/uvn_os.h']) assert.ok(files.includes(file), file)
		assert.ok(!files.some((f) => f.endsWith('.mod.c') || f.startsWith('core/test') || f.startsWith('core/fuzz')), files.join(' '))
	})
})

describe('dkms status', () => {
	it('parses DKMS 3 and 2 lines, with and without a kernel', () => {
		const text = [
			'usbvnet/0.1.0, 6.1.0-56-amd64, x86_64: installed',
			'usbvnet/0.0.9: added',
			'usbvnet, 0.0.8, 5.10.0-1-amd64, x86_64: built',
			'usbvnet/0.1.0, 6.1.0-57-amd64, x86_64: installed (WARNING! Diff between built and installed module!)',
			'Error! something else',
			'',
		].join('\n')
		assert.deepEqual(parseDkmsStatus(text), [
			{module: 'usbvnet', version: '0.1.0', kernel: '6.1.0-56-amd64', arch: 'x86_64', state: 'installed'},
			{module: 'usbvnet', version: '0.0.9', kernel: '', arch: '', state: 'added'},
			{module: 'usbvnet', version: '0.0.8', kernel: '5.10.0-1-amd64', arch: 'x86_64', state: 'built'},
			{module: 'usbvnet', version: '0.1.0', kernel: '6.1.0-57-amd64', arch: 'x86_64', state: 'installed'},
		])
	})
})

describe('install into a root', () => {
	it('writes every piece, then a second run finds everything already there', async () => {
		const layout = freshLayout('twice')
		const first = await runSteps(planInstall(layout, {dkms: false}))
		assert.deepEqual(statusOf(first), {
			module: 'skipped', 'modules-load': 'done', config: 'done', state: 'done', unit: 'done', udev: 'done',
			networkd: 'done', iproute2: 'skipped', enable: 'done', start: 'skipped',
		})
		const root = layout.root
		assert.equal(readFileSync(join(root, 'etc/modules-load.d/usbvnet.conf'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#')).join(), 'usbvnet')
		assert.equal(readFileSync(join(root, 'etc/usbvnet/config.json'), 'utf8'), defaultConfigText())
		assert.equal(readFileSync(join(root, 'etc/systemd/system/usbvnet.service'), 'utf8'), unitFile(layout))
		assert.equal(readlinkSync(join(root, 'etc/systemd/system/multi-user.target.wants/usbvnet.service')), '/etc/systemd/system/usbvnet.service')
		assert.ok(existsSync(join(root, 'var/lib/usbvnet')))
		const before = tree(root)
		const second = await runSteps(planInstall(layout, {dkms: false}))
		for (const report of second) assert.ok(['already', 'skipped'].includes(report.status), `${report.step}: ${report.status} ${report.detail}`)
		assert.deepEqual(tree(root), before)
	})

	it('keeps an existing configuration, and fails (touching nothing) on an invalid one', async () => {
		const layout = freshLayout('config')
		const path = join(layout.root, 'etc/usbvnet/config.json')
		mkdirSync(dirname(path), {recursive: true})
		writeFileSync(path, '{"mode": "private"}\n')
		assert.equal(statusOf(await runSteps(planInstall(layout, {dkms: false}))).config, 'already')
		assert.equal(readFileSync(path, 'utf8'), '{"mode": "private"}\n')
		writeFileSync(path, '{"mode": "privat"}\n')
		const reports = await runSteps(planInstall(layout, {dkms: false}))
		const config = reports.find((r) => r.step === 'config')
		assert.equal(config?.status, 'failed')
		assert.match(config?.detail ?? '', /\$\.mode: .*did you mean "private"\?/)
		assert.match(config?.fix ?? '', /usbvnet config validate \/etc\/usbvnet\/config.json/)
		assert.equal(readFileSync(path, 'utf8'), '{"mode": "privat"}\n')
		// The other steps still ran.
		assert.equal(reports.filter((r) => r.status === 'failed').length, 1)
	})

	it('rewrites a file that differs from what this version writes', async () => {
		const layout = freshLayout('outdated')
		await runSteps(planInstall(layout, {dkms: false}))
		writeFileSync(join(layout.root, 'etc/udev/rules.d/70-usbvnet.rules'), '# old\n')
		const reports = await runSteps(planInstall(layout, {dkms: false}))
		assert.equal(statusOf(reports).udev, 'done')
		assert.match(reports.find((r) => r.step === 'udev')?.detail ?? '', /updated/)
		assert.equal(readFileSync(join(layout.root, 'etc/udev/rules.d/70-usbvnet.rules'), 'utf8'), udevRule())
	})

	it('copies the module sources and dkms.conf for DKMS, replacing stale files', async () => {
		const layout = freshLayout('sources')
		const source = planInstall(layout, {dkms: true}).find((s) => s.id === 'source')
		assert.ok(source)
		const stale = join(layout.root, 'usr/src/usbvnet-1.2.3/linux-module/old.c')
		mkdirSync(dirname(stale), {recursive: true})
		writeFileSync(stale, '')
		assert.equal((await source.run(() => {})).status, 'done')
		const copied = tree(join(layout.root, 'usr/src/usbvnet-1.2.3'))
		assert.deepEqual(copied, [...moduleSources(pkgRoot), 'dkms.conf'].sort())
		assert.equal((await source.run(() => {})).status, 'already')
	})
})

describe('doctor', () => {
	it('passes every piece install wrote; names the module it cannot find', async () => {
		const layout = freshLayout('doctor')
		await runSteps(planInstall(layout, {dkms: false}))
		const checks = runChecks(layout)
		const failing = checks.filter((c) => c.status === 'fail')
		assert.deepEqual(failing.map((c) => c.check), ['module'], JSON.stringify(failing))
		assert.match(failing[0]?.detail ?? '', new RegExp(`no usbvnet module for kernel ${KERNEL}`))
		assert.match(failing[0]?.fix ?? '', /usbvnet install/)
		for (const name of ['modules-load', 'unit', 'enabled', 'config', 'udev', 'networkd', 'leases']) {
			assert.equal(checks.find((c) => c.check === name)?.status, 'ok', name)
		}
	})

	it('names a missing modules-load file, an invalid config, a disabled unit and an edited rule', async () => {
		const layout = freshLayout('broken')
		await runSteps(planInstall(layout, {dkms: false}))
		rmSync(join(layout.root, 'etc/modules-load.d/usbvnet.conf'))
		writeFileSync(join(layout.root, 'etc/usbvnet/config.json'), '{"mode": "bridge",}')
		rmSync(join(layout.root, 'etc/systemd/system/multi-user.target.wants/usbvnet.service'))
		writeFileSync(join(layout.root, 'etc/systemd/network/10-usbvnet-lower.network'), '[Match]\n')
		const checks = Object.fromEntries(runChecks(layout).map((c) => [c.check, c]))
		assert.equal(checks['modules-load']?.status, 'fail')
		assert.match(checks['modules-load']?.detail ?? '', /usbvnet.conf missing: the module is not loaded at boot/)
		assert.equal(checks['config']?.status, 'fail')
		assert.match(checks['config']?.detail ?? '', /config.json:1:19: invalid JSON/)
		assert.equal(checks['enabled']?.status, 'fail')
		assert.equal(checks['enabled']?.fix, 'systemctl enable usbvnet.service')
		assert.equal(checks['networkd']?.status, 'warn')
		assert.ok(!healthy(Object.values(checks)))
	})
})

describe('doctor: managed profiles', () => {
	const managed = (layout: Layout) => runChecks(layout).find((c) => c.check === 'managed')
	it('skipped without profiles; ok when the local file agrees; fails naming a contradiction or a bad profile', async () => {
		const layout = freshLayout('managed')
		await runSteps(planInstall(layout, {dkms: false}))
		assert.equal(managed(layout)?.status, 'skip')
		const dir = join(layout.root, 'etc/usbvnet/managed.d')
		mkdirSync(dir, {recursive: true})
		writeFileSync(join(dir, '10-fleet.json'), '{"dhcp": {"leaseSeconds": 1800}}')
		writeFileSync(join(layout.root, 'etc/usbvnet/config.json'), '{"dhcp": {"leaseSeconds": 1800}}')
		assert.deepEqual(managed(layout), {check: 'managed', status: 'ok', detail: '1 profile(s) locking 1 setting(s); /etc/usbvnet/config.json agrees with them'})
		writeFileSync(join(layout.root, 'etc/usbvnet/config.json'), '{"dhcp": {"leaseSeconds": 600}}')
		const contradicted = managed(layout)
		assert.equal(contradicted?.status, 'fail')
		assert.equal(
			contradicted?.detail,
			`/etc/usbvnet/config.json contradicts the managed profiles: $.dhcp.leaseSeconds locked to 1800 by ${join(dir, '10-fleet.json')}, the file sets 600`,
		)
		assert.match(contradicted?.fix ?? '', /leave those settings out of \/etc\/usbvnet\/config.json/)
		writeFileSync(join(dir, '20-typo.json'), '{"dhcp": {"leaseSecond": 1800}}')
		const bad = managed(layout)
		assert.equal(bad?.status, 'fail')
		assert.match(bad?.detail ?? '', /20-typo.json/)
		assert.ok(!healthy(runChecks(layout)))
	})
})

describe('uninstall', () => {
	it('removes everything install wrote but the configuration and leases, and --purge those too', async () => {
		const layout = freshLayout('uninstall')
		const empty = tree(layout.root)
		await runSteps(planInstall(layout, {dkms: true}).filter((s) => s.id !== 'dkms'))
		writeFileSync(join(layout.root, 'var/lib/usbvnet/leases.bin'), 'x')
		const kept = await runSteps(planUninstall(layout, {purge: false}))
		assert.equal(statusOf(kept).config, 'skipped')
		assert.deepEqual(tree(layout.root), ['etc/usbvnet/config.json', 'var/lib/usbvnet/leases.bin'])
		const purged = await runSteps(planUninstall(layout, {purge: true}))
		assert.equal(statusOf(purged).config, 'done')
		assert.equal(statusOf(purged).state, 'done')
		assert.deepEqual(tree(layout.root), empty)
		for (const report of purged) assert.ok(report.status !== 'failed', `${report.step}: ${report.detail}`)
		const again = await runSteps(planUninstall(layout, {purge: true}))
		for (const report of again) assert.ok(['already', 'skipped'].includes(report.status), `${report.step}: ${report.status}`)
	})
})

describe('the commands', () => {
	const bin = join(repoRoot, 'cli/bin/run.js')
	const usbvnet = (args: string[]) => {
		const result = spawnSync(process.execPath, [bin, ...args], {encoding: 'utf8', env: {...process.env, USBVNET_ROOT: '', NO_COLOR: '1'}, timeout: 60_000})
		return {status: result.status, stdout: result.stdout, stderr: result.stderr}
	}

	// The repository's own linux-module/usbvnet.ko, when built, is the prebuilt module --no-dkms installs.
	const ko = join(repoRoot, 'linux-module/usbvnet.ko')
	const built = existsSync(ko) ? spawnSync('modinfo', ['-F', 'vermagic', ko], {encoding: 'utf8'}).stdout.split(' ')[0] ?? '' : ''
	const kernel = built || KERNEL

	it('install --no-dkms refuses a prebuilt module of another kernel', {skip: built ? false : 'linux-module/usbvnet.ko not built'}, () => {
		const run = usbvnet(['install', '--root', join(work, 'other-kernel'), '--kernel', KERNEL, '--no-dkms'])
		assert.equal(run.status, 11, run.stderr)
		assert.match(run.stdout, new RegExp(`^failed +module +.*usbvnet.ko is built for ${built}, not ${KERNEL}$`, 'm'))
		assert.match(run.stdout, /^install incomplete \(module\): /m)
	})

	it('install --json twice: a report per step, then everything already', () => {
		const root = join(work, 'cmd')
		const first = usbvnet(['install', '--root', root, '--kernel', kernel, '--no-dkms', '--json'])
		assert.equal(first.status, 0, first.stderr)
		const report = JSON.parse(first.stdout) as {ok: boolean; steps: StepReport[]; kernel: string}
		assert.equal(report.ok, true)
		assert.equal(report.kernel, kernel)
		assert.equal(report.steps.find((s) => s.step === 'unit')?.status, 'done')
		assert.equal(report.steps.find((s) => s.step === 'module')?.status, built ? 'done' : 'skipped')
		const second = usbvnet(['install', '--root', root, '--kernel', kernel, '--no-dkms'])
		assert.equal(second.status, 0, second.stderr)
		assert.match(second.stdout, /^already +unit +\/etc\/systemd\/system\/usbvnet.service$/m)
		assert.match(second.stdout, /^install complete: 0 done, /m)
	})

	it('doctor exits with 11 naming the problems, --json too', () => {
		const root = join(work, 'cmd')
		rmSync(join(root, 'etc/modules-load.d/usbvnet.conf'))
		const human = usbvnet(['doctor', '--root', root, '--kernel', kernel])
		assert.equal(human.status, 11, human.stderr)
		assert.match(human.stdout, /^fail +modules-load +\/etc\/modules-load.d\/usbvnet.conf missing/m)
		assert.match(human.stdout, /^ +fix: usbvnet install$/m)
		const json = usbvnet(['doctor', '--root', root, '--kernel', kernel, '--json'])
		assert.equal(json.status, 11)
		const report = JSON.parse(json.stdout) as {healthy: boolean; checks: {check: string; status: string}[]}
		assert.equal(report.healthy, false)
		const expected = built ? ['modules-load'] : ['module', 'modules-load']
		assert.deepEqual(report.checks.filter((c) => c.status === 'fail').map((c) => c.check).sort(), expected)
	})

	it('uninstall --purge --json leaves the root empty', () => {
		const root = join(work, 'cmd')
		const run = usbvnet(['uninstall', '--root', root, '--kernel', kernel, '--purge', '--json'])
		assert.equal(run.status, 0, run.stderr)
		assert.equal((JSON.parse(run.stdout) as {ok: boolean}).ok, true)
		assert.deepEqual(tree(root).filter((f) => !/\/modules\.[a-z.]+$/.test(f)), [])
	})

	it('a bad kernel name is a usage error; help has examples', () => {
		const bad = usbvnet(['doctor', '--kernel', '../x'])
		assert.equal(bad.status, 2)
		assert.match(bad.stderr, /kernel "..\/x": not a kernel release name/)
		for (const command of ['install', 'uninstall', 'doctor']) {
			const help = usbvnet([command, '--help'])
			assert.equal(help.status, 0)
			assert.match(help.stdout, /EXAMPLES\n/)
		}
	})
})
