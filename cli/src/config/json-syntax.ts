/**
 * Where a JSON text breaks. JSON.parse reports a position for some errors and
 * none for others ("Unexpected token '}', ... is not valid JSON"), and the
 * wording changes with V8 versions; this small scanner, run only after
 * JSON.parse failed, finds the first offending character itself and says
 * what was expected there, in the same words on every Node version.
 */

export interface JsonSyntaxProblem {
	/** 1-based, counted in characters like an editor's status bar. */
	line: number
	column: number
	message: string
}

class Stop extends Error {
	constructor(
		readonly offset: number,
		readonly problem: string,
	) {
		super(problem)
	}
}

const WHITESPACE = new Set([' ', '\t', '\n', '\r'])

class Scanner {
	private at = 0

	constructor(private readonly text: string) {}

	scanDocument(): void {
		this.skipWhitespace()
		this.value()
		this.skipWhitespace()
		if (this.at < this.text.length) this.fail('the end of the document after the top-level value')
	}

	private fail(expected: string): never {
		const char = this.text[this.at]
		const found = char === undefined ? 'the end of the file' : char === '"' ? `'"'` : JSON.stringify(char)
		throw new Stop(this.at, `expected ${expected}, found ${found}`)
	}

	private skipWhitespace(): void {
		while (this.at < this.text.length && WHITESPACE.has(this.text[this.at] as string)) this.at++
	}

	private value(): void {
		const c = this.text[this.at]
		if (c === '{') return this.object()
		if (c === '[') return this.array()
		if (c === '"') return this.string()
		if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number()
		for (const literal of ['true', 'false', 'null']) {
			if (this.text.startsWith(literal, this.at)) {
				this.at += literal.length
				return
			}
		}
		this.fail('a value (object, array, string, number, true, false or null)')
	}

	private object(): void {
		this.at++ // {
		this.skipWhitespace()
		if (this.text[this.at] === '}') {
			this.at++
			return
		}
		for (;;) {
			if (this.text[this.at] !== '"') this.fail('a key in double quotes')
			this.string()
			this.skipWhitespace()
			if (this.text[this.at] !== ':') this.fail('":" after the key')
			this.at++
			this.skipWhitespace()
			this.value()
			this.skipWhitespace()
			if (this.text[this.at] === ',') {
				this.at++
				this.skipWhitespace()
				if (this.text[this.at] === '}') this.fail('another key after "," (JSON allows no trailing comma)')
				continue
			}
			if (this.text[this.at] === '}') {
				this.at++
				return
			}
			this.fail('"," or "}" after the value')
		}
	}

	private array(): void {
		this.at++ // [
		this.skipWhitespace()
		if (this.text[this.at] === ']') {
			this.at++
			return
		}
		for (;;) {
			this.value()
			this.skipWhitespace()
			if (this.text[this.at] === ',') {
				this.at++
				this.skipWhitespace()
				if (this.text[this.at] === ']') this.fail('another value after "," (JSON allows no trailing comma)')
				continue
			}
			if (this.text[this.at] === ']') {
				this.at++
				return
			}
			this.fail('"," or "]" after the value')
		}
	}

	private string(): void {
		this.at++ // opening quote
		while (this.at < this.text.length) {
			const c = this.text[this.at] as string
			if (c === '"') {
				this.at++
				return
			}
			if (c < ' ') this.fail('no control character inside a string (write \\n, \\t, ...)')
			if (c === '\\') {
				const escape = this.text[this.at + 1]
				if (escape === 'u') {
					if (!/^[0-9a-fA-F]{4}$/.test(this.text.slice(this.at + 2, this.at + 6))) {
						this.at += 2
						this.fail('4 hex digits after \\u')
					}
					this.at += 6
					continue
				}
				if (escape === undefined || !'"\\/bfnrt'.includes(escape)) {
					this.at++
					this.fail('an escape: one of \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX')
				}
				this.at += 2
				continue
			}
			this.at++
		}
		this.fail('the closing double quote of the string')
	}

	private number(): void {
		const match = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(this.text.slice(this.at))
		if (!match || match[0] === '-') {
			this.fail('a number')
		}
		this.at += match[0].length
	}
}

/** Line and column (1-based) of a character offset. */
export function lineAndColumn(text: string, offset: number): {line: number; column: number} {
	const before = text.slice(0, offset)
	const lines = before.split('\n')
	return {line: lines.length, column: (lines.at(-1) ?? '').length + 1}
}

/** The first syntax problem of `text`, or undefined if it is valid JSON. */
export function findJsonSyntaxProblem(text: string): JsonSyntaxProblem | undefined {
	try {
		new Scanner(text).scanDocument()
		return undefined
	} catch (error) {
		if (!(error instanceof Stop)) throw error
		return {...lineAndColumn(text, error.offset), message: error.problem}
	}
}
