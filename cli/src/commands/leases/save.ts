import {Args} from '@oclif/core'
import {UsbvnetCommand, instanceFlag} from '../../base-command.js'
import {DEFAULT_LEASES_PATH, saveLeases, type LeasesFileReport} from '../../dhcp/leases.js'
import {withDevice} from '../../driver/device.js'

export default class LeasesSave extends UsbvnetCommand<typeof LeasesSave> {
	static override summary = "Save the DHCP server's lease table to a file, to restore it after a reload or reboot."
	static override description = `The table is written as the driver exports it (versioned and checksummed) to a
temporary file next to FILE, flushed to disk and renamed over FILE, so that FILE
is always either the old table or the new one. Its directory is created if
needed. Needs no privilege to read the table, only to write FILE.
Exit codes: 3 FILE cannot be written (e.g. no space, a parent is not a
directory), 4 module not loaded, 5 no permission to write FILE (not root, or a
read-only file system), 6 no such instance, 9 the driver's table is in a format
this command does not know (version mismatch).`
	static override examples = [
		{description: 'Save to /var/lib/usbvnet/leases.bin (what the systemd unit does at shutdown):', command: '<%= config.bin %> <%= command.id %>'},
		{description: 'Save elsewhere, with a report for scripts:', command: '<%= config.bin %> <%= command.id %> /tmp/leases.bin --json'},
	]
	static override enableJsonFlag = true
	static override args = {
		file: Args.string({description: 'where to save the table', default: DEFAULT_LEASES_PATH}),
	}
	static override flags = {instance: instanceFlag}

	async run(): Promise<LeasesFileReport> {
		const report = withDevice('query', (device) => saveLeases(device, this.flags.instance, this.args.file))
		this.log(`saved ${report.leases} lease(s) of ${report.instance} to ${report.file}`)
		return report
	}
}
