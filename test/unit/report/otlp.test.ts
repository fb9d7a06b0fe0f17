// The OTLP/JSON export: pinned by a golden file, and decoded through protobuf with the
// message definitions generated from opentelemetry-proto (shipped in
// @opentelemetry/otlp-transformer), so every field is a known one with the right type.
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { clockOffsets } from "../../../src/report/clock.js";
import { otlpBatches, traceIdOf } from "../../../src/report/otlp.js";
import { expectGoldenJson } from "../../support/golden.js";
import { GOLDEN_LOADED, GOLDEN_PODS } from "../../support/golden-requests.js";
import { generateRequests } from "../../support/request-records.js";

const golden = (name: string): string => fileURLToPath(new URL(`./golden/${name}`, import.meta.url));

interface ProtoType {
  fromObject(o: unknown): unknown;
  encode(m: unknown): { finish(): Uint8Array };
  decode(b: Uint8Array): unknown;
  toObject(m: unknown, opts: Record<string, unknown>): Record<string, unknown>;
}
const root = createRequire(import.meta.url)("@opentelemetry/otlp-transformer/build/src/generated/root.js") as {
  opentelemetry: { proto: { collector: { trace: { v1: { ExportTraceServiceRequest: ProtoType } } } } };
};
const Request = root.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;

const ID_FIELDS = new Set(["traceId", "spanId", "parentSpanId"]);

/** OTLP/JSON writes ids as hex where protobuf's JSON mapping has base64; convert one way or the other. */
function mapIds(v: unknown, f: (key: string, s: string) => string): unknown {
  if (Array.isArray(v)) return v.map((x) => mapIds(x, f));
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, ID_FIELDS.has(k) && typeof x === "string" ? f(k, x) : mapIds(x, f)]));
  return v;
}

/**
 * Problems of `json` against the protobuf schema: every key must be a field of its
 * message, and every value must come back the same after encoding to protobuf and back.
 */
function protoProblems(json: unknown): string[] {
  const asProto = mapIds(json, (_k, hex) => Buffer.from(hex, "hex").toString("base64"));
  const decoded = Request.decode(Request.encode(Request.fromObject(asProto)).finish());
  const full = mapIds(Request.toObject(decoded, { longs: String, enums: Number, bytes: String, defaults: true, arrays: true, objects: true }), (_k, b64) => Buffer.from(b64, "base64").toString("hex"));
  const problems: string[] = [];
  const walk = (a: unknown, b: unknown, path: string): void => {
    if (Array.isArray(a)) {
      if (!Array.isArray(b) || b.length !== a.length) problems.push(`${path}: not the same repeated field`);
      else a.forEach((x, i) => walk(x, b[i], `${path}[${i}]`));
    } else if (a && typeof a === "object") {
      for (const [k, x] of Object.entries(a)) {
        if (!b || typeof b !== "object" || !(k in b)) problems.push(`${path}.${k}: no such field`);
        else walk(x, (b as Record<string, unknown>)[k], `${path}.${k}`);
      }
    } else if (String(b) !== String(a)) {
      // int64 values may be JSON numbers or strings; protobuf gives strings back.
      problems.push(`${path}: ${JSON.stringify(a)} came back as ${JSON.stringify(b)}`);
    }
  };
  walk(json, full, "request");
  return problems;
}

function parseBatches(requests = GOLDEN_LOADED, batch?: number): Record<string, unknown>[] {
  return [...otlpBatches(requests, GOLDEN_PODS, "0.0.0-test", batch)].map((b) => JSON.parse(new TextDecoder().decode(b)) as Record<string, unknown>);
}

interface Span {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  flags: number;
  attributes: { key: string; value: Record<string, unknown> }[];
}

function spansOf(req: Record<string, unknown>): Span[] {
  return (req.resourceSpans as { scopeSpans: { spans: Span[] }[] }[]).flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans));
}

describe("OTLP export", () => {
  it("matches the golden request for the small record set", () => {
    const batches = parseBatches();
    expect(batches).toHaveLength(1);
    expectGoldenJson(golden("otlp.json"), batches[0]);
  });

  it("decodes as an ExportTraceServiceRequest of the OTLP protobuf", () => {
    for (const b of parseBatches()) expect(protoProblems(b)).toEqual([]);
    const specs = [{ namespace: "shop", name: "cart-7d9f8b6c5d-x2x4z", bootWallNs: 1_738_300_000_000_000_000n, pid: 4242, workers: 2 }];
    const many = generateRequests({ pods: specs, count: 120, seed: 2 }).map((record) => ({ record, pod: record.pod! }));
    const batches = parseBatches(many, 50);
    expect(batches).toHaveLength(3);
    for (const b of batches) expect(protoProblems(b)).toEqual([]);
  });

  it("the protobuf check itself notices unknown fields and wrong values", () => {
    const [b] = parseBatches();
    const spans = spansOf(b!);
    (spans[0] as unknown as Record<string, unknown>).traceID = spans[0]!.traceId;
    spans[1]!.kind = "server" as unknown as number;
    spans[2]!.startTimeUnixNano = "12x";
    expect(protoProblems(b)).toEqual([
      "request.resourceSpans[0].scopeSpans[0].spans[0].traceID: no such field",
      'request.resourceSpans[0].scopeSpans[0].spans[1].kind: "server" came back as 0',
      'request.resourceSpans[0].scopeSpans[0].spans[2].startTimeUnixNano: "12x" came back as "12"',
    ]);
  });

  it("makes one trace per request id, a span per phase, with exact unix-nano times", () => {
    const spans = spansOf(parseBatches()[0]!);
    const offsets = clockOffsets(GOLDEN_LOADED);
    for (const { record: r } of GOLDEN_LOADED) {
      const mine = spans.filter((s) => s.attributes.some((a) => a.key === "hookpoint.request.id" && a.value.stringValue === r.id));
      const children = r.phases.reduce((n, p) => n + (p.children?.length ?? 0), 0);
      expect(mine).toHaveLength(1 + r.phases.length + children);
      expect(new Set(mine.map((s) => s.traceId)).size).toBe(1);
      expect(mine[0]!.traceId).toMatch(/^[0-9a-f]{32}$/);
      for (const s of mine) expect(s.spanId).toMatch(/^[0-9a-f]{16}$/);
      const root = mine.find((s) => s.kind === 2)!; // SPAN_KIND_SERVER
      expect(root.name).toBe(`${r.protocol} request`);
      const off = offsets.get(r)!;
      expect(root.startTimeUnixNano).toBe(String(off + BigInt(r.start_ns)));
      expect(root.endTimeUnixNano).toBe(String(off + BigInt(r.end_ns)));
      for (const p of r.phases) {
        const s = mine.find((x) => x.name === p.name)!;
        expect(s.kind).toBe(1); // SPAN_KIND_INTERNAL
        expect(s.parentSpanId).toBe(root.spanId);
        expect(BigInt(s.endTimeUnixNano) - BigInt(s.startTimeUnixNano)).toBe(BigInt(p.end_ns - p.start_ns));
      }
    }
  });

  it("takes the trace id from a traceparent, else from a UUID request id, else hashes the id", () => {
    const spans = spansOf(parseBatches()[0]!);
    const root = (id: string): Span => spans.find((s) => s.kind === 2 && s.attributes.some((a) => a.value.stringValue === id))!;
    const withParent = root("4bf92f35-77b3-4da6-a3ce-929d0e0e4736");
    expect(withParent.traceId).toBe("0af7651916cd43dd8448eb211c80319c");
    expect(withParent.parentSpanId).toBe("b7ad6b7169203331");
    expect(withParent.flags).toBe(0x301); // sampled, parent is remote (OTLP SpanFlags)
    expect(root("req-2").traceId).toBe(traceIdOf("req-2"));
    expect(root("req-2").parentSpanId).toBeUndefined();
    expect(traceIdOf("4BF92F35-77B3-4DA6-A3CE-929D0E0E4736")).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
    expect(traceIdOf("req-2")).toBe(createHash("sha256").update("hookpoint:req-2").digest("hex").slice(0, 32));
    expect(traceIdOf("req-2")).not.toBe(traceIdOf("req-3"));
  });

  it("leaves out hookpoint.bytes_in where the record's 0 means not known (HTTP/2), and keeps it where it was read", () => {
    const h1 = GOLDEN_LOADED[0]!;
    const h2 = { ...h1, record: { ...h1.record, id: "h2-post", protocol: "HTTP/2" as const, stream: 9, bytes_in: 0, bytes_out: 57 } };
    const bytes = (id: string): Record<string, unknown> => {
      const span = spansOf(parseBatches([h1, h2])[0]!).find((s) => s.kind === 2 && s.attributes.some((a) => a.value.stringValue === id))!;
      return Object.fromEntries(span.attributes.filter((a) => a.key.startsWith("hookpoint.bytes_")).map((a) => [a.key, a.value.intValue]));
    };
    expect(bytes("h2-post")).toEqual({ "hookpoint.bytes_out": 57 });
    expect(bytes(h1.record.id)).toEqual({ "hookpoint.bytes_in": h1.record.bytes_in, "hookpoint.bytes_out": h1.record.bytes_out });
    expect(h1.record.bytes_in).toBe(412);
  });

  it("describes each pod and Envoy process as a resource", () => {
    const req = parseBatches()[0]! as { resourceSpans: { resource: { attributes: { key: string; value: Record<string, unknown> }[] } }[] };
    const resources = req.resourceSpans.map((rs) => Object.fromEntries(rs.resource.attributes.map((a) => [a.key, Object.values(a.value)[0]])));
    expect(resources).toEqual([
      { "service.name": "cart.shop", "k8s.namespace.name": "shop", "k8s.pod.name": "cart-7d9f8b6c5d-x2x4z", "k8s.node.name": "node-a", "k8s.deployment.name": "cart", "process.pid": 4242 },
      { "service.name": "frontend.web", "k8s.namespace.name": "web", "k8s.pod.name": "frontend-0", "process.pid": 77 },
    ]);
  });
});
