import {Args} from '@oclif/core'
import {withDevice} from '../driver/device.js'
import {UsbvnetCommand, instanceFlag} from '../base-command.js'
import {detach, prepareDetach, type DetachResult} from '../instance/attach.js'

export default class Detach extends UsbvnetCommand<typeof Detach> {
	static override summary = 'Detach a USB network device from a usbvnet instance, by slot or by netdev.'
	static override description = `A number names a slot (0-31), anything else the device's netdev.
The netdev is given back to the system as it was. Needs root (CAP_NET_ADMIN).
Exit codes: 5 not root, 6 no such instance, 8 slot free or netdev not attached.`
	static override examples = [
		{description: 'Free slot 3:', command: '<%= config.bin %> <%= command.id %> 3'},
		{description: 'Detach usb0, whatever its slot:', command: '<%= config.bin %> <%= command.id %> usb0'},
	]
	static override enableJsonFlag = true
	static override args = {
		target: Args.string({description: 'slot number or netdev name', required: true}),
	}
	static override flags = {instance: instanceFlag}

	async run(): Promise<DetachResult> {
		const target = prepareDetach(this.args.target)
		const result = withDevice('change', (device) => detach(device, this.flags.instance, target))
		const what = 'slot' in result.detached ? `slot ${result.detached.slot}` : result.detached.netdev
		this.log(`detached ${what} from ${result.instance}`)
		return result
	}
}
