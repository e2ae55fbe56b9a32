import {withDevice} from '../driver/device.js'
import {UsbvnetCommand, instanceFlag} from '../base-command.js'
import {formatStatus, readStatus, type StatusReport} from '../instance/status.js'

export default class Status extends UsbvnetCommand<typeof Status> {
	static override summary = 'Show a usbvnet instance: MAC, mode, carrier, slots and counters.'
	static override description = `Reads the instance from the loaded module (/dev/usbvnet); needs no privilege.
Exit codes: 4 module not loaded, 6 no such instance, 9 version mismatch.`
	static override examples = [
		{description: 'The default instance, usbvnet0:', command: '<%= config.bin %> <%= command.id %>'},
		{description: 'As JSON, for scripts:', command: '<%= config.bin %> <%= command.id %> --json'},
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
