import {Args} from '@oclif/core'
import {UsbvnetCommand, instanceFlag, managedDirFlag} from '../../base-command.js'
import {planConfig} from '../../config/apply.js'
import {formatChanges, type ConfigChange} from '../../config/diff.js'
import {STDIN_PATH, loadConfigFile} from '../../config/load.js'
import {effectiveConfig, loadManagedLayer, markLockedLines} from '../../config/profiles.js'
import {DEFAULT_CONFIG_PATH} from '../../config/types.js'
import {withDevice} from '../../driver/device.js'

export interface DiffResult {
	instance: string
	file: string
	changed: boolean
	changes: ConfigChange[]
	/** The managed profiles layered over the file, in name order. */
	profiles: string[]
}

export default class ConfigDiff extends UsbvnetCommand<typeof ConfigDiff> {
	static override summary = "Show what applying a configuration file would change in the driver's configuration."
	static override description = `Keys the file leaves out keep the driver's value and are never a difference.
Rules compare in order, since the first matching rule decides; DHCP reservations
compare in order too. DHCP settings are checked over the driver's current ones
(exit 3 if they do not fit). The managed
profiles (--managed-dir) are layered over the file, as apply does; changes
they make are marked with the profile, and a file changing a setting they
lock is refused (exit 3). Needs no privilege.`
	static override examples = [
		{description: 'Against /etc/usbvnet/config.json:', command: '<%= config.bin %> <%= command.id %>'},
		{description: 'In a script: does the driver need the file applied?', command: '<%= config.bin %> <%= command.id %> new.json --json | jq .changed'},
	]
	static override enableJsonFlag = true
	static override args = {
		file: Args.string({description: 'configuration file, or - for standard input', default: DEFAULT_CONFIG_PATH}),
	}
	static override flags = {instance: instanceFlag, 'managed-dir': managedDirFlag}

	async run(): Promise<DiffResult> {
		const {file} = this.args
		const layer = loadManagedLayer(this.flags['managed-dir'])
		const config = effectiveConfig(loadConfigFile(file), file === STDIN_PATH ? '<stdin>' : file, layer)
		const plan = withDevice('query', (device) => planConfig(device, this.flags.instance, config, file))
		const profiles = layer.profiles.map((profile) => profile.path)
		if (profiles.length > 0) this.log(`with the managed profiles ${profiles.join(', ')}`)
		const lines = markLockedLines(
			formatChanges(plan.changes),
			plan.changes.map((change) => change.path),
			layer,
		)
		this.log(plan.changes.length === 0 ? `${plan.instance} already matches ${file}` : lines.join('\n'))
		return {instance: plan.instance, file, changed: plan.changes.length > 0, changes: plan.changes, profiles}
	}
}
