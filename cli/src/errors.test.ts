import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {FilePermissionError, UsageError, writeFailure, type UsbvnetError} from './errors.js'

/** What fs calls throw: an Error with the errno name as its code. */
const fsError = (code: string): NodeJS.ErrnoException => Object.assign(new Error(`${code}: failed, open '/x/.y.tmp'`), {code})

describe('writeFailure', () => {
	const otherwise = (): UsbvnetError => new UsageError('other')

	for (const [code, reason] of [
		['EACCES', 'permission denied (run as root)'],
		['EPERM', 'permission denied (run as root)'],
		['EROFS', 'read-only file system'],
	] as const) {
		it(`${code} is a permission error (exit 5) naming the file`, () => {
			const cause = fsError(code)
			const error = writeFailure('/x/y', cause, otherwise)
			assert.ok(error instanceof FilePermissionError)
			assert.deepEqual(error.toJSON(), {code: 'PERMISSION_DENIED', message: `cannot write /x/y: ${reason}`, exitCode: 5, file: '/x/y'})
			assert.equal(error.cause, cause)
		})
	}

	it("any other failure is the caller's error", () => {
		for (const cause of [fsError('ENOSPC'), fsError('ENOTDIR'), new Error('no code'), 'not even an Error', undefined]) {
			assert.equal(writeFailure('/x/y', cause, otherwise).message, 'other')
		}
	})
})
