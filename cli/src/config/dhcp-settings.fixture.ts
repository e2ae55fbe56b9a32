import type {DhcpSettings} from './types.js'

/**
 * Complete DHCP settings on the built-in subnet, for unit tests: each test
 * spreads over it what it is about.
 */
export function dhcpSettingsFixture(overrides: Partial<DhcpSettings> = {}): DhcpSettings {
	return {
		enabled: true,
		rapidCommit: true,
		subnet: '100.127.254.0/24',
		hostAddress: '100.127.254.1',
		pool: {start: '100.127.254.2', end: '100.127.254.254'},
		leaseSeconds: 3600,
		declineSeconds: 600,
		perSlotCap: 4,
		router: '100.127.254.1',
		dns: [],
		domain: '',
		mtu: null,
		reservations: [],
		...overrides,
	}
}
