// Loaded records → the page's embedded data (data-types.ts). Pure. Requests are sorted by
// start time (the timeline draws them in that order).
import { REQUEST_PHASES, REQUEST_PROTOCOLS } from "../records/request-record.js";
import { clockOffsets } from "./clock.js";
import { REPORT_DATA_VERSION, type MapDumpValue, type ReportData, type ReportPod } from "./data-types.js";
import { KEPT_PROBLEMS, type Loaded } from "./load.js";
import { unrecordedOf, type OutcomeCount } from "./unrecorded.js";

/** How many problems the page lists (all are counted). */
export const PAGE_PROBLEMS = KEPT_PROBLEMS;

export function buildReportData(loaded: Loaded, generatedAt: Date): ReportData {
  const manifestPods = new Map((loaded.manifest?.pods ?? []).map((p) => [`${p.namespace}/${p.name}`, p]));
  const pods: ReportPod[] = [...loaded.pods.values()]
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((p) => {
      const m = manifestPods.get(p.key);
      const ns = p.namespace === "" ? "" : `${p.namespace}/`;
      return {
        key: p.key,
        namespace: p.namespace,
        name: p.name,
        workload: `${ns}${p.workload.name}`,
        workloadKind: p.workload.kind,
        workloadDerived: p.workload.derived,
        node: p.node,
        agentReachable: m?.agentReachable ?? null,
        errors: m?.errors ?? [],
      };
    });
  const podIndex = new Map(pods.map((p, i) => [p.key, i]));

  const offsets = clockOffsets(loaded.requests);
  // Each request's wall-clock start in whole µs, ⌊(offset + start_ns) / 1000⌋, in plain
  // numbers: the offset split into whole µs and the ns left over (µs since 1970 stay
  // below 2^53 until the year 2255). One split per process's offset.
  const split = new Map([...new Set(offsets.values())].map((ns) => [ns, [Number(ns / 1000n), Number(ns % 1000n)] as const]));
  const reqs = loaded.requests.map((r) => {
    const [us, ns] = split.get(offsets.get(r.record)!)!;
    return { record: r.record, pod: r.pod, us: us + Math.floor((ns + r.record.start_ns) / 1000) };
  });
  reqs.sort((a, b) => a.us - b.us || (a.record.id < b.record.id ? -1 : a.record.id > b.record.id ? 1 : 0));
  const firstUs = reqs[0]?.us ?? 0;
  const workers: string[] = [];
  const workerIndex = new Map<string, number>();
  const data: ReportData = {
    version: REPORT_DATA_VERSION,
    generatedAt: generatedAt.toISOString(),
    source: {
      cluster: loaded.manifest?.cluster ?? null,
      collectedAt: loaded.manifest?.collectedAt ?? null,
      since: loaded.manifest?.since ?? null,
      until: loaded.manifest?.until ?? null,
      files: loaded.files,
      lines: loaded.lines,
      problems: loaded.problemCount,
      firstProblems: loaded.problems.slice(0, PAGE_PROBLEMS),
      unrecorded: unrecordedByPod(loaded),
    },
    phases: [...REQUEST_PHASES],
    protocols: [...REQUEST_PROTOCOLS],
    workers,
    pods,
    requests: {
      id: [],
      pod: [],
      worker: [],
      protocol: [],
      stream: [],
      t0: Math.floor(firstUs / 1000),
      tUs: [],
      dur: [],
      wakeups: [],
      bytesIn: [],
      bytesOut: [],
      down: [],
      up: [],
      phaseDur: [],
      phaseGap: [],
      subNames: [],
      subReq: [],
      subName: [],
      subStart: [],
      subDur: [],
    },
    maps: { series: [], dumps: { s: [], t: [], pid: [], v: [] } },
  };
  const q = data.requests;
  const t0Us = q.t0 * 1000;
  const subIndex = new Map<string, number>();
  const n = reqs.length;
  const phaseOf: Record<string, number> = Object.fromEntries(REQUEST_PHASES.map((p, i) => [p, i]));
  q.phaseDur = REQUEST_PHASES.map(() => new Array<number>(n).fill(-1));
  q.phaseGap = REQUEST_PHASES.map(() => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    const { record: r, pod, us } = reqs[i]!;
    let w = workerIndex.get(r.worker);
    if (w === undefined) {
      w = workers.push(r.worker) - 1;
      workerIndex.set(r.worker, w);
    }
    q.id.push(r.id);
    q.pod.push(podIndex.get(pod)!);
    q.worker.push(w);
    q.protocol.push(r.protocol === "HTTP/2" ? 1 : 0);
    q.stream.push(r.stream);
    q.tUs.push(us - t0Us);
    q.dur.push(r.end_ns - r.start_ns);
    q.wakeups.push(r.wakeups);
    q.bytesIn.push(r.bytes_in);
    q.bytesOut.push(r.bytes_out);
    q.down.push(`${r.downstream.fd} ${r.downstream.peer ?? "?"}`);
    q.up.push(r.upstream === null ? null : `${r.upstream.fd} ${r.upstream.local ?? "?"}`);
    let prevEnd = r.start_ns;
    for (const ph of r.phases) {
      const p = phaseOf[ph.name]!;
      q.phaseDur[p]![i] = ph.end_ns - ph.start_ns;
      q.phaseGap[p]![i] = ph.start_ns - prevEnd;
      prevEnd = ph.end_ns;
      for (const c of ph.children ?? []) {
        let k = subIndex.get(c.name);
        if (k === undefined) {
          k = q.subNames.push(c.name) - 1;
          subIndex.set(c.name, k);
        }
        q.subReq.push(i);
        q.subName.push(k);
        q.subStart.push(c.start_ns - r.start_ns);
        q.subDur.push(c.end_ns - c.start_ns);
      }
    }
  }

  const seriesIndex = new Map<string, number>();
  const mapsSorted = loaded.maps.map((m) => ({ ...m, t: Date.parse(m.record.ts) })).sort((a, b) => a.t - b.t);
  for (const { record: m, pod, t } of mapsSorted) {
    const key = JSON.stringify([pod, m.script, m.map, m.keys]);
    let s = seriesIndex.get(key);
    if (s === undefined) {
      s = data.maps.series.push({ pod: podIndex.get(pod)!, script: m.script, map: m.map, keys: m.keys, kind: m.kind, unit: m.unit }) - 1;
      seriesIndex.set(key, s);
    }
    const d = data.maps.dumps;
    d.s.push(s);
    d.t.push(t);
    d.pid.push(m.pid);
    const v: MapDumpValue = m.buckets ? m.buckets.map((b) => [b.min, b.max, b.count]) : m.value!;
    d.v.push(v);
  }
  return data;
}


/** The manifest's pods with traced requests that have no record, sorted by key, each with its outcomes. */
export function unrecordedByPod(loaded: Pick<Loaded, "manifest">): { pod: string; outcomes: OutcomeCount[] }[] {
  return (loaded.manifest?.pods ?? [])
    .map((p) => ({ pod: `${p.namespace}/${p.name}`, outcomes: unrecordedOf(p.traceRequests) }))
    .filter((p) => p.outcomes.length > 0)
    .sort((a, b) => (a.pod < b.pod ? -1 : a.pod > b.pod ? 1 : 0));
}
