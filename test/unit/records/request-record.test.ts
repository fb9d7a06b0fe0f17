import { describe, expect, it } from "vitest";
import { parseTraceparent, toRequestRecord, type RequestRecord } from "../../../src/records/request-record.js";
import { parseRequestLine } from "../../support/records.js";

function record(): RequestRecord {
  return {
    kind: "request",
    ts: "2025-01-31T12:00:00.000350Z",
    script: "envoy-request-trace",
    pod: "shop/cart-7d9f8b6c5d-x2x4z",
    pid: 4242,
    worker: "wrk:worker_0",
    id: "req-1",
    protocol: "HTTP/1.1",
    stream: null,
    downstream: { fd: 41, local: "10.0.0.7:8080", peer: "10.0.0.9:51234" },
    upstream: { fd: 57, local: "10.0.0.7:40112", peer: "10.0.0.12:9080" },
    start_ns: 1_000_000,
    end_ns: 1_350_000,
    wakeups: 3,
    bytes_in: 412,
    bytes_out: 1290,
    phases: [
      { name: "downstream_read", start_ns: 1_000_000, end_ns: 1_010_000 },
      { name: "codec", start_ns: 1_010_000, end_ns: 1_020_000 },
      { name: "filters", start_ns: 1_020_000, end_ns: 1_060_000, children: [{ name: "ext_authz decodeHeaders", start_ns: 1_021_000, end_ns: 1_050_000 }] },
      { name: "router", start_ns: 1_060_000, end_ns: 1_070_000 },
      { name: "upstream_write", start_ns: 1_070_000, end_ns: 1_080_000 },
      { name: "upstream_wait", start_ns: 1_080_000, end_ns: 1_300_000 },
      { name: "upstream_read", start_ns: 1_300_000, end_ns: 1_310_000 },
      { name: "downstream_write", start_ns: 1_310_000, end_ns: 1_350_000 },
    ],
  };
}

/** The error message of parsing `rec` as line 7 of f.ndjson. */
function errorOf(rec: unknown): string {
  try {
    parseRequestLine(JSON.stringify(rec), "f.ndjson", 7);
  } catch (err) {
    return (err as Error).message;
  }
  return "no error";
}

function withField(path: (r: Record<string, unknown>) => void): unknown {
  const r = record() as unknown as Record<string, unknown>;
  path(r);
  return r;
}

describe("request record parser", () => {
  it("reads a valid record back unchanged", () => {
    const rec = record();
    expect(parseRequestLine(JSON.stringify(rec), "f.ndjson", 1)).toEqual(rec);
  });

  it("writes kind and ts as a record's first keys, where the records readers find ts without parsing the line (src/records/times.ts)", () => {
    expect(JSON.stringify(toRequestRecord(record())).slice(0, 55)).toBe('{"kind":"request","ts":"2025-01-31T12:00:00.000350Z","s');
  });

  it("treats a blank line as nothing", () => {
    expect(parseRequestLine("   ", "f.ndjson", 3)).toBeNull();
  });

  it("accepts nanoseconds beyond 2^53 (uptime over 104 days) as the nearest double", () => {
    const rec = record();
    const base = 2 ** 54; // 208 days of uptime: doubles step by 4 ns here
    rec.start_ns += base;
    rec.end_ns += base;
    for (const p of rec.phases) {
      p.start_ns += base;
      p.end_ns += base;
      for (const c of p.children ?? []) {
        c.start_ns += base;
        c.end_ns += base;
      }
    }
    const back = parseRequestLine(JSON.stringify(rec), "f.ndjson", 1)!;
    expect(back.end_ns - back.start_ns).toBe(350_000);
  });

  it("names file, line and field of each problem", () => {
    expect(errorOf("x")).toBe('f.ndjson:7: record: expected an object, got "x"');
    // A line of another kind is read as that kind (parseRecordLine); the request reader itself refuses it.
    expect(() => toRequestRecord(withField((r) => (r.kind = "map")))).toThrow('kind: expected "request", got "map"');
    expect(errorOf(withField((r) => delete r.worker))).toBe("f.ndjson:7: worker: expected a string, got undefined");
    expect(errorOf(withField((r) => (r.protocol = "HTTP/3")))).toBe('f.ndjson:7: protocol: expected one of HTTP/1.1, HTTP/2, got "HTTP/3"');
    expect(errorOf(withField((r) => (r.stream = 3)))).toBe("f.ndjson:7: stream: must be null for HTTP/1.1, got 3");
    expect(errorOf(withField((r) => (r.pod = "cart")))).toBe('f.ndjson:7: pod: expected "namespace/name" or null, got "cart"');
    expect(errorOf(withField((r) => (r.ts = "yesterday")))).toBe('f.ndjson:7: ts: expected an ISO 8601 time such as 2025-01-31T12:00:00.000Z, got "yesterday"');
    expect(errorOf(withField((r) => (r.start_ns = "1000000")))).toBe('f.ndjson:7: start_ns: expected a whole number ≥ 0, got "1000000"');
    expect(errorOf(withField((r) => (r.end_ns = 10)))).toBe("f.ndjson:7: end_ns: 10 is before start_ns 1000000");
    expect(errorOf(withField((r) => ((r.downstream as Record<string, unknown>).fd = -1)))).toBe("f.ndjson:7: downstream.fd: expected a whole number ≥ 0, got -1");
    expect(errorOf(withField((r) => (r.upstream = "none")))).toBe('f.ndjson:7: upstream: expected an object, got "none"');
    expect(errorOf(withField((r) => ((r.phases as { name: string }[])[1]!.name = "parse")))).toMatch(/^f\.ndjson:7: phases\[1\]\.name: expected one of downstream_read, codec, /);
    expect(errorOf(withField((r) => ((r.phases as { name: string }[])[3]!.name = "codec")))).toBe(
      'f.ndjson:7: phases[3].name: "codec" comes after "filters"; phases are listed once each, in the order downstream_read, codec, filters, router, upstream_connect, upstream_write, upstream_wait, upstream_read, downstream_write',
    );
    expect(errorOf(withField((r) => ((r.phases as { end_ns: number }[])[7]!.end_ns = 2_000_000)))).toBe("f.ndjson:7: phases[7]: 1310000..2000000 lies outside the request's 1000000..1350000");
    expect(errorOf(withField((r) => ((r.phases as { children?: unknown }[])[0]!.children = [])))).toBe('f.ndjson:7: phases[0].children: only the "filters" phase has children');
    expect(errorOf(withField((r) => ((r.phases as { children: { name: string }[] }[])[2]!.children[0]!.name = "")))).toBe("f.ndjson:7: phases[2].children[0].name: must not be empty");
    expect(errorOf(withField((r) => (r.traceparent = "00-abc")))).toBe('f.ndjson:7: traceparent: expected a W3C traceparent "00-<32 hex>-<16 hex>-<2 hex>" with non-zero ids, got "00-abc"');
  });

  it("says a line is not JSON", () => {
    expect(() => parseRequestLine("{oops", "f.ndjson", 2)).toThrow(/^f\.ndjson:2: not JSON \(/);
  });

  it("accepts a local reply (no upstream) and an HTTP/2 stream id", () => {
    const rec = { ...record(), protocol: "HTTP/2" as const, stream: 5, upstream: null, phases: record().phases.slice(0, 3) };
    expect(toRequestRecord(rec)).toEqual(rec);
  });
});

describe("traceparent", () => {
  it("gives trace and parent ids of a valid header", () => {
    expect(parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")).toEqual({ traceId: "4bf92f3577b34da6a3ce929d0e0e4736", parentId: "00f067aa0ba902b7" });
  });
  it("refuses all-zero ids, version ff and upper case", () => {
    expect(parseTraceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01")).toBeNull();
    expect(parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01")).toBeNull();
    expect(parseTraceparent("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")).toBeNull();
    expect(parseTraceparent("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01")).toBeNull();
  });
});
