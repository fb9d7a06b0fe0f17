import { describe, expect, it } from "vitest";
import { isoTimeMs, isoTimeNs, lineTs } from "../../../src/records/times.js";

describe("ISO times", () => {
  it("keeps every fractional digit up to the ns", () => {
    expect(isoTimeNs("2025-01-31T12:00:00.123456789Z")).toBe(1738324800123456789n);
    expect(isoTimeNs("2025-01-31T12:00:00.123400Z")).toBe(1738324800123400000n);
    expect(isoTimeNs("2025-01-31T12:00:00.5Z")).toBe(1738324800500000000n);
    expect(isoTimeNs("2025-01-31T12:00:00Z")).toBe(1738324800000000000n);
    expect(isoTimeNs("2025-01-31T12:00Z")).toBe(1738324800000000000n);
    expect(isoTimeNs("2025-01-31T14:00:00.000000001+02:00")).toBe(1738324800000000001n);
    // Digits past the ns are cut, as Date.parse cuts those past the ms.
    expect(isoTimeNs("2025-01-31T12:00:00.1234567899Z")).toBe(1738324800123456789n);
    // Before 1970 the ms round down and the rest is added: 0.1 ms before the epoch.
    expect(isoTimeNs("1969-12-31T23:59:59.9999Z")).toBe(-100_000n);
  });

  it("reads the same times as isoTimeMs, to the ms", () => {
    expect(isoTimeMs("2025-01-31T12:00:00.123999999Z")).toBe(1738324800123);
    expect(isoTimeMs("1969-12-31T23:59:59.9999Z")).toBe(-1);
    for (const text of ["yesterday", "2026-02-30T00:00:00Z", "2025-01-31T12:00:00", "2025-01-31T12:00:00.Z", "2025-01-31T24:00:00Z", "2025-01-31T12:00:00+24:00", ""]) {
      expect([text, isoTimeNs(text), isoTimeMs(text)]).toEqual([text, null, NaN]);
    }
  });

  it("takes a line's ts only when it is a time", () => {
    expect(lineTs('{"ts":"2025-01-31T12:00:00.123Z","x":1}')).toBe("2025-01-31T12:00:00.123Z");
    expect(lineTs('{"ts":"yesterday"}')).toBe(null);
    expect(lineTs('{"ts":5}')).toBe(null);
    expect(lineTs("not json")).toBe(null);
  });
});
