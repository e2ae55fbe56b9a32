import {Args, Flags} from '@oclif/core'
import {UsbvnetCommand, instanceFlag, managedDirFlag} from '../../base-command.js'
import {applyPlan, planConfig} from '../../config/apply.js'
import {formatChanges, type ConfigChange} from '../../config/diff.js'
import {STDIN_PATH, loadConfigFile} from '../../config/load.js'
import {effectiveConfig, loadManagedLayer, markLockedLines} from '../../config/profiles.js'
import {DEFAULT_CONFIG_PATH, type InstanceConfig} from '../../config/types.js'
import {withDevice} from '../../driver/device.js'

export interface ApplyResult {
	instance: string
	file: string
	dryRun: boolean
	/** True when the driver's configuration was replaced. */
	applied: boolean
	changes: ConfigChange[]
	config: InstanceConfig
	/** The managed profiles layered over the file, in name order. */
	profiles: string[]
}

export default class ConfigApply extends UsbvnetCommand<typeof ConfigApply> {
	static override summary = 'Validate a configuration file and apply it to the driver in one step.'
	static override description = `The whole file is validated first (with its DHCP settings checked over the
driver's current ones), then the changes are shown and committed with two
requests, the base settings and then the DHCP settings. The driver takes each
entirely or not at all, and if it refuses the DHCP settings the base settings
are put back as they were: a refused configuration changes nothing.
Keys the file leaves out keep their current value; a list the file gives
(rules, drivers, dns, reservations) replaces the whole list. The managed profiles
(--managed-dir) are layered over the file and lock what they set: a file
changing a locked setting is refused, naming the setting and the profile.
Needs root (CAP_NET_ADMIN) unless --dry-run. Exit codes: 3 invalid file or
profile, conflicting profiles, or a locked setting changed (nothing applied),
4 module not loaded, 5 not root, 6 no such instance, 8 refused by the driver
(nothing changed).`
	static override examples = [
		{description: 'Apply /etc/usbvnet/config.json:', command: '<%= config.bin %> <%= command.id %>'},
		{description: 'See what a file would change, changing nothing:', command: '<%= config.bin %> <%= command.id %> new.json --dry-run'},
		{description: 'From an installer, with a machine-readable result:', command: '<%= config.bin %> <%= command.id %> /etc/usbvnet/config.json --json'},
		{description: 'With the managed profiles of another directory:', command: '<%= config.bin %> <%= command.id %> new.json --managed-dir ./managed.d'},
		{
			description: 'Make the reservations exactly one, for the device with serial PRINTER-0042 (others are removed):',
			command: `echo '{"dhcp": {"reservations": [{"ip": "100.127.254.200", "serial": "PRINTER-0042"}]}}' | <%= config.bin %> <%= command.id %> -`,
		},
	]
	static override enableJsonFlag = true
	static override args = {
		file: Args.string({description: 'configuration file, or - for standard input', default: DEFAULT_CONFIG_PATH}),
	}
	static override flags = {
		instance: instanceFlag,
		'managed-dir': managedDirFlag,
		'dry-run': Flags.boolean({char: 'n', description: 'validate and show the changes, but apply nothing'}),
		// For the VM lab: lets a file the driver refuses reach it, to test its refusal and the rollback.
		'skip-precheck': Flags.boolean({hidden: true, description: "leave the checks across DHCP settings to the driver"}),
	}

	async run(): Promise<ApplyResult> {
		const {file} = this.args
		const dryRun = this.flags['dry-run']
		const instance = this.flags.instance
		const layer = loadManagedLayer(this.flags['managed-dir'])
		const config = effectiveConfig(loadConfigFile(file), file === STDIN_PATH ? '<stdin>' : file, layer)
		const profiles = layer.profiles.map((profile) => profile.path)
		return withDevice(dryRun ? 'query' : 'change', (device) => {
			const plan = planConfig(device, instance, config, file, {precheck: !this.flags['skip-precheck']})
			const result = {instance: plan.instance, file, dryRun, applied: false, changes: plan.changes, config: plan.desired, profiles}
			if (profiles.length > 0) this.log(`with the managed profiles ${profiles.join(', ')}`)
			if (plan.changes.length === 0) {
				this.log(`${plan.instance} already matches ${file}: nothing to apply`)
				return result
			}
			const paths = plan.changes.map((change) => change.path)
			this.log(markLockedLines(formatChanges(plan.changes), paths, layer).join('\n'))
			if (dryRun) {
				this.log(`dry run: ${plan.changes.length} change(s) not applied`)
				return result
			}
			applyPlan(device, instance, plan)
			this.log(`applied ${plan.changes.length} change(s) to ${plan.instance}`)
			return {...result, applied: true}
		})
	}
}
