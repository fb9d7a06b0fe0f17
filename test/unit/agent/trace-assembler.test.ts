import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { RequestAssembler, type AssemblerOptions } from "../../../src/agent/trace/assembler.js";
import { EventParser } from "../../../src/agent/trace/events.js";
import { blankTraceStatus, RequestTrace } from "../../../src/agent/trace/request-trace.js";
import { loadCatalog } from "../../../src/catalog/catalog.js";
import type { RequestRecord } from "../../../src/records/request-record.js";
import { expectGoldenJson } from "../../support/golden.js";
import { compareWithTruth } from "../../support/trace-truth.js";
import type { TruthLine } from "../../integration/fixture/support.js";
import { table } from "../catalog/tables.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const FIXTURES = join(HERE, "../../fixtures/trace");
const catalog = await loadCatalog();
const script = catalog.find((s) => s.header.name === "envoy-request-trace")!;
const parser = new EventParser(script.header.events!);

// 127.0.0.1:8080 (client side 127.0.0.1:40000) and the upstream 127.0.0.1:9090 (from :50000).
const addr = (port: number): string => ((2n << 48n) | (BigInt(((port & 0xff) << 8) | (port >> 8)) << 32n) | 0x0100007fn).toString(16);
const LOCAL = addr(8080);
const PEER = addr(40000);
const UPEER = addr(9090);
const ULOCAL = addr(50000);
const T0 = 5_000_000_000;

/** The events of one pooled HTTP/1.1 request on thread 100 (downstream fd 9, upstream fd 11), as the script prints them. */
function pooled(seq: number, base: number, opts: { round?: number; capture?: string; upBytes?: number } = {}): string[] {
  const r = opts.round ?? 1;
  return [
    `Q 100 ${seq} ${base + 30} wrk:worker_0 9 1 ${base} ${base + 10} ${base + 20} ${r} 0 ${PEER} 0 0 ${LOCAL} 0 0 0`,
    `R 100 ${seq} ${base + 40} ${r}`,
    `P 100 ${seq} ${base + 50} 11 ${r} 1 0 ${UPEER} 0 0 ${ULOCAL} 0 0`,
    `T 100 11 ${base + 60} ${base + 70} ${opts.upBytes ?? 63} ${opts.upBytes ?? 63} ${r}`,
    ...(opts.capture ? [`K 100 ${seq} 2 ${opts.capture}`] : []),
    `U 100 ${seq} ${base + 1000} 11 ${r + 1}`,
    `H 100 ${seq} ${base + 1100} 9 ${r + 1} 0 0`,
    `O 100 ${seq} ${base + 1200} 9 ${r + 1} 1 0`,
    `T 100 9 ${base + 1300} ${base + 1400} 126 126 ${r + 1}`,
  ];
}

function assembler(opts: Partial<AssemblerOptions> = {}): RequestAssembler {
  return new RequestAssembler({ script: "envoy-request-trace", pid: 4242, pod: "shop/cart-1", rate: 1000, unixNs: (ns) => 1_700_000_000_000_000_000n + BigInt(ns), idPrefix: "hp-test", ...opts });
}

function feed(a: RequestAssembler, lines: readonly string[], nowMs = 0): void {
  for (const l of lines) a.add(parser.parse(l), nowMs);
}

describe("request assembler", () => {
  it("assembles a pooled HTTP/1.1 request: every phase from its events, sockets, wake-up rounds, response bytes", () => {
    const a = assembler();
    feed(a, pooled(1, T0));
    expect(a.sweep(100)).toEqual([]); // held until no event came for the grace period
    const [r] = a.sweep(600);
    expect(r).toEqual({
      kind: "request",
      ts: "2023-11-14T22:13:25.000001Z",
      script: "envoy-request-trace",
      pod: "shop/cart-1",
      pid: 4242,
      worker: "wrk:worker_0",
      id: "hp-test-00000001",
      protocol: "HTTP/1.1",
      stream: null,
      downstream: { fd: 9, local: "127.0.0.1:8080", peer: "127.0.0.1:40000" },
      upstream: { fd: 11, local: "127.0.0.1:50000", peer: "127.0.0.1:9090" },
      start_ns: T0,
      end_ns: T0 + 1400,
      wakeups: 2,
      bytes_in: 0,
      bytes_out: 126,
      phases: [
        { name: "downstream_read", start_ns: T0, end_ns: T0 + 10 },
        { name: "codec", start_ns: T0 + 20, end_ns: T0 + 30 },
        { name: "filters", start_ns: T0 + 30, end_ns: T0 + 40 },
        { name: "router", start_ns: T0 + 40, end_ns: T0 + 50 },
        { name: "upstream_write", start_ns: T0 + 60, end_ns: T0 + 70 },
        { name: "upstream_wait", start_ns: T0 + 70, end_ns: T0 + 1000 },
        { name: "upstream_read", start_ns: T0 + 1000, end_ns: T0 + 1100 },
        { name: "downstream_write", start_ns: T0 + 1100, end_ns: T0 + 1400 },
      ],
    });
    expect(a.counters.requests.recorded).toBe(1);
    expect(a.counters.events).toEqual({ Q: 1, R: 1, P: 1, T: 2, U: 1, H: 1, O: 1 });
  });

  it("joins events by request and time, whatever order bpftrace's per-CPU buffers deliver them in", () => {
    const lines = [...pooled(1, T0), ...pooled(2, T0 + 10_000, { round: 3 })];
    const inOrder = assembler();
    feed(inOrder, lines);
    const reversed = assembler();
    feed(reversed, [...lines].reverse());
    // Only the ids the agent makes itself follow the order requests complete in.
    const noId = (rs: RequestRecord[]): unknown[] => rs.map(({ id: _id, ...rest }) => rest);
    const a = inOrder.sweep(1000);
    expect(a).toHaveLength(2);
    expect(noId(reversed.sweep(1000))).toEqual(noId(a));
    // Each request's response is its own write on fd 9.
    expect(a.map((r) => r.end_ns)).toEqual([T0 + 1400, T0 + 11_400]);
  });

  it("takes the id (and traceparent) from the request as forwarded upstream", () => {
    const head = "GET /x HTTP/1.1\\x0d\\x0ahost: a\\x0d\\x0ax-request-id: abc-123\\x0d\\x0atraceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\\x0d\\x0a\\x0d\\x0a\\x00\\x00";
    const a = assembler();
    feed(a, pooled(1, T0, { capture: head, upBytes: 160 }));
    const [r] = a.sweep(1000);
    expect(r!.id).toBe("abc-123");
    expect(r!.traceparent).toBe("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  });

  it("ends a response whose last bytes left before its end of stream at that last write (nothing more was queued)", () => {
    const lines = pooled(1, T0).filter((l) => !l.startsWith("O ") && !l.startsWith("T 100 9 "));
    // The body's write, then the end of stream with nothing left to write, in a later round.
    lines.push(`T 100 9 ${T0 + 1300} ${T0 + 1400} 126 126 2`, `O 100 1 ${T0 + 5000} 9 3 1 ${T0 + 1400}`);
    const a = assembler();
    feed(a, lines, 0);
    // Not yet: a write could still follow in the end's round.
    expect(a.sweep(600)).toEqual([]);
    // A later round of the thread says none did.
    feed(a, [`T 100 9 ${T0 + 9000} ${T0 + 9100} 10 10 4`], 700);
    const [r] = a.sweep(1300);
    expect(r!.end_ns).toBe(T0 + 1400);
    expect(r!.phases.at(-1)).toEqual({ name: "downstream_write", start_ns: T0 + 1100, end_ns: T0 + 1400 });
  });

  it("ends the upstream write at the response when the upstream answers before the request is all written", () => {
    const lines = pooled(1, T0)
      .filter((l) => !l.startsWith("P "))
      .map((l) => (l.startsWith("T 100 11 ") ? `T 100 11 ${T0 + 60} ${T0 + 70} 100 50 1` : l));
    lines.push(`P 100 1 ${T0 + 50} 11 1 1 0 ${UPEER} 0 0 ${ULOCAL} 0 0`, `T 100 11 ${T0 + 2000} ${T0 + 2010} 50 50 3`);
    const a = assembler();
    feed(a, lines);
    const [r] = a.sweep(1000);
    expect(r!.phases.map((p) => p.name)).toEqual(["downstream_read", "codec", "filters", "router", "upstream_write", "upstream_read", "downstream_write"]);
    expect(r!.phases.find((p) => p.name === "upstream_write")).toEqual({ name: "upstream_write", start_ns: T0 + 60, end_ns: T0 + 1000 });
  });

  it("follows a refused upstream connect to its 503: upstream_connect up to the pool failure, no upstream socket", () => {
    const a = assembler();
    feed(a, [
      `Q 100 1 ${T0 + 30} wrk:worker_0 9 1 ${T0} ${T0 + 10} ${T0 + 20} 1 0 ${PEER} 0 0 ${LOCAL} 0 0 0`,
      `R 100 1 ${T0 + 40} 1`,
      `C 100 1 ${T0 + 50} 11 1`,
      `F 100 1 ${T0 + 500} 1 2`,
      `H 100 1 ${T0 + 600} 9 2 0 0`,
      `O 100 1 ${T0 + 700} 9 2 1 0`,
      `T 100 9 ${T0 + 800} ${T0 + 900} 200 200 2`,
    ]);
    const [r] = a.sweep(1000);
    expect(r!.upstream).toBeNull();
    expect(r!.phases.map((p) => [p.name, p.start_ns - T0, p.end_ns - T0])).toEqual([
      ["downstream_read", 0, 10],
      ["codec", 20, 30],
      ["filters", 30, 40],
      ["router", 40, 50],
      ["upstream_connect", 50, 500],
      ["downstream_write", 600, 900],
    ]);
  });

  it("drops a request that never finishes after the timeout, and counts it", () => {
    const a = assembler({ timeoutMs: 5000 });
    feed(a, pooled(1, T0).slice(0, 5));
    expect(a.sweep(4000)).toEqual([]);
    expect(a.counters.pending).toBe(1);
    expect(a.sweep(6000)).toEqual([]);
    expect(a.counters.pending).toBe(0);
    expect(a.counters.requests.timeout).toBe(1);
  });

  it("holds only the socket events a pending request can still use: its own connections' (1), not the 200 writes of 100 later requests on other connections", () => {
    const a = assembler();
    // Request 1 waits for its upstream (its only write so far is on fd 11).
    feed(a, pooled(1, T0).slice(0, 4), 0);
    // 100 requests on another connection pair (downstream fd 30, upstream fd 31), all recorded.
    for (let i = 0; i < 100; i++) {
      const base = T0 + 100_000 * (i + 1);
      const lines = pooled(i + 2, base, { round: 2 * i + 3 }).map((l) => l.replace(/^(T 100 )9 /, "$130 ").replace(/^(T 100 )11 /, "$131 ").replace(/^([HO] 100 \d+ \d+ )9 /, "$130 ").replace(/^(P 100 \d+ \d+ )11 /, "$131 ").replace(/^(Q 100 \d+ \d+ wrk:worker_0 )9 /, "$130 "));
      feed(a, lines, 1000 + i);
    }
    expect(a.sweep(5000)).toHaveLength(100);
    expect(a.counters.pending).toBe(1);
    expect(a.heldSocketEvents()).toBe(1);
  });

  it("ends a request whose downstream connection closed before its response finished as aborted, at the next quiet sweep (not after the timeout)", () => {
    const a = assembler();
    // The request reached its upstream; then the client went away and Envoy closed fd 9.
    feed(a, pooled(1, T0).slice(0, 4), 0);
    feed(a, [`Z 100 9 ${T0 + 500}`], 300);
    // Quiet, but the close is not yet as old as the grace: a write before it may still come.
    expect(a.sweep(600)).toEqual([]);
    expect(a.counters.pending).toBe(1);
    expect(a.sweep(800)).toEqual([]);
    expect(a.counters.pending).toBe(0);
    expect(a.counters.requests).toMatchObject({ aborted: 1, timeout: 0, recorded: 0 });
  });

  it("ends a request whose upstream connection Envoy closed before any answer or failure as aborted (an HTTP/2 client reset its stream)", () => {
    const a = assembler();
    feed(a, [...pooled(1, T0).slice(0, 4), `Z 100 11 ${T0 + 500}`], 0);
    expect(a.sweep(600)).toEqual([]);
    expect(a.counters.requests).toMatchObject({ aborted: 1, timeout: 0 });
    // An upstream that closed before answering is a failure (F), answered with a 503: recorded.
    const b = assembler();
    feed(b, [...pooled(1, T0).slice(0, 4), `Z 100 11 ${T0 + 500}`, `F 100 1 ${T0 + 510} 3 2`, `H 100 1 ${T0 + 600} 9 2 1 0`, `T 100 9 ${T0 + 700} ${T0 + 800} 200 200 2`], 0);
    expect(b.sweep(600).map((r) => r.phases.at(-1))).toEqual([{ name: "downstream_write", start_ns: T0 + 600, end_ns: T0 + 800 }]);
    expect(b.counters.requests).toMatchObject({ recorded: 1, aborted: 0 });
  });

  it("ends a request whose upstream request the router reset with no failure (the client reset its HTTP/2 stream) as aborted; a reset for a timeout still gets its 504 recorded", () => {
    const a = assembler();
    feed(a, [...pooled(1, T0).slice(0, 4), `X 100 1 ${T0 + 500} 2`], 0);
    expect(a.sweep(600)).toEqual([]);
    expect(a.counters.requests).toMatchObject({ aborted: 1, timeout: 0 });
    const b = assembler();
    feed(b, [...pooled(1, T0).slice(0, 4), `F 100 1 ${T0 + 500} 2 2`, `X 100 1 ${T0 + 501} 2`, `H 100 1 ${T0 + 600} 9 2 1 0`, `T 100 9 ${T0 + 700} ${T0 + 800} 200 200 2`], 0);
    expect(b.sweep(600).map((r) => [r.phases.at(-2)?.name, r.phases.at(-1)?.name, r.wakeups])).toEqual([["upstream_wait", "downstream_write", 2]]);
    expect(b.counters.requests).toMatchObject({ recorded: 1, aborted: 0 });
  });

  it("ends a request whose downstream stream Envoy reset while a filter held it, before the router (an HTTP/2 client's RST_STREAM), as aborted; without the reset it waits", () => {
    const held = `Q 100 1 ${T0 + 30} wrk:worker_0 9 2 ${T0} ${T0 + 10} ${T0 + 20} 1 1 ${PEER} 0 0 ${LOCAL} 0 0 0`;
    const a = assembler();
    feed(a, [held, `D 100 1 ${T0 + 500} 2 2`], 0);
    expect(a.sweep(600)).toEqual([]);
    expect(a.counters.pending).toBe(0);
    expect(a.counters.requests).toMatchObject({ aborted: 1, timeout: 0, recorded: 0 });
    expect(a.counters.unattributed).toEqual({});
    const b = assembler();
    feed(b, [held], 0);
    expect(b.sweep(600)).toEqual([]);
    expect(b.counters.pending).toBe(1);
    expect(b.counters.requests).toMatchObject({ aborted: 0, timeout: 0 });
    // A reset after the response was all written changes nothing: it is recorded.
    const c = assembler();
    feed(c, [...pooled(1, T0), `D 100 1 ${T0 + 2000} 0 3`], 0);
    expect(c.sweep(600).map((r) => r.end_ns)).toEqual([T0 + 1400]);
    expect(c.counters.requests).toMatchObject({ recorded: 1, aborted: 0 });
  });

  it("keeps a request answered before its body had all come pending while a slow reader takes its response, though Envoy reset its stream after the response's end (doEndStream's LocalReset), then records it; a client's RST_STREAM there still aborts it", () => {
    // The upstream answered on the head: the router reset its upstream request (X), the
    // response's end went in (O), Envoy reset the stream (D, reason 0 = LocalReset), and the
    // first write took 4,000,000 of its 6,000,000 bytes.
    const early = (reason: number): string[] => [
      ...pooled(1, T0).slice(0, 6),
      `X 100 1 ${T0 + 1150} 2`,
      `O 100 1 ${T0 + 1200} 9 2 1 0`,
      `D 100 1 ${T0 + 1250} ${reason} 2`,
      `T 100 9 ${T0 + 1300} ${T0 + 1400} 6000000 4000000 2`,
    ];
    const a = assembler();
    feed(a, early(0), 0);
    // Quiet for longer than the grace, the rest not written yet: no abort.
    expect(a.sweep(600)).toEqual([]);
    expect(a.counters.pending).toBe(1);
    expect(a.counters.requests).toMatchObject({ aborted: 0, timeout: 0 });
    // The client reads on: the rest leaves 1.5 s later, and the request is recorded.
    feed(a, [`T 100 9 ${T0 + 1_500_000_000} ${T0 + 1_500_000_100} 2000000 2000000 5`], 1500);
    expect(a.sweep(2100).map((r) => [r.end_ns, r.bytes_out, r.phases.at(-1)?.start_ns])).toEqual([[T0 + 1_500_000_100, 6_000_000, T0 + 1100]]);
    expect(a.counters.requests).toMatchObject({ recorded: 1, aborted: 0 });
    // The client's RST_STREAM (reason 2) while the response is being written ends it.
    const b = assembler();
    feed(b, early(2), 0);
    expect(b.sweep(600)).toEqual([]);
    expect(b.counters.pending).toBe(0);
    expect(b.counters.requests).toMatchObject({ aborted: 1, recorded: 0 });
    // So does a LocalReset before the response's end (the upstream reset after the response started).
    const c = assembler();
    feed(c, [...pooled(1, T0).slice(0, 6), `D 100 1 ${T0 + 1150} 0 2`, `T 100 9 ${T0 + 1300} ${T0 + 1400} 100 100 2`], 0);
    expect(c.sweep(600)).toEqual([]);
    expect(c.counters.requests).toMatchObject({ aborted: 1, recorded: 0 });
  });

  it("ends a response that ends with trailers (gRPC: its body had no end) at the trailers' write (E), also one answered before its body had all come whose stream doEndStream reset in the trailers' wake-up round", () => {
    // Headers and body went in and out in round 2 with no end; the trailers 100 ms later, round 4.
    const trailed = [...pooled(1, T0).slice(0, 6), `T 100 9 ${T0 + 1300} ${T0 + 1400} 100 100 2`, `E 100 1 ${T0 + 100_000_000} 9 4 ${T0 + 1400}`];
    const a = assembler();
    feed(a, [...trailed, `T 100 9 ${T0 + 100_000_100} ${T0 + 100_000_200} 26 26 4`], 0);
    const [r] = a.sweep(600);
    expect([r!.end_ns, r!.bytes_out, r!.wakeups, r!.phases.at(-1)]).toEqual([T0 + 100_000_200, 126, 3, { name: "downstream_write", start_ns: T0 + 1100, end_ns: T0 + 100_000_200 }]);
    expect(a.counters.requests).toMatchObject({ recorded: 1, aborted: 0 });
    // Without the trailers' event (an Envoy without the symbol) the response has no end: it waits.
    const b = assembler();
    feed(b, [...pooled(1, T0).slice(0, 6), `T 100 9 ${T0 + 1300} ${T0 + 1400} 100 100 2`], 0);
    expect(b.sweep(600)).toEqual([]);
    expect(b.counters.pending).toBe(1);
    // Answered early: the router reset its upstream request (X) and doEndStream the stream
    // (D, LocalReset) in the trailers' call; the slow reader took 20 of the 26 bytes at first.
    const c = assembler();
    feed(c, [...trailed, `X 100 1 ${T0 + 99_999_000} 4`, `D 100 1 ${T0 + 100_000_050} 0 4`, `T 100 9 ${T0 + 100_000_100} ${T0 + 100_000_200} 26 20 4`], 0);
    expect(c.sweep(600)).toEqual([]);
    expect(c.counters.requests).toMatchObject({ recorded: 0, aborted: 0 });
    feed(c, [`T 100 9 ${T0 + 1_500_000_000} ${T0 + 1_500_000_100} 6 6 6`], 1500);
    expect(c.sweep(2100).map((x) => [x.end_ns, x.bytes_out])).toEqual([[T0 + 1_500_000_100, 126]]);
    expect(c.counters.requests).toMatchObject({ recorded: 1, aborted: 0 });
  });

  it("ends a response whose end an encoder filter held (its trailers: E, or its body's end: O) at the write after the chain resumed, not at the socket's last write before it", () => {
    // Headers and body written in round 2; the trailers enter the chain in round 4 and a filter
    // holds them (ext_proc sending them out); resumed in round 6 (E again), written then.
    const head = [...pooled(1, T0).slice(0, 6), `T 100 9 ${T0 + 1300} ${T0 + 1400} 100 100 2`];
    for (const [end, again] of [
      [`E 100 1 ${T0 + 100_000_000} 9 4 ${T0 + 1400}`, `E 100 1 ${T0 + 300_000_000} 9 6 ${T0 + 1400}`],
      [`O 100 1 ${T0 + 100_000_000} 9 4 1 ${T0 + 1400}`, `O 100 1 ${T0 + 300_000_000} 9 6 1 ${T0 + 1400}`],
    ]) {
      const a = assembler();
      feed(a, [...head, end!, again!, `T 100 9 ${T0 + 300_000_100} ${T0 + 300_000_200} 26 26 6`], 0);
      expect(a.sweep(600).map((r) => [r.end_ns, r.bytes_out, r.wakeups])).toEqual([[T0 + 300_000_200, 126, 4]]);
    }
  });

  it("ends as aborted a request whose response's end an encoder filter held when a timer reset its stream (a LocalReset in a later wake-up round than the end: HTTP/2 drops the rest), but not one whose held end went on and was reset in that round", () => {
    // The response's end went into the encoder chain in round 2 and stopped in a filter; the
    // slow reader's socket took 4,000,000 of the 6,000,000 bytes queued before it.
    const held = [...pooled(1, T0).slice(0, 6), `O 100 1 ${T0 + 1200} 9 2 1 0`, `T 100 9 ${T0 + 1300} ${T0 + 1400} 6000000 4000000 2`];
    // The stream idle timeout (or max stream duration, or the filter's callout timing out)
    // fires in round 7: the response has started, so Envoy resets the stream (LocalReset).
    const a = assembler();
    feed(a, [...held, `D 100 1 ${T0 + 300_000_000} 0 7`], 0);
    expect(a.sweep(600)).toEqual([]);
    expect(a.counters.pending).toBe(0);
    expect(a.counters.requests).toMatchObject({ aborted: 1, recorded: 0, timeout: 0 });
    // The filter let the end go on in round 5 (an O with end from the resumed chain), and
    // doEndStream reset the stream there: the response is whole, the request stays pending.
    const b = assembler();
    feed(b, [...held, `O 100 1 ${T0 + 200_000_000} 9 5 1 0`, `D 100 1 ${T0 + 200_000_100} 0 5`], 0);
    expect(b.sweep(600)).toEqual([]);
    expect(b.counters.pending).toBe(1);
    expect(b.counters.requests).toMatchObject({ aborted: 0, recorded: 0, timeout: 0 });
  });

  it("follows a retry: an upstream request reset (per-try timeout) and its connection closed, then a new upstream request still waiting after the grace, is no abort", () => {
    const a = assembler();
    // The first try was reset and its HTTP/1.1 connection (fd 11) closed; the router retried on fd 12.
    feed(a, [...pooled(1, T0).slice(0, 4), `X 100 1 ${T0 + 500} 2`, `Z 100 11 ${T0 + 510}`, `P 100 1 ${T0 + 600} 12 3 1 0 ${UPEER} 0 0 ${ULOCAL} 0 0`, `T 100 12 ${T0 + 610} ${T0 + 620} 63 63 3`], 0);
    // The retry's upstream takes its time: quiet, both resets and the close are old, still pending.
    expect(a.sweep(1500)).toEqual([]);
    expect(a.counters.pending).toBe(1);
    expect(a.counters.requests).toMatchObject({ aborted: 0, timeout: 0 });
    // The retry answers; the request is written.
    feed(a, [`U 100 1 ${T0 + 3000} 12 4`, `H 100 1 ${T0 + 3100} 9 4 0 0`, `O 100 1 ${T0 + 3200} 9 4 1 0`, `T 100 9 ${T0 + 3300} ${T0 + 3400} 126 126 4`], 2000);
    expect(a.sweep(2600).map((r) => r.end_ns)).toEqual([T0 + 3400]);
    expect(a.counters.requests).toMatchObject({ recorded: 1, aborted: 0 });
    // The client going away during the retry still ends it as aborted.
    const b = assembler();
    feed(b, [...pooled(1, T0).slice(0, 4), `X 100 1 ${T0 + 500} 2`, `P 100 1 ${T0 + 600} 12 3 1 0 ${UPEER} 0 0 ${ULOCAL} 0 0`, `X 100 1 ${T0 + 900} 4`], 0);
    expect(b.sweep(600)).toEqual([]);
    expect(b.counters.requests).toMatchObject({ aborted: 1, timeout: 0 });
  });

  it("records a retried request's last try (Y): its upstream socket and phases, the earlier try and the backoff inside router", () => {
    const a = assembler();
    // Try 1 (pooled, fd 11) was reset by the upstream (F) and its connection closed; the
    // router's retry timer (Y) opened fd 12 (C), whose try answered.
    feed(a, [
      ...pooled(1, T0).slice(0, 4),
      `F 100 1 ${T0 + 500} 3 2`,
      `Z 100 11 ${T0 + 510}`,
      `Y 100 1 ${T0 + 1500} 3`,
      `C 100 1 ${T0 + 1510} 12 3`,
      `P 100 1 ${T0 + 1600} 12 4 1 0 ${UPEER} 0 0 ${addr(50001)} 0 0`,
      `T 100 12 ${T0 + 1610} ${T0 + 1620} 63 63 4`,
      `U 100 1 ${T0 + 3000} 12 5`,
      `H 100 1 ${T0 + 3100} 9 5 0 0`,
      `O 100 1 ${T0 + 3200} 9 5 1 0`,
      `T 100 9 ${T0 + 3300} ${T0 + 3400} 126 126 5`,
    ]);
    const [r] = a.sweep(600);
    expect(r?.upstream).toEqual({ fd: 12, local: "127.0.0.1:50001", peer: "127.0.0.1:9090" });
    expect(r?.wakeups).toBe(5);
    expect(r?.phases).toEqual([
      { name: "downstream_read", start_ns: T0, end_ns: T0 + 10 },
      { name: "codec", start_ns: T0 + 20, end_ns: T0 + 30 },
      { name: "filters", start_ns: T0 + 30, end_ns: T0 + 40 },
      { name: "router", start_ns: T0 + 40, end_ns: T0 + 1510 },
      { name: "upstream_connect", start_ns: T0 + 1510, end_ns: T0 + 1600 },
      { name: "upstream_write", start_ns: T0 + 1610, end_ns: T0 + 1620 },
      { name: "upstream_wait", start_ns: T0 + 1620, end_ns: T0 + 3000 },
      { name: "upstream_read", start_ns: T0 + 3000, end_ns: T0 + 3100 },
      { name: "downstream_write", start_ns: T0 + 3100, end_ns: T0 + 3400 },
    ]);
    expect(a.counters.requests).toMatchObject({ recorded: 1, aborted: 0, incomplete: 0 });
    // A per-try timeout: the router reset try 1 (X, no failure) and retried (Y); the retry's
    // pool ready has not come after the grace: no abort, still pending.
    const b = assembler();
    feed(b, [...pooled(1, T0).slice(0, 4), `X 100 1 ${T0 + 500} 2`, `Z 100 11 ${T0 + 510}`, `Y 100 1 ${T0 + 1500} 3`, `C 100 1 ${T0 + 1510} 12 3`], 0);
    expect(b.sweep(1500)).toEqual([]);
    expect(b.counters.pending).toBe(1);
    expect(b.counters.requests).toMatchObject({ aborted: 0, timeout: 0 });
  });

  it("ends a request whose response had started when its upstream reset (or timed out) as aborted", () => {
    for (const kind of [3, 2]) {
      const a = assembler();
      // Response headers went downstream (no end), then the upstream request failed.
      const lines = pooled(1, T0).filter((l) => !l.startsWith("O ") && !l.startsWith("T 100 9 "));
      lines.push(`T 100 9 ${T0 + 1300} ${T0 + 1400} 100 100 2`, `F 100 1 ${T0 + 3000} ${kind} 3`);
      feed(a, lines, 0);
      expect(a.sweep(600)).toEqual([]);
      expect(a.counters.requests, `kind ${kind}`).toMatchObject({ aborted: 1, timeout: 0 });
    }
  });

  it("records a response that finished before its connection closed (a close after the last write is no abort)", () => {
    const a = assembler();
    feed(a, [...pooled(1, T0), `Z 100 9 ${T0 + 2000}`], 0);
    expect(a.sweep(600).map((r) => r.end_ns)).toEqual([T0 + 1400]);
    expect(a.counters.requests).toMatchObject({ recorded: 1, aborted: 0 });
  });

  it("counts events that belong to no request: a request whose start was lost, and events after its record", () => {
    const a = assembler({ timeoutMs: 5000 });
    feed(a, pooled(1, T0).filter((l) => !l.startsWith("Q ")));
    feed(a, pooled(2, T0 + 10_000, { round: 3 }));
    expect(a.sweep(1000)).toHaveLength(1);
    feed(a, [`G 100 2 ${T0 + 20_000} 9`], 1000);
    a.sweep(7000);
    expect(a.counters.unattributed).toEqual({ R: 1, P: 1, U: 1, H: 1, O: 1, G: 1 });
    // A lost start is not a request outcome: nothing is known of that request.
    expect(a.counters.requests.timeout).toBe(0);
  });

  it("drops the requests in flight when bpftrace reports lost events, counts them lost, and records the next ones", () => {
    const a = assembler();
    feed(a, pooled(1, T0).slice(0, 4));
    a.lost();
    expect(a.counters.pending).toBe(0);
    expect(a.counters.requests.lost).toBe(1);
    // The rest of the lost request's events belong to nothing; a request started after is whole.
    feed(a, [...pooled(1, T0).slice(4), ...pooled(2, T0 + 10_000, { round: 3 })]);
    const out = a.sweep(1000);
    expect(out.map((r) => r.start_ns)).toEqual([T0 + 10_000]);
    expect(a.counters.requests).toMatchObject({ recorded: 1, lost: 1 });
    expect(a.counters.unattributed).toEqual({ U: 1, H: 1, O: 1 });
  });

  it("holds at most maxPending requests, dropping the oldest and counting it", () => {
    const a = assembler({ maxPending: 2 });
    feed(a, pooled(1, T0).slice(0, 2), 0);
    feed(a, pooled(2, T0 + 10_000).slice(0, 2), 1);
    feed(a, pooled(3, T0 + 20_000).slice(0, 2), 2);
    expect(a.counters.pending).toBe(2);
    expect(a.counters.requests.overflow).toBe(1);
  });

  it("writes at most --trace-rate records per second of sampling time", () => {
    const a = assembler({ rate: 1 });
    feed(a, [...pooled(1, T0), ...pooled(2, T0 + 10_000, { round: 3 }), ...pooled(3, T0 + 1_000_000_000, { round: 5 })]);
    const out = a.sweep(1000);
    expect(out.map((r) => r.start_ns)).toEqual([T0, T0 + 1_000_000_000]);
    expect(a.counters.requests).toMatchObject({ recorded: 2, rate_capped: 1 });
  });

  it("writes what it can complete when tracing stops and counts the rest unfinished", () => {
    const a = assembler();
    feed(a, [...pooled(1, T0), ...pooled(2, T0 + 10_000, { round: 3 }).slice(0, 4)]);
    expect(a.flush(0)).toHaveLength(1);
    expect(a.counters.requests).toMatchObject({ recorded: 1, unfinished: 1 });
    expect(a.counters.pending).toBe(0);
  });

  it("starts its keys over for a restarted bpftrace, whose sequence numbers and rounds begin again", () => {
    const a = assembler();
    // The first bpftrace: request 1 recorded, request 2 cut off by its death.
    feed(a, [...pooled(1, T0, { round: 40 }), ...pooled(2, T0 + 10_000, { round: 42 }).slice(0, 4)]);
    expect(a.sweep(600).map((r) => r.end_ns)).toEqual([T0 + 1400]);
    expect(a.restart(700)).toEqual([]);
    expect(a.counters.requests).toMatchObject({ recorded: 1, unfinished: 1 });
    // The next one numbers its requests and rounds from 1 again.
    feed(a, pooled(1, T0 + 5_000_000, { round: 1 }), 800);
    const [r] = a.sweep(1400);
    expect(r).toMatchObject({ start_ns: T0 + 5_000_000, end_ns: T0 + 5_001_400, wakeups: 2 });
    expect(a.counters.requests).toMatchObject({ recorded: 2, unfinished: 1 });
    expect(a.counters.unattributed).toEqual({});
  });

  for (const pair of ["h1-h1", "h2-h2"]) {
    it(`assembles a recorded event stream of the fixture proxy (${pair}): the records as written, matching the proxy's truth`, () => {
      const text = readFileSync(join(FIXTURES, `events-${pair}.txt`), "utf8").split("\n");
      const names = new Map<bigint, string>();
      for (const l of text) {
        const m = /^# filter (\d+) (.+)$/.exec(l);
        if (m) names.set(BigInt(m[1]!), m[2]!);
      }
      const a = assembler({ pod: null, filterName: (probe) => names.get(BigInt(probe.slice(probe.lastIndexOf(":") + 1))) ?? null });
      feed(
        a,
        text.filter((l) => l && !l.startsWith("#")),
      );
      const records: RequestRecord[] = a.flush(0);
      expectGoldenJson(join(HERE, `golden/request-records-${pair}.json`), records);
      const truth = readFileSync(join(FIXTURES, `events-${pair}.truth.ndjson`), "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as TruthLine);
      const c = compareWithTruth(records, truth);
      expect(c.unmatchedTruth).toEqual([]);
      expect(c.mismatches).toEqual([]);
      expect(c.within).toBe(truth.length);
      expect(a.counters.unattributed).toEqual({});
      for (const { record: r, truth: t } of c.pairs) {
        expect(r.wakeups, t.id).toBe(t.wakeups);
        expect(r.bytes_out, t.id).toBe(t.bytes_out);
        // Measured for an HTTP/1.1 request whose head starts its read; else 0 (not measured).
        if (r.bytes_in !== 0) expect(r.bytes_in, t.id).toBe(t.bytes_in);
      }
      expect(c.pairs.filter((p) => p.record.bytes_in !== 0)).toHaveLength(pair === "h1-h1" ? 5 : 0);
    });
  }
});

describe("request trace output", () => {
  it("counts lines that are not declared events, and writes the records it completes when stopped", () => {
    const written: RequestRecord[] = [];
    const status = blankTraceStatus("envoy-request-trace", "/out/envoy-request-trace-requests.ndjson", 1, 1000);
    const t = new RequestTrace({ header: script.header, pid: 4242, pod: null, rate: 1000, table: table({}), status, log: pino({ level: "silent" }), write: (r) => written.push(...r) });
    t.line("hookpoint: not an event\n", 1);
    t.line("Q 1 2\n", 1);
    for (const l of pooled(1, T0)) t.line(`${l}\n`, 1);
    t.stop();
    expect(status.unparsable).toBe(2);
    expect(written.map((r) => r.end_ns)).toEqual([T0 + 1400]);
    expect(status.requests.recorded).toBe(1);
  });

  it("writes a dead bpftrace's completed requests and takes the next one's lines as new requests", () => {
    const written: RequestRecord[] = [];
    const status = blankTraceStatus("envoy-request-trace", "/out/envoy-request-trace-requests.ndjson", 1, 1000);
    const t = new RequestTrace({ header: script.header, pid: 4242, pod: null, rate: 1000, table: table({}), status, log: pino({ level: "silent" }), write: (r) => written.push(...r) });
    for (const l of pooled(1, T0)) t.line(`${l}\n`, 1);
    for (const l of pooled(1, T0 + 5_000_000)) t.line(`${l}\n`, 2);
    t.stop();
    expect(written.map((r) => r.end_ns)).toEqual([T0 + 1400, T0 + 5_001_400]);
    expect(status.requests.recorded).toBe(2);
    expect(status.unattributed).toEqual({});
  });
});
