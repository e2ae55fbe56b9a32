import {Args, Flags} from '@oclif/core'
import {UsbvnetCommand} from '../../base-command.js'
import {controlRequest} from '../../vusb/control.js'
import {controlFlag, describeFunctions} from '../../vusb/commands-shared.js'
import {parseFunctionList, type DeviceReport} from '../../vusb/service.js'

export default class VusbSet extends UsbvnetCommand<typeof VusbSet> {
	static override summary = "Change the functions of a served device; it re-enumerates with the new interfaces."
	static override description = `Re-defines BUSID with the functions given, in interface order (ecm, ncm,
acm). Network functions keep the host MACs of the device's old network
functions in order; extra ones get new MACs. USB/IP cannot make a client
re-enumerate a device in place: a client that has it loses it, and the next
attach enumerates the new interface set.
Exit codes: 2 bad function list, 4 no server running, 6 no such busid.`
	static override examples = [
		{description: 'Make 1-1 an ECM + ACM composite:', command: '<%= config.bin %> <%= command.id %> 1-1 --functions ecm,acm'},
	]
	static override enableJsonFlag = true
	static override args = {busid: Args.string({description: 'busid of the device on the server', required: true})}
	static override flags = {
		control: controlFlag,
		functions: Flags.string({char: 'f', description: 'comma-separated functions: ecm, ncm, acm', required: true, helpValue: 'LIST'}),
	}

	async run(): Promise<{device: DeviceReport & {dropped: string | null}}> {
		const functions = parseFunctionList(this.flags.functions)
		const device = (await controlRequest(this.flags.control, {op: 'set', busid: this.args.busid, functions})) as DeviceReport & {dropped: string | null}
		this.log(`${device.busid} now has ${describeFunctions(device)}${device.dropped ? `; client ${device.dropped} lost it and must attach again` : ''}`)
		return {device}
	}
}
