// Figures the report shows, shared by the page's script and Node (no DOM, no I/O).
//
// Quantiles of request records are exact, by nearest rank: of n values sorted ascending,
// the p-th percentile is the value at 1-based rank ⌈p·n/100⌉ (p in whole percent, so the
// rank is computed in integers without rounding error). It is always a measured value.
// Map histograms hold only bucket counts, so their quantiles are the bounds [min, max] of
// the bucket that holds that rank.

/** The 1-based rank of the nearest-rank p-th percentile (p in 1..100) among n values. */
export function percentileRank(n: number, p: number): number {
  return Math.max(1, Math.ceil((p * n) / 100));
}

/** Nearest-rank p-th percentile (p in 1..100) of values sorted ascending; NaN when empty. */
export function nearestRank(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  return sorted[percentileRank(n, p) - 1]!;
}

/** A histogram bucket as bpftrace prints it: inclusive bounds, null = open-ended. */
export type BucketTriple = [min: number | null, max: number | null, count: number];

/** The bucket holding the nearest-rank p-th percentile of a histogram; null when it is empty. */
export function bucketQuantile(buckets: readonly BucketTriple[], p: number): BucketTriple | null {
  const sorted = [...buckets].filter((b) => b[2] > 0).sort((a, b) => (a[0] ?? -Infinity) - (b[0] ?? -Infinity));
  const total = sorted.reduce((a, b) => a + b[2], 0);
  if (total === 0) return null;
  const rank = percentileRank(total, p);
  let seen = 0;
  for (const b of sorted) {
    seen += b[2];
    if (seen >= rank) return b;
  }
  return sorted[sorted.length - 1]!;
}

/** Adds histograms bucket by bucket (same bounds add up). */
export function addBuckets(into: Map<string, BucketTriple>, buckets: readonly BucketTriple[]): void {
  for (const b of buckets) {
    const key = `${b[0]}:${b[1]}`;
    const have = into.get(key);
    if (have) have[2] += b[2];
    else into.set(key, [b[0], b[1], b[2]]);
  }
}

/** FNV-1a 32-bit hash of a string's UTF-16 code units: the waterfall's sample order. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export const WATERFALL_SLOWEST = 25;
export const WATERFALL_SAMPLE = 25;

/**
 * Which requests the waterfall draws, by index: the WATERFALL_SLOWEST slowest (longest
 * end_ns − start_ns; ties by id, then index), slowest first; then a sample of
 * WATERFALL_SAMPLE of the others: those with the smallest FNV-1a hash of their id (ties by
 * index), in start-time order. Hashing ids makes the sample look random yet be the same
 * every time, and a request sampled in a wide selection stays sampled in a narrower one
 * while fewer than WATERFALL_SAMPLE others beat it. One pass per list (no full sort):
 * the page redraws it on every filter change. `hash` may hold the ids' hashes precomputed.
 */
export function waterfallRows(
  indices: ArrayLike<number>,
  dur: ArrayLike<number>,
  id: readonly string[],
  start: ArrayLike<number>,
  slowest = WATERFALL_SLOWEST,
  sample = WATERFALL_SAMPLE,
  hash?: ArrayLike<number>,
): { slowest: number[]; sample: number[] } {
  const slower = (a: number, b: number): boolean => dur[a]! > dur[b]! || (dur[a] === dur[b] && (id[a]! < id[b]! || (id[a] === id[b] && a < b)));
  const top = smallest(indices, slowest, slower, () => true);
  const inTop = new Set(top);
  const h = hash ?? Array.from({ length: id.length }, (_, i) => fnv1a(id[i]!));
  const picked = smallest(indices, sample, (a, b) => h[a]! < h[b]! || (h[a] === h[b] && a < b), (i) => !inTop.has(i));
  picked.sort((a, b) => start[a]! - start[b]! || a - b);
  return { slowest: top, sample: picked };
}

/** The k first of `indices` in the order `before`, in that order, in one pass (k is small). */
function smallest(indices: ArrayLike<number>, k: number, before: (a: number, b: number) => boolean, keep: (i: number) => boolean): number[] {
  const out: number[] = [];
  if (k <= 0) return out;
  for (let n = 0; n < indices.length; n++) {
    const i = indices[n]!;
    if (!keep(i)) continue;
    if (out.length === k && !before(i, out[k - 1]!)) continue;
    let at = out.length === k ? k - 1 : out.length;
    while (at > 0 && before(i, out[at - 1]!)) {
      out[at] = out[at - 1]!;
      at--;
    }
    out[at] = i;
    if (out.length > k) out.length = k;
  }
  return out;
}

/**
 * Request indices ordered by value, leaving out negative values (absent phases): computed
 * once per page, so every later selection comes out sorted by walking this order.
 * Values and indices are packed into one double and sorted natively when that is exact
 * (value · 2^bits + index < 2^53, i.e. values under ~68 s for 100,000 requests).
 */
export function orderByValue(values: ArrayLike<number>): Int32Array {
  const n = values.length;
  let max = 0;
  let present = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (v < 0) continue;
    present++;
    if (v > max) max = v;
  }
  const bits = Math.max(1, Math.ceil(Math.log2(n + 1)));
  const scale = 2 ** bits;
  const out = new Int32Array(present);
  if (Number.isInteger(max) && (max + 1) * scale < 2 ** 53) {
    const packed = new Float64Array(present);
    let k = 0;
    for (let i = 0; i < n; i++) if (values[i]! >= 0) packed[k++] = values[i]! * scale + i;
    packed.sort();
    for (let j = 0; j < present; j++) out[j] = packed[j]! % scale;
    return out;
  }
  let k = 0;
  for (let i = 0; i < n; i++) if (values[i]! >= 0) out[k++] = i;
  return out.sort((a, b) => values[a]! - values[b]! || a - b);
}
