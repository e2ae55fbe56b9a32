import {Args, Flags} from '@oclif/core'
import {resolve} from 'node:path'
import {UsbvnetCommand} from '../../base-command.js'
import {controlRequest} from '../../vusb/control.js'
import {controlFlag, describeFunctions} from '../../vusb/commands-shared.js'
import {loadDeviceConfigFile} from '../../vusb/device-config.js'
import {parseHostPort, type DeviceReport} from '../../vusb/service.js'

export default class VusbPlug extends UsbvnetCommand<typeof VusbPlug> {
	static override summary = "Plug a device into another machine: the running vusb server pushes it to that machine's attach agent."
	static override description = `The server started by "usbvnet vusb serve" builds DEVICE.json and connects
to HOST:PORT, where "usbvnet vusb attach --listen PORT" runs; the agent
imports the device over that connection and hands it to its vhci_hcd, so the
machine's drivers bind it at once. Returns when the agent has it.
Unplug it with "usbvnet vusb unplug BUSID" here or "usbvnet vusb detach" on
the client; either frees both sides. "usbvnet vusb set" re-plugs it with new
functions by itself.
Exit codes: 2 bad HOST:PORT, 3 invalid device file, 4 no server running,
6 nobody listens at HOST:PORT, 7 busid already served, 8 the agent refused it.`
	static override examples = [
		{description: 'Push a keyboard to the agent on this machine:', command: '<%= config.bin %> <%= command.id %> kbd.json --to 127.0.0.1:3250'},
	]
	static override enableJsonFlag = true
	static override args = {device: Args.string({description: 'device definition file (JSON)', required: true})}
	static override flags = {
		control: controlFlag,
		to: Flags.string({char: 't', description: 'the attach agent to push to', required: true, helpValue: 'HOST:PORT'}),
	}

	async run(): Promise<{device: DeviceReport}> {
		parseHostPort(this.flags.to)
		const config = loadDeviceConfigFile(this.args.device)
		const device = (await controlRequest(this.flags.control, {op: 'plug', source: resolve(this.args.device), config, to: this.flags.to}, 30_000)) as DeviceReport
		this.log(`plugged ${device.busid} (${describeFunctions(device)}) into ${device.pushedTo ?? this.flags.to}`)
		return {device}
	}
}
