import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {Args, Flags, Parser} from '@oclif/core'
import {describeFailure, failureMessage, instanceFlag, type JsonError} from './base-command.js'
import {UsbvnetError} from './errors.js'

/** What oclif's parser throws for `argv`, as the command's error report. */
async function parseFailure(argv: string[]): Promise<JsonError> {
	try {
		await Parser.parse(argv, {
			flags: {instance: instanceFlag, count: Flags.integer({min: 1})},
			args: {netdev: Args.string({description: 'a network interface', required: true})},
			strict: true,
		})
	} catch (error) {
		assert.ok(error instanceof Error)
		return describeFailure(error)
	}
	assert.fail(`${argv.join(' ')}: parsed`)
}

describe('errors from oclif parsing', () => {
	it('a flag whose parse() refuses the value: "--NAME: reason", with its exit code', async () => {
		assert.deepEqual(await parseFailure(['usb0', '--instance', 'a b']), {
			code: 'USAGE',
			message: '--instance: instance "a b": not a valid interface name (no "/", ":" or spaces)',
			exitCode: 2,
		})
		assert.deepEqual(await parseFailure(['usb0', '--count', 'x']), {code: 'USAGE', message: '--count: Expected an integer but received: x', exitCode: 2})
	})

	it("oclif's own parse errors without the help hint", async () => {
		assert.deepEqual(await parseFailure(['usb0', '--bogus']), {code: 'USAGE', message: 'Nonexistent flag: --bogus', exitCode: 2})
		const missing = await parseFailure([])
		assert.match(missing.message, /^Missing 1 required arg:\nnetdev\s+a network interface$/)
	})

	it('leaves other messages alone', () => {
		for (const text of ['slot 32 does not exist: slots are 0 to 31', 'Parsing is hard', 'two\nlines']) assert.equal(failureMessage(text), text)
		assert.deepEqual(describeFailure(new UsbvnetError('busy: try again', 'BUSY', 7)), {code: 'BUSY', message: 'busy: try again', exitCode: 7})
		assert.equal(describeFailure(new TypeError('x is undefined')).message, 'internal error: x is undefined (run with --verbose for details)')
	})
})
