// Request records → Chrome Trace Event JSON (loads in Perfetto UI and chrome://tracing).
//
// One process per pod (process_name = "namespace/pod"), one thread per Envoy worker
// (thread_name = "wrk:worker_0"). Each request is a complete slice ("X") named
// "request <id>" with a nested slice per phase, and its per-filter sub-phases inside
// `filters` where they fit. Flow arrows ("s" → "f") go from the request's last downstream
// phase to its first upstream phase, and from the upstream read to the downstream write.
//
// The format allows only perfectly nested slices on one thread, but one Envoy worker
// carries many requests at once (it serves others while one waits for its upstream). So a
// worker's requests are packed into lanes: lane 1 is the thread "wrk:worker_0", further
// lanes are threads "wrk:worker_0 #2", "#3", … of the same process, each holding requests
// that do not overlap. A slice that still cannot nest (a phase overlapping its sibling)
// goes to a lane of its own rather than being cut.
//
// Times are µs (ns in the fraction) from the earliest request's wall-clock start, written
// as `otherData.wallTimeOrigin`; each process's monotonic clock is placed with clock.ts.
// No `displayTimeUnit`: Perfetto reads "ns" there as the unit of every ts.
// Pure apart from writePerfetto.
import { createWriteStream } from "node:fs";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { RequestPhaseName, RequestRecord } from "../records/request-record.js";
import { clockOffsets, unixNsToIso } from "./clock.js";
import type { LoadedRequest, PodInfo } from "./load.js";

/**
 * One event. Keys are written in this order, ph and ts first: Perfetto's JSON tokenizer
 * finds an event's ts by reading its keys in order, and gives up at a value holding an
 * array or a \u escape (an odd request id could need one), so nothing may come before ts.
 */
export interface TraceEvent {
  ph: "X" | "M" | "s" | "f";
  ts?: number;
  dur?: number;
  pid: number;
  tid: number;
  id?: number;
  bp?: "e";
  name: string;
  cat?: string;
  args?: Record<string, unknown>;
}

/** The request-side phases a downstream → upstream arrow leaves from (last present wins). */
const FLOW_FROM: RequestPhaseName[] = ["downstream_read", "codec", "filters", "router"];
/** … and arrives at (first present wins). */
const FLOW_TO: RequestPhaseName[] = ["upstream_connect", "upstream_write"];

interface Item {
  start: bigint;
  end: bigint;
  depth: number;
  /** The request this item belongs to, and its ancestors (request first). */
  request: number;
  ancestors: Item[];
  name: string;
  args: Record<string, unknown>;
  tid: number;
}

interface Lane {
  tid: number;
  stack: Item[];
}

/** The origin, and the events one worker at a time (a worker's lanes need all its requests). */
export function perfettoStream(requests: readonly LoadedRequest[], pods: ReadonlyMap<string, PodInfo>): { origin: bigint; events: Iterable<TraceEvent> } {
  const offsets = clockOffsets(requests);
  const wall = (r: LoadedRequest, ns: number): bigint => offsets.get(r.record)! + BigInt(ns);
  let origin: bigint | null = null;
  for (const r of requests) {
    const s = wall(r, r.record.start_ns);
    if (origin === null || s < origin) origin = s;
  }
  return { origin: origin ?? 0n, events: traceEvents(requests, pods, wall, origin ?? 0n) };
}

function* traceEvents(requests: readonly LoadedRequest[], pods: ReadonlyMap<string, PodInfo>, wall: (r: LoadedRequest, ns: number) => bigint, origin: bigint): Generator<TraceEvent> {
  const us = (ns: bigint): number => Number(ns - origin) / 1000;
  let events: TraceEvent[] = [];
  const podKeys = [...new Set(requests.map((r) => r.pod))].sort();
  let flowId = 0;
  for (const [podIdx, podKey] of podKeys.entries()) {
    const pid = podIdx + 1;
    const pod = pods.get(podKey);
    events.push({ ph: "M", pid, tid: 0, name: "process_name", args: { name: podKey } });
    events.push({ ph: "M", pid, tid: 0, name: "process_sort_index", args: { sort_index: pid } });
    if (pod) events.push({ ph: "M", pid, tid: 0, name: "process_labels", args: { labels: `${pod.workload.kind} ${pod.workload.name}` } });
    const ofPod = requests.filter((r) => r.pod === podKey);
    const workers = [...new Set(ofPod.map((r) => r.record.worker))].sort(naturalOrder);
    let nextTid = 1;
    for (const worker of workers) {
      const reqs = ofPod.filter((r) => r.record.worker === worker);
      const lanes: Lane[] = [];
      const newLane = (): Lane => {
        const lane: Lane = { tid: nextTid++, stack: [] };
        const name = lanes.length === 0 ? worker : `${worker} #${lanes.length + 1}`;
        events.push({ ph: "M", pid, tid: lane.tid, name: "thread_name", args: { name } });
        events.push({ ph: "M", pid, tid: lane.tid, name: "thread_sort_index", args: { sort_index: lane.tid } });
        lanes.push(lane);
        return lane;
      };
      const items: Item[] = [];
      const phaseItems = new Map<number, Map<string, Item>>();
      reqs.forEach((r, k) => {
        const rec = r.record;
        const root: Item = { start: wall(r, rec.start_ns), end: wall(r, rec.end_ns), depth: 0, request: k, ancestors: [], name: `request ${rec.id}`, args: requestArgs(rec), tid: 0 };
        items.push(root);
        const byName = new Map<string, Item>();
        phaseItems.set(k, byName);
        for (const ph of rec.phases) {
          const item: Item = { start: wall(r, ph.start_ns), end: wall(r, ph.end_ns), depth: 1, request: k, ancestors: [root], name: ph.name, args: { id: rec.id }, tid: 0 };
          items.push(item);
          byName.set(ph.name, item);
          for (const c of ph.children ?? []) {
            const start = wall(r, c.start_ns);
            const end = wall(r, c.end_ns);
            // Sub-phases on the response path (encode*) lie outside `filters`: under the request then.
            const inside = start >= item.start && end <= item.end;
            items.push({ start, end, depth: inside ? 2 : 1, request: k, ancestors: inside ? [root, item] : [root], name: c.name, args: { id: rec.id, filter: true }, tid: 0 });
          }
        }
      });
      items.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : a.end > b.end ? -1 : a.end < b.end ? 1 : a.depth - b.depth || a.request - b.request));
      for (const item of items) {
        const lane = lanes.find((l) => fits(l, item)) ?? lanes.find((l) => l.stack.length === 0) ?? newLane();
        lane.stack.push(item);
        item.tid = lane.tid;
        events.push({ ph: "X", ts: us(item.start), dur: Number(item.end - item.start) / 1000, pid, tid: item.tid, name: item.name, cat: item.depth === 0 ? "request" : "phase", args: item.args });
      }
      reqs.forEach((r, k) => {
        const byName = phaseItems.get(k)!;
        const flows: [string, Item | undefined, Item | undefined][] = [
          ["downstream → upstream", lastOf(byName, FLOW_FROM), FLOW_TO.map((n) => byName.get(n)).find(Boolean)],
          ["upstream → downstream", byName.get("upstream_read"), byName.get("downstream_write")],
        ];
        for (const [name, from, to] of flows) {
          if (!from || !to) continue;
          flowId += 1;
          events.push({ ph: "s", ts: us(mid(from)), pid, tid: from.tid, id: flowId, name, cat: "flow", args: { id: r.record.id } });
          events.push({ ph: "f", ts: us(mid(to)), pid, tid: to.tid, id: flowId, bp: "e", name, cat: "flow", args: { id: r.record.id } });
        }
      });
      yield* events;
      events = [];
    }
  }
}

/** Whether `item` nests on this lane: under one of its own ancestors, or alone for a request. */
function fits(lane: Lane, item: Item): boolean {
  // Close what ended before the item starts; a zero-length item at its parent's very end
  // still nests in it.
  for (let top = lane.stack.at(-1); top && closedBefore(top, item); top = lane.stack.at(-1)) lane.stack.pop();
  const top = lane.stack.at(-1);
  if (!top) return item.depth === 0;
  return item.ancestors.includes(top) && top.end >= item.end;
}

function closedBefore(open: Item, item: Item): boolean {
  if (open.end < item.start) return true;
  return open.end === item.start && !(item.start === item.end && item.ancestors.includes(open));
}

function lastOf(byName: Map<string, Item>, names: RequestPhaseName[]): Item | undefined {
  for (let i = names.length - 1; i >= 0; i--) {
    const item = byName.get(names[i]!);
    if (item) return item;
  }
  return undefined;
}

function mid(item: Item): bigint {
  return item.start + (item.end - item.start) / 2n;
}

function requestArgs(rec: RequestRecord): Record<string, unknown> {
  return {
    id: rec.id,
    protocol: rec.protocol,
    ...(rec.stream === null ? {} : { stream: rec.stream }),
    worker: rec.worker,
    pid: rec.pid,
    wakeups: rec.wakeups,
    // 0 is the agent's "not known" (HTTP/2, a head read in pieces), not a request of 0 bytes.
    ...(rec.bytes_in > 0 ? { bytes_in: rec.bytes_in } : {}),
    bytes_out: rec.bytes_out,
    downstream: rec.downstream,
    upstream: rec.upstream,
    ...(rec.traceparent ? { traceparent: rec.traceparent } : {}),
  };
}

/** wrk:worker_2 before wrk:worker_10. */
function naturalOrder(a: string, b: string): number {
  return a.localeCompare(b, "en", { numeric: true });
}

/** The trace file's JSON text, in pieces (a 100,000-request trace is too big for one string). */
export function* perfettoJsonChunks(trace: { origin: bigint; events: Iterable<TraceEvent> }): Generator<string> {
  yield '{"traceEvents":[\n';
  let part: string[] = [];
  let first = true;
  for (const e of trace.events) {
    part.push(JSON.stringify(e));
    if (part.length === 2000) {
      yield (first ? "" : ",\n") + part.join(",\n");
      first = false;
      part = [];
    }
  }
  if (part.length > 0) yield (first ? "" : ",\n") + part.join(",\n");
  yield '\n],"otherData":' + JSON.stringify({ generator: "hookpoint report", wallTimeOrigin: unixNsToIso(trace.origin) }) + "}\n";
}

export async function writePerfetto(path: string, requests: readonly LoadedRequest[], pods: ReadonlyMap<string, PodInfo>): Promise<void> {
  await pipeline(Readable.from(perfettoJsonChunks(perfettoStream(requests, pods))), createWriteStream(path));
}
