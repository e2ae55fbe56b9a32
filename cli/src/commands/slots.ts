import {withDevice} from '../driver/device.js'
import {UsbvnetCommand, instanceFlag} from '../base-command.js'
import {formatSlots, readSlots, type SlotsReport} from '../instance/slots.js'

export default class Slots extends UsbvnetCommand<typeof Slots> {
	static override summary = 'List the USB network devices attached to a usbvnet instance, one row per slot.'
	static override description = `For each used slot: the device's own netdev, its kernel driver, USB VID:PID,
serial number and bus id, its MAC, and its traffic, drop, spoof-drop and purge counters.
Needs no privilege.`
	static override examples = [
		{description: 'The slots of usbvnet0:', command: '<%= config.bin %> <%= command.id %>'},
		{description: 'As JSON, e.g. the netdev of every slot:', command: "<%= config.bin %> <%= command.id %> --json | jq -r '.slots[].netdev'"},
	]
	static override enableJsonFlag = true
	static override flags = {instance: instanceFlag}

	async run(): Promise<SlotsReport> {
		const report = withDevice('query', (device) => readSlots(device, this.flags.instance))
		this.log(formatSlots(report))
		return report
	}
}
