// The Perfetto (Chrome Trace Event JSON) export: pinned by a golden file, and checked
// against the Trace Event format's rules on a realistic record set.
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { toRequestRecord } from "../../../src/records/request-record.js";
import { clockOffsets } from "../../../src/report/clock.js";
import type { LoadedRequest, PodInfo } from "../../../src/report/load.js";
import { perfettoJsonChunks, perfettoStream, type TraceEvent } from "../../../src/report/perfetto.js";
import { workloadFromPodName } from "../../../src/report/workload.js";
import { expectGoldenText } from "../../support/golden.js";
import { GOLDEN_LOADED, GOLDEN_PODS, GOLDEN_RECORDS } from "../../support/golden-requests.js";
import { generateRequests } from "../../support/request-records.js";

/** The whole trace in memory (writePerfetto streams it). */
function perfettoTrace(requests: readonly LoadedRequest[], pods: ReadonlyMap<string, PodInfo>): { origin: bigint; events: TraceEvent[] } {
  const { origin, events } = perfettoStream(requests, pods);
  return { origin, events: [...events] };
}

const golden = (name: string): string => fileURLToPath(new URL(`./golden/${name}`, import.meta.url));

function realistic(): { requests: LoadedRequest[]; pods: Map<string, PodInfo> } {
  const specs = [
    { namespace: "shop", name: "cart-7d9f8b6c5d-x2x4z", bootWallNs: 1_738_300_000_000_000_000n, pid: 4242, workers: 2 },
    { namespace: "web", name: "frontend-0", bootWallNs: 1_738_300_000_700_000_000n, pid: 17, workers: 3 },
  ];
  const records = generateRequests({ pods: specs, count: 600, seed: 11 });
  const pods = new Map(specs.map((s) => [`${s.namespace}/${s.name}`, { key: `${s.namespace}/${s.name}`, namespace: s.namespace, name: s.name, workload: workloadFromPodName(s.name), node: null }]));
  return { requests: records.map((record) => ({ record, pod: record.pod! })), pods };
}

describe("Perfetto export", () => {
  it("leaves out bytes_in where the record's 0 means not known (HTTP/2), and keeps it where it was read", () => {
    const h1 = GOLDEN_LOADED[0]!;
    const h2 = { ...h1, record: { ...h1.record, id: "h2-post", protocol: "HTTP/2" as const, stream: 9, bytes_in: 0, bytes_out: 57 } };
    const { events } = perfettoTrace([h1, h2], GOLDEN_PODS);
    const bytes = (id: string): Record<string, unknown> => {
      const args = events.find((e) => e.cat === "request" && e.args?.id === id)!.args!;
      return Object.fromEntries(Object.entries(args).filter(([k]) => k.startsWith("bytes_")));
    };
    expect(bytes("h2-post")).toEqual({ bytes_out: 57 });
    expect(bytes(h1.record.id)).toEqual({ bytes_in: 412, bytes_out: h1.record.bytes_out });
  });

  it("golden records are valid request records", () => {
    for (const r of GOLDEN_RECORDS) expect(toRequestRecord(JSON.parse(JSON.stringify(r)))).toEqual(r);
  });

  it("matches the golden trace for the small record set", () => {
    const text = [...perfettoJsonChunks(perfettoTrace(GOLDEN_LOADED, GOLDEN_PODS))].join("");
    JSON.parse(text); // one JSON document
    expectGoldenText(golden("perfetto.json"), text);
  });

  it("places every phase at its exact wall-clock time, on lanes of its worker", () => {
    const { events, origin } = perfettoTrace(GOLDEN_LOADED, GOLDEN_PODS);
    // Node A's monotonic 0 is 12:00:00Z; node B's 12:00:00.5Z. The earliest start is req-4's.
    expect(origin).toBe(1738324800000000000n + 500_000_000n + 9_500_000_000n);
    const x = events.filter((e) => e.ph === "X");
    const router1 = x.find((e) => e.name === "router" && e.args?.id === "4bf92f35-77b3-4da6-a3ce-929d0e0e4736")!;
    // Both nodes map to one wall clock: router at A+10.00106 s, origin at A+0.5 s+9.5 s.
    expect(router1.ts).toBe((10_001_060_000 - (500_000_000 + 9_500_000_000)) / 1000);
    expect(router1.dur).toBe(10);
    // req-2 starts while req-1 waits: the worker's second lane.
    const names = new Map(events.filter((e) => e.ph === "M" && e.name === "thread_name").map((e) => [`${e.pid}/${e.tid}`, e.args!.name]));
    const req2 = x.find((e) => e.name === "request req-2")!;
    expect(names.get(`${req2.pid}/${req2.tid}`)).toBe("wrk:worker_0 #2");
    const req1 = x.find((e) => e.name === "request 4bf92f35-77b3-4da6-a3ce-929d0e0e4736")!;
    expect(names.get(`${req1.pid}/${req1.tid}`)).toBe("wrk:worker_0");
    // The response-path filter callback lies outside `filters`: it nests in the request.
    const cors = x.find((e) => e.name === "cors encodeHeaders")!;
    expect(cors.tid).toBe(req1.tid);
  });

  it("follows the Trace Event format: required fields, metadata, flows, perfect nesting", () => {
    const { requests, pods } = realistic();
    const trace = perfettoTrace(requests, pods);
    const text = [...perfettoJsonChunks(trace)].join("");
    const doc = JSON.parse(text) as { traceEvents: TraceEvent[]; otherData: { wallTimeOrigin: string } };
    expect(Object.keys(doc)).toEqual(["traceEvents", "otherData"]);
    expect(text).not.toContain("displayTimeUnit");
    const ev = doc.traceEvents;
    const processNames = new Map<number, string>();
    const threadNames = new Map<string, string>();
    for (const e of ev) {
      expect(["X", "M", "s", "f"]).toContain(e.ph);
      expect(Number.isInteger(e.pid) && e.pid > 0).toBe(true);
      expect(Number.isInteger(e.tid) && e.tid >= 0).toBe(true);
      expect(typeof e.name).toBe("string");
      // ph then ts lead every event (Perfetto's tokenizer reads keys in order to find ts).
      expect(Object.keys(e).slice(0, e.ph === "M" ? 1 : 2)).toEqual(e.ph === "M" ? ["ph"] : ["ph", "ts"]);
      if (e.ph === "M") {
        if (e.name === "process_name") processNames.set(e.pid, e.args!.name as string);
        if (e.name === "thread_name") threadNames.set(`${e.pid}/${e.tid}`, e.args!.name as string);
        continue;
      }
      expect(typeof e.ts).toBe("number");
      expect(e.ts!).toBeGreaterThanOrEqual(0);
      if (e.ph === "X") {
        expect(typeof e.dur).toBe("number");
        expect(e.dur!).toBeGreaterThanOrEqual(0);
      } else {
        expect(Number.isInteger(e.id)).toBe(true);
        expect(e.cat).toBe("flow");
        if (e.ph === "f") expect(e.bp).toBe("e");
      }
      expect(threadNames.has(`${e.pid}/${e.tid}`)).toBe(true);
    }
    expect([...processNames.values()].sort()).toEqual(["shop/cart-7d9f8b6c5d-x2x4z", "web/frontend-0"]);
    // One thread per worker (its first lane carries the worker's own name).
    expect(new Set([...threadNames.values()].filter((n) => !n.includes("#")))).toEqual(new Set(["wrk:worker_0", "wrk:worker_1", "wrk:worker_2"]));

    // Flows: each id has one start and one end, same name and category.
    const flows = new Map<number, TraceEvent[]>();
    for (const e of ev.filter((f) => f.ph === "s" || f.ph === "f")) flows.set(e.id!, [...(flows.get(e.id!) ?? []), e]);
    for (const pair of flows.values()) {
      expect(pair.map((p) => p.ph)).toEqual(["s", "f"]);
      expect(pair[0]!.name).toBe(pair[1]!.name);
      expect(pair[0]!.ts!).toBeLessThanOrEqual(pair[1]!.ts!);
    }
    const withUpstream = requests.filter((r) => r.record.upstream !== null).length;
    expect(flows.size).toBe(withUpstream * 2);

    // On each thread, slices nest perfectly (no partial overlap), as the format requires.
    const byThread = new Map<string, TraceEvent[]>();
    for (const e of ev.filter((s) => s.ph === "X")) byThread.set(`${e.pid}/${e.tid}`, [...(byThread.get(`${e.pid}/${e.tid}`) ?? []), e]);
    const ns = (us: number): number => Math.round(us * 1000);
    for (const slices of byThread.values()) {
      const sorted = [...slices].sort((a, b) => ns(a.ts!) - ns(b.ts!) || ns(b.dur!) - ns(a.dur!));
      const stack: [number, number][] = [];
      for (const s of sorted) {
        const start = ns(s.ts!);
        const end = start + ns(s.dur!);
        while (stack.length && stack.at(-1)![1] <= start && !(start === end && stack.at(-1)![1] === start)) stack.pop();
        if (stack.length) expect(end, `slice ${s.name} at ${s.ts} crosses its parent's end`).toBeLessThanOrEqual(stack.at(-1)![1]);
        stack.push([start, end]);
      }
    }

    // Every phase of every request is a slice with its exact duration and wall-clock start.
    const offsets = clockOffsets(requests);
    const slices = new Map(ev.filter((e) => e.ph === "X" && e.cat === "phase").map((e) => [`${e.args!.id}/${e.name}`, e]));
    let phases = 0;
    for (const r of requests) {
      for (const p of r.record.phases) {
        const s = slices.get(`${r.record.id}/${p.name}`)!;
        expect(ns(s.dur!)).toBe(p.end_ns - p.start_ns);
        expect(ns(s.ts!)).toBe(Number(offsets.get(r.record)! + BigInt(p.start_ns) - trace.origin));
        phases += 1;
      }
    }
    expect(phases).toBe(requests.reduce((n, r) => n + r.record.phases.length, 0));
  });
});
