// The request record: one NDJSON line per finished request that `envoy-request-trace`
// followed through Envoy (DESIGN.md "Request traces"). The agent writes it, `hookpoint
// report` reads it. Field names are fixed by the design; this module is their one
// definition, with a validating parser. Pure leaf: no I/O.
//
// Example (one line in the file):
//   {"kind":"request","ts":"2025-01-31T12:00:00.123456Z","script":"envoy-request-trace",
//    "pod":"shop/cart-7d9f8b6c5d-x2x4z","pid":4242,"worker":"wrk:worker_0","id":"4bf9…",
//    "protocol":"HTTP/1.1","stream":null,
//    "downstream":{"fd":41,"local":"10.0.0.7:8080","peer":"10.0.0.9:51234"},
//    "upstream":{"fd":57,"local":"10.0.0.7:40112","peer":"10.0.0.12:9080"},
//    "start_ns":1000000,"end_ns":1350000,"wakeups":3,"bytes_in":412,"bytes_out":1290,
//    "phases":[{"name":"downstream_read","start_ns":1000000,"end_ns":1010000}, …,
//              {"name":"filters","start_ns":1020000,"end_ns":1060000,
//               "children":[{"name":"ext_authz decodeHeaders","start_ns":1021000,"end_ns":1050000}]}, …]}
//
// Nanosecond values are JSON numbers (doubles), not strings or bigint: every JSON tool
// reads them, and the report does arithmetic on millions of them. CLOCK_MONOTONIC counts
// from boot, so values are exact up to 2^53 ns ≈ 104 days of uptime; after that they
// round to the nearest 2 ns (4 ns after 208 days, 8 ns after 417 days), far below the
// ~1 µs a uprobe itself costs. The parser therefore accepts any whole number ≥ 0, not only
// "safe" integers.
import { FieldError, countAt, isoTimeAt, listAt, nonEmptyStringAt, nullableStringAt, objectAt, oneOf, show, stringAt } from "./fields.js";

export { FieldError, RecordLineError } from "./fields.js";

/** Phase names in the order a request passes them; records list their phases in this order. */
export const REQUEST_PHASES = [
  "downstream_read",
  "codec",
  "filters",
  "router",
  "upstream_connect",
  "upstream_write",
  "upstream_wait",
  "upstream_read",
  "downstream_write",
] as const;

export type RequestPhaseName = (typeof REQUEST_PHASES)[number];

export const REQUEST_PROTOCOLS = ["HTTP/1.1", "HTTP/2"] as const;
export type RequestProtocol = (typeof REQUEST_PROTOCOLS)[number];

/** A timed stretch: CLOCK_MONOTONIC nanoseconds, start ≤ end. */
export interface TimeSpan {
  start_ns: number;
  end_ns: number;
}

/**
 * A per-filter sub-phase (the per-filter timing script running beside envoy-request-trace):
 * `name` is the filter and callback as the script names them, e.g.
 * "ext_authz decodeHeaders". Sub-phases lie within the request's start_ns..end_ns but not
 * necessarily within the `filters` phase: encodeHeaders/encodeData run on the response path.
 */
export interface FilterSubPhase extends TimeSpan {
  name: string;
}

export interface RequestPhase extends TimeSpan {
  name: RequestPhaseName;
  /** Only on the `filters` phase, only when per-filter timing ran; in start order. */
  children?: FilterSubPhase[];
}

/** One end of a connection as the worker saw it; addresses "ip:port" ("[ip6]:port"), null when not known. */
export interface SocketEnds {
  fd: number;
  local: string | null;
  peer: string | null;
}

export interface RequestRecord {
  kind: "request";
  /** ISO 8601 wall time at which the request ended (the end_ns moment). */
  ts: string;
  script: string;
  /** "namespace/name", or null outside Kubernetes. */
  pod: string | null;
  pid: number;
  /** Worker thread name, e.g. "wrk:worker_0". */
  worker: string;
  /** The request's x-request-id when it could be read, else an id of the agent's own. */
  id: string;
  protocol: RequestProtocol;
  /** HTTP/2 stream id; null for HTTP/1.1 (and for HTTP/2 when it could not be read). */
  stream: number | null;
  downstream: SocketEnds;
  /** null when the request never reached an upstream (a local reply). */
  upstream: SocketEnds | null;
  start_ns: number;
  end_ns: number;
  /** Epoll wake rounds of the worker that carried this request. */
  wakeups: number;
  bytes_in: number;
  bytes_out: number;
  /** Phases that happened, in REQUEST_PHASES order; pooled upstream connections have no upstream_connect. */
  phases: RequestPhase[];
  /**
   * The request's W3C `traceparent` header when the script could read it
   * ("00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>"); the OTLP export then uses
   * its trace id. Optional: absent when the request carried none.
   */
  traceparent?: string;
}

const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;

/** The trace and parent span id of a valid W3C traceparent, else null (all-zero ids are invalid). */
export function parseTraceparent(value: string): { traceId: string; parentId: string } | null {
  const m = TRACEPARENT.exec(value);
  if (!m || value.startsWith("ff") || /^0+$/.test(m[1]!) || /^0+$/.test(m[2]!)) return null;
  return { traceId: m[1]!, parentId: m[2]! };
}

/** Checks a parsed JSON value against the record format; throws FieldError naming the field. */
export function toRequestRecord(value: unknown): RequestRecord {
  const o = objectAt(value, "record");
  if (o.kind !== "request") throw new FieldError("kind", `expected "request", got ${show(o.kind)}`);
  const protocol = oneOf(o, "protocol", "", REQUEST_PROTOCOLS);
  const rec: RequestRecord = {
    kind: "request",
    ts: isoTimeAt(o, "ts", ""),
    script: nonEmptyStringAt(o, "script", ""),
    pod: podAt(o),
    pid: positiveAt(o, "pid"),
    worker: stringAt(o, "worker", ""),
    id: nonEmptyStringAt(o, "id", ""),
    protocol,
    stream: streamAt(o, protocol),
    downstream: endsAt(o.downstream, "downstream"),
    upstream: o.upstream === null ? null : endsAt(o.upstream, "upstream"),
    start_ns: countAt(o, "start_ns", ""),
    end_ns: countAt(o, "end_ns", ""),
    wakeups: countAt(o, "wakeups", ""),
    bytes_in: countAt(o, "bytes_in", ""),
    bytes_out: countAt(o, "bytes_out", ""),
    phases: [],
  };
  if (rec.end_ns < rec.start_ns) throw new FieldError("end_ns", `${rec.end_ns} is before start_ns ${rec.start_ns}`);
  rec.phases = phasesAt(o.phases, rec);
  if (o.traceparent !== undefined) {
    const tp = stringAt(o, "traceparent", "");
    if (!parseTraceparent(tp)) throw new FieldError("traceparent", `expected a W3C traceparent "00-<32 hex>-<16 hex>-<2 hex>" with non-zero ids, got ${show(tp)}`);
    rec.traceparent = tp;
  }
  return rec;
}

function podAt(o: Record<string, unknown>): string | null {
  const pod = nullableStringAt(o, "pod", "");
  if (pod !== null && !/^[^/\s]+\/[^/\s]+$/.test(pod)) throw new FieldError("pod", `expected "namespace/name" or null, got ${show(pod)}`);
  return pod;
}

function positiveAt(o: Record<string, unknown>, key: string): number {
  const n = countAt(o, key, "");
  if (n === 0) throw new FieldError(key, "must be > 0");
  return n;
}

function streamAt(o: Record<string, unknown>, protocol: RequestProtocol): number | null {
  if (o.stream === null) return null;
  if (protocol === "HTTP/1.1") throw new FieldError("stream", `must be null for HTTP/1.1, got ${show(o.stream)}`);
  return positiveAt(o, "stream");
}

function endsAt(v: unknown, path: string): SocketEnds {
  const o = objectAt(v, path);
  return { fd: countAt(o, "fd", `${path}.`), local: nullableStringAt(o, "local", `${path}.`), peer: nullableStringAt(o, "peer", `${path}.`) };
}

function spanAt(o: Record<string, unknown>, path: string, within: TimeSpan): TimeSpan {
  const start_ns = countAt(o, "start_ns", `${path}.`);
  const end_ns = countAt(o, "end_ns", `${path}.`);
  if (end_ns < start_ns) throw new FieldError(`${path}.end_ns`, `${end_ns} is before start_ns ${start_ns}`);
  if (start_ns < within.start_ns || end_ns > within.end_ns) {
    throw new FieldError(path, `${start_ns}..${end_ns} lies outside the request's ${within.start_ns}..${within.end_ns}`);
  }
  return { start_ns, end_ns };
}

function phasesAt(v: unknown, rec: RequestRecord): RequestPhase[] {
  if (!Array.isArray(v)) throw new FieldError("phases", `expected a list, got ${show(v)}`);
  const out: RequestPhase[] = [];
  let lastOrder = -1;
  v.forEach((item, i) => {
    const path = `phases[${i}]`;
    const o = objectAt(item, path);
    const name = oneOf(o, "name", `${path}.`, REQUEST_PHASES);
    const order = REQUEST_PHASES.indexOf(name);
    if (order <= lastOrder) throw new FieldError(`${path}.name`, `"${name}" comes ${order === lastOrder ? "twice" : `after "${REQUEST_PHASES[lastOrder]}"`}; phases are listed once each, in the order ${REQUEST_PHASES.join(", ")}`);
    lastOrder = order;
    const phase: RequestPhase = { name, ...spanAt(o, path, rec) };
    if (o.children !== undefined) {
      if (name !== "filters") throw new FieldError(`${path}.children`, `only the "filters" phase has children`);
      phase.children = listAt(o, "children", `${path}.`).map((c, j) => {
        const cp = `${path}.children[${j}]`;
        const co = objectAt(c, cp);
        return { name: nonEmptyStringAt(co, "name", `${cp}.`), ...spanAt(co, cp, rec) };
      });
    }
    out.push(phase);
  });
  return out;
}
