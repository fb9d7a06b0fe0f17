// Loaded records → the page's embedded data (data-types.ts). Pure. Requests are sorted by
// start time (the timeline draws them in that order).
import { REQUEST_PHASES, REQUEST_PROTOCOLS, type RequestRecord, type SocketEnds } from "../records/request-record.js";
import { clockKey, clockOffsets } from "./clock.js";
import { REPORT_DATA_VERSION, type MapDumpValue, type ReportData, type ReportPod } from "./data-types.js";
import type { Loaded } from "./load.js";

/** How many problems the page lists (all are counted). */
export const PAGE_PROBLEMS = 100;

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

  const offsets = clockOffsets(
    loaded.requests.map((r) => ({ ts: r.record.ts, end_ns: r.record.end_ns, pid: r.record.pid, pod: r.pod })),
    (r) => r.pod,
  );
  const wallStartMs = (rec: RequestRecord, pod: string): number => {
    const off = offsets.get(clockKey(pod, rec.pid))!;
    return Number((off + BigInt(rec.start_ns)) / 1000n) / 1000;
  };
  const reqs = loaded.requests.map((r) => ({ ...r, t: wallStartMs(r.record, r.pod) }));
  reqs.sort((a, b) => a.t - b.t || (a.record.id < b.record.id ? -1 : a.record.id > b.record.id ? 1 : 0));

  const workers: string[] = [];
  const workerIndex = new Map<string, number>();
  const phaseIndex = new Map<string, number>(REQUEST_PHASES.map((p, i) => [p, i]));
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
      problems: loaded.problems.length,
      firstProblems: loaded.problems.slice(0, PAGE_PROBLEMS),
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
      t: [],
      dur: [],
      wakeups: [],
      bytesIn: [],
      bytesOut: [],
      down: [],
      up: [],
      phaseStart: REQUEST_PHASES.map(() => []),
      phaseDur: REQUEST_PHASES.map(() => []),
      sub: [],
    },
    maps: { series: [], dumps: { s: [], t: [], pid: [], v: [] } },
  };
  const q = data.requests;
  reqs.forEach(({ record: r, pod, t }, i) => {
    let w = workerIndex.get(r.worker);
    if (w === undefined) {
      w = workers.push(r.worker) - 1;
      workerIndex.set(r.worker, w);
    }
    q.id.push(r.id);
    q.pod.push(podIndex.get(pod)!);
    q.worker.push(w);
    q.protocol.push(REQUEST_PROTOCOLS.indexOf(r.protocol));
    q.stream.push(r.stream);
    q.t.push(t);
    q.dur.push(r.end_ns - r.start_ns);
    q.wakeups.push(r.wakeups);
    q.bytesIn.push(r.bytes_in);
    q.bytesOut.push(r.bytes_out);
    q.down.push(connection(r.downstream, "peer"));
    q.up.push(r.upstream === null ? null : connection(r.upstream, "local"));
    for (let p = 0; p < REQUEST_PHASES.length; p++) {
      q.phaseStart[p]!.push(-1);
      q.phaseDur[p]!.push(-1);
    }
    for (const ph of r.phases) {
      const p = phaseIndex.get(ph.name)!;
      q.phaseStart[p]![i] = ph.start_ns - r.start_ns;
      q.phaseDur[p]![i] = ph.end_ns - ph.start_ns;
      for (const c of ph.children ?? []) q.sub.push([i, c.name, c.start_ns - r.start_ns, c.end_ns - c.start_ns]);
    }
  });

  const seriesIndex = new Map<string, number>();
  const mapsSorted = [...loaded.maps].sort((a, b) => Date.parse(a.record.ts) - Date.parse(b.record.ts));
  for (const { record: m, pod, cumulative } of mapsSorted) {
    const key = JSON.stringify([pod, m.script, m.map, m.keys]);
    let s = seriesIndex.get(key);
    if (s === undefined) {
      s = data.maps.series.push({ pod: podIndex.get(pod)!, script: m.script, map: m.map, keys: m.keys, kind: m.kind, unit: m.unit, cumulative }) - 1;
      seriesIndex.set(key, s);
    }
    const d = data.maps.dumps;
    d.s.push(s);
    d.t.push(Date.parse(m.ts));
    d.pid.push(m.pid);
    const v: MapDumpValue = m.buckets ? m.buckets.map((b) => [b.min, b.max, b.count]) : m.value!;
    d.v.push(v);
  }
  return data;
}

/** The far end as the user's logs would show it: the client for downstream, our source port upstream. */
function connection(ends: SocketEnds, side: "peer" | "local"): string {
  const addr = side === "peer" ? `${ends.local ?? "?"} ← ${ends.peer ?? "?"}` : `${ends.local ?? "?"} → ${ends.peer ?? "?"}`;
  return `fd ${ends.fd} ${addr}`;
}
