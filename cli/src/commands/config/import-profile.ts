import {Args, Flags} from '@oclif/core'
import {UsbvnetCommand, managedDirFlag} from '../../base-command.js'
import {importProfile, type ImportResult} from '../../config/profile-import.js'

export default class ConfigImportProfile extends UsbvnetCommand<typeof ConfigImportProfile> {
	static override summary = 'Install an Apple configuration profile (.mobileconfig, plist) as a managed profile.'
	static override description = `Reads an XML or binary (bplist00) property list: a configuration profile
whose PayloadContent holds one payload with PayloadType "org.usbvnet.config"
(its keys other than Payload* are the configuration), or a bare dict that is
the configuration. Plist dicts, arrays, strings, integers, reals and booleans
become JSON; data and date values are refused. The result is validated like
a configuration, checked against the other managed profiles (a conflict is
refused), and written atomically to DIR/NAME.json. NAME defaults to the
payload's PayloadIdentifier, else the file's name. Signed (CMS) profiles must
be verified and unwrapped first; the error says how. It takes effect with the
next "usbvnet config apply". Needs write access to DIR (root for the
default). Exit codes: 2 bad --name, 3 unreadable, invalid or conflicting
profile (nothing written), 5 permission denied.`
	static override examples = [
		{description: 'Install a profile pushed by the MDM:', command: '<%= config.bin %> <%= command.id %> usbvnet.mobileconfig'},
		{description: 'Under a chosen name, then apply it:', command: '<%= config.bin %> <%= command.id %> fleet.plist --name 10-fleet && <%= config.bin %> config apply'},
		{description: 'Show the configuration it carries, writing nothing:', command: '<%= config.bin %> <%= command.id %> usbvnet.mobileconfig --dry-run --json'},
		{description: 'A signed profile, verified and unwrapped first:', command: 'openssl smime -verify -inform der -in signed.mobileconfig -CAfile ca.pem -out p.plist && <%= config.bin %> <%= command.id %> p.plist'},
	]
	static override enableJsonFlag = true
	static override args = {
		file: Args.string({description: 'the profile: .mobileconfig or .plist (XML or binary), or - for standard input', required: true}),
	}
	static override flags = {
		'managed-dir': managedDirFlag,
		name: Flags.string({description: 'file name in the managed directory (".json" is added); profiles apply in name order', helpValue: 'NAME'}),
		'dry-run': Flags.boolean({char: 'n', description: 'convert, validate and check, but write nothing'}),
	}

	async run(): Promise<ImportResult> {
		const result = importProfile({
			input: this.args.file,
			managedDir: this.flags['managed-dir'],
			dryRun: this.flags['dry-run'],
			...(this.flags.name === undefined ? {} : {name: this.flags.name}),
		})
		if (this.flags['dry-run']) {
			this.log(JSON.stringify(result.config, null, 2))
			this.log(`dry run: would ${result.replaced ? 'replace' : 'write'} ${result.profile}`)
		} else {
			this.log(`${result.replaced ? 'replaced' : 'wrote'} ${result.profile}; "usbvnet config apply" puts it into effect`)
		}
		return result
	}
}
