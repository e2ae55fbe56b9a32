import {Args, Flags} from '@oclif/core'
import {UsbvnetCommand} from '../../base-command.js'
import {controlRequest} from '../../vusb/control.js'
import {controlFlag} from '../../vusb/commands-shared.js'
import {keyStrokesFor} from '../../vusb/functions/hid-keyboard.js'
import {UsageError} from '../../errors.js'

export default class VusbType extends UsbvnetCommand<typeof VusbType> {
	static override summary = "Type text on a served device's keyboard."
	static override description = `Sends TEXT to the running vusb server, which types it on BUSID's
hid-keyboard function as a US keyboard would: a key press and a key release
per character, shift for capitals and symbols. Printable ASCII, tab and
newline only; the host must have the keyboard attached (configured).
Exit codes: 2 a character without a key, or no keyboard on BUSID, 4 no
server running, 6 no such busid or the keyboard is not attached.`
	static override examples = [
		{description: 'Type a line on 1-2:', command: '<%= config.bin %> <%= command.id %> 1-2 "echo hello" --enter'},
	]
	static override enableJsonFlag = true
	static override args = {
		busid: Args.string({description: 'busid of the device on the server', required: true}),
		text: Args.string({description: 'what to type', required: true}),
	}
	static override flags = {
		control: controlFlag,
		enter: Flags.boolean({char: 'n', description: 'press Enter after the text', default: false}),
	}

	async run(): Promise<{busid: string; characters: number; reports: number}> {
		const text = this.flags.enter ? `${this.args.text}\n` : this.args.text
		try {
			keyStrokesFor(text)
		} catch (error) {
			throw new UsageError((error as Error).message)
		}
		const result = (await controlRequest(this.flags.control, {op: 'type', busid: this.args.busid, text})) as {busid: string; characters: number; reports: number}
		this.log(`typed ${result.characters} characters on ${result.busid}`)
		return result
	}
}
