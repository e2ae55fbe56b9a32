/** "Did you mean ...?" for misspelled keys and values. */

/** Levenshtein edit distance (insertions, deletions, substitutions). */
export function editDistance(a: string, b: string): number {
	let previous = Array.from({length: b.length + 1}, (_, j) => j)
	for (let i = 1; i <= a.length; i++) {
		const current = [i]
		for (let j = 1; j <= b.length; j++) {
			const substitution = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1)
			current.push(Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, substitution))
		}
		previous = current
	}
	return previous[b.length] as number
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
