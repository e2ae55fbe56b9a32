import {Args} from '@oclif/core'
import {UsbvnetCommand, instanceFlag} from '../../base-command.js'
import {planConfig} from '../../config/apply.js'
import {formatChanges, type ConfigChange} from '../../config/diff.js'
import {loadConfigFile} from '../../config/load.js'
import {DEFAULT_CONFIG_PATH} from '../../config/types.js'
import {withDevice} from '../../driver/device.js'

export interface DiffResult {
	instance: string
	file: string
	changed: boolean
	changes: ConfigChange[]
}

export default class ConfigDiff extends UsbvnetCommand<typeof ConfigDiff> {
	static override summary = "Show what applying a configuration file would change in the driver's configuration."
	static override description = `Keys the file leaves out keep the driver's value and are never a difference.
Rules compare in order, since the first matching rule decides. Needs no privilege.`
	static override examples = [
		{description: 'Against /etc/usbvnet/config.json:', command: '<%= config.bin %> <%= command.id %>'},
		{description: 'In a script: does the driver need the file applied?', command: '<%= config.bin %> <%= command.id %> new.json --json | jq .changed'},
	]
	static override enableJsonFlag = true
	static override args = {
		file: Args.string({description: 'configuration file, or - for standard input', default: DEFAULT_CONFIG_PATH}),
	}
	static override flags = {instance: instanceFlag}

	async run(): Promise<DiffResult> {
		const file = loadConfigFile(this.args.file)
		const plan = withDevice('query', (device) => planConfig(device, this.flags.instance, file, this.args.file))
		this.log(plan.changes.length === 0 ? `${plan.instance} already matches ${this.args.file}` : formatChanges(plan.changes).join('\n'))
		return {instance: plan.instance, file: this.args.file, changed: plan.changes.length > 0, changes: plan.changes}
	}
}
