import { describe, expect, it } from "vitest";
import { clockOffsets, unixNsToIso } from "../../../src/report/clock.js";

describe("wall clock", () => {
  it("writes unix ns as an ISO time with every digit", () => {
    expect(unixNsToIso(1738324800123456789n)).toBe("2025-01-31T12:00:00.123456789Z");
  });

  it("maps each process's monotonic clock with the smallest ts − end_ns of its records", () => {
    const recs = [
      { pod: "a/x", record: { pid: 1, end_ns: 1_000, ts: "2025-01-31T12:00:00.000002000Z" } }, // stamped 1000 ns late
      { pod: "a/x", record: { pid: 1, end_ns: 5_000, ts: "2025-01-31T12:00:00.000005000Z" } }, // exact
      { pod: "a/x", record: { pid: 2, end_ns: 5_000, ts: "2025-01-31T12:00:01.000005000Z" } },
    ];
    const off = clockOffsets(recs);
    expect(recs.map((r) => off.get(r.record))).toEqual([1738324800000000000n, 1738324800000000000n, 1738324801000000000n]);
  });

  it("keeps apart a pod recreated under the same name whose Envoy has the same pid, on another node's clock", () => {
    // db-0 ran on a node booted at 12:00:00, then was recreated on one booted at 09:00:00; in its
    // container Envoy got pid 15 both times. Both incarnations' files sit in one collect folder.
    const recs = [
      { pod: "data/db-0", record: { pid: 15, end_ns: 60_000_000_000, ts: "2025-01-31T12:01:00.000000300Z" } }, // stamped 300 ns late
      { pod: "data/db-0", record: { pid: 15, end_ns: 61_000_000_000, ts: "2025-01-31T12:01:01.000000000Z" } },
      { pod: "data/db-0", record: { pid: 15, end_ns: 18_000_000_000_000, ts: "2025-01-31T14:00:00.000000000Z" } },
    ];
    const off = clockOffsets(recs);
    // Before: one offset for (db-0, 15), the smallest of all: the first two requests placed 3 h early.
    expect(recs.map((r) => unixNsToIso(off.get(r.record)! + BigInt(r.record.end_ns)))).toEqual([
      "2025-01-31T12:01:00.000000000Z",
      "2025-01-31T12:01:01.000000000Z",
      "2025-01-31T14:00:00.000000000Z",
    ]);
  });

  it("keeps one process on one clock when its ts − end_ns straddle a whole second", () => {
    const recs = [
      { pod: "a/x", record: { pid: 1, end_ns: 1_000, ts: "2025-01-31T12:00:00.999999999Z" } },
      { pod: "a/x", record: { pid: 1, end_ns: 2_000, ts: "2025-01-31T12:00:01.000002500Z" } }, // 1,501 ns later, past the whole second
    ];
    const off = clockOffsets(recs);
    expect(recs.map((r) => off.get(r.record))).toEqual([1738324800999998999n, 1738324800999998999n]);
  });
});
