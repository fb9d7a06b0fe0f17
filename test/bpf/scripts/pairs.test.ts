// hookpoint-pairs with real bpftrace on the fixture as a reverse proxy, where its C++ member
// hookpoints run: ActiveStream::hookpointDecode{Start,End}(id), Router::Filter::
// hookpointRoute{Start,End}() and UpstreamRequest::hookpointUpstream{Start,End}(), for many
// requests at once on two workers (and many HTTP/2 streams on one connection, so one
// thread carries several requests' intervals at a time). Each pair must count every request
// once, nothing unmatched, and no sample below what the fixture or the upstream was told
// to wait. On bpftrace 0.17 and 0.23; skipped, with the reason, where uprobes cannot attach.
import { beforeAll, describe, expect, it } from "vitest";
import { readSymbolTable, type SymbolTable } from "../../../src/elf/symbols.js";
import { loadCatalog, type BundledScript } from "../../../src/catalog/catalog.js";
import { renderScript, symbolPatternsOf } from "../../../src/catalog/render.js";
import { send, startProxy, startUpstream, type Proto } from "../../integration/fixture/support.js";
import { BPFTRACES, FIXTURE, bpfSkipReason, dropsConcurrentCreates, type BpftraceUnderTest } from "../agent/support.js";
import { expectDelay } from "./delays.js";
import { bucketOf, runProgram, sum } from "./harness.js";

const REQUESTS = 200;
/** Flushes during the load: the maps keep running totals, so the final dump holds every sample. */
const INTERVAL_S = 1;
// Each in its own power-of-two bucket (see expectDelay), so a mix-up of pairs shows.
const DECODE_US = 300;
const ROUTE_US = 1500;
const UPSTREAM_MS = 5;
const MEMBER_PAIRS = ["Http::ConnectionManagerImpl::ActiveStream::Decode", "Router::Filter::Route", "Router::UpstreamRequest::Upstream"];
const C_PAIRS = ["CodecParse", "Filters", "Router", "UpstreamConnect"];

describe.each(BPFTRACES)("hookpoint-pairs on the fixture proxy's C++ member hookpoints, $label", (bt: BpftraceUnderTest) => {
  const skip = bpfSkipReason(bt.path);
  let template: BundledScript;
  let table: SymbolTable;

  beforeAll(async () => {
    if (skip) return;
    const t = (await loadCatalog()).find((s) => s.header.name === "hookpoint-pairs");
    if (!t) throw new Error("bundled hookpoint-pairs.bt missing");
    template = t;
    // As the agent reads it: only the symbols the script's pattern names.
    table = await readSymbolTable(FIXTURE.envoy, symbolPatternsOf([template]));
  });

  const protocols: [Proto, number][] = [
    ["h1", 8],
    ["h2", 2],
  ];
  for (const [proto, conns] of protocols) {
    it(`${proto}: every request once in each member pair, none shorter than its delay (${REQUESTS} requests, ${conns} connections, 2 workers)`, async (ctx) => {
      if (skip) return ctx.skip(skip);
      const upstream = await startUpstream(proto, UPSTREAM_MS);
      const proxy = await startProxy(upstream.port, [
        "--concurrency", "2",
        "--downstream-protocol", proto,
        "--upstream-protocol", proto,
        "--delay-member-decode-us", String(DECODE_US),
        "--delay-member-route-us", String(ROUTE_US),
      ]);
      let run;
      try {
        const program = renderScript(template, { binary: FIXTURE.envoy, pid: proxy.pid, table, byAddress: true, intervalSeconds: INTERVAL_S });
        run = await runProgram("hookpoint-pairs", program, bt.path);
        // Requests run 8 at a time: on HTTP/2, several streams of one connection at once.
        const replies = await send(proxy, proto, REQUESTS, `pairs-${proto}`, conns * (proto === "h2" ? 4 : 1));
        expect(replies.filter((r) => r.status === 200)).toHaveLength(REQUESTS);
      } finally {
        await run?.stop();
        await proxy.stop();
        await upstream.close();
      }
      const totals = run.totals;
      // 7 pairs and 1 lone function; BEGIN (the runner's attach marker), interval, END.
      expect(run.probes).toBe(15 + 3);
      expect(totals.keys("@hookpoint_latency_ns")).toEqual([...C_PAIRS, ...MEMBER_PAIRS].sort());
      const hist = (pair: string): Map<number, number> => totals.hist("@hookpoint_latency_ns", pair);
      // bpftrace 0.23 can drop an update when two CPUs create one map entry at once, and says
      // so: a pair's samples plus its reported losses are every request (docs/agent.md).
      const counted = (pair: string): number => REQUESTS - totals.lost("@hookpoint_latency_ns", pair);
      // Each loss is put against its pair, the NUL-padded longest one too.
      expect(totals.lost("@hookpoint_latency_ns"), "lost updates of @hookpoint_latency_ns put against no pair").toBe(0);
      expectDelay(hist("Http::ConnectionManagerImpl::ActiveStream::Decode"), DECODE_US, counted("Http::ConnectionManagerImpl::ActiveStream::Decode"));
      expectDelay(hist("Router::Filter::Route"), ROUTE_US, counted("Router::Filter::Route"));
      // The upstream request lives at least as long as the upstream waits before answering.
      const upstreamLife = hist("Router::UpstreamRequest::Upstream");
      expect(sum(upstreamLife)).toBe(counted("Router::UpstreamRequest::Upstream"));
      expect([...upstreamLife].filter(([min, n]) => n > 0 && min < bucketOf(UPSTREAM_MS * 1e6))).toEqual([]);
      for (const pair of C_PAIRS) expect(sum(hist(pair)), pair).toBe(counted(pair));
      expect(totals.value("@hookpoint_calls", "RequestSeen") + totals.lost("@hookpoint_calls", "RequestSeen")).toBe(REQUESTS);
      if (dropsConcurrentCreates(bt.path)) expect([...totals.lostReasons].filter((r) => r !== "concurrent-create")).toEqual([]);
      else expect(totals.lostTotal, "bpftrace before 0.23 updates map entries in place").toBe(0);
      expect(totals.keys("@hookpoint_unmatched_start")).toEqual([]);
      expect(totals.keys("@hookpoint_unmatched_end")).toEqual([]);
    });
  }
});
