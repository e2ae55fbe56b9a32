/** Interface names as Linux accepts them (net/core/dev.c: dev_valid_name). */
import {USBVNET_IFNAMSIZ} from './driver/constants.js'
import {UsageError} from './errors.js'

/** The instance an empty --instance means. */
export const DEFAULT_INSTANCE = 'usbvnet0'

/** Returns `name` if Linux could name an interface so, else throws UsageError naming `what`. */
export function checkInterfaceName(name: string, what: string): string {
	if (name === '') throw new UsageError(`${what}: the name is empty`)
	if (Buffer.byteLength(name, 'utf8') >= USBVNET_IFNAMSIZ) {
		throw new UsageError(`${what} "${name}": too long, interface names have at most ${USBVNET_IFNAMSIZ - 1} bytes`)
	}
	if (name === '.' || name === '..' || /[/:\s]/.test(name)) {
		throw new UsageError(`${what} "${name}": not a valid interface name (no "/", ":" or spaces)`)
	}
	return name
}

/** What to call the instance in messages. */
export function instanceLabel(instance: string): string {
	return instance === '' ? DEFAULT_INSTANCE : instance
}
