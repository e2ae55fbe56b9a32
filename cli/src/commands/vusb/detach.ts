import {Args} from '@oclif/core'
import {UsbvnetCommand} from '../../base-command.js'
import {detachTarget, type DetachResult} from '../../vusb/vhci-attach.js'

export default class VusbDetach extends UsbvnetCommand<typeof VusbDetach> {
	static override summary = 'Detach a USB/IP device from this machine, by vhci port or busid.'
	static override description = `A number names a vhci_hcd port ("usbip port" lists them); anything else a
busid, as the server named it (from the records of vusb attach and usbip
attach) or as the local bus names it. The server is told by the closed
connection. Needs root.
Exit codes: 4 vhci_hcd not loaded, 5 not root, 6 nothing attached there.`
	static override examples = [
		{description: 'Detach vhci port 0:', command: '<%= config.bin %> <%= command.id %> 0'},
		{description: 'Detach the device imported as 1-1:', command: '<%= config.bin %> <%= command.id %> 1-1'},
	]
	static override enableJsonFlag = true
	static override args = {target: Args.string({description: 'vhci port number or busid', required: true})}

	async run(): Promise<DetachResult> {
		const result = detachTarget(this.args.target)
		this.log(`detached vhci port ${result.vhciPort}${result.busid ? ` (${result.busid} from ${result.server})` : ''}`)
		return result
	}
}
