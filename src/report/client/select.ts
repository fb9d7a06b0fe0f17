// Which requests and map series the filters select, and the figures over them.
import type { ReportData } from "../data-types.js";
import { nearestRank } from "../stats.js";

export interface Filters {
  namespace: string;
  workload: string;
  /** Pod index, −1 for all. */
  pod: number;
  /** Protocol index, −1 for all. */
  protocol: number;
  /** Wall time window of request starts (map dumps: their time), ms; null = open. */
  from: number | null;
  to: number | null;
}

export const NO_FILTERS: Filters = { namespace: "", workload: "", pod: -1, protocol: -1, from: null, to: null };

export function podSelected(data: ReportData, pod: number, f: Filters): boolean {
  const p = data.pods[pod]!;
  return (f.namespace === "" || p.namespace === f.namespace) && (f.workload === "" || p.workload === f.workload) && (f.pod < 0 || f.pod === pod);
}

export function inWindow(t: number, f: Filters): boolean {
  return (f.from === null || t >= f.from) && (f.to === null || t <= f.to);
}

/** Indices of the selected requests, in start order; `time` false ignores the window. */
export function selectRequests(data: ReportData, f: Filters, time = true): Int32Array {
  const r = data.requests;
  const pods = data.pods.map((_, i) => podSelected(data, i, f));
  const out = new Int32Array(r.id.length);
  let n = 0;
  for (let i = 0; i < r.id.length; i++) {
    if (!pods[r.pod[i]!]) continue;
    if (f.protocol >= 0 && r.protocol[i] !== f.protocol) continue;
    if (time && !inWindow(r.t[i]!, f)) continue;
    out[n++] = i;
  }
  return out.subarray(0, n);
}

export interface Quantiles {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Values sorted ascending (a typed array sorts numerically). */
export function sortedOf(values: ArrayLike<number>, idx: ArrayLike<number>, skipNegative = true): Float64Array {
  const out = new Float64Array(idx.length);
  let n = 0;
  for (let k = 0; k < idx.length; k++) {
    const v = values[idx[k]!]!;
    if (skipNegative && v < 0) continue;
    out[n++] = v;
  }
  return out.subarray(0, n).sort();
}

export function quantiles(sorted: Float64Array): Quantiles {
  return { count: sorted.length, p50: nearestRank(sorted, 50), p90: nearestRank(sorted, 90), p99: nearestRank(sorted, 99), max: sorted.length ? sorted[sorted.length - 1]! : NaN };
}
