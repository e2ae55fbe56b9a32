import {UsbvnetCommand} from '../../base-command.js'
import {controlRequest} from '../../vusb/control.js'
import {controlFlag, formatDevices} from '../../vusb/commands-shared.js'
import type {DeviceReport} from '../../vusb/service.js'

export default class VusbList extends UsbvnetCommand<typeof VusbList> {
	static override summary = 'List the devices of the running vusb server.'
	static override description = `Asks the server started by "usbvnet vusb serve" for its devices: busid,
vendor and product IDs, functions (with their host-side MACs and emulated
peers) and the client that imported each one, if any.
Exit codes: 4 no server running, 5 not allowed to use its control socket.`
	static override examples = [
		{description: 'The devices and their clients:', command: '<%= config.bin %> <%= command.id %>'},
		{description: 'As JSON:', command: '<%= config.bin %> <%= command.id %> --json'},
	]
	static override enableJsonFlag = true
	static override flags = {control: controlFlag}

	async run(): Promise<{devices: DeviceReport[]}> {
		const devices = (await controlRequest(this.flags.control, {op: 'list'})) as DeviceReport[]
		this.log(formatDevices(devices))
		return {devices}
	}
}
