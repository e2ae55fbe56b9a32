import {Args} from '@oclif/core'
import {UsbvnetCommand} from '../../base-command.js'
import {loadConfigFile} from '../../config/load.js'
import {DEFAULT_CONFIG_PATH, type UsbvnetConfig} from '../../config/types.js'

export interface ValidateResult {
	file: string
	valid: true
	config: UsbvnetConfig
}

export default class ConfigValidate extends UsbvnetCommand<typeof ConfigValidate> {
	static override summary = 'Check a configuration file against the usbvnet schema, without touching the driver.'
	static override description = `Reports every problem with its JSON path, what was expected there, and for a
misspelled key the closest valid one. Needs neither root nor the module.
Exit codes: 0 valid, 3 invalid or unreadable.`
	static override examples = [
		{description: 'The default file, /etc/usbvnet/config.json:', command: '<%= config.bin %> <%= command.id %>'},
		{description: 'A file about to be installed:', command: '<%= config.bin %> <%= command.id %> ./usbvnet.json'},
		{description: 'From standard input:', command: 'cat profile.json | <%= config.bin %> <%= command.id %> -'},
	]
	static override enableJsonFlag = true
	static override args = {
		file: Args.string({description: 'configuration file, or - for standard input', default: DEFAULT_CONFIG_PATH}),
	}

	async run(): Promise<ValidateResult> {
		const config = loadConfigFile(this.args.file)
		this.log(`${this.args.file}: valid`)
		return {file: this.args.file, valid: true, config}
	}
}
