// Realistic request records for the report's tests and bench:report: several pods, each
// with Envoy workers carrying overlapping requests, phase durations drawn from skewed
// (log-normal) distributions with a slow tail, some fresh upstream connections, some
// local replies, HTTP/2 streams, per-filter sub-phases and traceparents. Deterministic for
// a seed. `ts` is the exact wall time of end_ns (nanosecond digits), so a test knows every
// request's wall-clock start.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { MapRecord } from "../../src/records/map-record.js";
import type { RequestPhase, RequestRecord } from "../../src/records/request-record.js";

export interface PodSpec {
  namespace: string;
  name: string;
  /** Boot time of the pod's node: wall ns at CLOCK_MONOTONIC 0. */
  bootWallNs: bigint;
  pid: number;
  workers: number;
}

export interface GenerateOptions {
  pods: PodSpec[];
  /** Requests in all. */
  count: number;
  seed?: number;
  /** Monotonic ns of the first request on each node. */
  firstNs?: number;
  /** Mean gap between requests of one worker, ns. */
  gapNs?: number;
}

/** mulberry32: small, fast, deterministic. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function isoOfNs(ns: bigint): string {
  const base = new Date(Number(ns / 1_000_000n)).toISOString().slice(0, 19);
  return `${base}.${String(ns % 1_000_000_000n).padStart(9, "0")}Z`;
}

export function generateRequests(opts: GenerateOptions): RequestRecord[] {
  const rnd = prng(opts.seed ?? 1);
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  const logNormal = (median: number, sigma: number): number => Math.max(1, Math.round(median * Math.exp(sigma * normal())));
  const hex = (n: number): string => Array.from({ length: n }, () => Math.floor(rnd() * 16).toString(16)).join("");
  const uuid = (): string => `${hex(8)}-${hex(4)}-4${hex(3)}-${"89ab"[Math.floor(rnd() * 4)]}${hex(3)}-${hex(12)}`;
  const workers = opts.pods.flatMap((pod) => Array.from({ length: pod.workers }, (_, w) => ({ pod, w, clock: opts.firstNs ?? 5_000_000_000, stream: 1, fd: 40 + w * 100 })));
  const out: RequestRecord[] = [];
  for (let n = 0; n < opts.count; n++) {
    const wk = workers[Math.floor(rnd() * workers.length)]!;
    wk.clock += logNormal(opts.gapNs ?? 400_000, 1);
    const h2 = rnd() < 0.3;
    const local = rnd() < 0.03;
    const fresh = !local && rnd() < 0.08;
    const phases: RequestPhase[] = [];
    let t = wk.clock;
    const add = (name: RequestPhase["name"], dur: number): RequestPhase => {
      const p: RequestPhase = { name, start_ns: t, end_ns: t + dur };
      phases.push(p);
      t += dur;
      return p;
    };
    add("downstream_read", logNormal(8_000, 0.5));
    add("codec", logNormal(4_000, 0.4));
    const filters = add("filters", 0);
    const filterStart = filters.start_ns;
    let ft = filterStart;
    const children: RequestPhase["children"] = [];
    for (const f of ["ext_authz decodeHeaders", "ratelimit decodeHeaders", "cors decodeHeaders"]) {
      const d = f.startsWith("ext_authz") ? logNormal(30_000, 1) : logNormal(2_000, 0.5);
      children.push({ name: f, start_ns: ft, end_ns: ft + d });
      ft += d;
    }
    filters.end_ns = ft + logNormal(1_000, 0.3);
    filters.children = children;
    t = filters.end_ns;
    add("router", logNormal(3_000, 0.4));
    if (!local) {
      if (fresh) add("upstream_connect", logNormal(150_000, 0.7));
      add("upstream_write", logNormal(6_000, 0.5));
      add("upstream_wait", rnd() < 0.01 ? logNormal(40_000_000, 0.8) : logNormal(900_000, 0.9));
      add("upstream_read", logNormal(9_000, 0.5));
    }
    add("downstream_write", logNormal(7_000, 0.5));
    const start = wk.clock;
    const end = t + logNormal(500, 0.3);
    const wait = phases.find((p) => p.name === "upstream_wait");
    const wakeups = 2 + (fresh ? 1 : 0) + (wait ? Math.min(60, Math.floor((wait.end_ns - wait.start_ns) / 400_000)) : 0) + Math.floor(rnd() * 2);
    const wallEnd = wk.pod.bootWallNs + BigInt(end);
    const rec: RequestRecord = {
      kind: "request",
      ts: isoOfNs(wallEnd),
      script: "envoy-request-trace",
      pod: `${wk.pod.namespace}/${wk.pod.name}`,
      pid: wk.pod.pid,
      worker: `wrk:worker_${wk.w}`,
      id: uuid(),
      protocol: h2 ? "HTTP/2" : "HTTP/1.1",
      stream: h2 ? (wk.stream += 2) : null,
      downstream: { fd: wk.fd + Math.floor(rnd() * 64), local: "10.1.0.7:15006", peer: `10.1.${Math.floor(rnd() * 200)}.${Math.floor(rnd() * 250)}:${30000 + Math.floor(rnd() * 30000)}` },
      upstream: local ? null : { fd: wk.fd + 64 + Math.floor(rnd() * 4), local: `127.0.0.6:${40000 + Math.floor(rnd() * 20000)}`, peer: "10.1.0.7:8080" },
      start_ns: start,
      end_ns: end,
      wakeups,
      bytes_in: 300 + Math.floor(rnd() * 2000),
      bytes_out: 500 + Math.floor(rnd() * 20000),
      phases,
    };
    if (rnd() < 0.05) rec.traceparent = `00-${hex(32)}-${hex(16)}-01`;
    out.push(rec);
    // The worker moves on once the request is parsed and routed: others overlap its wait.
    wk.clock = (phases.find((p) => p.name === "router")?.end_ns ?? end) + 1;
  }
  return out;
}

/**
 * Map records of one pod as the agent writes them every interval: a latency histogram per
 * phase (envoy-request-flow) and a wake-up count per worker (envoy-event-loop).
 */
export function generateMapRecords(pod: PodSpec, dumps: number, firstWallMs: number, seed = 1): (MapRecord & { pod: string })[] {
  const rnd = prng(seed);
  const out: (MapRecord & { pod: string })[] = [];
  for (let d = 0; d < dumps; d++) {
    const ts = new Date(firstWallMs + d * 10_000).toISOString();
    for (const phase of ["read_to_dispatch", "dispatch_to_filters", "router_to_upstream"]) {
      const buckets = [];
      for (let k = 10; k <= 17; k++) buckets.push({ min: 2 ** k, max: 2 ** (k + 1) - 1, count: Math.floor(rnd() * 50) });
      out.push({ pod: `${pod.namespace}/${pod.name}`, ts, script: "envoy-request-flow", map: "@request_phase_ns", keys: [phase], kind: "hist", unit: "ns", pid: pod.pid, buckets });
    }
    for (let w = 0; w < pod.workers; w++) {
      out.push({ pod: `${pod.namespace}/${pod.name}`, ts, script: "envoy-event-loop", map: "@loop_wakeups", keys: [`wrk:worker_${w}`], kind: "count", unit: "count", pid: pod.pid, value: 100 + Math.floor(rnd() * 100) });
    }
  }
  return out;
}

/**
 * Writes records as a `hookpoint collect` folder holds them:
 * DIR/<ns>/<pod>/envoy-request-trace.ndjson and one file per script for map records.
 */
export function writeCollectLayout(dir: string, records: readonly RequestRecord[], manifest?: unknown, maps: readonly (MapRecord & { pod: string })[] = []): void {
  const files = new Map<string, string[]>();
  const add = (pod: string, script: string, line: string): void => {
    const path = join(dir, ...pod.split("/"), `${script}.ndjson`);
    const list = files.get(path) ?? [];
    list.push(line);
    files.set(path, list);
  };
  for (const r of records) add(r.pod!, r.script, JSON.stringify(r));
  for (const { pod, ...m } of maps) add(pod, m.script, JSON.stringify(m));
  for (const [path, lines] of files) {
    mkdirSync(join(path, ".."), { recursive: true });
    writeFileSync(path, lines.join("\n") + "\n");
  }
  if (manifest !== undefined) writeFileSync(join(dir, "manifest.json"), JSON.stringify(manifest, null, 2));
}
