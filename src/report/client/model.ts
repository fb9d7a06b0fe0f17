// The embedded data made ready for fast redraws, once per page: typed arrays, each phase's
// requests ordered by duration (so any selection comes out sorted by walking that order),
// and the ids' hashes for the waterfall's sample.
import type { ReportData } from "../data-types.js";
import { fnv1a, orderByValue } from "../stats.js";

export interface Model {
  data: ReportData;
  /** Phase names, then "request" (the whole request) as the last pseudo-phase. */
  names: string[];
  /** Request start, wall ms. */
  t: Float64Array;
  /** Per name: duration ns (−1 absent); the last is the whole request's. */
  dur: Float64Array[];
  /** Per phase: start offset ns from the request's start (read where dur ≥ 0). */
  start: Float64Array[];
  /** Per name: request indices by duration, absent left out. */
  order: Int32Array[];
  wakeOrder: Int32Array;
  /** Filter sub-phase entries by duration. */
  subOrder: Int32Array;
  hash: Uint32Array;
  /** Workload index of each pod, and the workloads' keys. */
  podWorkload: Int32Array;
  workloads: string[];
}

export const TOTAL = "request";

export function buildModel(data: ReportData): Model {
  const r = data.requests;
  const n = r.id.length;
  const t = new Float64Array(n);
  for (let i = 0; i < n; i++) t[i] = r.t0 + r.tUs[i]! / 1000;
  const dur: Float64Array[] = [];
  const start: Float64Array[] = [];
  const prevEnd = new Float64Array(n);
  data.phases.forEach((_, p) => {
    const d = Float64Array.from(r.phaseDur[p]!);
    const s = new Float64Array(n);
    const gap = r.phaseGap[p]!;
    for (let i = 0; i < n; i++) {
      if (d[i]! < 0) continue;
      s[i] = prevEnd[i]! + gap[i]!;
      prevEnd[i] = s[i]! + d[i]!;
    }
    dur.push(d);
    start.push(s);
  });
  dur.push(Float64Array.from(r.dur));
  const hash = new Uint32Array(n);
  for (let i = 0; i < n; i++) hash[i] = fnv1a(r.id[i]!);
  const workloads = [...new Set(data.pods.map((p) => p.workload))].sort();
  const wIndex = new Map(workloads.map((w, i) => [w, i]));
  return {
    data,
    names: [...data.phases, TOTAL],
    t,
    dur,
    start,
    order: dur.map((d) => orderByValue(d)),
    wakeOrder: orderByValue(r.wakeups),
    subOrder: orderByValue(r.subDur),
    hash,
    podWorkload: Int32Array.from(data.pods.map((p) => wIndex.get(p.workload)!)),
    workloads,
  };
}

/** A request's filter sub-phases: [name, start offset ns, duration ns] (subReq is in request order). */
export function subsOf(m: Model, i: number): [string, number, number][] {
  const r = m.data.requests;
  let lo = 0;
  let hi = r.subReq.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (r.subReq[mid]! < i) lo = mid + 1;
    else hi = mid;
  }
  const out: [string, number, number][] = [];
  for (let k = lo; k < r.subReq.length && r.subReq[k] === i; k++) out.push([r.subNames[r.subName[k]!]!, r.subStart[k]!, r.subDur[k]!]);
  return out;
}
