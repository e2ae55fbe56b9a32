/**
 * The JSON configuration format (schemas/config.schema.json) as TypeScript
 * types. The schema is the source of truth; validate.ts only hands out
 * objects that passed it.
 */

export const MODES = ['bridge', 'private'] as const
export type Mode = (typeof MODES)[number]

/** In the order of the USBVNET_DRV_* bits. */
export const DRIVER_NAMES = ['cdc_ether', 'cdc_ncm', 'cdc_eem', 'rndis_host'] as const
export type DriverName = (typeof DRIVER_NAMES)[number]

export type RuleAction = 'allow' | 'deny'

export interface RuleConfig {
	/** "0x" and 4 hex digits, or "*" for any. */
	vendor: string
	product: string
	action: RuleAction
}

/** A fixed address for one client, named by exactly one of mac, serial or slot. */
export type DhcpReservation = {ip: string; mac: string} | {ip: string; serial: string} | {ip: string; slot: number}

/** Every DHCP setting (struct usbvnet_dhcp_config); addresses in dotted-quad form. */
export interface DhcpSettings {
	enabled: boolean
	/** RFC 4039: ACK a DISCOVER carrying Rapid Commit at once */
	rapidCommit: boolean
	/** "100.127.254.0/24" */
	subnet: string
	hostAddress: string
	pool: {start: string; end: string}
	leaseSeconds: number
	declineSeconds: number
	perSlotCap: number
	/** null: none sent */
	router: string | null
	dns: string[]
	/** "": none sent */
	domain: string
	/** null: none sent */
	mtu: number | null
	reservations: DhcpReservation[]
}

/** The DHCP settings of a file: keys left out keep the driver's value. */
export type DhcpFileSettings = Partial<DhcpSettings>

/** A configuration file: every key is optional, and keys left out keep the driver's value. */
export interface UsbvnetConfig {
	$schema?: string
	mac?: string
	mode?: Mode
	autoAttach?: boolean
	drivers?: DriverName[]
	rules?: RuleConfig[]
	dhcp?: DhcpFileSettings
}

/** Every setting, as the driver holds it (config show) or as apply will set it. */
export interface CompleteConfig {
	mac: string
	mode: Mode
	autoAttach: boolean
	drivers: DriverName[]
	rules: RuleConfig[]
}

/** Everything `config show` prints and `config apply` sets: two requests' worth (SET_CONFIG, SET_DHCP). */
export interface InstanceConfig extends CompleteConfig {
	dhcp: DhcpSettings
}

/** The keys of DhcpSettings in the order files and diffs show them. */
export const DHCP_KEYS = [
	'enabled',
	'rapidCommit',
	'subnet',
	'hostAddress',
	'pool',
	'leaseSeconds',
	'declineSeconds',
	'perSlotCap',
	'router',
	'dns',
	'domain',
	'mtu',
	'reservations',
] as const satisfies readonly (keyof DhcpSettings)[]

/** The keys of CompleteConfig in the order files and diffs show them. */
export const CONFIG_KEYS = ['mac', 'mode', 'autoAttach', 'drivers', 'rules'] as const satisfies readonly (keyof CompleteConfig)[]

export const DEFAULT_CONFIG_PATH = '/etc/usbvnet/config.json'

/** Managed profiles (MDM), layered over the configuration: see profiles.ts. */
export const DEFAULT_MANAGED_DIR = '/etc/usbvnet/managed.d'
