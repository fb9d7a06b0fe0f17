import { describe, expect, it } from "vitest";
import { IntervalDeltas } from "../../../src/agent/output/deltas.js";
import { MapMetrics, histogramLadder, metricName } from "../../../src/agent/output/map-metrics.js";
import type { MapRecord } from "../../../src/agent/output/records.js";
import type { ScriptMapInfo as MapInfo } from "../../../src/catalog/header.js";

const PAIRS_MAPS: MapInfo[] = [
  { name: "@hookpoint_latency_ns", kind: "hist", unit: "ns", metric: "pairs_duration", keys: ["pair"], meaning: "Start to End" },
  { name: "@hookpoint_calls", kind: "count", unit: "count", metric: "calls", keys: ["function"], meaning: "calls" },
];
const hist = (buckets: MapRecord["buckets"], keys: string[] = ["Filters"]): MapRecord => ({ ts: "t", script: "hookpoint-pairs", map: "@hookpoint_latency_ns", keys, kind: "hist", unit: "ns", buckets, pid: 1 });
const calls = (value: number, fn = "RequestSeen"): MapRecord => ({ ts: "t", script: "hookpoint-pairs", map: "@hookpoint_calls", keys: [fn], kind: "count", unit: "count", value, pid: 1 });

/** The series lines of one family (no HELP/TYPE). */
const seriesOf = (text: string, name: string): string[] => text.split("\n").filter((l) => l.startsWith(name));

describe("metricName", () => {
  it("is hookpoint_<metric> with the base unit and _total for counters, without stutter", () => {
    expect(metricName("pairs_duration", "hist", "ns")).toBe("hookpoint_pairs_duration_seconds");
    expect(metricName("socket_io", "sum", "bytes")).toBe("hookpoint_socket_io_bytes_total");
    expect(metricName("calls", "count", "count")).toBe("hookpoint_calls_total");
    expect(metricName("event_loop_busy", "sum", "ns")).toBe("hookpoint_event_loop_busy_seconds_total");
    expect(metricName("queue_depth", "avg", "events")).toBe("hookpoint_queue_depth");
  });
});

describe("histogramLadder", () => {
  it("is bpftrace's log2 bucket maxima over a fixed range per unit", () => {
    const ns = histogramLadder("ns");
    expect([ns[0], ns[1], ns.at(-1), ns.length]).toEqual([63, 127, 2 ** 36 - 1, 31]);
    expect(histogramLadder("bytes").slice(0, 4)).toEqual([0, 1, 3, 7]);
    expect(histogramLadder("us").length).toBe(27);
  });
});

describe("MapMetrics", () => {
  it("exposes the whole ladder of a keyless histogram and its zero counters from the first scrape", () => {
    const m = new MapMetrics();
    m.register("envoy-filter-chain", [
      { name: "@filter_chain_ns", kind: "hist", unit: "ns", metric: "filter_chain_duration", keys: [], meaning: "filters" },
      { name: "@filter_chain_unmatched_start", kind: "count", unit: "count", metric: "filter_chain_unmatched_starts", keys: [], meaning: "unmatched" },
    ]);
    const text = m.render();
    const buckets = seriesOf(text, "hookpoint_filter_chain_duration_seconds_bucket");
    expect(buckets).toHaveLength(32);
    expect(buckets[0]).toBe('hookpoint_filter_chain_duration_seconds_bucket{le="6.3e-8"} 0');
    expect(buckets.at(-1)).toBe('hookpoint_filter_chain_duration_seconds_bucket{le="+Inf"} 0');
    expect(seriesOf(text, "hookpoint_filter_chain_unmatched_starts_total")).toEqual(["hookpoint_filter_chain_unmatched_starts_total 0"]);
    expect(text).toContain("# TYPE hookpoint_filter_chain_duration_seconds histogram\n");
  });

  it("adds up interval deltas into cumulative buckets on the fixed ladder, in seconds", () => {
    const m = new MapMetrics();
    m.register("hookpoint-pairs", PAIRS_MAPS);
    m.add([hist([{ min: 1048576, max: 2097151, count: 3 }])]);
    m.add([hist([{ min: 1048576, max: 2097151, count: 2 }, { min: 2097152, max: 4194303, count: 1 }])]);
    const lines = seriesOf(m.render(), "hookpoint_pairs_duration_seconds");
    // Every bound below 2^21-1 ns holds nothing; from there on the cumulative counts.
    expect(lines.filter((l) => l.endsWith(" 0"))).toHaveLength(15);
    expect(lines).toContain('hookpoint_pairs_duration_seconds_bucket{pair="Filters",le="0.001048575"} 0');
    expect(lines).toContain('hookpoint_pairs_duration_seconds_bucket{pair="Filters",le="0.002097151"} 5');
    expect(lines).toContain('hookpoint_pairs_duration_seconds_bucket{pair="Filters",le="0.004194303"} 6');
    expect(lines).toContain('hookpoint_pairs_duration_seconds_bucket{pair="Filters",le="68.719476735"} 6');
    expect(lines.slice(-3)).toEqual([
      'hookpoint_pairs_duration_seconds_bucket{pair="Filters",le="+Inf"} 6',
      'hookpoint_pairs_duration_seconds_sum{pair="Filters"} 0.011010045',
      'hookpoint_pairs_duration_seconds_count{pair="Filters"} 6',
    ]);
  });

  it("counts samples outside the ladder in the first bound (below) or only in +Inf (above)", () => {
    const m = new MapMetrics();
    m.register("hookpoint-pairs", PAIRS_MAPS);
    m.add([hist([{ min: 0, max: 0, count: 1 }, { min: 2 ** 40, max: 2 ** 41 - 1, count: 2 }, { min: 2 ** 62, max: null, count: 1 }])]);
    const lines = seriesOf(m.render(), "hookpoint_pairs_duration_seconds_bucket");
    expect(lines[0]).toBe('hookpoint_pairs_duration_seconds_bucket{pair="Filters",le="6.3e-8"} 1');
    expect(lines.at(-2)).toBe('hookpoint_pairs_duration_seconds_bucket{pair="Filters",le="68.719476735"} 1');
    expect(lines.at(-1)).toBe('hookpoint_pairs_duration_seconds_bucket{pair="Filters",le="+Inf"} 4');
  });

  it("stays monotonic across a bpftrace restart: deltas of the new process add to the old", () => {
    const m = new MapMetrics();
    m.register("hookpoint-pairs", PAIRS_MAPS);
    const d = new IntervalDeltas();
    m.add(d.delta([calls(10)], 1));
    m.add(d.delta([calls(25)], 1));
    expect(seriesOf(m.render(), "hookpoint_calls_total")).toEqual(['hookpoint_calls_total{function="RequestSeen"} 25']);
    // bpftrace restarted: its totals start again from zero.
    m.add(d.delta([calls(4)], 2));
    m.add(d.delta([calls(6)], 2));
    expect(seriesOf(m.render(), "hookpoint_calls_total")).toEqual(['hookpoint_calls_total{function="RequestSeen"} 31']);
  });

  it("exposes avg/value maps as gauges, stats as summaries, and escapes label values", () => {
    const m = new MapMetrics();
    m.register("s", [
      { name: "@q", kind: "avg", unit: "us", metric: "queue_wait", keys: ["what"], meaning: "average wait" },
      { name: "@st", kind: "stats", unit: "ns", metric: "step", keys: [], meaning: "steps" },
    ]);
    m.add([{ ts: "t", script: "s", map: "@q", keys: ['a"b\\c'], kind: "avg", unit: "us", value: 250, pid: 1 }]);
    m.add([{ ts: "t", script: "s", map: "@st", keys: [], kind: "stats", unit: "ns", value: { count: 4, average: 500, total: 2000 }, pid: 1 }]);
    m.add([{ ts: "t", script: "s", map: "@st", keys: [], kind: "stats", unit: "ns", value: { count: 1, average: 1000, total: 1000 }, pid: 1 }]);
    expect(m.render()).toBe(
      [
        "# HELP hookpoint_queue_wait_seconds average wait",
        "# TYPE hookpoint_queue_wait_seconds gauge",
        'hookpoint_queue_wait_seconds{what="a\\"b\\\\c"} 0.00025',
        "# HELP hookpoint_step_seconds steps",
        "# TYPE hookpoint_step_seconds summary",
        "hookpoint_step_seconds_sum 0.000003",
        "hookpoint_step_seconds_count 5",
        "",
      ].join("\n"),
    );
  });

  it("renders nothing before any script is registered, and ignores records of unregistered maps", () => {
    const m = new MapMetrics();
    m.add([calls(3)]);
    expect(m.render()).toBe("");
  });
});

describe("IntervalDeltas", () => {
  it("turns running totals into each interval's share and leaves unchanged entries out", () => {
    const d = new IntervalDeltas();
    expect(d.delta([calls(5), calls(2, "Other")], 1).map((r) => [r.keys[0], r.value])).toEqual([["RequestSeen", 5], ["Other", 2]]);
    expect(d.delta([calls(9), calls(2, "Other")], 1).map((r) => [r.keys[0], r.value])).toEqual([["RequestSeen", 4]]);
    const first = d.delta([hist([{ min: 64, max: 127, count: 2 }, { min: 128, max: 255, count: 1 }])], 1);
    expect(first[0]?.buckets).toEqual([{ min: 64, max: 127, count: 2 }, { min: 128, max: 255, count: 1 }]);
    const second = d.delta([hist([{ min: 64, max: 127, count: 2 }, { min: 128, max: 255, count: 4 }, { min: 256, max: 511, count: 1 }])], 1);
    expect(second[0]?.buckets).toEqual([{ min: 128, max: 255, count: 3 }, { min: 256, max: 511, count: 1 }]);
  });

  it("starts over for a new generation and for a total that went down", () => {
    const d = new IntervalDeltas();
    d.delta([calls(50)], 1);
    expect(d.delta([calls(3)], 2)[0]?.value).toBe(3);
    expect(d.delta([calls(1)], 2)[0]?.value).toBe(1);
  });

  it("differences stats by count and total, and passes gauges through", () => {
    const d = new IntervalDeltas();
    const st = (count: number, total: number): MapRecord => ({ ts: "t", script: "s", map: "@st", keys: [], kind: "stats", unit: "ns", value: { count, average: total / count, total }, pid: 1 });
    d.delta([st(2, 200)], 1);
    expect(d.delta([st(6, 1000)], 1)[0]?.value).toEqual({ count: 4, average: 200, total: 800 });
    const avg: MapRecord = { ts: "t", script: "s", map: "@a", keys: [], kind: "avg", unit: "ns", value: 7, pid: 1 };
    expect(d.delta([avg], 1)).toEqual([avg]);
    expect(d.delta([avg], 1)).toEqual([avg]);
  });
});
