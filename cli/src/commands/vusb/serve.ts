import {Args, Flags} from '@oclif/core'
import {UsbvnetCommand} from '../../base-command.js'
import {ExitCode, UsageError, UsbvnetError} from '../../errors.js'
import {log} from '../../log.js'
import {TapError} from '../../driver/tap.js'
import {loadDeviceConfigFile, validateDeviceConfig} from '../../vusb/device-config.js'
import {ControlServer, type ControlRequest} from '../../vusb/control.js'
import {commandLogger, controlFlag, describeFunctions} from '../../vusb/commands-shared.js'
import {VusbService, parseFunctionList, parseHostPort} from '../../vusb/service.js'
import {UsbipServer, USBIP_DEFAULT_PORT} from '../../vusb/usbip/server.js'

/** "127.0.0.1:3240", "[::1]:3240", "0.0.0.0" (default port) -> host and port. */
export function parseListen(text: string): {host: string; port: number} {
	const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(text)
	const port = m?.[3] === undefined ? USBIP_DEFAULT_PORT : Number(m[3])
	if (!m || port > 65535) throw new UsageError(`--listen "${text}" is not ADDRESS[:PORT], e.g. 127.0.0.1:3240`)
	return {host: (m[1] ?? m[2])!, port}
}

export default class VusbServe extends UsbvnetCommand<typeof VusbServe> {
	static override summary = 'Serve emulated USB devices over USB/IP until interrupted.'
	static override description = `Each DEVICE.json (schemas/vusb-device.schema.json) becomes one USB device
exported under its busid ("1-1", "1-2", ... unless the file sets one). A
client attaches it with "usbvnet vusb attach BUSID" or "usbip attach -r HOST
-b BUSID"; its own drivers bind (cdc_ether, cdc_ncm, cdc_acm, usbhid).
"usbvnet vusb plug DEVICE.json --to HOST:PORT" adds a device later and pushes
it to a client's attach agent; with no DEVICE.json the server starts empty.

USB/IP has no authentication: the server listens on 127.0.0.1 unless
--listen says otherwise. A network function whose file says
"backend": {"tap": NAME} (or {"tap": {"name", "netns", "mac"}}) is connected
to a TAP device created when serving starts (in that network namespace):
the TAP has carrier while a host has the function up. Other network
functions get an emulated peer answering ARP and ping at the --responder
addresses (the Nth such function, over all devices in order, gets the Nth
address; the rest drop what they receive). A serial function echoes, or
with "backend": {"tcp": {"listen": "127.0.0.1:PORT"}} is the far end of a
TCP listener (one client at a time; a second gets a line saying why and is
closed), or with {"tcp": {"connect": "HOST:PORT"}} of a connection that is
retried with a backoff, or with {"pty": {"link": PATH}} of a raw
pseudo-terminal (PATH, optional, a symlink to its /dev/pts/N).

Other invocations (vusb list, unplug, set) reach the running server through
its control socket. SIGINT or SIGTERM stops it: clients lose their devices.
Exit codes: 2 bad --listen (or a name that does not resolve) or --control
(a file that is not a socket, a path too long), 3 invalid device file, 5 a
TAP, a port below 1024 or the control socket's directory needs root, 6 no
such network namespace, 7 address, control socket, TAP or a serial
backend's TCP port in use (or its pty link path taken by a file).`
	static override examples = [
		{description: 'Serve an ECM and an ACM device on 127.0.0.1:3240:', command: '<%= config.bin %> <%= command.id %> ecm.json acm.json'},
		{
			description: 'With a ping peer at 192.168.77.2 on the ECM link:',
			command: '<%= config.bin %> <%= command.id %> ecm.json --responder 192.168.77.2',
		},
		{description: 'An ECM device whose network side is the TAP "phone0" in network namespace "phone":', command: '<%= config.bin %> <%= command.id %> phone.json'},
		{description: 'On another port and control socket:', command: '<%= config.bin %> <%= command.id %> ecm.json --listen 127.0.0.1:3241 --control /tmp/vusb.sock'},
	]
	static override strict = false
	static override args = {
		device: Args.string({description: 'device definition file (JSON); give any number', required: false}),
	}
	static override flags = {
		listen: Flags.string({char: 'l', description: 'address and port to listen on', default: `127.0.0.1:${USBIP_DEFAULT_PORT}`, helpValue: 'ADDRESS[:PORT]'}),
		control: controlFlag,
		responder: Flags.string({
			char: 'r',
			description: 'IPv4 address of an emulated ping peer, one per network function in order (repeatable)',
			multiple: true,
			default: [],
			helpValue: 'IPV4',
		}),
	}

	async run(): Promise<void> {
		const {argv} = await this.parse(VusbServe)
		const files = argv as string[]
		const listen = parseListen(this.flags.listen)
		const configs = files.map((file) => ({file, config: loadDeviceConfigFile(file)}))
		const server = new UsbipServer({host: listen.host, port: listen.port, logger: commandLogger})
		let service: VusbService
		try {
			service = new VusbService(server, this.flags.responder, (m) => log.error(m), undefined, (m) => log.info(m))
		} catch (error) {
			throw new UsageError(`--responder: ${(error as Error).message}`)
		}
		for (const {file, config} of configs) {
			try {
				service.plug(config, file)
			} catch (error) {
				await service.close()
				if (error instanceof TapError) error.message = `${file}: ${error.message}`
				if (error instanceof UsbvnetError) throw error
				throw new UsbvnetError(`${file}: ${(error as Error).message}`, 'BUSY', ExitCode.busy)
			}
		}
		try {
			await service.ready()
		} catch (error) {
			await service.close()
			throw error
		}
		for (const d of service.list()) log.info(`vusb: ${d.busid} from ${d.source}: ${describeFunctions(d)}`)

		const control = new ControlServer(this.flags.control, (request) => handle(service, request), (m) => log.error(m))
		try {
			await control.listen()
		} catch (error) {
			await service.close()
			throw error
		}
		try {
			await server.listen()
		} catch (error) {
			await control.close()
			await service.close()
			const code = (error as NodeJS.ErrnoException).code
			if (code === 'EADDRINUSE') throw new UsbvnetError(`${this.flags.listen} is already in use (usbipd or another vusb serve?)`, 'BUSY', ExitCode.busy)
			if (code === 'EADDRNOTAVAIL') throw new UsageError(`--listen ${this.flags.listen}: no such local address`)
			if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') throw new UsageError(`--listen ${this.flags.listen}: ${listen.host} does not resolve to an address`)
			if (code === 'EACCES' || code === 'EPERM') {
				throw new UsbvnetError(`--listen ${this.flags.listen}: permission denied (ports below 1024 need root)`, 'PERMISSION_DENIED', ExitCode.permissionDenied, {cause: error})
			}
			throw error
		}
		log.info(`vusb: control socket ${this.flags.control}`)

		const signal = await new Promise<string>((resolve) => {
			process.once('SIGINT', () => resolve('SIGINT'))
			process.once('SIGTERM', () => resolve('SIGTERM'))
		})
		log.info(`vusb: ${signal}: stopping`)
		await control.close()
		await server.close()
		await service.close()
	}
}

function handle(service: VusbService, request: ControlRequest): unknown {
	switch (request.op) {
		case 'list':
			return service.list()
		case 'unplug':
			return service.unplug(request.busid)
		case 'set':
			return service.set(request.busid, parseFunctionList(request.functions.join(',')))
		case 'plug':
			return service.push(validateDeviceConfig(request.config, request.source), request.source, parseHostPort(request.to))
		case 'type':
			return service.type(request.busid, request.text)
	}
}
