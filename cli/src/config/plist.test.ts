import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {SchemaValidationError} from './errors.js'
import {PlistData, PlistDate, PlistError, parseBinaryPlist, parsePlistFile, parseXmlPlist, plistToJson, type PlistValue} from './plist.js'
import {importProfile, payloadFromPlist, profileFileName} from './profile-import.js'
import {ProfileConflictError} from './profiles.js'

const plist = (body: string): string =>
	`<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n<plist version="1.0">\n${body}\n</plist>\n`

/** The message a call fails with, checked for its class. */
function failure(kind: new (...args: never[]) => Error, call: () => unknown): string {
	try {
		call()
	} catch (error) {
		assert.ok(error instanceof kind, `expected ${kind.name}, got ${String(error)}`)
		return error.message
	}
	assert.fail(`expected ${kind.name}, nothing thrown`)
}

/** What a profile management tool exports: a Configuration wrapping payloads of other types too. */
const MOBILECONFIG = plist(`<dict>
	<key>PayloadContent</key>
	<array>
		<dict>
			<key>PayloadDisplayName</key>
			<string>Wi-Fi</string>
			<key>PayloadIdentifier</key>
			<string>com.example.fleet.wifi</string>
			<key>PayloadType</key>
			<string>com.apple.wifi.managed</string>
			<key>PayloadUUID</key>
			<string>5C8E4F21-7A1B-4C52-9E55-0D6A1C3E9B10</string>
			<key>PayloadVersion</key>
			<integer>1</integer>
			<key>SSID_STR</key>
			<string>Lab &amp; Co</string>
			<key>Password</key>
			<data>
			c2VjcmV0
			</data>
		</dict>
		<dict>
			<key>PayloadDescription</key>
			<string>usbvnet: private mode, NCM &lt;and&gt; ECM only</string>
			<key>PayloadDisplayName</key>
			<string>usbvnet</string>
			<key>PayloadIdentifier</key>
			<string>com.example.fleet.usbvnet</string>
			<key>PayloadType</key>
			<string>org.usbvnet.config</string>
			<key>PayloadUUID</key>
			<string>0B7D2C34-1E9F-4E7A-8D3C-6F5A2B1C0D9E</string>
			<key>PayloadVersion</key>
			<integer>1</integer>
			<key>PayloadEnabled</key>
			<true/>
			<!-- the configuration itself -->
			<key>mode</key>
			<string>private</string>
			<key>autoAttach</key>
			<true/>
			<key>drivers</key>
			<array>
				<string>cdc_ether</string>
				<string>cdc_ncm</string>
			</array>
			<key>rules</key>
			<array>
				<dict>
					<key>vendor</key><string>0x0525</string>
					<key>product</key><string>*</string>
					<key>action</key><string>allow</string>
				</dict>
				<dict>
					<key>vendor</key><string><![CDATA[*]]></string>
					<key>product</key><string>&#42;</string>
					<key>action</key><string>&#x64;eny</string>
				</dict>
			</array>
		</dict>
	</array>
	<key>PayloadDisplayName</key>
	<string>Example fleet</string>
	<key>PayloadIdentifier</key>
	<string>com.example.fleet</string>
	<key>PayloadRemovalDisallowed</key>
	<false/>
	<key>PayloadType</key>
	<string>Configuration</string>
	<key>PayloadUUID</key>
	<string>E3A1C7B2-4D5F-4A6B-9C8D-7E6F5A4B3C2D</string>
	<key>PayloadVersion</key>
	<integer>1</integer>
</dict>`)

/** Made by Python's plistlib (FMT_BINARY) from the configuration profile above, usbvnet payload only. */
const BINARY_PROFILE = Buffer.from(
	'YnBsaXN0MDDTAQIDBB8gXlBheWxvYWRDb250ZW50XxARUGF5bG9hZElkZW50aWZpZXJbUGF5bG9hZFR5cGWhBdkCAwYHCAkKCwwNDg8QERIVFhdbUGF5bG9hZFVVSUReUGF5bG9hZFZlcnNpb25aYXV0b0F0dGFjaFdkcml2ZXJzU21hY1Rtb2RlVXJ1bGVzXxAZY29tLmV4YW1wbGUuZmxlZXQudXNidm5ldF8QEm9yZy51c2J2bmV0LmNvbmZpZ18QJDlBMUIyQzNELTAwMDAtNDAwMC04MDAwLTAwMDAwMDAwMDAwMRABCaITFFljZGNfZXRoZXJXY2RjX25jbV8QETAyOjAwOjVlOjEwOjAwOjAxV3ByaXZhdGWhGNMZGhscHR5WYWN0aW9uV3Byb2R1Y3RWdmVuZG9yVWFsbG93USpWMHgwNTI1XxARY29tLmV4YW1wbGUuZmxlZXRdQ29uZmlndXJhdGlvbgAIAA8AHgAyAD4AQABTAF8AbgB5AIEAhQCKAJAArADBAOgA6gDrAO4A+AEAARQBHAEeASUBLAE0ATsBQQFDAUoBXgAAAAAAAAIBAAAAAAAAACEAAAAAAAAAAAAAAAAAAAFs',
	'base64',
)
/** plistlib: {"mode": "bridge", "note": "café"} (the note as a UTF-16 string). */
const BINARY_DICT = Buffer.from('YnBsaXN0MDDSAQIDBFRtb2RlVG5vdGVWYnJpZGdlZABjAGEAZgDpCA0SFx4AAAAAAAABAQAAAAAAAAAFAAAAAAAAAAAAAAAAAAAAJw==', 'base64')

describe('XML plist parser', () => {
	it('reads every value type, nested arrays and dicts', () => {
		const value = parseXmlPlist(
			plist(`<dict>
				<key>s</key><string>a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos; &#233;&#x1F600;</string>
				<key>empty</key><string/>
				<key>i</key><integer>-42</integer>
				<key>r</key><real>2.5</real>
				<key>t</key><true/><key>f</key><false/>
				<key>nested</key><array><array><integer>1</integer><array/></array><dict/></array>
				<key>d</key><data>AAEC</data>
				<key>when</key><date>2026-01-02T03:04:05Z</date>
			</dict>`),
			'x.plist',
		) as Record<string, unknown>
		assert.equal(value['s'], 'a <b> & "c" \'d\' é😀')
		assert.equal(value['empty'], '')
		assert.deepEqual([value['i'], value['r'], value['t'], value['f']], [-42, 2.5, true, false])
		assert.deepEqual(value['nested'], [[1, []], {}])
		assert.deepEqual((value['d'] as PlistData).bytes, Buffer.from([0, 1, 2]))
		assert.equal((value['when'] as PlistDate).date.toISOString(), '2026-01-02T03:04:05.000Z')
	})

	const refused: [string, string, string][] = [
		['an unknown entity', plist('<string>&nbsp;</string>'), 'x.plist: 4:9: invalid XML plist: unknown entity &nbsp; (plists know &lt; &gt; &amp; &quot; &apos; and &#N;)'],
		['a bare ampersand', plist('<string>a & b</string>'), 'x.plist: 4:11: invalid XML plist: "&" starts no entity reference (write &amp;)'],
		['a character reference to nothing', plist('<string>&#0;</string>'), 'x.plist: 4:9: invalid XML plist: &#0; is not a character'],
		[
			'an internal DTD subset (entity declarations)',
			'<?xml version="1.0"?>\n<!DOCTYPE plist [<!ENTITY a "aaaa">]>\n<plist><string>&a;</string></plist>',
			'x.plist: 2:1: invalid XML plist: a DOCTYPE with an internal subset (entity declarations) is not accepted',
		],
		['mismatched tags', plist('<array><string>a</array>'), 'x.plist: 4:17: invalid XML plist: </array> closes <string> (opened at 4:8)'],
		['an element never closed', plist('<dict>'), 'x.plist: 5:1: invalid XML plist: </plist> closes <dict> (opened at 4:1)'],
		['a truncated document', '<plist><array><string>a</string>', 'x.plist: 1:8: invalid XML plist: <array> is not closed'],
		['an empty document', '', 'x.plist: 1:1: invalid XML plist: the document is empty'],
		['another root element', '<html/>', 'x.plist: 1:1: invalid XML plist: the root element is <html>, not <plist>'],
		['text after the root', plist('<true/>') + 'x', 'x.plist: 6:1: invalid XML plist: content after the root element'],
		['a key without value', plist('<dict><key>a</key></dict>'), 'x.plist: 4:1: invalid XML plist: <key>a</key> has no value'],
		['a value without key', plist('<dict><string>a</string></dict>'), 'x.plist: 4:7: invalid XML plist: expected <key> in <dict>, got <string>'],
		['a key twice', plist('<dict><key>a</key><true/><key>a</key><false/></dict>'), 'x.plist: 4:1: invalid XML plist: key "a" appears twice'],
		['a non-integer', plist('<integer>1.5</integer>'), 'x.plist: 4:1: invalid XML plist: <integer> holds "1.5", not an integer'],
		['a huge integer', plist('<integer>99999999999999999999</integer>'), 'x.plist: 4:1: invalid XML plist: <integer> 99999999999999999999 is too large'],
		['an unknown type', plist('<uid>1</uid>'), 'x.plist: 4:1: invalid XML plist: <uid> is no plist value (dict, array, string, integer, real, true, false, data, date)'],
		['two values in <plist>', plist('<true/><false/>'), 'x.plist: 1:1: invalid XML plist: <plist> holds 2 values, not 1'],
		['text in an array', plist('<array>oops</array>'), 'x.plist: 4:1: invalid XML plist: text "oops" directly in <array>'],
		['an unquoted attribute', '<plist version=1.0><true/></plist>', 'x.plist: 1:16: invalid XML plist: expected a quoted attribute value'],
	]
	for (const [what, text, message] of refused) {
		it(`refuses ${what}, with line and column`, () => {
			assert.equal(failure(PlistError, () => parseXmlPlist(text, 'x.plist')), message)
		})
	}

	it('ignores comments, processing instructions and a byte order mark', () => {
		assert.deepEqual(parseXmlPlist(`\uFEFF<?xml version="1.0"?><!-- c --><plist><!-- c --><array><?pi x?><true/></array></plist><!-- end -->`, 'x'), [true])
	})
})

/** A bplist00 file of the given encoded objects (1-byte references, 2-byte offsets), object 0 on top. */
function bplist(objects: number[][]): Buffer {
	const body: number[] = [...Buffer.from('bplist00', 'latin1')]
	const offsets = objects.map((object) => {
		const at = body.length
		body.push(...object)
		return at
	})
	const table = Buffer.alloc(offsets.length * 2)
	offsets.forEach((offset, i) => table.writeUInt16BE(offset, i * 2))
	const trailer = Buffer.alloc(32)
	trailer[6] = 2
	trailer[7] = 1
	trailer.writeBigUInt64BE(BigInt(objects.length), 8)
	trailer.writeBigUInt64BE(0n, 16)
	trailer.writeBigUInt64BE(BigInt(body.length), 24)
	return Buffer.concat([Buffer.from(body), table, trailer])
}

/** `levels` arrays, each holding two references to the next, over a true: 2^(levels+1) - 1 objects expanded. */
const doubling = (levels: number): Buffer =>
	bplist([...Array.from({length: levels}, (_, i) => [0xa2, i + 1, i + 1]), [0x09]])

describe('binary plist parser', () => {
	it('reads a profile made by plistlib', () => {
		const value = parseBinaryPlist(BINARY_PROFILE, 'b.plist') as Record<string, unknown>
		assert.equal(value['PayloadType'], 'Configuration')
		const [payload] = value['PayloadContent'] as Record<string, unknown>[]
		assert.deepEqual(payload?.['drivers'], ['cdc_ether', 'cdc_ncm'])
		assert.equal(payload?.['autoAttach'], true)
		assert.equal(payload?.['PayloadVersion'], 1)
	})

	it('reads UTF-16 strings', () => {
		assert.deepEqual(parseBinaryPlist(BINARY_DICT, 'b.plist'), {mode: 'bridge', note: 'café'})
	})

	it('refuses truncated and corrupt files without reading out of bounds', () => {
		assert.equal(failure(PlistError, () => parsePlistFile(Buffer.from('bplist00'), 'b.plist')), 'b.plist: invalid binary plist: no bplist00 header and trailer')
		assert.equal(failure(PlistError, () => parsePlistFile(Buffer.from('bplist15xxxxxxx'), 'b.plist')), 'b.plist: binary plist version "15" is not supported (only bplist00)')
		for (let cut = 9; cut < BINARY_PROFILE.length; cut += 7) {
			assert.throws(() => parsePlistFile(BINARY_PROFILE.subarray(0, cut), 'b.plist'), PlistError, `cut at ${cut}`)
		}
		const corrupt = Buffer.from(BINARY_PROFILE)
		corrupt.writeBigUInt64BE(1000n, corrupt.length - 16) // top object out of range
		assert.throws(() => parsePlistFile(corrupt, 'b.plist'), /the offset table lies outside the file/)
	})

	it('reads an object referenced twice (as writers share equal values) once, as the same value', () => {
		// {"a": ["x"], "b": ["x"]}, both values one array object.
		const shared = bplist([[0xd2, 1, 2, 3, 3], [0x51, 0x61], [0x51, 0x62], [0xa1, 4], [0x51, 0x78]])
		const value = parseBinaryPlist(shared, 'b.plist') as Record<string, PlistValue>
		assert.deepEqual(value, {a: ['x'], b: ['x']})
		assert.deepEqual(plistToJson(value, 'b.plist', ''), {a: ['x'], b: ['x']})
		// 65535 objects once expanded: within the limit.
		const wide = parseBinaryPlist(doubling(15), 'b.plist')
		assert.equal(JSON.stringify(plistToJson(wide, 'b.plist', '')).split('true').length - 1, 2 ** 15)
	})

	it('refuses shared references that expand beyond 100000 objects, fast (a 60-level DAG is 2^61)', () => {
		for (const levels of [16, 60]) {
			const started = Date.now()
			const file = doubling(levels)
			assert.equal(
				failure(PlistError, () => parsePlistFile(file, 'b.plist')),
				'b.plist: invalid binary plist: more than 100000 objects (each reference to a shared object counts)',
			)
			assert.ok(Date.now() - started < 2000, `${levels} levels took ${Date.now() - started} ms`)
		}
		assert.ok(doubling(60).length < 400)
	})

	it('keeps the depth limit for an object parsed shallow and referenced again deep', () => {
		// A chain of 99 arrays over a true, its lower half read first (50 levels
		// under the top, within the limit), then again under the upper half: 101.
		const chain = Array.from({length: 100}, (_, i) => [0xa1, i + 2])
		chain[99] = [0x09]
		const file = bplist([[0xa2, 51, 1], ...chain])
		assert.equal(failure(PlistError, () => parseBinaryPlist(file, 'b.plist')), 'b.plist: invalid binary plist: objects nest in a cycle or too deep')
	})

	it('still refuses cycles, and arrays or dicts longer than the file', () => {
		assert.equal(failure(PlistError, () => parseBinaryPlist(bplist([[0xa1, 1], [0xa1, 0]]), 'b.plist')), 'b.plist: invalid binary plist: objects nest in a cycle or too deep')
		assert.equal(failure(PlistError, () => parseBinaryPlist(bplist([[0xa1, 0]]), 'b.plist')), 'b.plist: invalid binary plist: objects nest in a cycle or too deep')
		// An array of 2^32 items (its length an 8-byte integer), which no file this small holds.
		const huge = bplist([[0xaf, 0x13, 0, 0, 0, 1, 0, 0, 0, 0, 1]])
		assert.equal(failure(PlistError, () => parseBinaryPlist(huge, 'b.plist')), 'b.plist: invalid binary plist: an array runs past the offset table')
		assert.equal(failure(PlistError, () => parseBinaryPlist(bplist([[0xdf, 0x10, 0xff]]), 'b.plist')), 'b.plist: invalid binary plist: a dict runs past the offset table')
	})
})

describe('plist files', () => {
	it('explains how to unwrap a signed profile (DER and PEM)', () => {
		// The start of a DER ContentInfo: SEQUENCE, OID 1.2.840.113549.1.7.2 (signedData).
		const der = Buffer.from('3080' + '06092a864886f70d010702' + 'a080' + '00'.repeat(40), 'hex')
		const message = failure(PlistError, () => parsePlistFile(der, 's.mobileconfig'))
		assert.equal(
			message,
			's.mobileconfig: a signed configuration profile (CMS/PKCS#7): check its signature and unwrap the plist inside first, with "openssl smime -verify -inform der -in FILE -CAfile SIGNER-CA.pem -out profile.plist" or, on macOS, "security cms -D -i FILE -o profile.plist"; then import profile.plist',
		)
		assert.throws(() => parsePlistFile(Buffer.from('-----BEGIN PKCS7-----\nMIIB\n-----END PKCS7-----\n'), 's'), /a signed configuration profile/)
	})

	it('refuses what is neither', () => {
		assert.equal(
			failure(PlistError, () => parsePlistFile(Buffer.from([0xff, 0xfe, 0x00, 0x80]), 'x')),
			'x: neither an XML plist (not UTF-8 text), nor a binary plist (bplist00), nor a signed profile',
		)
	})

	it('converts to JSON, refusing data and dates by path', () => {
		assert.deepEqual(plistToJson({a: [1, 'b', true, {c: 2.5}]}, 'x', ''), {a: [1, 'b', true, {c: 2.5}]})
		assert.equal(
			failure(PlistError, () => plistToJson({rules: [{vendor: new PlistData(new Uint8Array([1]))}]}, 'x', 'PayloadContent[1] (org.usbvnet.config): ')),
			'x: PayloadContent[1] (org.usbvnet.config): $.rules[0].vendor: a <data> value, which no usbvnet setting takes (strings, integers, booleans, arrays and dicts only)',
		)
		assert.match(failure(PlistError, () => plistToJson({'odd key': new PlistDate(new Date(0))}, 'x', '')), /^x: \$\["odd key"\]: a <date> value/)
	})
})

describe('configuration profile payloads', () => {
	const expected = {
		mode: 'private',
		autoAttach: true,
		drivers: ['cdc_ether', 'cdc_ncm'],
		rules: [
			{vendor: '0x0525', product: '*', action: 'allow'},
			{vendor: '*', product: '*', action: 'deny'},
		],
	}

	it('takes our payload out of a .mobileconfig, dropping the Payload* keys and the other payloads', () => {
		const payload = payloadFromPlist(parseXmlPlist(MOBILECONFIG, 'fleet.mobileconfig'), 'fleet.mobileconfig')
		assert.deepEqual(payload.config, expected)
		assert.equal(payload.identifier, 'com.example.fleet.usbvnet')
	})

	it('takes our payload out of a binary profile', () => {
		const payload = payloadFromPlist(parsePlistFile(BINARY_PROFILE, 'b.mobileconfig'), 'b.mobileconfig')
		assert.deepEqual(payload.config, {mac: '02:00:5e:10:00:01', mode: 'private', autoAttach: true, drivers: ['cdc_ether', 'cdc_ncm'], rules: [{vendor: '0x0525', product: '*', action: 'allow'}]})
	})

	it('a bare dict is the configuration', () => {
		assert.deepEqual(payloadFromPlist(parseXmlPlist(plist('<dict><key>mode</key><string>bridge</string></dict>'), 'x'), 'x').config, {mode: 'bridge'})
	})

	it('says which payloads a profile without ours holds', () => {
		const other = plist('<dict><key>PayloadContent</key><array><dict><key>PayloadType</key><string>com.apple.wifi.managed</string></dict><string/></array></dict>')
		assert.equal(
			failure(PlistError, () => payloadFromPlist(parseXmlPlist(other, 'p'), 'p')),
			'p: no payload with PayloadType "org.usbvnet.config": it holds "com.apple.wifi.managed", "(not a dict)"',
		)
		const two = plist(`<dict><key>PayloadContent</key><array>${'<dict><key>PayloadType</key><string>org.usbvnet.config</string></dict>'.repeat(2)}</array></dict>`)
		assert.equal(
			failure(PlistError, () => payloadFromPlist(parseXmlPlist(two, 'p'), 'p')),
			'p: 2 payloads with PayloadType "org.usbvnet.config" (PayloadContent items 0, 1); a profile carries one',
		)
		assert.match(failure(PlistError, () => payloadFromPlist(parseXmlPlist(plist('<array/>'), 'p'), 'p')), /the plist is not a dict/)
		const encrypted = plist('<dict><key>EncryptedPayloadContent</key><data>AA==</data></dict>')
		assert.match(failure(PlistError, () => payloadFromPlist(parseXmlPlist(encrypted, 'p'), 'p')), /the payloads are encrypted/)
	})

	it('validates the payload like a configuration, naming the payload', () => {
		const bad = plist(
			'<dict><key>PayloadContent</key><array><dict><key>PayloadType</key><string>org.usbvnet.config</string><key>mdoe</key><string>bridge</string><key>autoAttach</key><integer>1</integer></dict></array></dict>',
		)
		assert.equal(
			failure(SchemaValidationError, () => payloadFromPlist(parseXmlPlist(bad, 'p.plist'), 'p.plist')),
			'p.plist PayloadContent[0] (org.usbvnet.config): invalid configuration, 2 problems:\n' +
				'  $.mdoe: unknown key "mdoe"; did you mean "mode"?\n' +
				'  $.autoAttach: expected true or false, got the number 1',
		)
	})

	it('names the managed file: --name, else the identifier, else the file name', () => {
		const payload = {config: {}, where: ''}
		assert.equal(profileFileName('10-fleet', payload, 'x'), '10-fleet.json')
		assert.equal(profileFileName('10-fleet.json', payload, 'x'), '10-fleet.json')
		assert.throws(() => profileFileName('../etc/passwd', payload, 'x'), /--name "..\/etc\/passwd": use letters, digits/)
		assert.throws(() => profileFileName('.hidden', payload, 'x'), /--name ".hidden"/)
		assert.equal(profileFileName(undefined, {...payload, identifier: 'com.example/fleet usbvnet'}, 'x'), 'com.example-fleet-usbvnet.json')
		assert.equal(profileFileName(undefined, payload, '/tmp/Fleet.mobileconfig'), 'Fleet.json')
	})
})

describe('import into a managed directory', () => {
	let work = ''
	before(() => {
		work = mkdtempSync(join(tmpdir(), 'usbvnet-import-'))
	})
	after(() => rmSync(work, {recursive: true, force: true}))

	it('writes the profile (creating the directory), replaces it on a second import, leaves no temporary file', () => {
		const input = join(work, 'fleet.mobileconfig')
		writeFileSync(input, MOBILECONFIG)
		const dir = join(work, 'managed.d')
		const first = importProfile({input, managedDir: dir, dryRun: false})
		assert.deepEqual([first.profile, first.written, first.replaced], [join(dir, 'com.example.fleet.usbvnet.json'), true, false])
		assert.deepEqual(JSON.parse(readFileSync(first.profile, 'utf8')), first.config)
		const second = importProfile({input, managedDir: dir, dryRun: false})
		assert.equal(second.replaced, true)
		assert.deepEqual(readdirSync(dir), ['com.example.fleet.usbvnet.json'])
	})

	it('dry run writes nothing', () => {
		const input = join(work, 'bare.plist')
		writeFileSync(input, plist('<dict><key>mode</key><string>private</string></dict>'))
		const dir = join(work, 'dry.d')
		const result = importProfile({input, managedDir: dir, dryRun: true, name: 'x'})
		assert.deepEqual([result.written, result.profile], [false, join(dir, 'x.json')])
		assert.throws(() => readdirSync(dir), /ENOENT/)
	})

	it('refuses a profile conflicting with one already there, writing nothing', () => {
		const dir = join(work, 'conflict.d')
		const input = join(work, 'bridge.plist')
		writeFileSync(input, plist('<dict><key>mode</key><string>bridge</string></dict>'))
		importProfile({input, managedDir: dir, dryRun: false, name: '10-a'})
		writeFileSync(input, plist('<dict><key>mode</key><string>private</string></dict>'))
		const message = failure(ProfileConflictError, () => importProfile({input, managedDir: dir, dryRun: false, name: '20-b'}))
		assert.match(message, new RegExp(`\\$\\.mode: ${join(dir, '10-a.json')} sets "bridge", ${join(dir, '20-b.json')} sets "private"`))
		assert.deepEqual(readdirSync(dir), ['10-a.json'])
		// Replacing the profile itself is no conflict.
		assert.equal(importProfile({input, managedDir: dir, dryRun: false, name: '10-a'}).replaced, true)
	})
})
