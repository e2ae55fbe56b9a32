import {withDevice} from '../driver/device.js'
import {UsbvnetCommand, instanceFlag} from '../base-command.js'
import {formatStatus, readStatus, type StatusReport} from '../instance/status.js'

export default class Status extends UsbvnetCommand<typeof Status> {
	static override summary = 'Show a usbvnet instance: MAC, mode, carrier, slots, counters and its DHCP server in brief.'
	static override description = `Reads the instance from the loaded module (/dev/usbvnet); needs no privilege.
The DHCP line sums up "usbvnet dhcp": on or off, the host address, leases bound,
messages refused and malformed; if the module cannot report it (an older one),
it says "unknown" and the rest is shown all the same.
Exit codes: 4 module not loaded, 6 no such instance, 9 version mismatch.`
	static override examples = [
		{description: 'The default instance, usbvnet0:', command: '<%= config.bin %> <%= command.id %>'},
		{description: 'As JSON, for scripts:', command: '<%= config.bin %> <%= command.id %> --json'},
		{description: 'Whether the DHCP server is on:', command: '<%= config.bin %> <%= command.id %> --json | jq .dhcp.enabled'},
		{description: 'Another instance:', command: '<%= config.bin %> <%= command.id %> --instance usbvnet1'},
	]
	static override enableJsonFlag = true
	static override flags = {instance: instanceFlag}

	async run(): Promise<StatusReport> {
		const report = withDevice('query', (device) => readStatus(device, this.flags.instance))
		this.log(formatStatus(report))
		return report
	}
}
