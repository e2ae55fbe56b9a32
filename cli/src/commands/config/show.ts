import {UsbvnetCommand, instanceFlag, managedDirFlag} from '../../base-command.js'
import {readDriverConfig} from '../../config/apply.js'
import {loadManagedLayer, reportLocks, type LockReport} from '../../config/profiles.js'
import type {InstanceConfig} from '../../config/types.js'
import {withDevice} from '../../driver/device.js'

export type ShowResult = InstanceConfig & {
	/** The settings managed profiles lock, and whether the driver holds their value yet. */
	managed: LockReport[]
}

export default class ConfigShow extends UsbvnetCommand<typeof ConfigShow> {
	static override summary = "Print the driver's current configuration in the configuration file format."
	static override description = `The output is a complete configuration file, DHCP settings included: save it
to pin every setting.
The settings locked by managed profiles (--managed-dir) follow on stderr, each
with its profile, and a note where the driver does not hold the profile's
value yet (until "usbvnet config apply" runs). With --json they are listed
under "managed": path, profile, value, inEffect. Needs no privilege.`
	static override examples = [
		{description: 'Show usbvnet0:', command: '<%= config.bin %> <%= command.id %>'},
		{description: 'Save it as the configuration applied at boot:', command: '<%= config.bin %> <%= command.id %> > /etc/usbvnet/config.json'},
		{description: 'Which settings are locked, and by which profile:', command: "<%= config.bin %> <%= command.id %> --json | jq '.managed[] | [.path, .profile]'"},
	]
	static override enableJsonFlag = true
	static override flags = {instance: instanceFlag, 'managed-dir': managedDirFlag}

	async run(): Promise<ShowResult> {
		const layer = loadManagedLayer(this.flags['managed-dir'])
		const config = withDevice('query', (device) => readDriverConfig(device, this.flags.instance))
		const managed = reportLocks(layer, config)
		this.log(JSON.stringify(config, null, 2))
		if (managed.length > 0 && !this.jsonEnabled()) {
			// stderr: stdout stays a configuration file.
			const lines = managed.map(
				(lock) => `  ${lock.path}: ${lock.profile}${lock.inEffect ? '' : ` (not in effect: the profile sets ${JSON.stringify(lock.value)}; run usbvnet config apply)`}`,
			)
			process.stderr.write(`locked by managed profiles:\n${lines.join('\n')}\n`)
		}
		return {...config, managed}
	}
}
