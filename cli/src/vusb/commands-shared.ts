// Flags and formatting the vusb commands share.

import {Flags} from '@oclif/core'
import {formatTable} from '../format/table.js'
import {log} from '../log.js'
import {DEFAULT_CONTROL_PATH} from './control.js'
import type {DeviceReport} from './service.js'
import type {VusbLogger} from './usbip/server.js'

export const controlFlag = Flags.string({
	char: 'c',
	description: 'control socket of the vusb server',
	default: DEFAULT_CONTROL_PATH,
	helpValue: 'PATH',
})

/** The server's log lines through the command's logger (stderr), whatever configureLogging installed. */
export const commandLogger: VusbLogger = {
	debug: (m) => log.debug(m),
	info: (m) => log.info(m),
	warn: (m) => log.warn(m),
	error: (m) => log.error(m),
}

export function describeFunctions(device: DeviceReport): string {
	return device.functions
		.map((f) => {
			const name = f.type.replace(/^cdc-/, '')
			if (f.pty) return `${name} (pty ${f.pty.slave ?? '?'}${f.pty.link ? `, link ${f.pty.link}` : ''})`
			if (f.tcp) {
				const where = f.tcp.listen ? `tcp listen ${f.tcp.listen}` : `tcp connect ${f.tcp.connect ?? '?'}`
				return `${name} (${where}${f.tcp.peer ? `, peer ${f.tcp.peer}` : ''})`
			}
			if (!f.hostMac) return name
			if (f.tap) return `${name} ${f.hostMac} (tap ${f.tap.netns ? `${f.tap.netns}/` : ''}${f.tap.name}${f.tap.carrier ? ', up' : ''})`
			return f.peer ? `${name} ${f.hostMac} (peer ${f.peer.ipv4})` : `${name} ${f.hostMac}`
		})
		.join(', ')
}

export function formatDevices(devices: DeviceReport[]): string {
	if (devices.length === 0) return 'no devices served'
	return formatTable(
		[{header: 'BUSID'}, {header: 'ID'}, {header: 'PRODUCT'}, {header: 'FUNCTIONS'}, {header: 'CLIENT'}],
		devices.map((d) => [d.busid, `${d.vendorId.slice(2)}:${d.productId.slice(2)}`, d.product ?? '-', describeFunctions(d), clientOf(d)]),
	)
}

/** The CLIENT column: who imported it, and whether we pushed it there. */
function clientOf(d: DeviceReport): string {
	if (d.attachedTo) return d.pushedTo ? `${d.attachedTo} (pushed)` : d.attachedTo
	return d.pushedTo ? `pushing to ${d.pushedTo}` : '-'
}
