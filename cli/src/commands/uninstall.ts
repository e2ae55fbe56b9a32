import {Flags} from '@oclif/core'
import {UsbvnetCommand} from '../base-command.js'
import {ExitCode} from '../errors.js'
import {kernelFlag, rootFlag} from '../install/flags.js'
import {planUninstall} from '../install/install.js'
import {makeLayout} from '../install/layout.js'
import {requireRoot} from '../install/privilege.js'
import {stepPrinter, summary, type StepsReport} from '../install/report.js'
import {runSteps} from '../install/steps.js'

export default class Uninstall extends UsbvnetCommand<typeof Uninstall> {
	static override summary = 'Undo install: stop and remove the unit, the module (DKMS), the rules and files it wrote.'
	static override description = `Stops and disables usbvnet.service (which saves the leases), unloads the
module, removes the unit, the udev and networkd rules, the iproute2 plugin,
modules-load.d/usbvnet.conf, the DKMS entries and sources (every version) and
a prebuilt module install copied. The configuration (/etc/usbvnet) and the
saved leases (/var/lib/usbvnet) stay unless --purge. Safe to run again: what
is gone is reported "already". Needs root. Exit codes: 5 not root, 11 a step failed.`
	static override examples = [
		{description: 'Remove usbvnet, keeping its configuration:', command: '<%= config.bin %> <%= command.id %>'},
		{description: 'Remove everything, configuration and leases too:', command: '<%= config.bin %> <%= command.id %> --purge'},
		{description: 'From an image being built:', command: '<%= config.bin %> <%= command.id %> --root /mnt/image --kernel 6.1.0-28-amd64 --json'},
	]
	static override enableJsonFlag = true
	static override flags = {
		root: rootFlag,
		kernel: kernelFlag,
		purge: Flags.boolean({description: 'also remove /etc/usbvnet (configuration) and /var/lib/usbvnet (saved leases)'}),
	}

	async run(): Promise<StepsReport> {
		const layout = makeLayout({root: this.flags.root, kernel: this.flags.kernel})
		requireRoot(layout, 'uninstall')
		const json = this.jsonEnabled()
		const steps = await runSteps(planUninstall(layout, {purge: this.flags.purge}), stepPrinter((line) => this.log(line), json))
		const report: StepsReport = {action: 'uninstall', root: layout.root, kernel: layout.kernel, version: layout.pkg.version, ok: steps.every((s) => s.status !== 'failed'), steps}
		this.log(summary(report))
		if (!report.ok) process.exitCode = ExitCode.incomplete
		return report
	}
}
