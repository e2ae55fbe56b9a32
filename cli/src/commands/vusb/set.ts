import {Args, Flags} from '@oclif/core'
import {UsbvnetCommand} from '../../base-command.js'
import {controlRequest} from '../../vusb/control.js'
import {controlFlag, describeFunctions} from '../../vusb/commands-shared.js'
import {parseFunctionList, type DeviceReport} from '../../vusb/service.js'

export default class VusbSet extends UsbvnetCommand<typeof VusbSet> {
	static override summary = "Change the functions of a served device; it re-enumerates with the new interfaces."
	static override description = `Re-defines BUSID with the functions given, in interface order (ecm, ncm,
acm, kbd). Network functions keep the host MACs of the device's old network
functions in order; extra ones get new MACs. USB/IP cannot make a client
re-enumerate a device in place. A device pushed with "vusb plug" goes through
the whole cycle by itself: its connection closes (the client drops the
device), and the new one is pushed to the same agent, so the client's
drivers follow. A client that imported the device itself (vusb attach,
usbip attach) loses it, and its next attach enumerates the new interfaces.
Exit codes: 2 bad function list, 4 no server running, 6 no such busid.`
	static override examples = [
		{description: 'Make 1-1 an ECM + ACM composite:', command: '<%= config.bin %> <%= command.id %> 1-1 --functions ecm,acm'},
		{description: 'Keep only its network function:', command: '<%= config.bin %> <%= command.id %> 1-1 --functions ecm'},
	]
	static override enableJsonFlag = true
	static override args = {busid: Args.string({description: 'busid of the device on the server', required: true})}
	static override flags = {
		control: controlFlag,
		functions: Flags.string({char: 'f', description: 'comma-separated functions: ecm, ncm, acm, kbd', required: true, helpValue: 'LIST'}),
	}

	async run(): Promise<{device: DeviceReport & {dropped: string | null; repushed: boolean}}> {
		const functions = parseFunctionList(this.flags.functions)
		const device = (await controlRequest(this.flags.control, {op: 'set', busid: this.args.busid, functions}, 30_000)) as DeviceReport & {
			dropped: string | null
			repushed: boolean
		}
		const client = device.repushed
			? `; pushed again to ${device.pushedTo}`
			: device.dropped
				? `; client ${device.dropped} lost it and must attach again`
				: ''
		this.log(`${device.busid} now has ${describeFunctions(device)}${client}`)
		return {device}
	}
}
