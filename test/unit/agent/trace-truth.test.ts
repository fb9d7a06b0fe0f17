// compareWithTruth against truth lines with windows: a record boundary is judged against the
// window of two proxy clock readings around the probe, not the proxy's single reading.
import { describe, expect, it } from "vitest";
import type { RequestRecord } from "../../../src/records/request-record.js";
import type { TruthLine, Window } from "../../integration/fixture/support.js";
import { compareWithTruth, describeComparison } from "../../support/trace-truth.js";

const T0 = 7_000_000_000;
// The filters phase ends at the router filter's entry: the proxy read the clock right before
// the call (BEFORE_CALL) and as the function's first statement (ENTERED); the thread was held
// for 2.5 ms in between, after the probe had fired.
const BEFORE_CALL = T0 + 1_000_000;
const ENTERED = T0 + 3_500_000;

/**
 * A truth line of three phases: the filters phase's end and the router's start (one probe)
 * have the window [BEFORE_CALL, ENTERED], the other boundaries one of 1 µs; or no window at
 * all (`windows` false: a log written before windows).
 */
function truth(peer: string, windows = true, beforeCall = BEFORE_CALL): TruthLine {
  const w = (ns: number, lo = ns - 1000): { start_window?: Window } => (windows ? { start_window: [lo, ns] } : {});
  const e = (ns: number, lo = ns - 1000): { end_window?: Window } => (windows ? { end_window: [lo, ns] } : {});
  return {
    id: `req-${peer}`,
    hookpoint_id: 1,
    worker: "wrk:worker_0",
    protocol: "HTTP/1.1",
    stream: null,
    downstream: { fd: 9, local: "127.0.0.1:10000", peer },
    upstream: null,
    pooled: null,
    status: 200,
    bytes_in: 80,
    bytes_out: 120,
    wakeups: 1,
    start_ns: T0,
    end_ns: T0 + 4_000_000,
    phases: [
      { name: "codec", start_ns: T0, end_ns: T0 + 500_000, ...w(T0), ...e(T0 + 500_000) },
      { name: "filters", start_ns: T0 + 500_000, end_ns: ENTERED, ...w(T0 + 500_000), ...e(ENTERED, beforeCall) },
      { name: "router", start_ns: ENTERED, end_ns: T0 + 4_000_000, ...w(ENTERED, beforeCall), ...e(T0 + 4_000_000) },
    ],
    filters: [],
    aborted: null,
  };
}

/** The record of truth(peer) as the trace saw it, its filters phase ending (and the router starting) at `filtersEnd`. */
function record(peer: string, filtersEnd: number): RequestRecord {
  return {
    kind: "request",
    ts: "2025-01-31T12:00:00.000000Z",
    script: "envoy-request-trace",
    pod: null,
    pid: 4242,
    worker: "wrk:worker_0",
    id: `req-${peer}`,
    protocol: "HTTP/1.1",
    stream: null,
    downstream: { fd: 9, local: "127.0.0.1:10000", peer },
    upstream: null,
    start_ns: T0,
    end_ns: T0 + 4_000_000,
    wakeups: 1,
    bytes_in: 80,
    bytes_out: 120,
    phases: [
      { name: "codec", start_ns: T0, end_ns: T0 + 500_000 },
      { name: "filters", start_ns: T0 + 500_000, end_ns: filtersEnd },
      { name: "router", start_ns: filtersEnd, end_ns: T0 + 4_000_000 },
    ],
  };
}

describe("compareWithTruth with the truth's windows", () => {
  it("takes a boundary 2.37 ms before the proxy's reading but inside [before the call, entered] as within, and counts that it needed the window", () => {
    const c = compareWithTruth([record("127.0.0.1:40001", ENTERED - 2_370_602)], [truth("127.0.0.1:40001")]);
    expect(c.mismatches).toEqual([]);
    expect(c.within).toBe(1);
    expect(c.worst).toEqual([{ id: "req-127.0.0.1:40001", ns: 0, where: "no boundary off" }]);
    // filters.end and router.start: the same probe, both read 2.37 ms before ENTERED.
    expect({ needed: c.neededWindow.needed, maxRawNs: c.neededWindow.maxRawNs }).toEqual({ needed: 2, maxRawNs: 2_370_602 });
    expect(describeComparison("one", c, true)).toBe(
      "one: 1/1 requests (100.000 %) have every phase boundary within 1 µs of its truth window, or 200 µs of a reading without one (proxy threads SCHED_FIFO); 2 boundaries within only by the window (single reading up to 2370.6 µs off); widest window 2500.0 µs; worst: req-127.0.0.1:40001 0.0 µs (no boundary off)",
    );
  });

  it("takes a boundary 2 µs outside the window as not within, with its distance to the window's nearer edge; 1 µs is still within", () => {
    const c = compareWithTruth(
      [record("127.0.0.1:40002", BEFORE_CALL - 2_000), record("127.0.0.1:40003", BEFORE_CALL - 1_000), record("127.0.0.1:40004", ENTERED + 2_000)],
      [truth("127.0.0.1:40002"), truth("127.0.0.1:40003"), truth("127.0.0.1:40004")],
    );
    expect(c.mismatches).toEqual([]);
    // 1 µs beyond the window's edge is still within; 2 µs is not, either side.
    expect(c.within).toBe(1);
    expect(c.worst).toEqual([
      { id: "req-127.0.0.1:40002", ns: 2_000, where: "filters.end -2000 ns" },
      { id: "req-127.0.0.1:40004", ns: 2_000, where: "filters.end +2000 ns" },
      { id: "req-127.0.0.1:40003", ns: 1_000, where: "filters.end -1000 ns" },
    ]);
    // Only 40003's two boundaries (2.501 ms from the reading) are within, by the window.
    expect({ needed: c.neededWindow.needed, maxRawNs: c.neededWindow.maxRawNs }).toEqual({ needed: 2, maxRawNs: 2_501_000 });
    expect(describeComparison("edges", c, false)).toBe(
      "edges: 1/3 requests (33.333 %) have every phase boundary within 1 µs of its truth window, or 200 µs of a reading without one; 2 boundaries within only by the window (single reading up to 2501.0 µs off); widest window 2500.0 µs; worst: req-127.0.0.1:40002 2.0 µs (filters.end -2000 ns), req-127.0.0.1:40004 2.0 µs (filters.end +2000 ns), req-127.0.0.1:40003 1.0 µs (filters.end -1000 ns)",
    );
  });

  it("judges a truth line without windows (an older log) against its single reading, as before", () => {
    const c = compareWithTruth([record("127.0.0.1:40005", ENTERED - 2_370_602), record("127.0.0.1:40006", ENTERED - 150_000)], [truth("127.0.0.1:40005", false), truth("127.0.0.1:40006", false)]);
    expect(c.within).toBe(1);
    expect(c.worst).toEqual([
      { id: "req-127.0.0.1:40005", ns: 2_370_602, where: "filters.end -2370602 ns" },
      { id: "req-127.0.0.1:40006", ns: 150_000, where: "filters.end -150000 ns" },
    ]);
    expect(c.neededWindow.needed).toBe(0);
    expect(describeComparison("old", c, false)).toBe(
      "old: 1/2 requests (50.000 %) have every phase boundary within 1 µs of its truth window, or 200 µs of a reading without one; 0 boundaries within only by the window; widest window 0.0 µs; worst: req-127.0.0.1:40005 2370.6 µs (filters.end -2370602 ns), req-127.0.0.1:40006 150.0 µs (filters.end -150000 ns)",
    );
  });

  it("lets no window wider than 1 s vouch for a boundary: such a window would mean a stale reading in the fixture", () => {
    const c = compareWithTruth([record("127.0.0.1:40007", ENTERED - 1_500_000_000)], [truth("127.0.0.1:40007", true, ENTERED - 2_000_000_000)]);
    expect(c.within).toBe(0);
    expect(c.neededWindow.widestNs).toBe(2_000_000_000);
    expect(c.neededWindow.describe()).toBe("0 boundaries within only by the window; widest window 2000000.0 µs");
  });
});
