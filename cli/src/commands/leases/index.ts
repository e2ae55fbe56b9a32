import {UsbvnetCommand, instanceFlag} from '../../base-command.js'
import {formatLeases, readLeases, type LeasesReport} from '../../dhcp/leases.js'
import {withDevice} from '../../driver/device.js'

export default class Leases extends UsbvnetCommand<typeof Leases> {
	static override summary = "List the leases of the driver's DHCP server."
	static override description = `One row per address the server remembers: its IP, the client's MAC, its
client identifier (option 61; a column only when some client sent one, whole
in --json), the slot and USB serial it was leased through (- when its device is away), its state
(bound, offered, available: released or expired but kept for its client,
declined: in use by someone unknown) and when it expires. Needs no privilege.
Exit codes: 4 module not loaded, 6 no such instance, 9 version mismatch.`
	static override examples = [
		{description: 'The leases of usbvnet0:', command: '<%= config.bin %> <%= command.id %>'},
		{description: 'The address of the device with serial N1:', command: `<%= config.bin %> <%= command.id %> --json | jq -r '.leases[] | select(.serial == "N1") | .ip'`},
	]
	static override enableJsonFlag = true
	static override flags = {instance: instanceFlag}

	async run(): Promise<LeasesReport> {
		const report = withDevice('query', (device) => readLeases(device, this.flags.instance))
		this.log(formatLeases(report))
		return report
	}
}
