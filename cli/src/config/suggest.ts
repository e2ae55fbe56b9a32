/** "Did you mean ...?" for misspelled keys and values. */

/**
 * Levenshtein edit distance (insertions, deletions, substitutions), counting
 * a swap of two adjacent letters as one edit too ("mdoe" -> "mode"), the
 * commonest typo (the "optimal string alignment" variant).
 */
export function editDistance(a: string, b: string): number {
	const rows: number[][] = Array.from({length: a.length + 1}, (_, i) => Array.from({length: b.length + 1}, (_, j) => (i === 0 ? j : j === 0 ? i : 0)))
	const at = (i: number, j: number): number => (rows[i] as number[])[j] as number
	for (let i = 1; i <= a.length; i++) {
		for (let j = 1; j <= b.length; j++) {
			const cost = a[i - 1] === b[j - 1] ? 0 : 1
			let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost)
			if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1)
			;(rows[i] as number[])[j] = best
		}
	}
	return at(a.length, b.length)
}

/**
 * The candidate closest to `word`, if it is close enough to be a typo: at
 * most a third of the word's length in edits (at least 1), compared without
 * case, and a difference in case alone ("autoattach") wins over any edit.
 */
export function closestMatch(word: string, candidates: readonly string[]): string | undefined {
	const limit = Math.max(1, Math.floor(word.length / 3))
	let best: {candidate: string; distance: number} | undefined
	for (const candidate of candidates) {
		const distance = word.toLowerCase() === candidate.toLowerCase() ? 0.5 : editDistance(word.toLowerCase(), candidate.toLowerCase())
		if (distance <= limit && (!best || distance < best.distance)) best = {candidate, distance}
	}
	return best?.candidate
}
