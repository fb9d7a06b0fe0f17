// The page's selection figures (pure code, run here in Node): the quantiles it shows are
// nearest-rank over exactly the selected requests, overall, per pod and per workload.
import { describe, expect, it } from "vitest";
import { REQUEST_PHASES } from "../../../src/records/request-record.js";
import { buildReportData } from "../../../src/report/data.js";
import type { Loaded, PodInfo } from "../../../src/report/load.js";
import { buildModel } from "../../../src/report/client/model.js";
import { NO_FILTERS, phaseStats, selectRequests } from "../../../src/report/client/select.js";
import { nearestRank } from "../../../src/report/stats.js";
import { workloadFromPodName } from "../../../src/report/workload.js";
import { generateRequests, type PodSpec } from "../../support/request-records.js";

const specs: PodSpec[] = [
  { namespace: "shop", name: "cart-7d9f8b6c5d-x2x4z", bootWallNs: 1_738_300_000_000_000_000n, pid: 1, workers: 2 },
  { namespace: "shop", name: "cart-7d9f8b6c5d-b7k2p", bootWallNs: 1_738_300_000_000_000_000n, pid: 2, workers: 1 },
  { namespace: "web", name: "frontend-0", bootWallNs: 1_738_300_000_000_000_000n, pid: 3, workers: 1 },
];
const records = generateRequests({ pods: specs, count: 900, seed: 5 });
const pods = new Map<string, PodInfo>(specs.map((s) => [`${s.namespace}/${s.name}`, { key: `${s.namespace}/${s.name}`, namespace: s.namespace, name: s.name, workload: workloadFromPodName(s.name), node: null }]));
const loaded: Loaded = { manifest: null, pods, requests: records.map((record) => ({ record, pod: record.pod! })), maps: [], files: 1, lines: records.length, problems: [], problemCount: 0 };
const model = buildModel(JSON.parse(JSON.stringify(buildReportData(loaded, new Date(0)))));

const sortedNs = (values: number[]): number[] => [...values].sort((a, b) => a - b);
const q = (values: number[]): { count: number; p50: number; p90: number; p99: number; max: number } => {
  const s = sortedNs(values);
  return { count: s.length, p50: nearestRank(s, 50), p90: nearestRank(s, 90), p99: nearestRank(s, 99), max: s.length ? s[s.length - 1]! : NaN };
};

describe("page figures", () => {
  it("give every phase's nearest-rank quantiles overall, per pod and per workload", () => {
    const { mask } = selectRequests(model, { ...NO_FILTERS, protocol: 1 }); // HTTP/2 only
    const h2 = records.filter((r) => r.protocol === "HTTP/2");
    REQUEST_PHASES.forEach((phase, p) => {
      const durs = (rs: typeof records): number[] => rs.flatMap((r) => r.phases.filter((x) => x.name === phase).map((x) => x.end_ns - x.start_ns));
      const st = phaseStats(model, p, mask);
      expect(st.all).toEqual(q(durs(h2)));
      model.data.pods.forEach((pod, i) => expect(st.byPod[i]).toEqual(q(durs(h2.filter((r) => r.pod === pod.key)))));
      const w = model.workloads.indexOf("shop/cart");
      expect(st.byWorkload[w]).toEqual(q(durs(h2.filter((r) => r.pod!.startsWith("shop/cart-")))));
    });
    const total = phaseStats(model, REQUEST_PHASES.length, mask);
    expect(total.all).toEqual(q(h2.map((r) => r.end_ns - r.start_ns)));
  });

  it("count durations in bpftrace's power-of-two buckets", () => {
    const { mask } = selectRequests(model, NO_FILTERS);
    const p = REQUEST_PHASES.indexOf("upstream_wait");
    const { log2 } = phaseStats(model, p, mask);
    const waits = records.flatMap((r) => r.phases.filter((x) => x.name === "upstream_wait").map((x) => x.end_ns - x.start_ns));
    // Bucket k+1 holds [2^k, 2^(k+1) − 1], as bpftrace's hist() prints.
    const expected: number[] = new Array<number>(log2.length).fill(0);
    for (const v of waits) expected[v === 0 ? 0 : Math.floor(Math.log2(v)) + 1]! += 1;
    expect(log2).toEqual(expected);
    expect(log2.reduce((a, b) => a + b, 0)).toBe(waits.length);
  });
});
