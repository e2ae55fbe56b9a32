import {Args, Flags} from '@oclif/core'
import {withDevice} from '../driver/device.js'
import {UsbvnetCommand, instanceFlag} from '../base-command.js'
import {attachNetdev, prepareAttach, type AttachResult} from '../instance/attach.js'

export default class Attach extends UsbvnetCommand<typeof Attach> {
	static override summary = 'Attach a USB network device to a usbvnet instance.'
	static override description = `Puts NETDEV, the network interface of a USB device (cdc_ether, cdc_ncm,
cdc_eem or rndis_host), behind usbvnet in a free slot or the one given.
Needs root (CAP_NET_ADMIN). Exit codes: 5 not root, 6 no such netdev or
instance, 7 slot taken or none free, 8 refused by the driver.`
	static override examples = [
		{description: 'Attach usb0, in the slot it held before if free:', command: '<%= config.bin %> <%= command.id %> usb0'},
		{description: 'Attach it in slot 3:', command: '<%= config.bin %> <%= command.id %> usb0 --slot 3'},
	]
	static override enableJsonFlag = true
	static override args = {
		netdev: Args.string({description: 'network interface of the USB device, e.g. usb0 or enx0250f2000001', required: true}),
	}
	static override flags = {
		instance: instanceFlag,
		slot: Flags.integer({
			char: 's',
			description: 'slot to use (0-31); default: the slot this device (by USB serial) last held, if free, else the lowest free one',
			min: 0,
			max: 31,
		}),
	}

	async run(): Promise<AttachResult> {
		const request = prepareAttach(this.args.netdev, this.flags.slot)
		const result = withDevice('change', (device) => attachNetdev(device, this.flags.instance, request))
		this.log(`attached ${result.netdev} to ${result.instance} in slot ${result.slot}`)
		return result
	}
}
