import { describe, expect, it } from "vitest";
import { ParseError, parseLine, splitKey, toRecords } from "../../../src/agent/output/records.js";

// Lines as bpftrace 0.17 prints them with -f json.
const LINES = {
  scalarCount: '{"type": "map", "data": {"@c": 1}}',
  keyed: '{"type": "map", "data": {"@k": {"1,a": 1, "2,b": 3}}}',
  hist: '{"type": "hist", "data": {"@h": [{"min": 64, "max": 127, "count": 1}, {"min": 128, "max": 255, "count": 0}, {"min": 2048, "max": 4095, "count": 1}]}}',
  keyedHist: '{"type": "hist", "data": {"@hh": {"k1": [{"min": 512, "max": 1023, "count": 1}], "k2": [{"min": 0, "max": 0, "count": 1}]}}}',
  stats: '{"type": "stats", "data": {"@s": {"x": {"count": 1, "average": 5, "total": 5}}}}',
  avg: '{"type": "stats", "data": {"@a": 10}}',
  printf: '{"type": "printf", "data": "hi 5\\n"}',
  attached: '{"type": "attached_probes", "data": {"probes": 2}}',
  lost: '{"type": "lost_events", "data": {"events": 12}}',
};

describe("parseLine", () => {
  it("reads every output type bpftrace 0.17 prints", () => {
    expect(parseLine(LINES.scalarCount)).toEqual({ type: "maps", maps: [{ map: "@c", entries: [{ key: null, data: { value: 1 } }] }] });
    expect(parseLine(LINES.keyed)).toEqual({
      type: "maps",
      maps: [{ map: "@k", entries: [{ key: "1,a", data: { value: 1 } }, { key: "2,b", data: { value: 3 } }] }],
    });
    expect(parseLine(LINES.hist)).toEqual({
      type: "maps",
      maps: [{ map: "@h", entries: [{ key: null, data: { buckets: [{ min: 64, max: 127, count: 1 }, { min: 128, max: 255, count: 0 }, { min: 2048, max: 4095, count: 1 }] } }] }],
    });
    expect(parseLine(LINES.keyedHist)).toEqual({
      type: "maps",
      maps: [{ map: "@hh", entries: [{ key: "k1", data: { buckets: [{ min: 512, max: 1023, count: 1 }] } }, { key: "k2", data: { buckets: [{ min: 0, max: 0, count: 1 }] } }] }],
    });
    expect(parseLine(LINES.stats)).toEqual({ type: "maps", maps: [{ map: "@s", entries: [{ key: "x", data: { stats: { count: 1, average: 5, total: 5 } } }] }] });
    expect(parseLine(LINES.avg)).toEqual({ type: "maps", maps: [{ map: "@a", entries: [{ key: null, data: { value: 10 } }] }] });
    expect(parseLine(LINES.printf)).toEqual({ type: "printf", text: "hi 5\n" });
    expect(parseLine(LINES.attached)).toEqual({ type: "attached", probes: 2 });
    expect(parseLine(LINES.lost)).toEqual({ type: "lost", events: 12 });
    expect(parseLine('{"type": "time", "data": "05\\n"}')).toEqual({ type: "other", name: "time" });
    expect(parseLine("   ")).toBeNull();
  });

  it("reads a failed helper call as bpftrace 0.23 prints it, with the line and column it names", () => {
    // As 0.23.2 printed it for `@c[args->who] = count();` when two CPUs created one entry at once.
    expect(parseLine('{"type": "helper_error", "msg": "File exists", "helper": "map_update_elem", "retcode": -17, "line": 1, "col": 77}')).toEqual({
      type: "helperError",
      helper: "map_update_elem",
      retcode: -17,
      message: "File exists",
      line: 1,
      col: 77,
    });
    expect(parseLine('{"type": "helper_error", "data": {"msg": "No such file or directory", "helper": "probe_read", "retcode": -2}}')).toEqual({
      type: "helperError",
      helper: "probe_read",
      retcode: -2,
      message: "No such file or directory",
      line: null,
      col: null,
    });
  });

  it("keeps open-ended histogram buckets open", () => {
    expect(parseLine('{"type": "hist", "data": {"@l": [{"max": -1, "count": 2}, {"min": 100, "count": 3}]}}')).toEqual({
      type: "maps",
      maps: [{ map: "@l", entries: [{ key: null, data: { buckets: [{ min: null, max: -1, count: 2 }, { min: 100, max: null, count: 3 }] } }] }],
    });
  });

  it("rejects what is not bpftrace JSON with a ParseError that quotes it", () => {
    expect(() => parseLine("Attaching 3 probes...")).toThrow(new ParseError("not JSON: Attaching 3 probes..."));
    expect(() => parseLine('{"data": 1}')).toThrow(new ParseError('no "type" field: {"data": 1}'));
    expect(() => parseLine('{"type": "hist", "data": {"@h": [{"min": 1}]}}')).toThrow(new ParseError('bad histogram bucket {"min":1}'));
    expect(() => parseLine('{"type": "map", "data": 3}')).toThrow(new ParseError('"map" without a data object'));
  });
});

describe("toRecords", () => {
  const header = {
    name: "demo",
    maps: [
      { name: "@h", kind: "hist" as const, unit: "ns" as const, metric: "demo_latency", meaning: "latency" },
      { name: "@k", kind: "count" as const, unit: "count" as const, metric: "demo_calls", meaning: "calls", keys: ["cpu", "what"] },
    ],
  };
  it("makes one record per declared map entry and leaves helper maps out", () => {
    const ev = parseLine('{"type": "map", "data": {"@k": {"1,a,b": 4}, "@_start": {"123": 99}}}');
    if (ev?.type !== "maps") throw new Error("expected maps");
    expect(toRecords(ev, header, "2026-01-01T00:00:00.000Z", 42)).toEqual([
      { ts: "2026-01-01T00:00:00.000Z", script: "demo", map: "@k", keys: ["1", "a,b"], kind: "count", unit: "count", value: 4, pid: 42 },
    ]);
    const hist = parseLine(LINES.hist);
    if (hist?.type !== "maps") throw new Error("expected maps");
    expect(toRecords(hist, header, "t", 7)).toEqual([
      { ts: "t", script: "demo", map: "@h", keys: [], kind: "hist", unit: "ns", pid: 7, buckets: [{ min: 64, max: 127, count: 1 }, { min: 128, max: 255, count: 0 }, { min: 2048, max: 4095, count: 1 }] },
    ]);
  });
  it("writes ts as a record's first key, where the records readers find it without parsing the line (src/records/times.ts)", () => {
    const ev = parseLine(LINES.keyed);
    if (ev?.type !== "maps") throw new Error("expected maps");
    expect(toRecords(ev, header, "2026-01-01T00:00:00.000Z", 42).map((r) => JSON.stringify(r).slice(0, 40))).toEqual([
      '{"ts":"2026-01-01T00:00:00.000Z","script',
      '{"ts":"2026-01-01T00:00:00.000Z","script',
    ]);
  });
  it("splits keys into the declared number of components", () => {
    expect(splitKey(null, 0)).toEqual([]);
    expect(splitKey("a,b", 1)).toEqual(["a,b"]);
    expect(splitKey("a,b,c", 2)).toEqual(["a", "b,c"]);
    expect(splitKey("a", 3)).toEqual(["a"]);
  });
});
