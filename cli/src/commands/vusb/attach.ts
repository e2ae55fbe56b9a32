import {Args, Flags} from '@oclif/core'
import {UsbvnetCommand} from '../../base-command.js'
import {USBIP_DEFAULT_PORT} from '../../vusb/usbip/server.js'
import {attachRemote, type AttachResult} from '../../vusb/vhci-attach.js'
import {UsageError} from '../../errors.js'

export default class VusbAttach extends UsbvnetCommand<typeof VusbAttach> {
	static override summary = 'Attach a device a USB/IP server exports to this machine (vhci_hcd).'
	static override description = `Imports BUSID from the server and hands the connection to the kernel's
vhci_hcd through sysfs, on a free port of the right speed, as "usbip attach"
does (no usbip binary needed; "usbip port" and "usbip detach" see the
result). The machine's own drivers then bind the device. Needs root and
vhci_hcd loaded (modprobe vhci-hcd).
Exit codes: 4 vhci_hcd not loaded, 5 not root, 6 server unreachable or no
such busid, 7 busid imported elsewhere or no free port, 8 refused.`
	static override examples = [
		{description: 'Attach 1-1 from the local vusb server:', command: '<%= config.bin %> <%= command.id %> 1-1'},
		{description: 'From another server and port:', command: '<%= config.bin %> <%= command.id %> 1-2 --host 192.0.2.10 --port 3241'},
	]
	static override enableJsonFlag = true
	static override args = {busid: Args.string({description: 'busid of the device on the server, e.g. 1-1', required: true})}
	static override flags = {
		host: Flags.string({char: 'H', description: 'USB/IP server', default: '127.0.0.1', helpValue: 'HOST'}),
		port: Flags.integer({char: 'p', description: 'its TCP port', default: USBIP_DEFAULT_PORT, min: 1, max: 65535}),
	}

	async run(): Promise<AttachResult> {
		if (!/^\d{1,3}-\d{1,3}(\.\d{1,3})*$/.test(this.args.busid)) throw new UsageError(`"${this.args.busid}" is not a busid like 1-2`)
		const result = await attachRemote({host: this.flags.host, port: this.flags.port, busid: this.args.busid})
		this.log(
			`attached ${result.busid} (${result.vendorId.slice(2)}:${result.productId.slice(2)}, ${result.speed} speed) from ${result.server} ` +
				`on vhci port ${result.vhciPort}${result.localBusid ? `, local busid ${result.localBusid}` : ''}`,
		)
		return result
	}
}
