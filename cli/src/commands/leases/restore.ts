import {existsSync} from 'node:fs'
import {Args, Flags} from '@oclif/core'
import {UsbvnetCommand, instanceFlag} from '../../base-command.js'
import {DEFAULT_LEASES_PATH, readLeaseFile, restoreLeases, type LeasesFileReport} from '../../dhcp/leases.js'
import {withDevice} from '../../driver/device.js'

export interface RestoreResult extends Partial<LeasesFileReport> {
	file: string
	restored: boolean
}

export default class LeasesRestore extends UsbvnetCommand<typeof LeasesRestore> {
	static override summary = "Replace the DHCP server's lease table with one saved by \"leases save\"."
	static override description = `The file is checked first (format, version, checksum); the driver then checks
every lease against its current DHCP settings and takes the whole table or, refusing,
changes nothing. Devices get their addresses back when they ask again, on
whichever slot they come back. Needs root (CAP_NET_ADMIN).
Exit codes: 3 the file is missing, unreadable or not a lease table, 4 module not
loaded, 5 not root, 6 no such instance, 8 refused by the driver (nothing changed).`
	static override examples = [
		{description: 'Restore /var/lib/usbvnet/leases.bin (what the systemd unit does at start):', command: '<%= config.bin %> <%= command.id %>'},
		{description: 'At boot, when no table may have been saved yet:', command: '<%= config.bin %> <%= command.id %> --missing-ok'},
		{description: 'From another file, with a report for scripts:', command: '<%= config.bin %> <%= command.id %> /tmp/leases.bin --json'},
	]
	static override enableJsonFlag = true
	static override args = {
		file: Args.string({description: 'a table saved by "leases save"', default: DEFAULT_LEASES_PATH}),
	}
	static override flags = {
		instance: instanceFlag,
		'missing-ok': Flags.boolean({description: 'a missing file is not an error: nothing is restored'}),
	}

	async run(): Promise<RestoreResult> {
		const {file} = this.args
		if (this.flags['missing-ok'] && !existsSync(file)) {
			this.log(`${file} does not exist: no leases restored`)
			return {file, restored: false}
		}
		// The file is checked before the driver is asked anything.
		const table = readLeaseFile(file)
		const report = withDevice('change', (device) => restoreLeases(device, this.flags.instance, file, table))
		this.log(`restored ${report.leases} lease(s) to ${report.instance} from ${report.file}`)
		return {...report, restored: true}
	}
}
