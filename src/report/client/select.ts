// Which requests and map series the filters select, and the figures over them.
import type { ReportData } from "../data-types.js";
import { nearestRank, percentileRank } from "../stats.js";
import type { Model } from "./model.js";

export interface Filters {
  namespace: string;
  workload: string;
  /** Pod index, −1 for all. */
  pod: number;
  /** Protocol index, −1 for all. */
  protocol: number;
  /** Wall time window of request starts (map dumps: their time), ms; null = open. From `from` on, */
  from: number | null;
  /** up to before `to` (a typed "to" is its millisecond's end: see main.ts readTimeInputs). */
  to: number | null;
}

export const NO_FILTERS: Filters = { namespace: "", workload: "", pod: -1, protocol: -1, from: null, to: null };

export function podSelected(data: ReportData, pod: number, f: Filters): boolean {
  const p = data.pods[pod]!;
  return (f.namespace === "" || p.namespace === f.namespace) && (f.workload === "" || p.workload === f.workload) && (f.pod < 0 || f.pod === pod);
}

export function inWindow(t: number, f: Filters): boolean {
  return (f.from === null || t >= f.from) && (f.to === null || t < f.to);
}

export interface Selection {
  /** 1 where request i is selected. */
  mask: Uint8Array;
  /** The selected indices, in start order. */
  idx: Int32Array;
}

/** The selected requests; `time` false ignores the time window. */
export function selectRequests(m: Model, f: Filters, time = true): Selection {
  const r = m.data.requests;
  const pods = m.data.pods.map((_, i) => podSelected(m.data, i, f));
  const n = r.id.length;
  const mask = new Uint8Array(n);
  const idx = new Int32Array(n);
  let k = 0;
  for (let i = 0; i < n; i++) {
    if (!pods[r.pod[i]!]) continue;
    if (f.protocol >= 0 && r.protocol[i] !== f.protocol) continue;
    if (time && !inWindow(m.t[i]!, f)) continue;
    mask[i] = 1;
    idx[k++] = i;
  }
  return { mask, idx: idx.subarray(0, k) };
}

export interface Quantiles {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export function quantiles(sorted: ArrayLike<number>): Quantiles {
  const n = sorted.length;
  return { count: n, p50: nearestRank(sorted, 50), p90: nearestRank(sorted, 90), p99: nearestRank(sorted, 99), max: n ? sorted[n - 1]! : NaN };
}

export interface PhaseStats {
  all: Quantiles;
  byPod: Quantiles[];
  byWorkload: Quantiles[];
  /** Counts by power-of-two bucket: index 0 holds 0, index 1 holds 1, index k+1 holds [2^k, 2^(k+1) − 1]. */
  log2: number[];
}

/**
 * One phase's nearest-rank quantiles over the selected requests, overall, per pod and per
 * workload, and its power-of-two histogram: two walks over the precomputed order (count,
 * then pick the values at each group's ranks), no sorting and no copies per redraw.
 */
export function phaseStats(m: Model, p: number, mask: Uint8Array): PhaseStats {
  const order = m.order[p]!;
  const values = m.dur[p]!;
  const pod = m.data.requests.pod;
  const pods = m.data.pods.length;
  const groups = 1 + pods + m.workloads.length; // 0: all, then pods, then workloads
  const count = new Int32Array(groups);
  for (let k = 0; k < order.length; k++) {
    const i = order[k]!;
    if (!mask[i]) continue;
    const pi = pod[i]!;
    count[0]! += 1;
    count[1 + pi]! += 1;
    count[1 + pods + m.podWorkload[pi]!]! += 1;
  }
  const rank = (g: number, pct: number): number => percentileRank(count[g]!, pct);
  const r50 = Int32Array.from({ length: groups }, (_, g) => rank(g, 50));
  const r90 = Int32Array.from({ length: groups }, (_, g) => rank(g, 90));
  const r99 = Int32Array.from({ length: groups }, (_, g) => rank(g, 99));
  const q: Quantiles[] = Array.from({ length: groups }, (_, g) => ({ count: count[g]!, p50: NaN, p90: NaN, p99: NaN, max: NaN }));
  const seen = new Int32Array(groups);
  const log2: number[] = [];
  let bucket = 0;
  let next = 1; // lower bound of the bucket after `bucket`
  const note = (g: number, v: number): void => {
    const n = ++seen[g]!;
    const s = q[g]!;
    if (n === r50[g]) s.p50 = v;
    if (n === r90[g]) s.p90 = v;
    if (n === r99[g]) s.p99 = v;
    if (n === count[g]) s.max = v;
  };
  for (let k = 0; k < order.length; k++) {
    const i = order[k]!;
    if (!mask[i]) continue;
    const v = values[i]!;
    while (v >= next) {
      bucket += 1;
      next = bucket === 1 ? 2 : next * 2;
    }
    log2[bucket] = (log2[bucket] ?? 0) + 1;
    const pi = pod[i]!;
    note(0, v);
    note(1 + pi, v);
    note(1 + pods + m.podWorkload[pi]!, v);
  }
  for (let b = 0; b < log2.length; b++) log2[b] ??= 0;
  return { all: q[0]!, byPod: q.slice(1, 1 + pods), byWorkload: q.slice(1 + pods), log2 };
}

/** Lower bound of a phaseStats log2 bucket. */
export function log2Lower(b: number): number {
  return b === 0 ? 0 : 2 ** (b - 1);
}
