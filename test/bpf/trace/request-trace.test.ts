// envoy-request-trace end to end: the real agent traces the fixture proxy with real
// bpftrace uprobes; every request record is checked against the proxy's own --truth log
// (sockets, stream ids, each phase boundary) and what the clients sent.
import { describe, expect, it } from "vitest";
import { bpfSkipReason } from "../agent/support.js";
import { closedPort } from "../../integration/fixture/support.js";
import { BOUNDARY_NS, compareWithTruth, describeComparison, sendRequests, settle, startTracedProxy, type Proto } from "./support.js";

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

describe("envoy-request-trace on the fixture proxy", () => {
  for (const [down, up] of pairs) {
    it(`follows every request ${down} -> ${up} (2 workers, ${CONNECTIONS} connections, ${REQUESTS} requests): right sockets and stream, phases within 0.2 ms of the truth`, async (ctx) => {
      if (skip) return ctx.skip(skip);
      const p = await startTracedProxy({ down, up, upstreamDelayMs: DELAY_MS });
      let sent;
      let result;
      try {
        sent = await sendRequests(p.port, down, REQUESTS, `${down}${up}`, CONNECTIONS, 60_000, down === "h2" ? 2 : 1);
        await settle(p, sent.map((s) => s.id), (t) => t.length);
      } finally {
        result = await p.stop();
      }
      const { records, truth, status, metrics } = result;
      expect(sent).toHaveLength(REQUESTS);
      expect(sent.filter((s) => s.status !== 200)).toEqual([]);
      // Every request the client sent is in the truth log, and each truth line has exactly one record.
      expect(new Set(truth.map((t) => t.id))).toEqual(new Set(sent.map((s) => s.id)));
      const c = compareWithTruth(records, truth);
      console.log(describeComparison(`${down} -> ${up}`, c, p.realtime));
      expect(c.unmatchedTruth.map((t) => t.id)).toEqual([]);
      expect(c.unmatchedRecords.map((r) => r.id)).toEqual([]);
      expect(c.mismatches).toEqual([]);
      expect(c.within / c.pairs.length).toBeGreaterThanOrEqual(0.999);
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
      }
      expect(status.trace?.requests.recorded).toBe(REQUESTS);
      expect(status.trace?.unattributed).toEqual({});
      expect(metrics).toContain(`hookpoint_agent_trace_requests_total{outcome="recorded"} ${REQUESTS}`);
    });
  }

  it.todo("sampling 1 in 10: a binomial share of the requests, each matching the truth");
});

void BOUNDARY_NS;
void closedPort;
