import assert from 'node:assert/strict'
import {constants} from 'node:os'
import {describe, it} from 'node:test'
import {
	BusyError,
	DriverRefusedError,
	ModuleNotLoadedError,
	NoSuchInstanceError,
	PermissionDeniedError,
	VersionMismatchError,
	errorForOpen,
	errorForRequest,
	type FailureContext,
} from './errors.js'

const {errno} = constants
const open: FailureContext = {operation: 'open', devicePath: '/dev/usbvnet', instance: ''}
const info: FailureContext = {operation: 'USBVNET_IOC_INFO', devicePath: '/dev/usbvnet', instance: ''}

describe('errno -> typed error, message and exit code', () => {
	it('open: ENOENT means the module is not loaded (exit 4)', () => {
		const error = errorForOpen(errno.ENOENT, open)
		assert.ok(error instanceof ModuleNotLoadedError)
		assert.equal(error.message, 'module not loaded (no /dev/usbvnet): load it with "modprobe usbvnet"')
		assert.equal(error.exitCode, 4)
		assert.deepEqual(error.toJSON(), {
			code: 'MODULE_NOT_LOADED',
			message: error.message,
			exitCode: 4,
			errno: errno.ENOENT,
			errnoName: 'ENOENT',
			operation: 'open',
		})
	})

	it('open: ENXIO and ENODEV too (a stale device node)', () => {
		assert.ok(errorForOpen(errno.ENXIO, open) instanceof ModuleNotLoadedError)
		assert.ok(errorForOpen(errno.ENODEV, open) instanceof ModuleNotLoadedError)
	})

	it('EPERM and EACCES need root (exit 5)', () => {
		for (const value of [errno.EPERM, errno.EACCES]) {
			const error = errorForRequest(value, {...info, operation: 'USBVNET_IOC_SET_CONFIG'})
			assert.ok(error instanceof PermissionDeniedError)
			assert.equal(error.message, 'needs root (CAP_NET_ADMIN)')
			assert.equal(error.exitCode, 5)
		}
		assert.equal(errorForOpen(errno.EACCES, open).message, 'needs root (CAP_NET_ADMIN): cannot open /dev/usbvnet')
	})

	it('ENODEV names the instance, the default one when empty (exit 6)', () => {
		const error = errorForRequest(errno.ENODEV, info)
		assert.ok(error instanceof NoSuchInstanceError)
		assert.equal(error.message, 'no such usbvnet instance "usbvnet0"')
		assert.equal(error.exitCode, 6)
		assert.equal(errorForRequest(errno.ENODEV, {...info, instance: 'usbvnet3'}).message, 'no such usbvnet instance "usbvnet3"')
	})

	it('EBUSY, EADDRINUSE and ENOSPC are busy (exit 7), with what the request explains', () => {
		const attach: FailureContext = {...info, operation: 'USBVNET_IOC_ATTACH', explain: {EBUSY: 'usb0 is already attached, bridged or bonded'}}
		const busy = errorForRequest(errno.EBUSY, attach)
		assert.ok(busy instanceof BusyError)
		assert.equal(busy.message, 'busy: usb0 is already attached, bridged or bonded (EBUSY from USBVNET_IOC_ATTACH)')
		assert.equal(busy.exitCode, 7)
		assert.equal(errorForRequest(errno.ENOSPC, attach).message, 'no free slot on usbvnet0: detach a device first')
		const taken = errorForRequest(errno.EADDRINUSE, {...attach, explain: {EADDRINUSE: 'slot 3 of usbvnet0 is taken by another device'}})
		assert.ok(taken instanceof BusyError)
		assert.equal(taken.message, 'busy: slot 3 of usbvnet0 is taken by another device (EADDRINUSE from USBVNET_IOC_ATTACH)')
		assert.equal(taken.exitCode, 7)
	})

	it('EINVAL: the driver refused (exit 8)', () => {
		const error = errorForRequest(errno.EINVAL, {...info, operation: 'USBVNET_IOC_SET_CONFIG'})
		assert.ok(error instanceof DriverRefusedError)
		assert.equal(error.message, 'the driver refused: invalid argument (EINVAL from USBVNET_IOC_SET_CONFIG)')
		assert.equal(error.exitCode, 8)
	})

	it('ENOTTY: the driver does not know the request (exit 9)', () => {
		const error = errorForRequest(errno.ENOTTY, info)
		assert.ok(error instanceof VersionMismatchError)
		assert.equal(error.message, 'driver does not support this request: version mismatch? (ENOTTY from USBVNET_IOC_INFO)')
		assert.equal(error.exitCode, 9)
	})

	it('other errnos are refusals in the words of the request, or of libc', () => {
		const detach: FailureContext = {...info, operation: 'USBVNET_IOC_DETACH', explain: {ENOENT: 'usb0 is not attached'}}
		assert.equal(errorForRequest(errno.ENOENT, detach).message, 'the driver refused: usb0 is not attached (ENOENT from USBVNET_IOC_DETACH)')
		const exists = errorForRequest(errno.EEXIST, info)
		assert.equal(exists.message, 'the driver refused: file already exists (EEXIST from USBVNET_IOC_INFO)')
		assert.equal(exists.exitCode, 8)
	})
})
