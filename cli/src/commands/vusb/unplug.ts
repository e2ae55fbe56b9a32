import {Args} from '@oclif/core'
import {UsbvnetCommand} from '../../base-command.js'
import {controlRequest} from '../../vusb/control.js'
import {controlFlag} from '../../vusb/commands-shared.js'
import type {DeviceReport} from '../../vusb/service.js'

export default class VusbUnplug extends UsbvnetCommand<typeof VusbUnplug> {
	static override summary = 'Unplug a device from the running vusb server.'
	static override description = `The server stops exporting BUSID; a client that imported it sees the
device disappear, as when a cable is pulled.
Exit codes: 4 no server running, 5 not allowed to use its control socket,
6 no such busid.`
	static override examples = [{description: 'Pull device 1-2:', command: '<%= config.bin %> <%= command.id %> 1-2'}]
	static override enableJsonFlag = true
	static override args = {busid: Args.string({description: 'busid of the device on the server, e.g. 1-2', required: true})}
	static override flags = {control: controlFlag}

	async run(): Promise<{unplugged: DeviceReport}> {
		const unplugged = (await controlRequest(this.flags.control, {op: 'unplug', busid: this.args.busid})) as DeviceReport
		this.log(`unplugged ${unplugged.busid}${unplugged.attachedTo ? ` (its client ${unplugged.attachedTo} lost it)` : ''}`)
		return {unplugged}
	}
}
