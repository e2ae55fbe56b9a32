import {Args, Flags} from '@oclif/core'
import {UsbvnetCommand} from '../../base-command.js'
import {USBIP_DEFAULT_PORT} from '../../vusb/usbip/server.js'
import {attachRemote, type AttachResult} from '../../vusb/vhci-attach.js'
import {AttachAgent, resolveAgentListen, type PushedAttachment} from '../../vusb/attach-agent.js'
import {UsageError} from '../../errors.js'
import {log} from '../../log.js'

export default class VusbAttach extends UsbvnetCommand<typeof VusbAttach> {
	static override summary = 'Attach a device a USB/IP server exports to this machine (vhci_hcd), or accept pushed ones.'
	static override description = `Imports BUSID from the server and hands the connection to the kernel's
vhci_hcd through sysfs, on a free port of the right speed, as "usbip attach"
does (no usbip binary needed; "usbip port" and "usbip detach" see the
result). The machine's own drivers then bind the device. Needs root and
vhci_hcd loaded (modprobe vhci-hcd).
With --listen (and no BUSID) it runs as an agent until SIGINT/SIGTERM:
servers push devices to it ("usbvnet vusb plug DEVICE.json --to HOST:PORT"),
and it attaches each one the same way; a connection that breaks the exchange
is closed with a logged reason, others are not disturbed. Stopping the agent
leaves attached devices attached.
Exit codes: 2 bad BUSID or --listen, 4 vhci_hcd not loaded, 5 not root,
6 server unreachable or no such busid, 7 busid imported elsewhere, no free
port, or --listen address in use, 8 refused.`
	static override examples = [
		{description: 'Attach 1-1 from the local vusb server:', command: '<%= config.bin %> <%= command.id %> 1-1'},
		{description: 'From another server and port:', command: '<%= config.bin %> <%= command.id %> 1-2 --host 192.0.2.10 --port 3241'},
		{description: 'Accept devices pushed to 127.0.0.1:3250:', command: '<%= config.bin %> <%= command.id %> --listen 3250'},
	]
	static override enableJsonFlag = true
	static override args = {busid: Args.string({description: 'busid of the device on the server, e.g. 1-1 (not with --listen)', required: false})}
	static override flags = {
		host: Flags.string({char: 'H', description: 'USB/IP server', default: '127.0.0.1', helpValue: 'HOST'}),
		port: Flags.integer({char: 'p', description: 'its TCP port', default: USBIP_DEFAULT_PORT, min: 1, max: 65535}),
		listen: Flags.string({
			char: 'l',
			description: 'run as an agent accepting pushed devices on [ADDRESS:]PORT (loopback unless an address is given)',
			helpValue: '[ADDRESS:]PORT',
		}),
	}

	async run(): Promise<AttachResult | {listen: string; attached: PushedAttachment[]}> {
		if (this.flags.listen !== undefined) {
			if (this.args.busid !== undefined) throw new UsageError('give either BUSID or --listen, not both')
			return this.agent(this.flags.listen)
		}
		const busid = this.args.busid
		if (busid === undefined) throw new UsageError('give the BUSID to attach, or --listen [ADDRESS:]PORT to accept pushed devices')
		if (!/^\d{1,3}-\d{1,3}(\.\d{1,3})*$/.test(busid)) throw new UsageError(`"${busid}" is not a busid like 1-2`)
		const result = await attachRemote({host: this.flags.host, port: this.flags.port, busid})
		this.log(
			`attached ${result.busid} (${result.vendorId.slice(2)}:${result.productId.slice(2)}, ${result.speed} speed) from ${result.server} ` +
				`on vhci port ${result.vhciPort}${result.localBusid ? `, local busid ${result.localBusid}` : ''}`,
		)
		return result
	}

	private async agent(listenText: string): Promise<{listen: string; attached: PushedAttachment[]}> {
		const {host, port} = await resolveAgentListen(listenText)
		const attached: PushedAttachment[] = []
		const describe = (a: PushedAttachment): string =>
			`${a.busid} (${a.vendorId.slice(2)}:${a.productId.slice(2)}, ${a.speed} speed) from ${a.server} on vhci port ${a.vhciPort}`
		const agent = new AttachAgent({
			host,
			port,
			onAttached: (a) => {
				attached.push(a)
				log.info(`vusb agent: attached ${describe(a)}`)
			},
			onDetached: (a) => log.info(`vusb agent: ${a.busid} from ${a.server} left vhci port ${a.vhciPort}`),
			onRefused: (peer, reason) => log.warn(`vusb agent: refused ${peer}: ${reason}`),
		})
		const local = agent.listen()
		log.info(`vusb agent: listening on ${local}`)
		const stop = (signal: string): void => {
			log.info(`vusb agent: ${signal}: stopping (attached devices stay)`)
			agent.stop()
		}
		process.once('SIGINT', () => stop('SIGINT'))
		process.once('SIGTERM', () => stop('SIGTERM'))
		await agent.run()
		return {listen: local, attached}
	}
}
