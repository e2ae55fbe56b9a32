import {UsbvnetCommand, instanceFlag} from '../../base-command.js'
import {readDriverConfig} from '../../config/apply.js'
import type {CompleteConfig} from '../../config/types.js'
import {withDevice} from '../../driver/device.js'

export default class ConfigShow extends UsbvnetCommand<typeof ConfigShow> {
	static override summary = "Print the driver's current configuration in the configuration file format."
	static override description = `The output is a complete configuration file: save it to pin every setting.
Needs no privilege.`
	static override examples = [
		{description: 'Show usbvnet0:', command: '<%= config.bin %> <%= command.id %>'},
		{description: 'Save it as the configuration applied at boot:', command: '<%= config.bin %> <%= command.id %> > /etc/usbvnet/config.json'},
	]
	static override enableJsonFlag = true
	static override flags = {instance: instanceFlag}

	async run(): Promise<CompleteConfig> {
		const config = withDevice('query', (device) => readDriverConfig(device, this.flags.instance))
		this.log(JSON.stringify(config, null, 2))
		return config
	}
}
