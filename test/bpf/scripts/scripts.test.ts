// The bundled scripts with real bpftrace and real uprobes on the fixture Envoy: each one
// passes the symbol check, attaches, and under a bounded load measures what the fixture
// was told to do - its configured delays, the bytes the client sent and received, one
// event-loop wake-up per request. Skipped, with the reason, where uprobes cannot attach.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readSymbolTable, type SymbolTable } from "../../../src/elf/symbols.js";
import { loadCatalog, type BundledScript } from "../../../src/catalog/catalog.js";
import { checkScript, renderScript } from "../../../src/catalog/render.js";
import { BPFTRACES, FIXTURE, bpfSkipReason, type BpftraceUnderTest } from "../agent/support.js";
import { expectDelay } from "./delays.js";
import { bucketOf, runProgram, sequentialLoad, startFixture, sum, type Fixture, type MapTotals } from "./harness.js";

const REQUESTS = 40;
/** Flush every second: the scripts keep running totals, so flushes during a load lose nothing. */
const INTERVAL_S = 1;
const US = 1000;
// Delays (µs) chosen so that each measured interval, plus the few microseconds a uprobe
// costs, stays inside one of bpftrace's power-of-two buckets, and different intervals
// land in different buckets (a mix-up shows).
const DELAY = { codecParse: 80, filters: 1500, router: 300, upstreamConnect: 3000, flow: 100 };
const FLAGS = [
  "--concurrency", "1",
  "--delay-codec-parse-us", String(DELAY.codecParse),
  "--delay-filters-us", String(DELAY.filters),
  "--delay-router-us", String(DELAY.router),
  "--delay-upstream-connect-us", String(DELAY.upstreamConnect),
  "--delay-flow-us", String(DELAY.flow),
];

describe.each(BPFTRACES)("on $label", (bt: BpftraceUnderTest) => {
  const skip = bpfSkipReason(bt.path);

  describe("bundled scripts on the fixture Envoy", () => {
    let catalog: BundledScript[] = [];
    let table: SymbolTable;
    let fixture: Fixture | null = null;

    beforeAll(async () => {
      if (skip) return;
      catalog = await loadCatalog();
      table = await readSymbolTable(FIXTURE.envoy);
      fixture = await startFixture(FIXTURE.envoy, FLAGS);
    });
    afterAll(async () => {
      await fixture?.stop();
    });

    const script = (name: string): BundledScript => {
      const s = catalog.find((c) => c.header.name === name);
      if (!s) throw new Error(`no bundled script ${name}`);
      return s;
    };

    /** Renders, attaches, drives REQUESTS requests, stops (final dump) and returns the sums. */
    async function trace(name: string, opts: { byAddress?: boolean } = {}): Promise<{ totals: MapTotals; probes: number; sent: number; received: number }> {
      const f = fixture as Fixture;
      // The scripts never clear a map, so the final dump holds every sample exactly.
      const program = renderScript(script(name), { binary: FIXTURE.envoy, pid: f.pid, table, byAddress: opts.byAddress ?? true, intervalSeconds: INTERVAL_S });
      const run = await runProgram(name, program, bt.path);
      try {
        const load = await sequentialLoad(f.port, REQUESTS);
        expect(load.ok).toBe(REQUESTS);
        // Let the worker finish the connection's close before the final dump.
        await new Promise((r) => setTimeout(r, 300));
        await run.stop();
        return { totals: run.totals, probes: run.probes, sent: load.bytesSent, received: load.bytesReceived };
      } catch (err) {
        await run.stop();
        throw err;
      }
    }

    it("every bundled script passes the symbol check against the fixture", (ctx) => {
      if (skip) return ctx.skip(skip);
      expect(catalog.map((s) => [s.header.name, checkScript(s, table)])).toEqual(catalog.map((s) => [s.header.name, { ok: true }]));
    });

    it("hookpoint-pairs: each pair's histogram holds its configured delay, RequestSeen counts requests", async (ctx) => {
      if (skip) return ctx.skip(skip);
      const { totals, probes } = await trace("hookpoint-pairs");
      // 4 extern "C" and 3 member pairs, 1 lone function; BEGIN (the runner's attach marker),
      // interval, END. The member hookpoints run only in proxy mode (test/bpf/scripts/pairs.test.ts).
      expect(probes).toBe(15 + 3);
      expect(totals.keys("@hookpoint_latency_ns")).toEqual(["CodecParse", "Filters", "Router", "UpstreamConnect"]);
      expectDelay(totals.hist("@hookpoint_latency_ns", "CodecParse"), DELAY.codecParse, REQUESTS);
      expectDelay(totals.hist("@hookpoint_latency_ns", "Filters"), DELAY.filters, REQUESTS);
      expectDelay(totals.hist("@hookpoint_latency_ns", "Router"), DELAY.router, REQUESTS);
      expectDelay(totals.hist("@hookpoint_latency_ns", "UpstreamConnect"), DELAY.upstreamConnect, REQUESTS);
      expect(totals.value("@hookpoint_calls", "RequestSeen")).toBe(REQUESTS);
      expect(totals.keys("@hookpoint_unmatched_start")).toEqual([]);
      expect(totals.keys("@hookpoint_unmatched_end")).toEqual([]);
    });

    it("envoy-filter-chain: the filter chain histogram holds --delay-filters-us, nothing unmatched", async (ctx) => {
      if (skip) return ctx.skip(skip);
      const { totals, probes } = await trace("envoy-filter-chain");
      expect(probes).toBe(2 + 3);
      expectDelay(totals.hist("@filter_chain_ns"), DELAY.filters, REQUESTS);
      expect(totals.value("@filter_chain_unmatched_start")).toBe(0);
      expect(totals.value("@filter_chain_unmatched_end")).toBe(0);
    });

    it("envoy-request-flow: each phase holds the fixture's delays between its flow functions", async (ctx) => {
      if (skip) return ctx.skip(skip);
      const { totals, probes } = await trace("envoy-request-flow");
      // Its 7 functions, the upstream request's under both names (the fixture has Envoy
      // >= 1.24's acceptHeadersFromRouter too, for --upstream-filter-manager; the local
      // answer calls encodeHeaders), the dispatch glob matching both codecs' (HTTP/1.1 and
      // HTTP/2); BEGIN, interval, END.
      expect(probes).toBe(9 + 3);
      const phase = (p: string): Map<number, number> => totals.hist("@request_phase_ns", p);
      // The local answer has no upstream, so no UpstreamRequest::decodeHeaders call and no response_to_write.
      expect(totals.keys("@request_phase_ns")).toEqual(["dispatch_to_filters", "dispatch_to_router", "filters_to_router", "read_to_dispatch", "read_to_upstream", "router_to_upstream"]);
      expect(sum(phase("read_to_dispatch"))).toBe(REQUESTS);
      expectDelay(phase("dispatch_to_filters"), DELAY.codecParse + DELAY.flow, REQUESTS);
      expectDelay(phase("filters_to_router"), DELAY.filters + DELAY.flow, REQUESTS);
      expectDelay(phase("dispatch_to_router"), DELAY.codecParse + DELAY.flow + DELAY.filters + DELAY.flow, REQUESTS);
      expectDelay(phase("router_to_upstream"), DELAY.router + DELAY.flow, REQUESTS);
      expectDelay(phase("read_to_upstream"), DELAY.codecParse + DELAY.flow + DELAY.filters + DELAY.flow + DELAY.router + DELAY.flow, REQUESTS);
    });

    it("envoy-request-flow with an upstream-response function: response_to_write counts every response", async (ctx) => {
      if (skip) return ctx.skip(skip);
      // The local answer never calls UpstreamRequest::decodeHeaders: lend that name the address
      // of hookpointUpstreamConnectEnd, the last thing before the response is written.
      const end = table.symbols.get("hookpointUpstreamConnectEnd");
      if (!end) throw new Error("fixture lacks hookpointUpstreamConnectEnd");
      const name = "_ZN5Envoy6Router15UpstreamRequest13decodeHeadersEOSt10unique_ptrINS_4Http17ResponseHeaderMapESt14default_deleteIS4_EEb";
      const lent: SymbolTable = { ...table, symbols: new Map([...table.symbols, [name, { ...end, name }]]) };
      const f = fixture as Fixture;
      const program = renderScript(script("envoy-request-flow"), { binary: FIXTURE.envoy, pid: f.pid, table: lent, byAddress: true, intervalSeconds: INTERVAL_S });
      expect(program).toContain(`uprobe:"${FIXTURE.envoy}":0x${end.address.toString(16)} /pid == ${f.pid}/\n{\n  @_response[tid] = nsecs;`);
      const run = await runProgram("envoy-request-flow", program, bt.path);
      let load;
      try {
        load = await sequentialLoad(f.port, REQUESTS);
      } finally {
        await run.stop();
      }
      expect(load.ok).toBe(REQUESTS);
      expect(run.probes).toBe(9 + 3);
      expect(sum(run.totals.hist("@request_phase_ns", "response_to_write"))).toBe(REQUESTS);
      expect(sum(run.totals.hist("@request_phase_ns", "router_to_upstream"))).toBe(REQUESTS);
    });

    it("envoy-request-flow attached by exact name measures the same", async (ctx) => {
      if (skip) return ctx.skip(skip);
      const { totals, probes } = await trace("envoy-request-flow", { byAddress: false });
      expect(probes).toBe(9 + 3);
      expectDelay(totals.hist("@request_phase_ns", "filters_to_router"), DELAY.filters + DELAY.flow, REQUESTS);
      expectDelay(totals.hist("@request_phase_ns", "router_to_upstream"), DELAY.router + DELAY.flow, REQUESTS);
    });

    it("envoy-event-loop: one wake-up with a ready event per request on wrk:worker_0, busy for the request's delays", async (ctx) => {
      if (skip) return ctx.skip(skip);
      const { totals, probes } = await trace("envoy-event-loop");
      // epoll_*wait is epoll_wait and epoll_pwait, on entry and exit; BEGIN, interval, END.
      expect(probes).toBe(4 + 3);
      const worker = "wrk:worker_0";
      const ready = totals.hist("@loop_ready_events", worker);
      const withEvents = sum(new Map([...ready].filter(([min]) => min >= 1)));
      // One per request, plus the accept and the close of the connection.
      expect(withEvents).toBeGreaterThanOrEqual(REQUESTS);
      expect(withEvents).toBeLessThanOrEqual(REQUESTS + 2);
      // Every wake-up, time-outs (0 events) included, is counted once.
      expect(totals.value("@loop_wakeups", worker)).toBe(sum(ready));
      // A request's wake-up runs the whole flow: at least the sum of its delays (the
      // fixture's header lists them: three flow delays, after RequestSeen, FiltersEnd
      // and RouterEnd).
      const perRequestNs = (DELAY.codecParse + DELAY.filters + DELAY.router + DELAY.upstreamConnect + 3 * DELAY.flow) * US;
      const runnable = totals.hist("@loop_runnable_ns", worker);
      const long = sum(new Map([...runnable].filter(([min]) => min >= bucketOf(perRequestNs))));
      expect(long).toBeGreaterThanOrEqual(REQUESTS);
      expect(long).toBeLessThanOrEqual(REQUESTS + 2);
      expect(totals.value("@loop_busy_ns", worker)).toBeGreaterThanOrEqual(REQUESTS * perRequestNs);
    });

    it("envoy-socket-io: bytes read and written are exactly what the client sent and received", async (ctx) => {
      if (skip) return ctx.skip(skip);
      const { totals, sent, received, probes } = await trace("envoy-socket-io");
      expect(probes).toBe(12 + 3);
      expect(totals.value("@io_bytes_total", "read")).toBe(sent);
      expect(totals.value("@io_bytes_total", "write")).toBe(received);
      // One read per request plus the end-of-file read; one write per response.
      expect(sum(totals.hist("@io_bytes", "read"))).toBe(REQUESTS + 1);
      expect(totals.hist("@io_bytes", "read").get(0)).toBe(1);
      expect(totals.hist("@io_bytes", "write")).toEqual(new Map([[bucketOf(received / REQUESTS), REQUESTS]]));
      expect(sum(totals.hist("@io_latency_ns", "read")) + sum(totals.hist("@io_latency_ns", "write"))).toBe(REQUESTS * 2 + 1 + totals.value("@io_errors", "read") + totals.value("@io_errors", "write"));
    });
  });

  describe("the default scripts on the 200,000-symbol fixture Envoy", () => {
    let fixture: Fixture | null = null;
    let table: SymbolTable;
    let catalog: BundledScript[] = [];

    beforeAll(async () => {
      if (skip) return;
      catalog = await loadCatalog();
      table = await readSymbolTable(FIXTURE.big);
      fixture = await startFixture(FIXTURE.big, ["--concurrency", "1"]);
    });
    afterAll(async () => {
      await fixture?.stop();
    });

    it("attach together by address and each produce records for every request", async (ctx) => {
      if (skip) return ctx.skip(skip);
      const f = fixture as Fixture;
      expect(table.symbols.size).toBeGreaterThan(200_000);
      const defaults = catalog.filter((s) => s.header.default);
      expect(defaults.map((s) => s.header.name)).toEqual(["envoy-event-loop", "envoy-request-flow", "hookpoint-pairs"]);
      const runs = [];
      try {
        for (const s of defaults) {
          const program = renderScript(s, { binary: FIXTURE.big, pid: f.pid, table, byAddress: true, intervalSeconds: INTERVAL_S });
          runs.push(await runProgram(s.header.name, program, bt.path));
        }
        const load = await sequentialLoad(f.port, REQUESTS);
        expect(load.ok).toBe(REQUESTS);
        await new Promise((r) => setTimeout(r, 300));
      } finally {
        for (const r of runs) await r.stop();
      }
      const [loop, flow, pairs] = runs.map((r) => r.totals) as [MapTotals, MapTotals, MapTotals];
      const ready = loop.hist("@loop_ready_events", "wrk:worker_0");
      expect(sum(new Map([...ready].filter(([min]) => min >= 1)))).toBeGreaterThanOrEqual(REQUESTS);
      expect(sum(flow.hist("@request_phase_ns", "router_to_upstream"))).toBe(REQUESTS);
      expect(sum(flow.hist("@request_phase_ns", "read_to_upstream"))).toBe(REQUESTS);
      expect(pairs.value("@hookpoint_calls", "RequestSeen")).toBe(REQUESTS);
      expect(sum(pairs.hist("@hookpoint_latency_ns", "Filters"))).toBe(REQUESTS);
    });
  });
});
