import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {spawn, spawnSync} from 'node:child_process'
import {IFF_NO_PI, IFF_TAP, TapDevice, TapError, checkInterfaceName, netnsPath, setHwaddrRequest, tunSetIffRequest} from './tap.js'

describe('TAP requests', () => {
	it('lays out struct ifreq for TUNSETIFF: name, NUL, flags at 16', () => {
		const ifr = tunSetIffRequest('vusb0')
		assert.equal(ifr.length, 40)
		assert.equal(ifr.toString('latin1', 0, 6), 'vusb0\0')
		assert.equal(ifr.readUInt16LE(16), IFF_TAP | IFF_NO_PI)
		assert.equal(IFF_TAP | IFF_NO_PI, 0x1002)
	})

	it('lays out SIOCSIFHWADDR: ARPHRD_ETHER then the MAC', () => {
		const ifr = setHwaddrRequest('t', Buffer.from('027600000181', 'hex'))
		assert.equal(ifr.readUInt16LE(16), 1)
		assert.equal(ifr.subarray(18, 24).toString('hex'), '027600000181')
	})

	it('refuses names the kernel would refuse', () => {
		for (const bad of ['', 'a'.repeat(16), 'a/b', 'a:1', 'a b', '.', '..', 'a%d']) {
			assert.throws(() => checkInterfaceName(bad), TapError, JSON.stringify(bad))
		}
		checkInterfaceName('a'.repeat(15))
	})

	it('finds named namespaces where ip-netns puts them', () => {
		assert.equal(netnsPath('phone'), '/run/netns/phone')
		assert.equal(netnsPath('/proc/1/ns/net'), '/proc/1/ns/net')
		assert.throws(() => netnsPath('..'), TapError)
	})
})

/** A network namespace of its own for the test: a sleeping process in it (gone with the process). */
function scratchNetns(): {path: string; pid: number; ip(...args: string[]): string; stop(): void} | undefined {
	if (process.getuid?.() !== 0 || spawnSync('ip', ['-V']).status !== 0) return undefined
	const child = spawn('unshare', ['--net', 'sleep', '60'], {stdio: 'ignore'})
	const pid = child.pid
	if (pid === undefined) return undefined
	// Wait until the child is in its own namespace.
	for (let i = 0; i < 200; i++) {
		const r = spawnSync('readlink', [`/proc/${pid}/ns/net`, '/proc/self/ns/net'], {encoding: 'utf8'})
		const [theirs, ours] = r.stdout.trim().split('\n')
		if (theirs && theirs !== ours) break
		spawnSync('sleep', ['0.02'])
	}
	return {
		path: `/proc/${pid}/ns/net`,
		pid,
		ip: (...args) => spawnSync('nsenter', ['-t', String(pid), '-n', 'ip', ...args], {encoding: 'utf8'}).stdout,
		stop: () => child.kill(),
	}
}

describe('a real TAP (root only)', () => {
	it('is created in the given namespace with its MAC, carrier off, reads frames, and goes away on close', async (t) => {
		const ns = scratchNetns()
		if (!ns) return t.skip('needs root, ip and unshare')
		try {
			const frames: Buffer[] = []
			const errors: Error[] = []
			let tap: TapDevice
			try {
				tap = TapDevice.open({name: 'vtest0', netns: ns.path, mac: Buffer.from('027600000181', 'hex'), onFrames: (f) => frames.push(...f), onError: (e) => errors.push(e)})
			} catch (error) {
				if (error instanceof TapError && (error.code === 'PERMISSION_DENIED' || error.code === 'NO_TUN')) return t.skip(error.message)
				throw error
			}
			assert.match(ns.ip('-o', 'link', 'show', 'vtest0'), /link\/ether 02:76:00:00:01:81/)
			assert.equal(spawnSync('ip', ['link', 'show', 'vtest0']).status, 1, 'not in our own namespace')
			assert.throws(
				() => TapDevice.open({name: 'vtest0', netns: ns.path, onFrames: () => {}, onError: () => {}}),
				(e: unknown) => e instanceof TapError && e.code === 'BUSY',
			)
			ns.ip('link', 'set', 'vtest0', 'up')
			assert.match(ns.ip('-o', 'link', 'show', 'vtest0'), /NO-CARRIER/)
			tap.setCarrier(true)
			assert.doesNotMatch(ns.ip('-o', 'link', 'show', 'vtest0'), /NO-CARRIER/)
			// The kernel's own traffic on a fresh link (IPv6 DAD, router solicitation) reaches us.
			ns.ip('addr', 'add', '192.0.2.1/24', 'dev', 'vtest0')
			spawnSync('nsenter', ['-t', String(ns.pid), '-n', 'ping', '-c', '1', '-W', '1', '192.0.2.2'])
			for (let i = 0; i < 50 && frames.length === 0; i++) await new Promise((r) => setTimeout(r, 20))
			assert.ok(frames.length > 0, 'frames read from the TAP')
			assert.ok(frames.some((f) => f.readUInt16BE(12) === 0x0806), 'an ARP request for 192.0.2.2')
			// A frame written to the TAP is received by the namespace's stack.
			const arpReply = Buffer.alloc(42)
			frames.find((f) => f.readUInt16BE(12) === 0x0806)!.copy(arpReply, 0, 6, 12)
			assert.equal(tap.write(arpReply.subarray(0, 42)), true)
			assert.deepEqual(errors, [])
			await tap.close()
			assert.doesNotMatch(ns.ip('-o', 'link', 'show'), /vtest0/, 'a non-persistent TAP disappears with its descriptor')
		} finally {
			ns.stop()
		}
	})

	it('lets a process that awaits close() with nothing else to do exit normally', (t) => {
		const ns = scratchNetns()
		if (!ns) return t.skip('needs root, ip and unshare')
		try {
			const script = `import {TapDevice} from ${JSON.stringify(new URL('./tap.js', import.meta.url).href)}
const tap = TapDevice.open({name: 'vtest2', netns: ${JSON.stringify(ns.path)}, onFrames: () => {}, onError: () => {}})
await tap.close()
console.log('closed')`
			const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {encoding: 'utf8'})
			assert.equal(r.status, 0, r.stderr)
			assert.equal(r.stdout.trim(), 'closed')
		} finally {
			ns.stop()
		}
	})

	it('names a missing namespace', (t) => {
		if (process.getuid?.() !== 0) return t.skip('needs root')
		assert.throws(
			() => TapDevice.open({name: 'vtest1', netns: 'no-such-netns-here', onFrames: () => {}, onError: () => {}}),
			(e: unknown) => e instanceof TapError && e.code === 'NO_SUCH_NETNS' && /ip netns add no-such-netns-here/.test(e.message),
		)
	})
})
