import { describe, expect, it } from "vitest";
import { clockKey, clockOffsets, isoToUnixNs, unixNsToIso } from "../../../src/report/clock.js";

describe("wall clock", () => {
  it("keeps every fractional digit of an ISO time", () => {
    expect(isoToUnixNs("2025-01-31T12:00:00.123456789Z")).toBe(1738324800123456789n);
    expect(isoToUnixNs("2025-01-31T12:00:00.5Z")).toBe(1738324800500000000n);
    expect(isoToUnixNs("2025-01-31T12:00:00Z")).toBe(1738324800000000000n);
    expect(isoToUnixNs("2025-01-31T14:00:00.000000001+02:00")).toBe(1738324800000000001n);
    expect(unixNsToIso(1738324800123456789n)).toBe("2025-01-31T12:00:00.123456789Z");
  });

  it("maps each process's monotonic clock with the smallest ts − end_ns of its records", () => {
    const recs = [
      { pod: "a/x", record: { pid: 1, end_ns: 1_000, ts: "2025-01-31T12:00:00.000002000Z" } }, // stamped 1000 ns late
      { pod: "a/x", record: { pid: 1, end_ns: 5_000, ts: "2025-01-31T12:00:00.000005000Z" } }, // exact
      { pod: "a/x", record: { pid: 2, end_ns: 5_000, ts: "2025-01-31T12:00:01.000005000Z" } },
    ];
    const off = clockOffsets(recs);
    expect(off.get(clockKey("a/x", 1))).toBe(1738324800000000000n);
    expect(off.get(clockKey("a/x", 2))).toBe(1738324801000000000n);
  });
});
