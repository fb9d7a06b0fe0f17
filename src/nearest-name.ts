// The known names a mistyped one most likely meant, for "did you mean" in error messages.
// Pure.

/** Edit distance (insertions, deletions, substitutions) between two strings. */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min((row[j] as number) + 1, (next[j - 1] as number) + 1, (row[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length] as number;
}

/**
 * The candidates closest to `name`, ignoring case (ties: all of them, in the candidates'
 * order); empty when none is close: a few letters apart, or one name the start of the
 * other (HOOKPOINT_INTERVAL for HOOKPOINT_INTERVAL_SECONDS). `prefix` is left out of the
 * comparison, so that a shared HOOKPOINT_ does not make every name look close.
 */
export function nearestNames(name: string, candidates: readonly string[], prefix = ""): string[] {
  const strip = (s: string) => (s.toUpperCase().startsWith(prefix.toUpperCase()) ? s.slice(prefix.length) : s).toUpperCase();
  const wanted = strip(name);
  let best = Infinity;
  let out: string[] = [];
  for (const c of candidates) {
    const known = strip(c);
    const d = distance(wanted, known);
    const close = d <= Math.max(2, Math.floor(known.length / 4)) || (wanted.length >= 3 && (known.startsWith(wanted) || wanted.startsWith(known)));
    if (!close || d > best) continue;
    if (d < best) out = [];
    best = d;
    out.push(c);
  }
  return out;
}
