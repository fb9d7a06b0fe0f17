// envoy-request-trace end to end: the real agent traces the fixture proxy with real
// bpftrace uprobes; every request record is checked against the proxy's own --truth log
// (sockets, stream ids, each phase boundary) and what the clients sent.
import net from "node:net";
import http2 from "node:http2";
import { describe, expect, it } from "vitest";
import { BPFTRACES, bpfSkipReason, metricSum, waitFor } from "../agent/support.js";
import { closedPort, h2Connect, h2Trailed, rawExchange, replyBody, startTrailersUpstream } from "../../integration/fixture/support.js";
import { WINDOW_SLACK_NS, boundaryOffset, compareWithTruth, describeComparison, describeHost, expectAllWithin, sendRequests, settle, startTracedProxy, WindowTally, type Comparison, type HostShare, type Proto, type TracedProxy, type TruthLine } from "./support.js";

const skip = bpfSkipReason();
const pairs: [Proto, Proto][] = [
  ["h1", "h1"],
  ["h1", "h2"],
  ["h2", "h1"],
  ["h2", "h2"],
];
const REQUESTS = 3000;
const CONNECTIONS = 64;
const DELAY_MS = 2;

describe.each(BPFTRACES)("envoy-request-trace on the fixture proxy, $label", (bt) => {
  const why = bpfSkipReason(bt.path);
  for (const [down, up] of pairs) {
    it(`follows every request ${down} -> ${up} (2 workers, ${CONNECTIONS} connections, ${REQUESTS} requests): right sockets and stream, phases inside the truth's windows`, { retry: 1 }, async (ctx) => {
      if (why) return ctx.skip(why);
      const p = await startTracedProxy({ down, up, upstreamDelayMs: DELAY_MS, bpftrace: bt.path });
      let sent;
      let result;
      try {
        sent = await sendRequests(p.port, down, REQUESTS, `${down}${up}`, CONNECTIONS, 60_000, down === "h2" ? 2 : 1);
        await settle(p, sent.map((s) => s.id), (t) => t.length);
      } finally {
        result = await p.stop();
      }
      const { records, truth, status, metrics, host } = result;
      expect(sent).toHaveLength(REQUESTS);
      expect(sent.filter((s) => s.status !== 200)).toEqual([]);
      // Every request the client sent is in the truth log, and each truth line has exactly one record.
      expect(new Set(truth.map((t) => t.id))).toEqual(new Set(sent.map((s) => s.id)));
      const c = compareWithTruth(records, truth);
      console.log(`${describeComparison(`${bt.label}, ${down} -> ${up}`, c, p.realtime)}; ${describeHost(host)}`);
      expectPairedWithTruth(c);
      // An id read from the request's bytes is always the one the truth has; HTTP/2 upstreams
      // carry it HPACK-coded, so with an HTTP/2 downstream too the agent makes its own.
      const readIds = records.filter((r) => !r.id.startsWith("hp-"));
      if (up === "h1") expect(readIds).toHaveLength(REQUESTS);
      if (down === "h2" && up === "h2") expect(readIds).toHaveLength(0);
      for (const { record: r, truth: t } of c.pairs) {
        // The upstream answers DELAY_MS after the request reached it: from the write(2) that
        // carried the request to the read of the answer is at least that.
        const write = r.phases.find((x) => x.name === "upstream_write")!;
        const read = r.phases.find((x) => x.name === "upstream_read")!;
        expect(read.start_ns - write.start_ns, t.id).toBeGreaterThanOrEqual(DELAY_MS * 1e6);
        // Only the request whose own connect(2) opened its upstream connection has upstream_connect.
        expect(r.phases.some((x) => x.name === "upstream_connect"), t.id).toBe(t.pooled === false);
        expect(r.stream).toBe(t.stream);
        // The wake-up rounds are the proxy's own. Bytes: bytes_in is known only where the
        // request's bytes were captured (0 otherwise); an HTTP/2 response's bytes_out counts
        // whole writes, which may carry other streams' frames too.
        expect(r.wakeups, t.id).toBe(t.wakeups);
        if (down === "h1") expect(r.bytes_out, t.id).toBe(t.bytes_out);
        if (r.bytes_in !== 0) expect(r.bytes_in, t.id).toBe(t.bytes_in);
      }
      expect(status.trace?.requests.recorded).toBe(REQUESTS);
      expect(status.trace?.unattributed).toEqual({});
      expect(metrics).toContain(`hookpoint_agent_trace_requests_total{outcome="recorded"} ${REQUESTS}`);
      expect(status.bpftraceVersion).toMatch(bt.path === "bpftrace" ? /^0\.17\./ : /^0\.23\./);
      // Every request: each boundary lies inside (1 µs) the window of two proxy clock
      // readings around its probe (a single reading was up to 2.4 ms off when the thread was
      // held between the probe and it, so 99.9 % was all a single reading allowed).
      expectAllWithin(`${bt.label}, ${down} -> ${up}`, c.within, c.pairs.length, host);
      // One retry, for lost events only (timing no longer needs one: every boundary is judged
      // against its window): a clean-clone CI run once saw bpftrace 0.23 report lost events
      // in the 3,000-request burst (h1 -> h2), and the agent then drops the requests in
      // flight (outcome "lost") rather than guess them. A known open problem, not hidden: the
      // retry is the only one in the suite and the closing note names it.
    });
  }
});

describe("envoy-request-trace on the fixture proxy", () => {
  it("samples 1 request in 10 in the kernel: a binomial share of the requests, each one matching the truth", async (ctx) => {
    if (skip) return ctx.skip(skip);
    const p = await startTracedProxy({ down: "h1", up: "h1", upstreamDelayMs: 1, sample: 10 });
    let sent;
    let result;
    try {
      sent = await sendRequests(p.port, "h1", REQUESTS, "sample", CONNECTIONS, 60_000);
      await settle(p, sent.map((s) => s.id), () => 0);
      // No event of a sampled request comes after the grace: wait for its records, not more.
      await new Promise((r) => setTimeout(r, 1500));
    } finally {
      result = await p.stop();
    }
    const { records, truth, status, metrics, host } = result;
    expect(truth).toHaveLength(REQUESTS);
    // Binomial(3000, 0.1): mean 300, standard deviation 16.4; 5 standard deviations either way.
    expect(records.length).toBeGreaterThanOrEqual(218);
    expect(records.length).toBeLessThanOrEqual(382);
    const byId = new Map(truth.map((t) => [t.id, t]));
    const c = compareWithTruth(records, records.map((r) => byId.get(r.id)!));
    console.log(`sampled ${records.length} of ${REQUESTS}; ${describeComparison("1 in 10", c, p.realtime)}; ${describeHost(host)}`);
    expect(c.mismatches).toEqual([]);
    // Every record is its request's (sockets, stream: exact, above), and every boundary lies
    // inside (1 µs) the truth's window around its probe. (A single reading was off by
    // 0.22-0.66 ms for about 1 % of the records when the host held the vCPU between the
    // probe and that reading; the window holds the probe however long that took.)
    expect(status.trace?.requests.recorded).toBe(records.length);
    // The kernel's own counts: every request decided, the sampled ones printed.
    expect(metrics).toContain(`hookpoint_request_trace_requests_total ${REQUESTS}`);
    expect(metrics).toContain(`hookpoint_request_trace_sampled_total ${records.length}`);
    expectAllWithin("1 in 10", c.within, records.length, host);
  });

  it("caps traced requests per second with --trace-rate, and the cap counts what it turned away", async (ctx) => {
    if (skip) return ctx.skip(skip);
    const RATE = 40;
    const p = await startTracedProxy({ down: "h1", up: "h1", rate: RATE });
    let result;
    try {
      // About three seconds of load, bounded in count.
      const until = Date.now() + 3000;
      let n = 0;
      while (Date.now() < until && n < 20_000) {
        const sent = await sendRequests(p.port, "h1", 200, `rate${n}`, 16, 10_000);
        n += sent.length;
      }
      await new Promise((r) => setTimeout(r, 1500));
    } finally {
      result = await p.stop();
    }
    const { records, truth, metrics, host } = result;
    const perSecond = new Map<number, number>();
    for (const r of records) {
      const s = Math.floor(r.phases.find((x) => x.name === "filters")!.start_ns / 1e9);
      perSecond.set(s, (perSecond.get(s) ?? 0) + 1);
    }
    console.log(`--trace-rate ${RATE}: ${records.length} records of ${truth.length} requests, per second ${JSON.stringify([...perSecond.values()])}`);
    expect(Math.max(...perSecond.values())).toBeLessThanOrEqual(RATE);
    expect([...perSecond.values()].filter((n) => n === RATE).length).toBeGreaterThanOrEqual(2);
    const limited = Number(/^hookpoint_request_trace_rate_limited_total (\d+)$/m.exec(metrics)?.[1]);
    expect(limited).toBeGreaterThan(0);
    const byId = new Map(truth.map((t) => [t.id, t]));
    const c = compareWithTruth(records, records.map((r) => byId.get(r.id)!));
    expect(c.mismatches).toEqual([]);
    console.log(`${describeComparison("--trace-rate", c, p.realtime)}; ${describeHost(host)}`);
    expectAllWithin("--trace-rate", c.within, records.length, host);
  });

  it("follows pipelined HTTP/1.1 requests (one write) and a response written in short writes to a slow reader", async (ctx) => {
    if (skip) return ctx.skip(skip);
    const p = await startTracedProxy({ down: "h1", up: "h1", upstreamDelayMs: 2 });
    const SIZE = 8 * 1024 * 1024;
    let result;
    try {
      const N = 4;
      const reqs = Array.from({ length: N }, (_, i) => `GET /p${i} HTTP/1.1\r\nhost: x\r\nx-request-id: pipe-${i}\r\n\r\n`).join("");
      const got = await rawExchange(p.port, reqs, (_, text) => (text.match(/hello \/p\d/g) ?? []).length === N, { keepText: true });
      expect(got.text.match(/hello \/p\d/g)).toEqual(["hello /p0", "hello /p1", "hello /p2", "hello /p3"]);
      // Read nothing for 400 ms: the proxy's writes come up short and wait for EPOLLOUT.
      const slow = await rawExchange(p.port, `GET /bytes/${SIZE} HTTP/1.1\r\nhost: x\r\nx-request-id: slow-reader\r\n\r\n`, (bytes) => bytes > SIZE, { pauseMs: 400 });
      expect(slow.bytes).toBeGreaterThan(SIZE);
      await settle(p, ["pipe-0", "pipe-1", "pipe-2", "pipe-3", "slow-reader"], (t) => t.length);
    } finally {
      result = await p.stop();
    }
    const { records, truth, host } = result;
    const c = compareWithTruth(records, truth);
    console.log(`${describeComparison("pipelined and slow reader", c, p.realtime)}; ${describeHost(host)}`);
    expect(c.unmatchedTruth).toEqual([]);
    expect(c.unmatchedRecords).toEqual([]);
    expect(c.mismatches).toEqual([]);
    const byId = new Map(records.map((r) => [r.id, r]));
    // Ids of the later pipelined requests come from the request as forwarded upstream.
    expect([...byId.keys()].sort()).toEqual(["pipe-0", "pipe-1", "pipe-2", "pipe-3", "slow-reader"]);
    const slowTruth = truth.find((t) => t.id === "slow-reader")!;
    const slowRecord = byId.get("slow-reader")!;
    expect(slowRecord.bytes_out).toBe(slowTruth.bytes_out);
    expect(slowRecord.wakeups).toBe(slowTruth.wakeups);
    expect(slowTruth.wakeups).toBeGreaterThanOrEqual(4);
    for (const t of truth) expect(byId.get(t.id)!.wakeups, t.id).toBe(t.wakeups);
    expectAllWithin("pipelined and slow reader", c.within, truth.length, host);
  });

  it("counts a chunked request's bytes_in from the captured read (107 sent, 107 recorded), or gives 0 (unknown) when the body came later", async (ctx) => {
    if (skip) return ctx.skip(skip);
    const p = await startTracedProxy({ down: "h1", up: "h1" });
    // 81 bytes of head and 26 of chunked body, in one write: the proxy reads them in one read(2).
    const whole = "POST /ch HTTP/1.1\r\nhost: x\r\nx-request-id: chunked\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
    // The same head with its body in a second write 50 ms later: the capture holds only the head.
    const head = "POST /ch HTTP/1.1\r\nhost: x\r\nx-request-id: chunked-late\r\ntransfer-encoding: chunked\r\n\r\n";
    let result;
    try {
      const got = await rawExchange(p.port, whole, (_, text) => text.includes("hello /ch"), { keepText: true });
      expect(got.text).toContain("hello /ch");
      const late = await new Promise<string>((resolve, reject) => {
        let text = "";
        const sock = net.connect(p.port, "127.0.0.1", () => {
          sock.write(head);
          setTimeout(() => sock.write("5\r\nhello\r\n0\r\n\r\n"), 50);
        });
        sock.on("data", (d: Buffer) => {
          text += d.toString("latin1");
          if (text.includes("hello /ch")) {
            sock.end();
            resolve(text);
          }
        });
        sock.on("error", reject);
      });
      expect(late).toContain("hello /ch");
      await settle(p, ["chunked", "chunked-late"], (t) => t.length);
    } finally {
      result = await p.stop();
    }
    const { records, truth } = result;
    const c = compareWithTruth(records, truth);
    expect(c.mismatches).toEqual([]);
    const byId = new Map(records.map((r) => [r.id, r]));
    expect(truth.find((t) => t.id === "chunked")!.bytes_in).toBe(whole.length);
    expect(byId.get("chunked")!.bytes_in).toBe(107);
    expect(truth.find((t) => t.id === "chunked-late")!.bytes_in).toBe(head.length + 15);
    expect(byId.get("chunked-late")!.bytes_in).toBe(0);
  });

  it("reads a request whose head holds a backslash sequence (\\x2d) as sent: its id and bytes_in", async (ctx) => {
    if (skip) return ctx.skip(skip);
    const p = await startTracedProxy({ down: "h1", up: "h1" });
    // Legal header values (VCHAR includes "\"): 4 bytes each, never a byte 0x2d or 0x41.
    const id = String.raw`esc\x2dape`;
    const request = `GET /esc HTTP/1.1\r\nhost: x\r\nx-request-id: ${id}\r\nx-path: ${String.raw`C:\x41\x7e`}\r\n\r\n`;
    let result;
    try {
      const got = await rawExchange(p.port, request, (_, text) => text.includes("hello /esc"), { keepText: true });
      expect(got.text).toContain("hello /esc");
      await settle(p, [id], (t) => t.length);
    } finally {
      result = await p.stop();
    }
    const { records, truth } = result;
    expect(truth.map((t) => [t.id, t.bytes_in])).toEqual([[id, request.length]]);
    expect(records.map((r) => [r.id, r.bytes_in])).toEqual([[id, 76]]);
  });

  /**
   * A bpftrace started while Envoy runs never saw the upstream connections pooled before it:
   * the first request on each has no known socket (dropped as incomplete), later ones no
   * known addresses. Those first requests ("after-*" on a connection "before-*" used).
   */
  const firstOnOldConnections = (truth: TruthLine[]): string[] => {
    const upKey = (t: TruthLine): string => `${t.worker} ${t.upstream!.local}`;
    const oldConns = new Set(truth.filter((t) => t.id.startsWith("before-")).map(upKey));
    const seen = new Set<string>();
    const ids: string[] = [];
    for (const t of truth.filter((x) => x.id.startsWith("after-")).sort((a, b) => a.start_ns - b.start_ns)) {
      if (!oldConns.has(upKey(t)) || seen.has(upKey(t))) continue;
      seen.add(upKey(t));
      ids.push(t.id);
    }
    return ids;
  };

  it("records the requests after bpftrace died and was restarted (its sequence numbers start again) as it did those before", async (ctx) => {
    if (skip) return ctx.skip(skip);
    const p = await startTracedProxy({ down: "h1", up: "h1", upstreamDelayMs: 2 });
    const N = 50;
    let before;
    let after;
    let result;
    try {
      before = await sendRequests(p.port, "h1", N, "before", 2, 30_000);
      await settle(p, before.map((s) => s.id), (t) => t.length);
      const first = (await p.status()).scripts.find((s) => s.name === "envoy-request-trace")!;
      process.kill(first.bpftracePid!, "SIGKILL");
      await waitFor("bpftrace restarted and attached", 60_000, async () => {
        const s = (await p.status()).scripts.find((x) => x.name === "envoy-request-trace")!;
        return (s.state === "running" && s.bpftracePid !== null && s.bpftracePid !== first.bpftracePid) || undefined;
      });
      after = await sendRequests(p.port, "h1", N, "after", 2, 30_000);
      await settle(p, after.map((s) => s.id), (t) => t.length - firstOnOldConnections(t).length);
    } finally {
      result = await p.stop();
    }
    const { records, truth, status } = result;
    expect([...before, ...after].filter((s) => s.status !== 200)).toEqual([]);
    expect(truth).toHaveLength(2 * N);
    const upKey = (t: TruthLine): string => `${t.worker} ${t.upstream!.local}`;
    const oldConns = new Set(truth.filter((t) => t.id.startsWith("before-")).map(upKey));
    const afterTruth = truth.filter((t) => t.id.startsWith("after-")).sort((a, b) => a.start_ns - b.start_ns);
    const unknownSocket = firstOnOldConnections(truth);
    const byId = new Map(records.map((r) => [r.id, r]));
    expect(records.filter((r) => r.id.startsWith("after-")).map((r) => r.id).sort()).toEqual(afterTruth.map((t) => t.id).filter((id) => !unknownSocket.includes(id)).sort());
    for (const t of afterTruth) {
      const r = byId.get(t.id);
      if (!r) continue;
      const known = !oldConns.has(upKey(t));
      expect({ down: r.downstream, up: r.upstream, phases: r.phases.map((x) => x.name), wakeups: r.wakeups, bytes_out: r.bytes_out }, t.id).toEqual({
        down: { fd: t.downstream.fd, local: t.downstream.local, peer: t.downstream.peer },
        up: { fd: t.upstream!.fd, local: known ? t.upstream!.local : null, peer: known ? t.upstream!.peer : null },
        phases: t.phases.map((x) => x.name),
        wakeups: t.wakeups,
        bytes_out: t.bytes_out,
      });
    }
    expect(status.trace?.requests).toMatchObject({ recorded: 2 * N - unknownSocket.length, incomplete: unknownSocket.length, unfinished: 0 });
    expect(status.trace?.unattributed).toEqual({});
  });

  it("gives every filter callback its sub-phase when envoy-http-filters runs beside it, ext_authz's check included", async (ctx) => {
    if (skip) return ctx.skip(skip);
    const p = await startTracedProxy({ down: "h1", up: "h1", scripts: ["envoy-request-trace", "envoy-http-filters"], flags: ["--filter-delay-us", "cors=100", "--filter-delay-us", "ext_authz=400", "--filter-delay-us", "lua=200"] });
    const N = 300;
    // envoy-http-filters' histograms: one sample per call the truth saw, by filter and method.
    const callsIn = (truth: TruthLine[]): Map<string, number> => {
      const calls = new Map<string, number>();
      for (const t of truth) for (const f of t.filters) if (f.method !== "check") calls.set(`${f.filter} ${f.method}`, (calls.get(`${f.filter} ${f.method}`) ?? 0) + 1);
      return calls;
    };
    const countIn = (metrics: string, key: string): number => {
      const [filter = "", method = ""] = key.split(" ");
      return metricSum(metrics, "hookpoint_http_filter_duration_seconds_count", { filter, method });
    };
    let result;
    try {
      const sent = await sendRequests(p.port, "h1", N, "filt", 8, 60_000);
      await settle(p, sent.map((s) => s.id), (t) => t.length);
      // The histograms reach /metrics with the script's next dump (every second), which can
      // come after the last request record: wait for it (bounded), then compare exactly below.
      const want = callsIn(p.truthSoFar());
      await waitFor("envoy-http-filters' next dump", 5_000, async () => {
        const metrics = await p.agent.metrics();
        return [...want].every(([key, n]) => countIn(metrics, key) >= n) || undefined;
      }).catch(() => undefined);
    } finally {
      result = await p.stop();
    }
    const { records, truth, metrics, host } = result;
    const c = compareWithTruth(records, truth);
    console.log(`${describeComparison("with filters", c, p.realtime)}; ${describeHost(host)}`);
    expect(c.mismatches).toEqual([]);
    expect(c.pairs).toHaveLength(N);
    const { within, subPhases } = expectFilterSubPhases("filter sub-phases", c);
    for (const [key, n] of callsIn(truth)) expect(countIn(metrics, key), key).toBe(n);
    expectAllWithin("filter sub-phases", within, subPhases, host);
  });

  it("follows failed requests: a refused upstream connect (503) and an upstream that answers too late (504)", async (ctx) => {
    if (skip) return ctx.skip(skip);
    const refused = await startTracedProxy({ down: "h1", up: "h1", upstreamPort: await closedPort() });
    let a;
    try {
      await sendRequests(refused.port, "h1", 3, "refused", 1, 30_000);
      await settle(refused, ["refused-0", "refused-1", "refused-2"], (t) => t.length);
    } finally {
      a = await refused.stop();
    }
    const slow = await startTracedProxy({ down: "h1", up: "h1", upstreamDelayMs: 1000, flags: ["--upstream-timeout-ms", "200"] });
    let b;
    try {
      await sendRequests(slow.port, "h1", 2, "late", 1, 30_000);
      await settle(slow, ["late-0", "late-1"], (t) => t.length);
    } finally {
      b = await slow.stop();
    }
    const judged: { label: string; within: number; total: number; host: HostShare }[] = [];
    for (const [label, r] of [
      ["503", a],
      ["504", b],
    ] as const) {
      const c = compareWithTruth(r.records, r.truth);
      judged.push({ label, within: c.within, total: r.truth.length, host: r.host });
      console.log(`${describeComparison(label, c, refused.realtime)}; ${describeHost(r.host)}`);
      expect(c.unmatchedTruth).toEqual([]);
      expect(c.mismatches).toEqual([]);
    }
    expect(a.truth.map((t) => t.status)).toEqual([503, 503, 503]);
    expect(a.records.map((r) => r.upstream)).toEqual([null, null, null]);
    expect(b.truth.map((t) => t.status)).toEqual([504, 504]);
    for (const j of judged) expectAllWithin(j.label, j.within, j.total, j.host);
  });
});

/**
 * An upstream that answers `/reset` with its headers and the start of a 1,000-byte body and
 * then drops the connection, and never answers `/hold` (a client gives up first).
 */
function startAbortingUpstream(): Promise<{ port: number; close(): Promise<void> }> {
  return tcpServer((sock) => {
    let head = "";
    sock.on("data", (d: Buffer) => {
      head += d.toString("latin1");
      if (!head.includes("\r\n\r\n")) return;
      if (head.startsWith("GET /reset ")) {
        sock.write("HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\nabc");
        setTimeout(() => sock.destroy(), 100);
      }
      head = "";
    });
  });
}

/** A TCP server on 127.0.0.1 whose connections `serve` handles; close() ends them all. */
async function tcpServer(serve: (sock: net.Socket) => void): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on("close", () => sockets.delete(sock));
    sock.on("error", () => undefined);
    serve(sock);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/**
 * An HTTP/1.1 upstream that drops the connection on the first `resets` tries of each
 * request (by x-request-id), before any answer (or, `hang`, never answers them), and
 * answers the next one `200 ok`.
 */
async function startResettingUpstream(resets: number, hang = false): Promise<{ port: number; tries(): number; close(): Promise<void> }> {
  const seen = new Map<string, number>();
  let tries = 0;
  const server = await tcpServer((sock) => {
    let head = "";
    sock.on("data", (d: Buffer) => {
      head += d.toString("latin1");
      while (head.includes("\r\n\r\n")) {
        const end = head.indexOf("\r\n\r\n") + 4;
        const id = /\r\nx-request-id: *([^\r]*)/i.exec(head.slice(0, end))?.[1] ?? "";
        head = head.slice(end);
        tries++;
        const n = (seen.get(id) ?? 0) + 1;
        seen.set(id, n);
        if (n <= resets) {
          if (!hang) sock.destroy();
          return;
        }
        sock.write("HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nok\n");
      }
    });
  });
  return { ...server, tries: () => tries };
}

/**
 * An HTTP/1.1 upstream that answers each connection's first request as soon as its head
 * came ("hello <path>", or N bytes for /bytes/N) and never reads its body.
 */
async function startEarlyUpstream(): Promise<{ port: number; heads(): number; close(): Promise<void> }> {
  let heads = 0;
  const server = await tcpServer((sock) => {
    let head = "";
    let answered = false;
    sock.on("data", (d: Buffer) => {
      if (answered) return;
      head += d.toString("latin1");
      if (!head.includes("\r\n\r\n")) return;
      answered = true;
      heads++;
      const path = /^[A-Z]+ (\S+) /.exec(head)?.[1] ?? "/";
      const body = replyBody(path);
      sock.write(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n`);
      sock.write(body);
    });
  });
  return { ...server, heads: () => heads };
}

/**
 * An HTTP/1.1 POST on a connection of its own that sends its head and EARLY_BODY_SENT of
 * EARLY_BODY_SAID body bytes, then reads nothing for `pauseMs`; resolves with "status
 * body-bytes" once the proxy closed the connection after the whole answer.
 */
function postEarly(port: number, path: string, id: string, pauseMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = Buffer.alloc(0);
    const sock = net.connect(port, "127.0.0.1", () => {
      sock.write(`POST ${path} HTTP/1.1\r\nhost: x\r\nx-request-id: ${id}\r\ncontent-length: ${EARLY_BODY_SAID}\r\n\r\n${"b".repeat(EARLY_BODY_SENT)}`);
    });
    if (pauseMs > 0) {
      sock.pause();
      setTimeout(() => sock.resume(), pauseMs);
    }
    const timer = setTimeout(() => sock.destroy(new Error(`${id}: no answer and close in 20 s`)), 20_000);
    sock.on("data", (d: Buffer) => (got = Buffer.concat([got, d])));
    sock.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    sock.on("close", () => {
      clearTimeout(timer);
      const end = got.indexOf("\r\n\r\n");
      const head = got.subarray(0, Math.max(end, 0)).toString("latin1");
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1]);
      const body = end < 0 ? 0 : got.length - end - 4;
      resolve(`${/^HTTP\/1\.1 (\d+)/.exec(head)?.[1] ?? "none"} ${body === length ? body : `${body} of ${length}`}`);
    });
  });
}

/**
 * An HTTP/2 POST that sends EARLY_BODY_SENT body bytes and no end; resolves with "status
 * body-bytes rst code" once the stream closed (after the answer and the proxy's RST_STREAM).
 */
function h2PostEarly(session: http2.ClientHttp2Session, id: string): Promise<string> {
  return new Promise((resolve) => {
    const s = session.request({ ":method": "POST", ":path": `/${id}`, "x-request-id": id, "content-length": String(EARLY_BODY_SAID) });
    let status = 0;
    let bytes = 0;
    s.on("response", (h) => (status = Number(h[":status"])));
    s.on("data", (d: Buffer) => (bytes += d.length));
    s.on("error", () => undefined);
    s.on("close", () => resolve(`${status} ${bytes} rst ${s.rstCode}`));
    s.write(Buffer.alloc(EARLY_BODY_SENT, "b"));
  });
}

/** Opens a connection, writes `request`, runs `then` on it 200 ms later; resolves when it closed. */
function abortingClient(port: number, request: string, then: (sock: net.Socket) => void): Promise<void> {
  return new Promise((resolve) => {
    const sock = net.connect(port, "127.0.0.1", () => {
      sock.write(request);
      setTimeout(() => then(sock), 200);
    });
    sock.on("data", () => undefined);
    sock.on("error", () => undefined);
    sock.on("close", () => resolve());
  });
}

const REUSED = 4;
const FEW_KEYS = 64;
const MANY = 200;
/** Tries per request in the retry test: the upstream resets all but the last. */
const TRIES = 3;
/** The per-try timeout test: requests, and the fixture's --per-try-timeout-ms. */
const PER_TRY_REQUESTS = 50;
const PER_TRY_MS = 40;

/** Requests of each protocol answered before their body had all come, and the slow reader's answer and pause. */
const EARLY = 20;
const EARLY_SLOW_BYTES = 6_000_000;
const EARLY_PAUSE_MS = 1500;
/** What a client of an early answer sends of its request: the head says 100,000 body bytes. */
const EARLY_BODY_SENT = 1000;
const EARLY_BODY_SAID = 100_000;

/** Responses of each kind that end with trailers, and the upstream's time between their body and trailers. */
const TRAILED = 10;
const TRAILERS_DELAY_MS = 100;

/**
 * The fixture as Envoy < 1.25 (the default) and as Envoy >= 1.27, whose upstream request runs
 * a FilterManager of its own (--upstream-filter-manager); the default's titles are unchanged.
 */
const FILTER_MANAGERS = [
  { title: "", flags: [] as string[] },
  { title: " (the upstream request running a filter manager of its own)", flags: ["--upstream-filter-manager"] },
];
/** The upstream filter manager's tests: GETs and POSTs of each protocol, and requests of each at 1 in 2. */
const UFM_GETS = 10;
const UFM_POSTS = 5;
const UFM_SAMPLED = 200;

/** bpftrace's map size cut to FEW_KEYS (each version reads its own variable). */
function fewMapKeys(label: string): Record<string, string> {
  return label.includes("0.17") ? { BPFTRACE_MAP_KEYS_MAX: String(FEW_KEYS) } : { BPFTRACE_MAX_MAP_KEYS: String(FEW_KEYS) };
}

/**
 * One GET per id, one after another, each on an HTTP/2 connection of its own; then, once
 * every id has its record, the proxy stopped (and `after`, also on a failure): its result
 * and the statuses.
 */
async function getEachAndStop(p: TracedProxy, ids: readonly string[], after?: () => Promise<void>): Promise<{ statuses: number[]; result: Awaited<ReturnType<TracedProxy["stop"]>> }> {
  const statuses: number[] = [];
  let result;
  try {
    for (const id of ids) {
      const session = await h2Connect(p.port);
      statuses.push(await h2Get(session, id));
      session.close();
    }
    await settle(p, ids, () => ids.length);
  } finally {
    result = await p.stop();
    await after?.();
  }
  return { statuses, result };
}

/** Every record paired with its truth line and none differing in sockets, stream, id or phase names. */
function expectPairedWithTruth(c: Comparison): void {
  expect(c.unmatchedTruth.map((t) => t.id)).toEqual([]);
  expect(c.unmatchedRecords.map((r) => r.id)).toEqual([]);
  expect(c.mismatches).toEqual([]);
}

/**
 * Each paired record's filter sub-phases are its truth's filter calls (ext_authz's check
 * included), by name and in order; returns how many there are and how many have both
 * edges inside (1 µs) the truth's windows.
 */
function expectFilterSubPhases(label: string, c: Comparison): { within: number; subPhases: number } {
  let subPhases = 0;
  let within = 0;
  const tally = new WindowTally();
  for (const { record: r, truth: t } of c.pairs) {
    const children = r.phases.find((x) => x.name === "filters")!.children ?? [];
    const want = [...t.filters].sort((a, b) => a.start_ns - b.start_ns || a.end_ns - b.end_ns);
    expect(children.map((x) => x.name), t.id).toEqual(want.map((f) => `${f.filter} ${f.method}`));
    children.forEach((x, i) => {
      const f = want[i]!;
      subPhases++;
      // Both edges judged (no short cut), so each one is tallied.
      const start = tally.within(boundaryOffset(x.start_ns, f.start_ns, f.start_window));
      const end = tally.within(boundaryOffset(x.end_ns, f.end_ns, f.end_window));
      if (start && end) within++;
    });
  }
  console.log(`${label}: ${within}/${subPhases} within ${WINDOW_SLACK_NS / 1000} µs of the truth's windows; ${tally.describe()}`);
  return { within, subPhases };
}

/** A POST's body in the upstream filter manager's tests. */
const UFM_BODY = "b".repeat(1000);

/** One POST with `body` on an HTTP/2 session; resolves with "status response-body" once it ended. */
function h2Post(session: http2.ClientHttp2Session, id: string, body: string): Promise<string> {
  return new Promise((resolve) => {
    const s = session.request({ ":method": "POST", ":path": `/${id}`, "x-request-id": id, "content-length": String(body.length) });
    let status = 0;
    const chunks: Buffer[] = [];
    s.on("response", (h) => (status = Number(h[":status"])));
    s.on("data", (d: Buffer) => chunks.push(d));
    s.on("end", () => resolve(`${status} ${Buffer.concat(chunks).toString()}`));
    s.on("error", (err) => resolve(`error ${err.message}`));
    s.end(body);
  });
}

/** One GET on an HTTP/2 session; resolves with its status once the response ended. */
function h2Get(session: http2.ClientHttp2Session, id: string): Promise<number> {
  return new Promise((resolve) => {
    const s = session.request({ ":path": `/${id}`, "x-request-id": id });
    let status = 0;
    s.on("response", (h) => (status = Number(h[":status"])));
    s.on("data", () => undefined);
    s.on("end", () => resolve(status));
    s.on("error", () => resolve(-1));
    s.end();
  });
}

/**
 * One HTTP/2 connection: a GET on stream 1 (its id in x-request-id); once `answered` says
 * so, stream 3 opens with a HEADERS frame lacking END_HEADERS (its header block never
 * completes, so that request never enters the filter chain), and the connection closes.
 */
function getThenOpenAndClose(port: number, id: string, answered: () => Promise<unknown>): Promise<void> {
  const frame = (type: number, flags: number, stream: number, payload: Buffer): Buffer => {
    const h = Buffer.alloc(9);
    h.writeUIntBE(payload.length, 0, 3);
    h[3] = type;
    h[4] = flags;
    h.writeUInt32BE(stream, 5);
    return Buffer.concat([h, payload]);
  };
  const literal = (name: string, value: string): Buffer => Buffer.concat([Buffer.from([0x00, name.length]), Buffer.from(name), Buffer.from([value.length]), Buffer.from(value)]);
  // HPACK: :method GET, :path /, :scheme http (static entries 2, 4, 6), then literals.
  const get = Buffer.concat([Buffer.from([0x82, 0x84, 0x86]), literal(":authority", "x"), literal("x-request-id", id)]);
  const END_STREAM = 0x1;
  const END_HEADERS = 0x4;
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, "127.0.0.1", () => {
      sock.write(Buffer.concat([Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), frame(4, 0, 0, Buffer.alloc(0)), frame(1, END_STREAM | END_HEADERS, 1, get)]));
      answered().then(
        () => {
          sock.write(frame(1, 0, 3, Buffer.from([0x82, 0x84])));
          // Long enough for the proxy to read that frame before the close comes.
          setTimeout(() => sock.end(), 100);
        },
        (err: unknown) => {
          sock.destroy();
          reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
    sock.on("data", () => undefined);
    sock.on("error", () => undefined);
    sock.on("close", () => resolve());
  });
}

describe("envoy-request-trace on the fixture proxy: aborted requests", () => {
  // The outcome is counted once the request is quiet for the grace (0.5 s) and the close is
  // as old; a timeout would take 120 s.
  const PROMPT_MS = 3000;
  const abortedWithin = async (p: Awaited<ReturnType<typeof startTracedProxy>>, n: number, what: string): Promise<number> => {
    const t0 = Date.now();
    await waitFor(`${what}: aborted ${n}`, PROMPT_MS, async () => ((await p.status()).trace?.requests.aborted ?? 0) >= n || undefined);
    return Date.now() - t0;
  };

  it("ends requests whose client closed or half-closed, or whose upstream reset after the response started, as aborted within 3 s (HTTP/1.1)", async (ctx) => {
    if (skip) return ctx.skip(skip);
    const upstream = await startAbortingUpstream();
    const p = await startTracedProxy({ down: "h1", up: "h1", upstreamPort: upstream.port });
    const req = (path: string, id: string): string => `GET ${path} HTTP/1.1\r\nhost: x\r\nx-request-id: ${id}\r\n\r\n`;
    let result;
    const took: number[] = [];
    try {
      await abortingClient(p.port, req("/hold", "client-close"), (s) => s.destroy());
      took.push(await abortedWithin(p, 1, "client closed"));
      await abortingClient(p.port, req("/hold", "client-half-close"), (s) => s.end());
      took.push(await abortedWithin(p, 2, "client half-closed"));
      await abortingClient(p.port, req("/reset", "upstream-reset"), () => undefined);
      took.push(await abortedWithin(p, 3, "upstream reset"));
      await settle(p, ["client-close", "client-half-close", "upstream-reset"], () => 0);
    } finally {
      result = await p.stop();
      await upstream.close();
    }
    console.log(`aborted requests counted ${took.join(", ")} ms after their connection closed`);
    const { records, truth, status, metrics } = result;
    expect(truth.map((t) => [t.id, t.aborted])).toEqual([
      ["client-close", "downstream_reset"],
      ["client-half-close", "downstream_reset"],
      ["upstream-reset", "upstream_reset"],
    ]);
    expect(records).toEqual([]);
    expect(status.trace?.requests).toMatchObject({ aborted: 3, timeout: 0, recorded: 0 });
    expect(status.trace?.pending).toBe(0);
    expect(metrics).toContain(`hookpoint_agent_trace_requests_total{outcome="aborted"} 3`);
  });

  for (const bt of BPFTRACES) {
    it(`ends requests whose HTTP/2 client reset their streams while ext_authz held them (before the router) as aborted within 3 s, the other streams of that connection recorded, ${bt.label}`, async (ctx) => {
      const why = bpfSkipReason(bt.path);
      if (why) return ctx.skip(why);
      // ext_authz's check answers 1.5 s after each request's headers: the client resets
      // RESET of its streams 300 ms in, while the check still holds them.
      const RESET = 3;
      const KEPT = 4;
      const p = await startTracedProxy({ down: "h2", up: "h1", upstreamDelayMs: DELAY_MS, flags: ["--filter-delay-us", "ext_authz=1500000"], bpftrace: bt.path });
      const session = await h2Connect(p.port);
      const kept = Array.from({ length: KEPT }, (_, i) => `kept-${i}`);
      const reset = Array.from({ length: RESET }, (_, i) => `reset-${i}`);
      let result;
      let took = 0;
      let statuses: number[] = [];
      try {
        const answers = kept.map((id) => h2Get(session, id));
        const cancelled = reset.map((id) => {
          const s = session.request({ ":path": `/${id}`, "x-request-id": id });
          s.on("error", () => undefined);
          s.end();
          return s;
        });
        await new Promise((r) => setTimeout(r, 300));
        for (const s of cancelled) s.close(http2.constants.NGHTTP2_CANCEL);
        took = await abortedWithin(p, RESET, "HTTP/2 streams reset in ext_authz");
        statuses = await Promise.all(answers);
        await settle(p, [...kept, ...reset], (t) => t.filter((x) => x.aborted === null).length);
      } finally {
        session.close();
        result = await p.stop();
      }
      console.log(`${bt.label}: ${RESET} HTTP/2 streams reset before the router counted aborted ${took} ms after RST_STREAM`);
      const { records, truth, status, host } = result;
      expect(statuses).toEqual(kept.map(() => 200));
      expect(truth.map((t) => [t.id, t.aborted]).sort()).toEqual([...kept.map((id) => [id, null]), ...reset.map((id) => [id, "downstream_reset"])].sort());
      // Reset before the router: no router phase in their truth.
      for (const t of truth.filter((x) => x.aborted !== null)) expect(t.phases.map((x) => x.name), t.id).not.toContain("router");
      const c = compareWithTruth(records, truth.filter((t) => t.aborted === null));
      console.log(`${describeComparison(`${bt.label}, reset streams' neighbours`, c, p.realtime)}; ${describeHost(host)}`);
      expectPairedWithTruth(c);
      for (const { record: r, truth: t } of c.pairs) expect(r.stream, t.id).toBe(t.stream);
      expect(status.trace?.requests).toMatchObject({ aborted: RESET, recorded: KEPT, timeout: 0, incomplete: 0, invalid: 0 });
      expect(status.trace?.pending).toBe(0);
      expect(status.trace?.unattributed).toEqual({});
      expectAllWithin(`${bt.label}, reset streams' neighbours`, c.within, c.pairs.length, host);
    });
  }

  for (const bt of BPFTRACES) {
    it(`gives the reset of an HTTP/2 stream that never reached the filter chain to no request, after a traced one on its connection ended (${REUSED} recorded, ${REUSED} such resets: no D event, 0 unattributed, 0 aborted), ${bt.label}`, async (ctx) => {
      const why = bpfSkipReason(bt.path);
      if (why) return ctx.skip(why);
      // A traced request ends and is written; then its connection opens another stream whose
      // headers never reach the filter chain and closes, so Envoy resets that untraced
      // stream (and the ended request's entries are deleted first). On real Envoy that
      // stream may sit in the ended one's memory and found its stale entry; the fixture's
      // allocator does not hand it that memory (seen by tracing the addresses), so this
      // guards the reset path with the deletion but cannot reproduce the stale match.
      const p = await startTracedProxy({ down: "h2", up: "h1", flags: ["--concurrency", "1"], bpftrace: bt.path });
      const ids = Array.from({ length: REUSED }, (_, i) => `reused-${i}`);
      let result;
      try {
        for (const [i, id] of ids.entries()) {
          await getThenOpenAndClose(p.port, id, () => waitFor(`${id} recorded`, 10_000, async () => ((await p.status()).trace?.requests.recorded ?? 0) >= i + 1 || undefined));
        }
        // A D event would come at once; give the agent a sweep to count it.
        await new Promise((r) => setTimeout(r, 1500));
      } finally {
        result = await p.stop();
      }
      const { records, truth, status } = result;
      expect(records.map((r) => [r.id, r.stream])).toEqual(ids.map((id) => [id, 1]));
      // The fixture's truth: the traced requests, and the reset streams (no id, never decoded).
      expect(truth.filter((t) => t.aborted === null).map((t) => t.id)).toEqual(ids);
      expect(truth.filter((t) => t.aborted !== null).map((t) => [t.id, t.aborted])).toEqual(ids.map(() => ["", "downstream_reset"]));
      expect(status.trace?.events.D ?? 0).toBe(0);
      expect(status.trace?.unattributed).toEqual({});
      expect(status.trace?.requests).toMatchObject({ recorded: REUSED, aborted: 0, timeout: 0, incomplete: 0, invalid: 0 });
      expect(status.trace?.pending).toBe(0);
    });
  }

  for (const bt of BPFTRACES) {
    it(`deletes a request's entries when its stream ends: with bpftrace's maps cut to ${FEW_KEYS} keys, ${MANY} requests (a connection each) are all recorded, ${bt.label}`, async (ctx) => {
      const why = bpfSkipReason(bt.path);
      if (why) return ctx.skip(why);
      // Each request's FilterManager, Router::Filter and UpstreamRequest take new addresses
      // here: entries left behind would fill the maps after ${FEW_KEYS} requests, and the
      // requests after that would lose their events (bpftrace drops an update to a full map).
      const env = fewMapKeys(bt.label);
      const p = await startTracedProxy({ down: "h2", up: "h1", flags: ["--concurrency", "1"], bpftrace: bt.path, env });
      const ids = Array.from({ length: MANY }, (_, i) => `many-${i}`);
      const { statuses, result } = await getEachAndStop(p, ids);
      const { records, truth, status } = result;
      expect(statuses).toEqual(ids.map(() => 200));
      expect(truth.map((t) => [t.id, t.aborted])).toEqual(ids.map((id) => [id, null]));
      expect(records.map((r) => r.id)).toEqual(ids);
      expect(status.trace?.requests).toMatchObject({ recorded: MANY, aborted: 0, timeout: 0, incomplete: 0, invalid: 0 });
      expect(status.trace?.unattributed).toEqual({});
    });
  }

  for (const bt of BPFTRACES) {
    it(`deletes a request's per-filter entries when its stream ends: with bpftrace's maps cut to ${FEW_KEYS} keys and envoy-http-filters beside, ${MANY} requests (a connection each) all get every filter sub-phase, ext_authz's check included, ${bt.label}`, async (ctx) => {
      const why = bpfSkipReason(bt.path);
      if (why) return ctx.skip(why);
      // Each request's filters take new addresses here, as its FilterManager does: a
      // per-filter entry (the filter -> request map that ext_authz's answer is found by) left
      // behind would fill that map within ${FEW_KEYS} / 3 requests, and the later requests
      // would lose their check (bpftrace drops an update to a full map).
      const env = fewMapKeys(bt.label);
      const p = await startTracedProxy({ down: "h2", up: "h1", scripts: ["envoy-request-trace", "envoy-http-filters"], flags: ["--concurrency", "1", "--filter-delay-us", "ext_authz=1000"], bpftrace: bt.path, env });
      const ids = Array.from({ length: MANY }, (_, i) => `filters-${i}`);
      const { statuses, result } = await getEachAndStop(p, ids);
      const { records, truth, status, host } = result;
      expect(statuses).toEqual(ids.map(() => 200));
      expect(truth.map((t) => [t.id, t.aborted])).toEqual(ids.map((id) => [id, null]));
      expect(records.map((r) => r.id)).toEqual(ids);
      expect(status.trace?.requests).toMatchObject({ recorded: MANY, aborted: 0, timeout: 0, incomplete: 0, invalid: 0 });
      expect(status.trace?.unattributed).toEqual({});
      const c = compareWithTruth(records, truth);
      console.log(`${describeComparison(`per-filter entries, ${bt.label}`, c, p.realtime)}; ${describeHost(host)}`);
      expectPairedWithTruth(c);
      // Every request's 13 filter calls: 3 decodeHeaders, ext_authz's check (its answer: A),
      // 3 encodeHeaders and 6 encodeData (the body, then its empty end); one L for each
      // callback, and each a sub-phase as the truth has it.
      expect(truth.map((t) => t.filters.length)).toEqual(ids.map(() => 13));
      expect(status.trace?.events?.A).toBe(MANY);
      expect(status.trace?.events?.L).toBe(MANY * 12);
      const { within, subPhases } = expectFilterSubPhases(`per-filter entries, ${bt.label}: filter sub-phases`, c);
      expect(subPhases).toBe(MANY * 13);
      expectAllWithin(`per-filter entries, ${bt.label}: filter sub-phases`, within, subPhases, host);
    });
  }

  for (const [mode, bt] of FILTER_MANAGERS.flatMap((m) => BPFTRACES.map((b) => [m, b] as const))) {
    it(`follows a retried request's upstream requests to the last try, as the truth has it, and keeps no entries of them: with bpftrace's maps cut to ${FEW_KEYS} keys, ${MANY} requests each reset ${TRIES - 1} times by the upstream and retried are all recorded${mode.title}, ${bt.label}`, async (ctx) => {
      const why = bpfSkipReason(bt.path);
      if (why) return ctx.skip(why);
      // Each try is a new UpstreamRequest at its own address (the fixture frees failed tries
      // with the stream): an entry kept for any try but the one the stream's end deletes would
      // fill the maps within ${FEW_KEYS} requests.
      const env = fewMapKeys(bt.label);
      const upstream = await startResettingUpstream(TRIES - 1);
      const p = await startTracedProxy({ down: "h2", up: "h1", upstreamPort: upstream.port, flags: ["--concurrency", "1", "--retries", String(TRIES - 1), ...mode.flags], bpftrace: bt.path, env });
      const ids = Array.from({ length: MANY }, (_, i) => `retried-${i}`);
      const { statuses, result } = await getEachAndStop(p, ids, () => upstream.close());
      const { records, truth, status, host } = result;
      expect(statuses).toEqual(ids.map(() => 200));
      expect(upstream.tries()).toEqual(MANY * TRIES);
      expect(truth.map((t) => [t.id, t.aborted])).toEqual(ids.map((id) => [id, null]));
      expect(records.map((r) => r.id)).toEqual(ids);
      expect(status.trace?.requests).toMatchObject({ recorded: MANY, aborted: 0, timeout: 0, incomplete: 0, invalid: 0 });
      // The last try's upstream socket and phases: its own connect (the reset closed the
      // try before), write, wait and read; the earlier tries and backoffs are in router.
      const c = compareWithTruth(records, truth);
      console.log(`${describeComparison(`retried, ${bt.label}`, c, p.realtime)}; ${describeHost(host)}`);
      expectPairedWithTruth(c);
      expect(new Set(records.map((r) => r.phases.map((x) => x.name).join(",")))).toEqual(new Set(["downstream_read,codec,filters,router,upstream_connect,upstream_write,upstream_wait,upstream_read,downstream_write"]));
      expect(new Set(truth.map((t) => t.pooled))).toEqual(new Set([false]));
      for (const { record: r, truth: t } of c.pairs) expect(r.wakeups, t.id).toBe(t.wakeups);
      expectAllWithin(`retried, ${bt.label}`, c.within, MANY, host);
      // Every try is followed: one retry (Y) per failed try; each try's pool ready (P), its
      // one upstream write (T) and the capture of it (K), and its failure (F, the reset, whose
      // connection closes: Z) or response headers (U). Connects (C): every retry's (the reset
      // closed the connection) and the first request's first try's; a later first try takes
      // the connection the previous request's last try left in the pool. Downstream: one
      // write (T), one close (Z) and one body (O) per request. With an upstream filter
      // manager, each try's decodeHeaders(NULL) there is no request of its own (no Q).
      expect(status.trace?.events).toEqual({ Q: MANY, R: MANY, Y: MANY * (TRIES - 1), C: MANY * (TRIES - 1) + 1, P: MANY * TRIES, T: MANY * TRIES + MANY, K: MANY * TRIES, F: MANY * (TRIES - 1), Z: MANY * (TRIES - 1) + MANY, U: MANY, H: MANY, O: MANY });
      expect(status.trace?.unattributed).toEqual({});
    });
  }

  for (const bt of BPFTRACES) {
    it(`follows a request retried after a per-try timeout to its second try, as the truth has it: with bpftrace's maps cut to ${FEW_KEYS} keys, ${PER_TRY_REQUESTS} requests whose first try gets no answer in ${PER_TRY_MS} ms are all recorded, ${bt.label}`, async (ctx) => {
      const why = bpfSkipReason(bt.path);
      if (why) return ctx.skip(why);
      const env = fewMapKeys(bt.label);
      const upstream = await startResettingUpstream(1, true);
      const p = await startTracedProxy({ down: "h2", up: "h1", upstreamPort: upstream.port, flags: ["--concurrency", "1", "--retries", "1", "--per-try-timeout-ms", String(PER_TRY_MS)], bpftrace: bt.path, env });
      const ids = Array.from({ length: PER_TRY_REQUESTS }, (_, i) => `per-try-${i}`);
      const { statuses, result } = await getEachAndStop(p, ids, () => upstream.close());
      const { records, truth, status, host } = result;
      const n = PER_TRY_REQUESTS;
      expect(statuses).toEqual(ids.map(() => 200));
      expect(upstream.tries()).toEqual(2 * n);
      expect(records.map((r) => r.id)).toEqual(ids);
      expect(status.trace?.requests).toMatchObject({ recorded: n, aborted: 0, timeout: 0, incomplete: 0, invalid: 0 });
      const c = compareWithTruth(records, truth);
      console.log(`${describeComparison(`per-try timeout, ${bt.label}`, c, p.realtime)}; ${describeHost(host)}`);
      expectPairedWithTruth(c);
      for (const { record: r, truth: t } of c.pairs) {
        expect(r.wakeups, t.id).toBe(t.wakeups);
        // The first try's wait for its timeout is inside router.
        const router = r.phases.find((x) => x.name === "router")!;
        expect(router.end_ns - router.start_ns, t.id).toBeGreaterThanOrEqual(PER_TRY_MS * 1e6);
      }
      expectAllWithin(`per-try timeout, ${bt.label}`, c.within, n, host);
      // The router's reset of each first try (X) with no failure, its retry (Y); the first
      // try's connection is closed by the reset (Z), so every retry connects (C), as does the
      // first request's first try; a later first try takes the pooled connection.
      expect(status.trace?.events).toEqual({ Q: n, R: n, X: n, Y: n, C: n + 1, P: 2 * n, T: 2 * n + n, K: 2 * n, Z: n + n, U: n, H: n, O: n });
      expect(status.trace?.unattributed).toEqual({});
    });
  }

  for (const bt of BPFTRACES) {
    it(`keeps requests answered before their body had all come recorded, though Envoy then resets their streams (doEndStream's local reset): ${EARLY} HTTP/1.1 and ${EARLY} HTTP/2 ones, and one whose client reads its ${EARLY_SLOW_BYTES}-byte answer ${EARLY_PAUSE_MS} ms late (recorded ${2 * EARLY + 1}, aborted 0, 0 unattributed), ${bt.label}`, async (ctx) => {
      const why = bpfSkipReason(bt.path);
      if (why) return ctx.skip(why);
      // Each client sends its head and 1,000 of 100,000 body bytes; the upstream answers on
      // the head. Envoy (and the fixture) then resets the upstream request (X), sends the
      // answer, and resets the downstream stream (doEndStream: onResetStream(LocalReset), a
      // D) with the response whole: an HTTP/1.1 connection closes once written, an HTTP/2
      // stream gets RST_STREAM(NO_ERROR) after END_STREAM. The slow reader's answer waits in
      // the socket for longer than the agent's grace after that reset.
      const upstream = await startEarlyUpstream();
      const p = await startTracedProxy({ down: "h1", up: "h1", upstreamPort: upstream.port, flags: ["--concurrency", "1", "--downstream-protocol", "auto"], bpftrace: bt.path });
      const h1 = Array.from({ length: EARLY }, (_, i) => `early-h1-${i}`);
      const h2 = Array.from({ length: EARLY }, (_, i) => `early-h2-${i}`);
      const slow = "early-slow";
      const answers: string[] = [];
      let result;
      try {
        for (const id of h1) answers.push(await postEarly(p.port, `/${id}`, id, 0));
        const session = await h2Connect(p.port);
        try {
          for (const id of h2) answers.push(await h2PostEarly(session, id));
        } finally {
          session.close();
        }
        answers.push(await postEarly(p.port, `/bytes/${EARLY_SLOW_BYTES}`, slow, EARLY_PAUSE_MS));
        await settle(p, [...h1, ...h2, slow], (t) => t.length);
      } finally {
        result = await p.stop();
        await upstream.close();
      }
      const { records, truth, status, host } = result;
      const n = 2 * EARLY + 1;
      expect(answers).toEqual([...h1.map((id) => `200 ${`hello /${id}`.length}`), ...h2.map((id) => `200 ${`hello /${id}`.length} rst 0`), `200 ${EARLY_SLOW_BYTES}`]);
      expect(upstream.heads()).toBe(n);
      expect(truth.map((t) => [t.id, t.status, t.aborted]).sort()).toEqual([...h1, ...h2, slow].map((id) => [id, 200, null]).sort());
      expect(status.trace?.requests).toMatchObject({ recorded: n, aborted: 0, timeout: 0, incomplete: 0, invalid: 0 });
      expect(status.trace?.pending).toBe(0);
      expect(status.trace?.unattributed).toEqual({});
      const c = compareWithTruth(records, truth);
      console.log(`${describeComparison(`answered early, ${bt.label}`, c, p.realtime)}; ${describeHost(host)}`);
      expectPairedWithTruth(c);
      // Written until the upstream answered, which it did before the request's end: no wait.
      expect(new Set(records.map((r) => r.phases.map((x) => x.name).join(",")))).toEqual(new Set(["downstream_read,codec,filters,router,upstream_connect,upstream_write,upstream_read,downstream_write"]));
      for (const { record: r, truth: t } of c.pairs) {
        expect(r.wakeups, t.id).toBe(t.wakeups);
        if (t.protocol === "HTTP/1.1") expect(r.bytes_out, t.id).toBe(t.bytes_out);
      }
      // The slow reader's answer was written for longer than the agent's half-second grace
      // after the reset (which came as the answer's end went in).
      const slowWrite = records.find((r) => r.id === slow)!.phases.find((x) => x.name === "downstream_write")!;
      expect(slowWrite.end_ns - slowWrite.start_ns).toBeGreaterThan(500e6);
      // Every request: the router's reset of its upstream request and Envoy's of its stream.
      expect(status.trace?.events).toMatchObject({ Q: n, X: n, D: n });
      expectAllWithin(`answered early, ${bt.label}`, c.within, n, host);
    });
  }

  for (const [mode, bt] of FILTER_MANAGERS.flatMap((m) => BPFTRACES.map((b) => [m, b] as const))) {
    it(`ends a response that ends with trailers (gRPC: headers, data, then trailers) at the trailers' write, as the truth does: ${TRAILED} HTTP/1.1 GETs, ${TRAILED} HTTP/2 GETs and ${TRAILED} HTTP/2 POSTs answered before their body had all come, each ${TRAILERS_DELAY_MS} ms between body and trailers (recorded ${3 * TRAILED}, aborted 0)${mode.title}, ${bt.label}`, async (ctx) => {
      const why = bpfSkipReason(bt.path);
      if (why) return ctx.skip(why);
      // The HTTP/2 upstream answers each stream on its head: headers and body at once, the
      // trailers (grpc-status) 100 ms later. The proxy ends each response with the trailers
      // (FilterManager::encodeTrailers): HTTP/2 clients get them, HTTP/1.1 clients the last
      // chunk. The early POSTs' streams are then reset by doEndStream (LocalReset, a D), as
      // the early-answer test's are, but in the trailers' call.
      const upstream = await startTrailersUpstream(TRAILERS_DELAY_MS);
      const p = await startTracedProxy({ down: "h1", up: "h2", upstreamPort: upstream.port, flags: ["--concurrency", "1", "--downstream-protocol", "auto", ...mode.flags], bpftrace: bt.path });
      const h1 = Array.from({ length: TRAILED }, (_, i) => `trailed-h1-${i}`);
      const h2 = Array.from({ length: TRAILED }, (_, i) => `trailed-h2-${i}`);
      const early = Array.from({ length: TRAILED }, (_, i) => `trailed-early-${i}`);
      const h1Bytes = new Map<string, number>();
      const answers: string[] = [];
      let result;
      try {
        for (const id of h1) {
          const got = await rawExchange(p.port, `GET /${id} HTTP/1.1\r\nhost: x\r\nx-request-id: ${id}\r\n\r\n`, (_, text) => text.endsWith("\r\n0\r\n\r\n"), { keepText: true });
          h1Bytes.set(id, got.bytes);
          answers.push(got.text.slice(got.text.indexOf("\r\n\r\n") + 4));
        }
        const session = await h2Connect(p.port);
        try {
          for (const id of h2) answers.push(await h2Trailed(session, id, false));
          for (const id of early) answers.push(await h2Trailed(session, id, true));
        } finally {
          session.close();
        }
        await settle(p, [...h1, ...h2, ...early], (t) => t.length);
      } finally {
        result = await p.stop();
        await upstream.close();
      }
      const { records, truth, status, host } = result;
      const n = 3 * TRAILED;
      const chunked = (id: string): string => `${(`hello /${id}`.length).toString(16)}\r\nhello /${id}\r\n0\r\n\r\n`;
      expect(answers).toEqual([...h1.map(chunked), ...[...h2, ...early].map((id) => `200 hello /${id} grpc-status=0,grpc-message=ok rst 0`)]);
      expect(upstream.streams()).toBe(n);
      expect(truth.map((t) => [t.id, t.status, t.aborted]).sort()).toEqual([...h1, ...h2, ...early].map((id) => [id, 200, null]).sort());
      expect(status.trace?.requests).toMatchObject({ recorded: n, aborted: 0, timeout: 0, incomplete: 0, invalid: 0, unfinished: 0 });
      expect(status.trace?.pending).toBe(0);
      expect(status.trace?.unattributed).toEqual({});
      const c = compareWithTruth(records, truth);
      console.log(`${describeComparison(`trailers, ${bt.label}`, c, p.realtime)}; ${describeHost(host)}`);
      expectPairedWithTruth(c);
      for (const { record: r, truth: t } of c.pairs) {
        expect(r.wakeups, t.id).toBe(t.wakeups);
        // The response's end is the trailers' write: its headers went in before the upstream
        // sent the trailers (its body with them, 100 ms before), its end after.
        const sent = upstream.trailersNs.get(t.id)!;
        const write = r.phases.find((x) => x.name === "downstream_write")!;
        expect([write.start_ns < sent, write.end_ns > sent], t.id).toEqual([true, true]);
        // Every byte of the response, the last chunk or the trailers included; an early
        // answer's trailers share their write(2) with the RST_STREAM(NO_ERROR) doEndStream
        // queued after them (13 bytes, counted in the record's whole writes).
        const extra = early.includes(t.id) ? 13 : 0;
        expect(r.bytes_out, t.id).toBe(t.bytes_out + extra);
        if (h1.includes(t.id)) expect(t.bytes_out, t.id).toBe(h1Bytes.get(t.id));
      }
      // One trailers event (E) per response; each early answer's upstream request reset by the
      // router (X) and its stream by doEndStream (D). With an upstream filter manager the
      // trailers pass its encodeTrailers first: no second E.
      expect(status.trace?.events).toMatchObject({ Q: n, E: n, X: TRAILED, D: TRAILED });
      expectAllWithin(`trailers, ${bt.label}`, c.within, n, host);
    });
  }

  for (const up of ["h1", "h2"] as const) {
    it(`ends a request whose HTTP/2 client reset its stream (RST_STREAM, connection kept) as aborted within 3 s (h2 -> ${up})`, async (ctx) => {
      if (skip) return ctx.skip(skip);
      // HTTP/1.1: an upstream that never answers /hold; HTTP/2: one that answers after 5 s.
      const upstream = up === "h1" ? await startAbortingUpstream() : null;
      const p = await startTracedProxy({ down: "h2", up, ...(upstream ? { upstreamPort: upstream.port } : { upstreamDelayMs: 5000 }) });
      let result;
      let took = 0;
      const session = await h2Connect(p.port);
      try {
        const stream = session.request({ ":path": "/hold", "x-request-id": "h2-cancel" });
        stream.on("error", () => undefined);
        stream.end();
        await new Promise((r) => setTimeout(r, 200));
        stream.close(http2.constants.NGHTTP2_CANCEL);
        took = await abortedWithin(p, 1, "HTTP/2 stream reset");
        await settle(p, ["h2-cancel"], () => 0);
      } finally {
        session.close();
        result = await p.stop();
        await upstream?.close();
      }
      console.log(`HTTP/2 reset stream (upstream ${up}) counted aborted ${took} ms after RST_STREAM`);
      const { records, truth, status } = result;
      expect(truth.map((t) => [t.id, t.aborted])).toEqual([["h2-cancel", "downstream_reset"]]);
      expect(records).toEqual([]);
      expect(status.trace?.requests).toMatchObject({ aborted: 1, timeout: 0, recorded: 0 });
    });
  }
});

describe("envoy-request-trace on an Envoy whose upstream request runs a filter manager of its own (the fixture's --upstream-filter-manager)", () => {
  // Envoy >= 1.27 (1.25 and 1.26 by default): UpstreamRequest::acceptHeadersFromRouter calls
  // FilterManager::decodeHeaders(NULL) of the upstream request's own FilterManager, inside the
  // request's router; its body and response pass that FilterManager's decodeData and
  // encodeHeaders/encodeData/encodeTrailers too. None of it is a request of its own.
  for (const bt of BPFTRACES) {
    const n = 2 * (UFM_GETS + UFM_POSTS);
    it(`counts and follows each downstream request once: ${UFM_GETS} HTTP/1.1 and ${UFM_GETS} HTTP/2 GETs, then ${UFM_POSTS} POSTs with a body on each (HTTP/2 streams 1, 3, 5, ...; requests, sampled, Q and recorded ${n}), ${bt.label}`, async (ctx) => {
      const why = bpfSkipReason(bt.path);
      if (why) return ctx.skip(why);
      const p = await startTracedProxy({ down: "h1", up: "h1", upstreamDelayMs: DELAY_MS, flags: ["--upstream-filter-manager", "--concurrency", "1", "--downstream-protocol", "auto"], bpftrace: bt.path });
      const ids = (what: string, count: number): string[] => Array.from({ length: count }, (_, i) => `ufm-${what}-${i}`);
      const h1Gets = ids("get-h1", UFM_GETS);
      const h1Posts = ids("post-h1", UFM_POSTS);
      const h2Gets = ids("get-h2", UFM_GETS);
      const h2Posts = ids("post-h2", UFM_POSTS);
      const all = [...h1Gets, ...h1Posts, ...h2Gets, ...h2Posts];
      const answers: string[] = [];
      let result;
      try {
        // HTTP/1.1: the GETs on one keep-alive connection, each POST on its own.
        const gets = await sendRequests(p.port, "h1", UFM_GETS, "ufm-get-h1", 1, 30_000);
        answers.push(...gets.map((g) => `${g.status}`));
        for (const id of h1Posts) {
          const got = await rawExchange(p.port, `POST /${id} HTTP/1.1\r\nhost: x\r\nx-request-id: ${id}\r\ncontent-length: ${UFM_BODY.length}\r\n\r\n${UFM_BODY}`, (_, text) => text.endsWith(`hello /${id}`), { keepText: true });
          answers.push(got.text.slice(0, 12));
        }
        // HTTP/2: one connection, one stream at a time.
        const session = await h2Connect(p.port);
        try {
          for (const id of h2Gets) answers.push(`${await h2Get(session, id)}`);
          for (const id of h2Posts) answers.push(await h2Post(session, id, UFM_BODY));
        } finally {
          session.close();
        }
        await settle(p, all, (t) => t.length);
        // The kernel's counts come with bpftrace's next print (every second).
        await waitFor("the kernel's request count", 5000, async () => metricSum(await p.agent.metrics(), "hookpoint_request_trace_requests_total") >= n || undefined);
      } finally {
        result = await p.stop();
      }
      const { records, truth, status, metrics, host } = result;
      expect(answers).toEqual([...h1Gets.map(() => "200"), ...h1Posts.map(() => "HTTP/1.1 200"), ...h2Gets.map(() => "200"), ...h2Posts.map((id) => `200 hello /${id}`)]);
      expect(truth.map((t) => t.id).sort()).toEqual([...all].sort());
      // The kernel's counts: each downstream request decided once, and (1 in 1) traced.
      expect(metrics).toContain(`hookpoint_request_trace_requests_total ${n}`);
      expect(metrics).toContain(`hookpoint_request_trace_sampled_total ${n}`);
      expect(status.trace?.events).toMatchObject({ Q: n, R: n, H: n });
      expect(status.trace?.requests).toMatchObject({ recorded: n, aborted: 0, timeout: 0, incomplete: 0, invalid: 0, unfinished: 0 });
      expect(status.trace?.unattributed).toEqual({});
      const c = compareWithTruth(records, truth);
      console.log(`${describeComparison(`upstream filter manager, ${bt.label}`, c, p.realtime)}; ${describeHost(host)}`);
      expectPairedWithTruth(c);
      // The HTTP/2 connection's k-th request is its stream 2k - 1.
      const h2Streams = records.filter((r) => r.protocol === "HTTP/2").sort((a, b) => a.start_ns - b.start_ns).map((r) => r.stream);
      expect(h2Streams).toEqual(Array.from({ length: UFM_GETS + UFM_POSTS }, (_, i) => 2 * i + 1));
      for (const { record: r, truth: t } of c.pairs) {
        expect(r.wakeups, t.id).toBe(t.wakeups);
        if (t.protocol === "HTTP/1.1") expect(r.bytes_out, t.id).toBe(t.bytes_out);
      }
      expectAllWithin(`upstream filter manager, ${bt.label}`, c.within, n, host);
    });
  }

  for (const bt of BPFTRACES) {
    it(`samples 1 in 2 of the downstream requests only: ${UFM_SAMPLED} HTTP/1.1 and ${UFM_SAMPLED} HTTP/2 GETs decided once each (requests ${2 * UFM_SAMPLED}), every record one of them and matching its truth, ${bt.label}`, async (ctx) => {
      const why = bpfSkipReason(bt.path);
      if (why) return ctx.skip(why);
      const p = await startTracedProxy({ down: "h1", up: "h1", upstreamDelayMs: 1, sample: 2, flags: ["--upstream-filter-manager", "--downstream-protocol", "auto"], bpftrace: bt.path });
      let sent;
      let result;
      try {
        sent = [...(await sendRequests(p.port, "h1", UFM_SAMPLED, "ufm-sampled-h1", 4, 30_000)), ...(await sendRequests(p.port, "h2", UFM_SAMPLED, "ufm-sampled-h2", 2, 30_000, 2))];
        await settle(p, sent.map((s) => s.id), () => 0);
        // No event of a sampled request comes after the grace: wait for its records, not more.
        await new Promise((r) => setTimeout(r, 1500));
      } finally {
        result = await p.stop();
      }
      const { records, truth, status, metrics, host } = result;
      const total = 2 * UFM_SAMPLED;
      expect(sent.filter((s) => s.status !== 200)).toEqual([]);
      expect(truth).toHaveLength(total);
      expect(metrics).toContain(`hookpoint_request_trace_requests_total ${total}`);
      expect(metrics).toContain(`hookpoint_request_trace_sampled_total ${records.length}`);
      expect(status.trace?.requests.recorded).toBe(records.length);
      // Binomial(400, 0.5): mean 200, standard deviation 10; 5 standard deviations either way.
      expect(records.length).toBeGreaterThanOrEqual(150);
      expect(records.length).toBeLessThanOrEqual(250);
      // Every record is a downstream request's (its id read from its bytes, once) and matches it.
      const byId = new Map(truth.map((t) => [t.id, t]));
      expect(records.map((r) => r.id).filter((id) => !byId.has(id))).toEqual([]);
      expect(new Set(records.map((r) => r.id)).size).toBe(records.length);
      const c = compareWithTruth(records, records.map((r) => byId.get(r.id)!));
      console.log(`sampled ${records.length} of ${total}; ${describeComparison(`upstream filter manager, 1 in 2, ${bt.label}`, c, p.realtime)}; ${describeHost(host)}`);
      expectPairedWithTruth(c);
      expectAllWithin(`upstream filter manager, 1 in 2, ${bt.label}`, c.within, records.length, host);
    });
  }
});
