/** "Did you mean" support: the closest candidate to a misspelt word, if any is close enough. */

/** Levenshtein distance, bounded so long unrelated words stop early. */
export function editDistance(a: string, b: string, max = Number.MAX_SAFE_INTEGER): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      cur.push(v);
      rowMin = Math.min(rowMin, v);
    }
    if (rowMin > max) return max + 1;
    prev = cur;
  }
  return prev[b.length];
}

/**
 * The candidate closest to `word`: a case-insensitive match first, else the smallest edit
 * distance within a third of the word's length (at least 1). Ties go to the first in sorted
 * order so the suggestion is deterministic.
 */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  const sorted = [...new Set(candidates)].sort();
  const lower = word.toLowerCase();
  const exact = sorted.find((c) => c.toLowerCase() === lower && c !== word);
  if (exact) return exact;
  const max = Math.max(1, Math.floor(word.length / 3));
  let best: string | undefined;
  let bestDistance = max + 1;
  for (const c of sorted) {
    if (c === word) continue;
    const d = editDistance(lower, c.toLowerCase(), max);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}
