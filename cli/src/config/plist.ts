/**
 * Property lists, as Apple configuration profiles (.mobileconfig) carry them:
 * XML (a small parser of our own, enough for plists: no DTD processing, the
 * five predefined entities and character references only) and binary
 * (bplist00). Both give PlistValue; data and date values are kept as such so
 * that the conversion to JSON can refuse them by path.
 */
import {ConfigError} from './errors.js'

export class PlistData {
	constructor(readonly bytes: Uint8Array) {}
}

export class PlistDate {
	constructor(readonly date: Date) {}
}

export type PlistValue = string | number | boolean | PlistData | PlistDate | PlistValue[] | {[key: string]: PlistValue}

/** The file is not a property list we can read. Exit 3, like any unreadable configuration. */
export class PlistError extends ConfigError {
	constructor(source: string, message: string, code = 'PROFILE_PLIST') {
		super(`${source}: ${message}`, code, source)
	}
}

/** Like `object[key] = value`, also for a key "__proto__" (which the schema then refuses). */
export function setOwn<T>(object: Record<string, T>, key: string, value: T): void {
	Object.defineProperty(object, key, {value, enumerable: true, writable: true, configurable: true})
}

// ---- XML ---------------------------------------------------------------------

interface XmlElement {
	name: string
	children: (XmlElement | string)[]
	line: number
	column: number
}

const ENTITIES: Record<string, string> = {lt: '<', gt: '>', amp: '&', quot: '"', apos: "'"}
const NAME = /[A-Za-z_:][-A-Za-z0-9_:.]*/y
const MAX_DEPTH = 64
/** Objects a binary plist may expand to: far more than any profile holds, few enough to convert at once. */
const MAX_OBJECTS = 100_000

class XmlReader {
	private at = 0

	constructor(
		private readonly text: string,
		private readonly source: string,
	) {}

	fail(message: string, offset = this.at): never {
		const before = this.text.slice(0, offset)
		const line = before.split('\n').length
		const column = offset - before.lastIndexOf('\n')
		throw new PlistError(this.source, `${line}:${column}: invalid XML plist: ${message}`, 'PROFILE_PLIST_SYNTAX')
	}

	private startsWith(token: string): boolean {
		return this.text.startsWith(token, this.at)
	}

	private skipUntil(end: string, what: string): string {
		const index = this.text.indexOf(end, this.at)
		if (index < 0) this.fail(`${what} is not closed with "${end}"`)
		const skipped = this.text.slice(this.at, index)
		this.at = index + end.length
		return skipped
	}

	private skipWhitespace(): void {
		while (this.at < this.text.length && ' \t\r\n'.includes(this.text[this.at] as string)) this.at++
	}

	/** Whitespace, comments and processing instructions between elements. */
	private skipMisc(): void {
		for (;;) {
			this.skipWhitespace()
			if (this.startsWith('<!--')) {
				this.at += 4
				this.skipUntil('-->', 'a comment')
			} else if (this.startsWith('<?')) {
				this.at += 2
				this.skipUntil('?>', 'a processing instruction')
			} else {
				return
			}
		}
	}

	document(): XmlElement {
		if (this.startsWith('\uFEFF')) this.at++
		this.skipMisc()
		if (this.startsWith('<!DOCTYPE')) {
			const start = this.at
			const declaration = this.skipUntil('>', 'the DOCTYPE declaration')
			// An internal subset may declare entities (billion laughs, external
			// files): plists never need one, so none is read.
			if (declaration.includes('[')) this.fail('a DOCTYPE with an internal subset (entity declarations) is not accepted', start)
		}
		this.skipMisc()
		if (!this.startsWith('<')) this.fail(this.at >= this.text.length ? 'the document is empty' : 'expected an element')
		const root = this.element(0)
		this.skipMisc()
		if (this.at < this.text.length) this.fail('content after the root element')
		return root
	}

	private name(): string {
		NAME.lastIndex = this.at
		const match = NAME.exec(this.text)
		if (!match) this.fail('expected an element name')
		this.at += match[0].length
		return match[0]
	}

	private element(depth: number): XmlElement {
		if (depth > MAX_DEPTH) this.fail(`nested more than ${MAX_DEPTH} deep`)
		const start = this.at
		this.at++ // <
		const name = this.name()
		const position = this.position(start)
		// Attributes (plist version="1.0") carry nothing we use; they are checked for shape only.
		for (;;) {
			this.skipWhitespace()
			if (this.startsWith('/>')) {
				this.at += 2
				return {name, children: [], ...position}
			}
			if (this.startsWith('>')) {
				this.at++
				break
			}
			this.name()
			this.skipWhitespace()
			if (!this.startsWith('=')) this.fail('expected "=" after an attribute name')
			this.at++
			this.skipWhitespace()
			const quote = this.text[this.at]
			if (quote !== '"' && quote !== "'") this.fail('expected a quoted attribute value')
			this.at++
			this.skipUntil(quote, 'an attribute value')
		}
		const children: (XmlElement | string)[] = []
		let text = ''
		for (;;) {
			if (this.at >= this.text.length) this.fail(`<${name}> is not closed`, start)
			if (this.startsWith('</')) {
				const closeAt = this.at
				this.at += 2
				const closing = this.name()
				this.skipWhitespace()
				if (!this.startsWith('>')) this.fail('expected ">"')
				this.at++
				if (closing !== name) this.fail(`</${closing}> closes <${name}> (opened at ${position.line}:${position.column})`, closeAt)
				if (text !== '') children.push(text)
				return {name, children, ...position}
			}
			if (this.startsWith('<!--')) {
				this.at += 4
				this.skipUntil('-->', 'a comment')
			} else if (this.startsWith('<![CDATA[')) {
				this.at += 9
				text += this.skipUntil(']]>', 'a CDATA section')
			} else if (this.startsWith('<?')) {
				this.at += 2
				this.skipUntil('?>', 'a processing instruction')
			} else if (this.startsWith('<')) {
				if (text !== '') children.push(text)
				text = ''
				children.push(this.element(depth + 1))
			} else if (this.startsWith('&')) {
				text += this.reference()
			} else {
				const next = this.text.slice(this.at).search(/[<&]/)
				const end = next < 0 ? this.text.length : this.at + next
				text += this.text.slice(this.at, end)
				this.at = end
			}
		}
	}

	private reference(): string {
		const start = this.at
		const end = this.text.indexOf(';', this.at)
		if (end < 0 || end - start > 12) this.fail('"&" starts no entity reference (write &amp;)')
		const body = this.text.slice(start + 1, end)
		this.at = end + 1
		const numeric = /^#(?:x([0-9a-fA-F]+)|([0-9]+))$/.exec(body)
		if (numeric) {
			const code = numeric[1] !== undefined ? Number.parseInt(numeric[1], 16) : Number.parseInt(numeric[2] as string, 10)
			if (code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) this.fail(`&${body}; is not a character`, start)
			return String.fromCodePoint(code)
		}
		const entity = ENTITIES[body]
		if (entity === undefined) this.fail(`unknown entity &${body}; (plists know &lt; &gt; &amp; &quot; &apos; and &#N;)`, start)
		return entity
	}

	position(offset: number): {line: number; column: number} {
		const before = this.text.slice(0, offset)
		return {line: before.split('\n').length, column: offset - before.lastIndexOf('\n')}
	}
}

function xmlToPlist(element: XmlElement, reader: XmlReader, source: string): PlistValue {
	const fail = (message: string): never => {
		throw new PlistError(source, `${element.line}:${element.column}: invalid XML plist: ${message}`, 'PROFILE_PLIST_SYNTAX')
	}
	const elements = element.children.filter((child): child is XmlElement => typeof child !== 'string')
	const text = (): string => {
		if (elements.length > 0) fail(`<${element.name}> holds an element, <${(elements[0] as XmlElement).name}>`)
		return element.children.join('')
	}
	const noText = (): void => {
		const stray = element.children.find((child) => typeof child === 'string' && child.trim() !== '')
		if (stray !== undefined) fail(`text ${JSON.stringify((stray as string).trim().slice(0, 20))} directly in <${element.name}>`)
	}
	switch (element.name) {
		case 'string':
			return text()
		case 'integer': {
			const value = text().trim()
			if (!/^[-+]?[0-9]+$/.test(value)) fail(`<integer> holds ${JSON.stringify(value)}, not an integer`)
			const number = Number(value)
			if (!Number.isSafeInteger(number)) fail(`<integer> ${value} is too large`)
			return number
		}
		case 'real': {
			const value = text().trim()
			const number = Number(value)
			if (value === '' || !Number.isFinite(number)) fail(`<real> holds ${JSON.stringify(value)}, not a finite number`)
			return number
		}
		case 'true':
		case 'false':
			if (element.children.length > 0) fail(`<${element.name}/> must be empty`)
			return element.name === 'true'
		case 'data': {
			const value = text().replace(/\s+/g, '')
			if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value)) fail('<data> is not base64')
			return new PlistData(Buffer.from(value, 'base64'))
		}
		case 'date': {
			const value = text().trim()
			const date = new Date(value)
			if (Number.isNaN(date.getTime())) fail(`<date> holds ${JSON.stringify(value)}, not a date`)
			return new PlistDate(date)
		}
		case 'array':
			noText()
			return elements.map((child) => xmlToPlist(child, reader, source))
		case 'dict': {
			noText()
			const dict: {[key: string]: PlistValue} = {}
			for (let index = 0; index < elements.length; index += 2) {
				const keyElement = elements[index] as XmlElement
				if (keyElement.name !== 'key') {
					throw new PlistError(source, `${keyElement.line}:${keyElement.column}: invalid XML plist: expected <key> in <dict>, got <${keyElement.name}>`, 'PROFILE_PLIST_SYNTAX')
				}
				const key = xmlKey(keyElement, source)
				const valueElement = elements[index + 1]
				if (!valueElement) fail(`<key>${key}</key> has no value`)
				if (Object.hasOwn(dict, key)) fail(`key ${JSON.stringify(key)} appears twice`)
				setOwn(dict, key, xmlToPlist(valueElement as XmlElement, reader, source))
			}
			return dict
		}
		default:
			return fail(`<${element.name}> is no plist value (dict, array, string, integer, real, true, false, data, date)`)
	}
}

function xmlKey(element: XmlElement, source: string): string {
	if (element.children.some((child) => typeof child !== 'string')) {
		throw new PlistError(source, `${element.line}:${element.column}: invalid XML plist: <key> holds an element`, 'PROFILE_PLIST_SYNTAX')
	}
	return element.children.join('')
}

export function parseXmlPlist(text: string, source: string): PlistValue {
	const reader = new XmlReader(text, source)
	const root = reader.document()
	if (root.name !== 'plist') reader.fail(`the root element is <${root.name}>, not <plist>`, 0)
	const values = root.children.filter((child): child is XmlElement => typeof child !== 'string')
	if (root.children.some((child) => typeof child === 'string' && child.trim() !== '')) reader.fail('text directly in <plist>', 0)
	if (values.length !== 1) reader.fail(`<plist> holds ${values.length} values, not 1`, 0)
	return xmlToPlist(values[0] as XmlElement, reader, source)
}

// ---- binary (bplist00) -----------------------------------------------------

export function parseBinaryPlist(bytes: Uint8Array, source: string): PlistValue {
	const fail = (message: string): never => {
		throw new PlistError(source, `invalid binary plist: ${message}`, 'PROFILE_PLIST_SYNTAX')
	}
	const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
	if (data.length < 8 + 32 || data.toString('latin1', 0, 8) !== 'bplist00') fail('no bplist00 header and trailer')
	const trailer = data.length - 32
	const offsetSize = data.readUInt8(trailer + 6)
	const refSize = data.readUInt8(trailer + 7)
	const count = Number(data.readBigUInt64BE(trailer + 8))
	const top = Number(data.readBigUInt64BE(trailer + 16))
	const tableAt = Number(data.readBigUInt64BE(trailer + 24))
	if (![1, 2, 4, 8].includes(offsetSize) || ![1, 2, 4, 8].includes(refSize)) fail('bad integer sizes in the trailer')
	if (count === 0 || top >= count || tableAt < 8 || tableAt + count * offsetSize > trailer) fail('the offset table lies outside the file')
	const uint = (at: number, size: number): number => {
		if (at + size > trailer) fail('an object runs past the offset table')
		let value = 0
		for (let i = 0; i < size; i++) value = value * 256 + (data[at + i] as number)
		if (!Number.isSafeInteger(value)) fail('an offset or length is too large')
		return value
	}
	const offsetOf = (ref: number): number => {
		if (ref >= count) fail(`object reference ${ref} out of range`)
		const offset = uint(tableAt + ref * offsetSize, offsetSize)
		if (offset < 8 || offset >= tableAt) fail(`object ${ref} lies outside the object area`)
		return offset
	}
	// Writers store a value used twice once and refer to it twice, so objects
	// form a DAG: each is parsed once (then the same JS value wherever it is
	// referenced) but counted once per reference, as plistToJson copies it to
	// each place. A few dozen levels of arrays holding two references to the
	// next would otherwise expand to 2^levels objects: a hang, then no memory.
	// Its height keeps the depth limit where it is referenced again, deeper.
	const parsed = new Map<number, {value: PlistValue; size: number; height: number}>()
	const visiting = new Set<number>()
	const tooDeep = 'objects nest in a cycle or too deep'

	/** Object `ref`: its value, how many objects it expands to and how many levels, itself included. */
	const object = (ref: number): {value: PlistValue; size: number; height: number} => {
		const known = parsed.get(ref)
		if (known) {
			if (visiting.size + known.height - 1 > MAX_DEPTH) fail(tooDeep)
			return known
		}
		if (visiting.has(ref) || visiting.size > MAX_DEPTH) fail(tooDeep)
		visiting.add(ref)
		try {
			let size = 1
			let height = 1
			const child = (childRef: number): PlistValue => {
				const item = object(childRef)
				size += item.size
				height = Math.max(height, item.height + 1)
				if (size > MAX_OBJECTS) fail(`more than ${MAX_OBJECTS} objects (each reference to a shared object counts)`)
				return item.value
			}
			const value = read(offsetOf(ref), child)
			const result = {value, size, height}
			parsed.set(ref, result)
			return result
		} finally {
			visiting.delete(ref)
		}
	}

	/** A marker's length: its low nibble, or 0xF and an integer object after it. */
	const length = (at: number): {length: number; start: number} => {
		const info = (data[at] as number) & 0x0f
		if (info !== 0x0f) return {length: info, start: at + 1}
		const marker = data[at + 1] as number
		if (marker >> 4 !== 0x1 || (marker & 0x0f) > 3) fail('a length is not an integer')
		const size = 1 << (marker & 0x0f)
		return {length: uint(at + 2, size), start: at + 2 + size}
	}

	const read = (at: number, child: (ref: number) => PlistValue): PlistValue => {
		const marker = data[at] as number
		const type = marker >> 4
		const info = marker & 0x0f
		switch (type) {
			case 0x0:
				if (marker === 0x08) return false
				if (marker === 0x09) return true
				return fail(`null and fill objects (0x${marker.toString(16).padStart(2, '0')}) are not plist values we read`)
			case 0x1: {
				if (info > 3) fail('integers wider than 64 bits are not supported')
				const size = 1 << info
				if (at + 1 + size > trailer) fail('an integer runs past the offset table')
				const value = size === 8 ? data.readBigInt64BE(at + 1) : BigInt(uint(at + 1, size))
				if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) fail(`integer ${value} is too large`)
				return Number(value)
			}
			case 0x2:
				if (info === 2 && at + 5 <= trailer) return data.readFloatBE(at + 1)
				if (info === 3 && at + 9 <= trailer) return data.readDoubleBE(at + 1)
				return fail('a real of an unsupported size')
			case 0x3:
				if (marker !== 0x33 || at + 9 > trailer) fail('a malformed date')
				// Seconds since 2001-01-01T00:00:00Z.
				return new PlistDate(new Date((data.readDoubleBE(at + 1) + 978307200) * 1000))
			case 0x4: {
				const {length: size, start} = length(at)
				if (start + size > trailer) fail('data runs past the offset table')
				return new PlistData(Uint8Array.from(data.subarray(start, start + size)))
			}
			case 0x5: {
				const {length: size, start} = length(at)
				if (start + size > trailer) fail('a string runs past the offset table')
				return data.toString('latin1', start, start + size)
			}
			case 0x6: {
				const {length: units, start} = length(at)
				if (start + units * 2 > trailer) fail('a string runs past the offset table')
				const swapped = Buffer.from(data.subarray(start, start + units * 2)).swap16()
				return swapped.toString('utf16le')
			}
			case 0xa: {
				const {length: items, start} = length(at)
				if (start + items * refSize > trailer) fail('an array runs past the offset table')
				return Array.from({length: items}, (_, i) => child(uint(start + i * refSize, refSize)))
			}
			case 0xd: {
				const {length: entries, start} = length(at)
				if (start + entries * 2 * refSize > trailer) fail('a dict runs past the offset table')
				const dict: {[key: string]: PlistValue} = {}
				for (let i = 0; i < entries; i++) {
					const key = child(uint(start + i * refSize, refSize))
					if (typeof key !== 'string') fail('a dict key is not a string')
					if (Object.hasOwn(dict, key as string)) fail(`key ${JSON.stringify(key)} appears twice in a dict`)
					setOwn(dict, key as string, child(uint(start + (entries + i) * refSize, refSize)))
				}
				return dict
			}
			default:
				return fail(`object type 0x${marker.toString(16)} (UID, set or unknown) is not supported`)
		}
	}
	return object(top).value
}

// ---- files ------------------------------------------------------------------

/** DER SEQUENCE holding the CMS signedData OID 1.2.840.113549.1.7.2 near its start. */
const SIGNED_DATA_OID = Buffer.from([0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02])

export function isSignedProfile(bytes: Uint8Array): boolean {
	const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
	if (data.toString('latin1', 0, 64).includes('-----BEGIN PKCS7-----') || data.toString('latin1', 0, 64).includes('-----BEGIN CMS-----')) return true
	return data[0] === 0x30 && data.subarray(0, 32).includes(SIGNED_DATA_OID)
}

/** Any plist file: binary, XML, or a signed profile we explain how to unwrap. */
export function parsePlistFile(bytes: Uint8Array, source: string): PlistValue {
	if (isSignedProfile(bytes)) {
		throw new PlistError(
			source,
			'a signed configuration profile (CMS/PKCS#7): check its signature and unwrap the plist inside first, with ' +
				'"openssl smime -verify -inform der -in FILE -CAfile SIGNER-CA.pem -out profile.plist" ' +
				'or, on macOS, "security cms -D -i FILE -o profile.plist"; then import profile.plist',
			'PROFILE_SIGNED',
		)
	}
	const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
	if (data.toString('latin1', 0, 6) === 'bplist') {
		if (data.toString('latin1', 0, 8) !== 'bplist00') {
			throw new PlistError(source, `binary plist version "${data.toString('latin1', 6, 8)}" is not supported (only bplist00)`, 'PROFILE_PLIST_SYNTAX')
		}
		return parseBinaryPlist(bytes, source)
	}
	let text: string
	try {
		text = new TextDecoder('utf-8', {fatal: true}).decode(bytes)
	} catch {
		throw new PlistError(source, 'neither an XML plist (not UTF-8 text), nor a binary plist (bplist00), nor a signed profile', 'PROFILE_PLIST_SYNTAX')
	}
	return parseXmlPlist(text, source)
}

// ---- to JSON ----------------------------------------------------------------

const describe = (value: PlistValue): string => (value instanceof PlistData ? '<data>' : '<date>')

/**
 * The plist as JSON: dicts become objects, arrays arrays, the rest as is.
 * data and date values have no place in a configuration and are refused
 * with their path (`where` names the part of the file, e.g. its payload).
 */
export function plistToJson(value: PlistValue, source: string, where: string, path = '$'): unknown {
	if (value instanceof PlistData || value instanceof PlistDate) {
		throw new PlistError(source, `${where}${path}: a ${describe(value)} value, which no usbvnet setting takes (strings, integers, booleans, arrays and dicts only)`, 'PROFILE_PLIST_TYPE')
	}
	if (Array.isArray(value)) return value.map((item, index) => plistToJson(item, source, where, `${path}[${index}]`))
	if (typeof value === 'object') {
		const object: Record<string, unknown> = {}
		for (const [key, item] of Object.entries(value)) {
			const child = /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`
			setOwn(object, key, plistToJson(item, source, where, child))
		}
		return object
	}
	return value
}
