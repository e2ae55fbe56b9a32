/** install and uninstall change the system: root only, said before anything is touched. */
import {ExitCode, UsbvnetError} from '../errors.js'
import {isLiveRoot, type Layout} from './layout.js'

export function requireRoot(layout: Layout, action: string): void {
	// Under another root, writable directories are enough (image builders run unprivileged).
	if (!isLiveRoot(layout) || process.getuid?.() === 0) return
	throw new UsbvnetError(`${action} needs root: run it with sudo`, 'PERMISSION_DENIED', ExitCode.permissionDenied)
}
