// Request records → OTLP/JSON traces, serialised by OpenTelemetry's own
// @opentelemetry/otlp-transformer (JsonTraceSerializer: the protobuf JSON mapping with hex
// ids, unix-nano strings and integer enums).
//
// One trace per request id: a SERVER span for the request, an INTERNAL child span per
// phase, and per-filter sub-phases under `filters` (or under the request when they run on
// the response path). The trace id is, in order: the trace id of the W3C `traceparent`
// any record of that id carries (the request span then points to the caller's span as its
// remote parent); the id itself when it is a UUID (Envoy's generated x-request-id), dashes
// removed, so the trace can be found by request id; else the first 16 bytes of
// SHA-256("hookpoint:" + id). Span ids are the first 8 bytes of SHA-256 over the pod, pid,
// id, start and span name: the same records always give the same file.
//
// The file is JSON Lines, each line one ExportTraceServiceRequest of up to BATCH requests
// (the OTLP file exporter's format; the collector's otlpjsonfile receiver reads it, and
// each line can be POSTed to an OTLP/HTTP endpoint's /v1/traces).
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { JsonTraceSerializer } from "@opentelemetry/otlp-transformer";
import { resourceFromAttributes, type Resource } from "@opentelemetry/resources";
import type { RequestRecord } from "../records/request-record.js";
import { parseTraceparent } from "../records/request-record.js";
import { clockOffsets, processKey } from "./clock.js";
import type { LoadedRequest, PodInfo } from "./load.js";

type ReadableSpan = Parameters<typeof JsonTraceSerializer.serializeRequest>[0][number];
type SpanContext = ReturnType<ReadableSpan["spanContext"]>;
type HrTime = ReadableSpan["startTime"];

// @opentelemetry/api's SpanKind and SpanStatusCode values (the serializer maps them to OTLP's).
const SPAN_KIND_INTERNAL = 0;
const SPAN_KIND_SERVER = 1;
const STATUS_UNSET = 0;
const TRACE_FLAG_SAMPLED = 1;

/** Requests per line of the file. */
export const BATCH = 500;

const UUID = /^([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$/i;

/** The trace id for a request id without a traceparent (see the header). */
export function traceIdOf(id: string): string {
  const m = UUID.exec(id);
  if (m) {
    const hex = m.slice(1).join("").toLowerCase();
    if (!/^0+$/.test(hex)) return hex;
  }
  return createHash("sha256").update(`hookpoint:${id}`).digest("hex").slice(0, 32);
}

function spanIdOf(...parts: (string | number)[]): string {
  const hex = createHash("sha256").update(parts.join("\u0000")).digest("hex").slice(0, 16);
  return hex === "0000000000000000" ? "0000000000000001" : hex;
}

function hrTime(ns: bigint): HrTime {
  return [Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n)];
}

function hrDuration(ns: bigint): HrTime {
  return hrTime(ns < 0n ? 0n : ns);
}

/** One ExportTraceServiceRequest (serialised JSON) per batch of requests, in record order. */
export function* otlpBatches(requests: readonly LoadedRequest[], pods: ReadonlyMap<string, PodInfo>, version: string, batch = BATCH): Generator<Uint8Array> {
  const offsets = clockOffsets(requests);
  // One trace per request id: a traceparent on any of its records decides for all.
  const parents = new Map<string, { traceId: string; parentId: string; flags: number }>();
  for (const { record: r } of requests) {
    if (!r.traceparent || parents.has(r.id)) continue;
    const tp = parseTraceparent(r.traceparent)!;
    parents.set(r.id, { ...tp, flags: parseInt(r.traceparent.slice(53, 55), 16) });
  }
  const resources = new Map<string, Resource>();
  const scope = { name: "hookpoint", version };
  for (let i = 0; i < requests.length; i += batch) {
    const spans: ReadableSpan[] = [];
    for (const r of requests.slice(i, i + batch)) {
      const key = processKey(r.pod, r.record.pid);
      let resource = resources.get(key);
      if (!resource) resources.set(key, (resource = resourceOf(pods.get(r.pod), r.pod, r.record.pid)));
      spans.push(...requestSpans(r.record, r.pod, offsets.get(r.record)!, resource, scope, parents.get(r.record.id)));
    }
    yield JsonTraceSerializer.serializeRequest(spans)!;
  }
}

function resourceOf(pod: PodInfo | undefined, podKey: string, pid: number): Resource {
  const attrs: Record<string, string | number> = {};
  const namespace = pod?.namespace ?? "";
  const workload = pod?.workload.name ?? podKey;
  attrs["service.name"] = namespace === "" ? workload : `${workload}.${namespace}`;
  if (namespace !== "") attrs["k8s.namespace.name"] = namespace;
  attrs["k8s.pod.name"] = pod?.name ?? podKey;
  if (pod?.node) attrs["k8s.node.name"] = pod.node;
  if (pod && !pod.workload.derived && /^(Deployment|StatefulSet|DaemonSet|ReplicaSet|Job|CronJob)$/.test(pod.workload.kind)) {
    attrs[`k8s.${pod.workload.kind.toLowerCase()}.name`] = pod.workload.name;
  }
  attrs["process.pid"] = pid;
  return resourceFromAttributes(attrs);
}

function requestSpans(
  rec: RequestRecord,
  pod: string,
  offset: bigint,
  resource: Resource,
  scope: { name: string; version: string },
  parent: { traceId: string; parentId: string; flags: number } | undefined,
): ReadableSpan[] {
  const traceId = parent?.traceId ?? traceIdOf(rec.id);
  const traceFlags = parent ? parent.flags & 0xff : TRACE_FLAG_SAMPLED;
  const wall = (ns: number): bigint => offset + BigInt(ns);
  const span = (name: string, kind: number, start: number, end: number, spanId: string, parentCtx: SpanContext | undefined, attributes: Record<string, string | number>): ReadableSpan => {
    const ctx: SpanContext = { traceId, spanId, traceFlags };
    return {
      name,
      kind,
      spanContext: () => ctx,
      parentSpanContext: parentCtx,
      startTime: hrTime(wall(start)),
      endTime: hrTime(wall(end)),
      duration: hrDuration(BigInt(end) - BigInt(start)),
      status: { code: STATUS_UNSET },
      attributes,
      links: [],
      events: [],
      ended: true,
      resource,
      instrumentationScope: scope,
      droppedAttributesCount: 0,
      droppedEventsCount: 0,
      droppedLinksCount: 0,
    };
  };
  const base = [pod, rec.pid, rec.id, rec.start_ns];
  const rootId = spanIdOf(...base, "request");
  const remote: SpanContext | undefined = parent ? { traceId, spanId: parent.parentId, traceFlags, isRemote: true } : undefined;
  const root = span(`${rec.protocol} request`, SPAN_KIND_SERVER, rec.start_ns, rec.end_ns, rootId, remote, requestAttributes(rec));
  const out = [root];
  const rootCtx = root.spanContext();
  for (const ph of rec.phases) {
    const phase = span(ph.name, SPAN_KIND_INTERNAL, ph.start_ns, ph.end_ns, spanIdOf(...base, ph.name), rootCtx, { "hookpoint.request.id": rec.id });
    out.push(phase);
    (ph.children ?? []).forEach((c, k) => {
      const inside = c.start_ns >= ph.start_ns && c.end_ns <= ph.end_ns;
      out.push(span(c.name, SPAN_KIND_INTERNAL, c.start_ns, c.end_ns, spanIdOf(...base, ph.name, c.name, k), inside ? phase.spanContext() : rootCtx, { "hookpoint.request.id": rec.id, "hookpoint.filter": c.name }));
    });
  }
  return out;
}

function requestAttributes(rec: RequestRecord): Record<string, string | number> {
  const a: Record<string, string | number> = {
    "hookpoint.request.id": rec.id,
    "network.protocol.name": "http",
    "network.protocol.version": rec.protocol === "HTTP/2" ? "2" : "1.1",
    "thread.name": rec.worker,
    "hookpoint.wakeups": rec.wakeups,
    // A bytes_in of 0 is the agent's "not known" (HTTP/2, a head read in pieces): left
    // out, as unknown addresses are, so no backend shows a request of 0 bytes.
    ...(rec.bytes_in > 0 ? { "hookpoint.bytes_in": rec.bytes_in } : {}),
    "hookpoint.bytes_out": rec.bytes_out,
    "hookpoint.downstream.fd": rec.downstream.fd,
  };
  if (rec.stream !== null) a["hookpoint.http2.stream_id"] = rec.stream;
  if (rec.downstream.local) a["hookpoint.downstream.local"] = rec.downstream.local;
  if (rec.downstream.peer) a["hookpoint.downstream.peer"] = rec.downstream.peer;
  if (rec.upstream) {
    a["hookpoint.upstream.fd"] = rec.upstream.fd;
    if (rec.upstream.local) a["hookpoint.upstream.local"] = rec.upstream.local;
    if (rec.upstream.peer) a["hookpoint.upstream.peer"] = rec.upstream.peer;
  }
  return a;
}

export async function writeOtlp(path: string, requests: readonly LoadedRequest[], pods: ReadonlyMap<string, PodInfo>, version: string): Promise<void> {
  const newline = Buffer.from("\n");
  await pipeline(
    Readable.from(
      (function* lines() {
        for (const batch of otlpBatches(requests, pods, version)) yield Buffer.concat([batch, newline]);
      })(),
    ),
    createWriteStream(path),
  );
}
