import {UsbvnetCommand, instanceFlag} from '../base-command.js'
import {formatDhcp, readDhcp, type DhcpReport} from '../dhcp/stats.js'
import {withDevice} from '../driver/device.js'

export default class Dhcp extends UsbvnetCommand<typeof Dhcp> {
	static override summary = "Show the driver's DHCP server: on or off, its network, leases bound and its counters."
	static override description = `The counters say what the server answered and why it dropped what it did not
(malformed requests, exhausted pool, a slot at its cap). They count from the
module's load. The settings themselves are in "config show"; the leases in
"leases". Needs no privilege. Exit codes: 4 module not loaded, 6 no such instance.`
	static override examples = [
		{description: 'The DHCP server of usbvnet0:', command: '<%= config.bin %> <%= command.id %>'},
		{description: 'How often the pool ran out:', command: "<%= config.bin %> <%= command.id %> --json | jq .counters.exhausted"},
	]
	static override enableJsonFlag = true
	static override flags = {instance: instanceFlag}

	async run(): Promise<DhcpReport> {
		const report = withDevice('query', (device) => readDhcp(device, this.flags.instance))
		this.log(formatDhcp(report))
		return report
	}
}
