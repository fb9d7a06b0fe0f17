// Which requests and map series the filters select, and the figures over them.
import type { ReportData } from "../data-types.js";
import { nearestRank } from "../stats.js";
import type { Model } from "./model.js";

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

export interface PhaseLists {
  all: number[];
  byPod: number[][];
  byWorkload: number[][];
}

/**
 * One phase's selected durations in ascending order: all of them, per pod and per
 * workload, by one walk over the precomputed order (no sorting per redraw).
 */
export function phaseLists(m: Model, p: number, mask: Uint8Array): PhaseLists {
  const order = m.order[p]!;
  const values = m.dur[p]!;
  const pod = m.data.requests.pod;
  const out: PhaseLists = { all: [], byPod: m.data.pods.map(() => []), byWorkload: m.workloads.map(() => []) };
  for (let k = 0; k < order.length; k++) {
    const i = order[k]!;
    if (!mask[i]) continue;
    const v = values[i]!;
    const pi = pod[i]!;
    out.all.push(v);
    out.byPod[pi]!.push(v);
    out.byWorkload[m.podWorkload[pi]!]!.push(v);
  }
  return out;
}
