import { describe, expect, it } from "vitest";
import { parseMapLine } from "../../support/records.js";

const hist = {
  ts: "2025-01-31T12:00:10.000Z",
  script: "hookpoint-pairs",
  map: "@hookpoint_latency_ns",
  keys: ["Filters"],
  kind: "hist",
  unit: "ns",
  pid: 4242,
  buckets: [{ min: 2097152, max: 4194303, count: 59 }],
};

function errorOf(rec: unknown): string {
  try {
    parseMapLine(JSON.stringify(rec), "m.ndjson", 4);
  } catch (err) {
    return (err as Error).message;
  }
  return "no error";
}

describe("map record parser", () => {
  it("reads the README's example record and scalar and stats values", () => {
    expect(parseMapLine(JSON.stringify(hist), "m.ndjson", 1)).toEqual(hist);
    const count = { ...hist, buckets: undefined, kind: "count", unit: "count", value: 12 };
    expect(parseMapLine(JSON.stringify(count), "m.ndjson", 1)).toEqual({ ...count, buckets: undefined });
    const stats = { ...hist, buckets: undefined, kind: "stats", value: { count: 2, average: 5, total: 10 } };
    expect(parseMapLine(JSON.stringify(stats), "m.ndjson", 1)?.value).toEqual({ count: 2, average: 5, total: 10 });
  });

  it("keeps open-ended bucket bounds as null", () => {
    const rec = { ...hist, buckets: [{ min: null, max: 0, count: 1 }, { min: 1048576, max: null, count: 2 }] };
    expect(parseMapLine(JSON.stringify(rec), "m.ndjson", 1)?.buckets).toEqual(rec.buckets);
  });

  it("names file, line and field of each problem", () => {
    expect(errorOf({ ...hist, kind: "histogram" })).toBe('m.ndjson:4: kind: expected one of hist, count, sum, avg, stats, value, got "histogram"');
    expect(errorOf({ ...hist, keys: [1] })).toBe("m.ndjson:4: keys[0]: expected a string, got 1");
    expect(errorOf({ ...hist, map: "latency" })).toBe('m.ndjson:4: map: expected a bpftrace map name starting with "@", got "latency"');
    expect(errorOf({ ...hist, buckets: [{ min: 1, max: 2, count: -3 }] })).toBe("m.ndjson:4: buckets[0].count: expected a whole number ≥ 0, got -3");
    expect(errorOf({ ...hist, buckets: undefined })).toBe('m.ndjson:4: value: a map record has "value" or "buckets"; neither is there');
    expect(errorOf({ ...hist, buckets: undefined, value: { count: 1 } })).toBe("m.ndjson:4: value.average: expected a number, got undefined");
  });

  it("refuses a ts that names no real moment or no offset, which Date.parse would bend", () => {
    expect(errorOf({ ...hist, ts: "2025-02-30T12:00:10.000Z" })).toBe('m.ndjson:4: ts: expected an ISO 8601 time such as 2025-01-31T12:00:00.000Z, got "2025-02-30T12:00:10.000Z"');
    expect(errorOf({ ...hist, ts: "2025-01-31T12:60:10.000Z" })).toBe('m.ndjson:4: ts: expected an ISO 8601 time such as 2025-01-31T12:00:00.000Z, got "2025-01-31T12:60:10.000Z"');
    expect(errorOf({ ...hist, ts: "2025-01-31T12:00:10.000" })).toBe('m.ndjson:4: ts: expected an ISO 8601 time such as 2025-01-31T12:00:00.000Z, got "2025-01-31T12:00:10.000"');
    expect(errorOf({ ...hist, ts: "2024-02-29T23:59:59.999999+01:00" })).toBe("no error");
  });
});
