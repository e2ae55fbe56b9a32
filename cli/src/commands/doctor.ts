import {UsbvnetCommand} from '../base-command.js'
import {ExitCode} from '../errors.js'
import {healthy, runChecks, type CheckReport} from '../install/doctor.js'
import {kernelFlag, rootFlag} from '../install/flags.js'
import {makeLayout} from '../install/layout.js'
import {formatCheck} from '../install/report.js'

export interface DoctorReport {
	root: string
	kernel: string
	version: string
	/** No check failed (warnings allowed). */
	healthy: boolean
	checks: CheckReport[]
}

export default class Doctor extends UsbvnetCommand<typeof Doctor> {
	static override summary = 'Check the installation piece by piece and say what to fix.'
	static override description = `Checks: the module for the kernel (module), loaded (loaded), /dev/usbvnet
answering (device), the loaded module being the installed one (version), DKMS
(dkms), modules-load.d (modules-load), the systemd unit installed, enabled and
active (unit, enabled, active), the configuration valid (config), the managed
profiles valid, agreeing, and not contradicted by the configuration (managed), the udev and
networkd rules (udev, networkd), the leases directory (leases) and the iproute2
plugin (iproute2). Each is ok, warn, fail or skip, with a fix for warn and fail.
Needs no privilege. Exit codes: 11 a check failed (warnings do not count).`
	static override examples = [
		{description: 'Check this machine:', command: '<%= config.bin %> <%= command.id %>'},
		{description: 'As JSON, for monitoring:', command: '<%= config.bin %> <%= command.id %> --json'},
		{description: 'An image being built, for its kernel:', command: '<%= config.bin %> <%= command.id %> --root /mnt/image --kernel 6.1.0-28-amd64'},
	]
	static override enableJsonFlag = true
	static override flags = {root: rootFlag, kernel: kernelFlag}

	async run(): Promise<DoctorReport> {
		const layout = makeLayout({root: this.flags.root, kernel: this.flags.kernel})
		const checks = runChecks(layout)
		const report: DoctorReport = {root: layout.root, kernel: layout.kernel, version: layout.pkg.version, healthy: healthy(checks), checks}
		for (const check of checks) for (const line of formatCheck(check)) this.log(line)
		const failed = checks.filter((c) => c.status === 'fail').map((c) => c.check)
		this.log(report.healthy ? 'healthy' : `${failed.length} problem(s): ${failed.join(', ')}`)
		if (!report.healthy) process.exitCode = ExitCode.incomplete
		return report
	}
}
