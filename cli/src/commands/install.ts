import {Flags} from '@oclif/core'
import {UsbvnetCommand} from '../base-command.js'
import {ExitCode} from '../errors.js'
import {kernelFlag, rootFlag} from '../install/flags.js'
import {planInstall} from '../install/install.js'
import {makeLayout} from '../install/layout.js'
import {requireRoot} from '../install/privilege.js'
import {stepPrinter, summary, type StepsReport} from '../install/report.js'
import {runSteps} from '../install/steps.js'

export default class Install extends UsbvnetCommand<typeof Install> {
	static override summary = 'Install usbvnet on this machine: module (DKMS), loading at boot, config, systemd unit, udev rules.'
	static override description = `What a package's postinstall script runs. Each step looks first and reports
done, already (nothing to do), skipped or failed, so running it again is safe:
  source, dkms   module sources to /usr/src/usbvnet-VERSION, built and installed
                 by DKMS for the kernel (and again on kernel updates)
  module         with --no-dkms: the package's prebuilt linux-module/usbvnet.ko
  modules-load   /etc/modules-load.d/usbvnet.conf: usbvnet0 exists from boot
  config         /etc/usbvnet/config.json, a default one unless there is one
  state          /var/lib/usbvnet, where the leases are saved
  unit           /etc/systemd/system/usbvnet.service: at boot, config apply and
                 leases restore; on stop, leases save
  udev, networkd NetworkManager and systemd-networkd leave the USB devices
                 behind usbvnet0 alone
  iproute2       /usr/lib/ip/link_usbvnet.so, when the package has it
  enable, start  the unit (started only when systemd runs)
Needs root. Exit codes: 5 not root, 11 a step failed (the report says how to fix it).`
	static override examples = [
		{description: 'Install (what the postinstall script runs):', command: '<%= config.bin %> <%= command.id %>'},
		{description: 'With a machine-readable report:', command: '<%= config.bin %> <%= command.id %> --json'},
		{description: 'The module ships prebuilt, no DKMS:', command: '<%= config.bin %> <%= command.id %> --no-dkms'},
		{description: 'Into an image being built, for its kernel:', command: '<%= config.bin %> <%= command.id %> --root /mnt/image --kernel 6.1.0-28-amd64'},
	]
	static override enableJsonFlag = true
	static override flags = {
		root: rootFlag,
		kernel: kernelFlag,
		'no-dkms': Flags.boolean({description: 'do not build the module with DKMS: install the prebuilt one the package ships, if any'}),
	}

	async run(): Promise<StepsReport> {
		const layout = makeLayout({root: this.flags.root, kernel: this.flags.kernel})
		requireRoot(layout, 'install')
		const json = this.jsonEnabled()
		const steps = await runSteps(planInstall(layout, {dkms: !this.flags['no-dkms']}), stepPrinter((line) => this.log(line), json))
		const report: StepsReport = {action: 'install', root: layout.root, kernel: layout.kernel, version: layout.pkg.version, ok: steps.every((s) => s.status !== 'failed'), steps}
		this.log(summary(report))
		if (!report.ok) process.exitCode = ExitCode.incomplete
		return report
	}
}
