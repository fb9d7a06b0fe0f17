import { describe, expect, it } from "vitest";
import { MapMetrics, metricName } from "../../../src/agent/output/map-metrics.js";
import type { MapRecord } from "../../../src/agent/output/records.js";

const hist = (buckets: MapRecord["buckets"], keys: string[] = ["Filters"]): MapRecord => ({ ts: "t", script: "hookpoint-pairs", map: "@hookpoint_latency_ns", keys, kind: "hist", unit: "ns", buckets, pid: 1 });
const count = (value: number): MapRecord => ({ ts: "t", script: "envoy-event-loop", map: "@wakeups", keys: [], kind: "count", unit: "count", value, pid: 1 });

describe("metricName", () => {
  it("names series after script and map, in base units", () => {
    expect(metricName("hookpoint-pairs", "@hookpoint_latency_ns", "hist", "ns")).toBe("hookpoint_hookpoint_pairs_hookpoint_latency_ns_seconds");
    expect(metricName("envoy-socket-io", "@bytes", "sum", "bytes")).toBe("hookpoint_envoy_socket_io_bytes_bytes_total");
    expect(metricName("s", "@calls", "count", "count")).toBe("hookpoint_s_calls_total");
    expect(metricName("s", "@depth", "avg", "events")).toBe("hookpoint_s_depth");
  });
});

describe("MapMetrics", () => {
  it("adds up deltas of cleared maps into a histogram in seconds with bpftrace's bucket bounds", () => {
    const m = new MapMetrics();
    const keyNames = (): string[] => ["pair"];
    m.apply([hist([{ min: 1048576, max: 2097151, count: 3 }])], 1, () => "delta", keyNames, () => "Start to End");
    m.apply([hist([{ min: 1048576, max: 2097151, count: 2 }, { min: 2097152, max: 4194303, count: 1 }])], 1, () => "delta", keyNames);
    expect(m.render()).toBe(
      [
        "# HELP hookpoint_hookpoint_pairs_hookpoint_latency_ns_seconds Start to End (_sum estimated from bucket midpoints)",
        "# TYPE hookpoint_hookpoint_pairs_hookpoint_latency_ns_seconds histogram",
        'hookpoint_hookpoint_pairs_hookpoint_latency_ns_seconds_bucket{pair="Filters",le="0.002097151"} 5',
        'hookpoint_hookpoint_pairs_hookpoint_latency_ns_seconds_bucket{pair="Filters",le="0.004194303"} 6',
        'hookpoint_hookpoint_pairs_hookpoint_latency_ns_seconds_bucket{pair="Filters",le="+Inf"} 6',
        'hookpoint_hookpoint_pairs_hookpoint_latency_ns_seconds_sum{pair="Filters"} 0.011010045',
        'hookpoint_hookpoint_pairs_hookpoint_latency_ns_seconds_count{pair="Filters"} 6',
        "",
      ].join("\n"),
    );
  });

  it("keeps a cumulative map monotonic across bpftrace restarts", () => {
    const m = new MapMetrics();
    m.apply([count(10)], 1, () => "cumulative");
    m.apply([count(25)], 1, () => "cumulative");
    expect(m.render()).toContain("\nhookpoint_envoy_event_loop_wakeups_total 25\n");
    // bpftrace restarted: its totals start again from zero.
    m.apply([count(4)], 2, () => "cumulative");
    expect(m.render()).toContain("\nhookpoint_envoy_event_loop_wakeups_total 29\n");
    m.apply([count(6)], 2, () => "cumulative");
    expect(m.render()).toContain("\nhookpoint_envoy_event_loop_wakeups_total 31\n");
  });

  it("exposes avg/value maps as gauges, stats as summaries, and escapes label values", () => {
    const m = new MapMetrics();
    m.apply([{ ts: "t", script: "s", map: "@q", keys: ['a"b\\c'], kind: "avg", unit: "us", value: 250, pid: 1 }], 1, () => "delta");
    m.apply([{ ts: "t", script: "s", map: "@st", keys: [], kind: "stats", unit: "ns", value: { count: 4, average: 500, total: 2000 }, pid: 1 }], 1, () => "delta");
    m.apply([{ ts: "t", script: "s", map: "@st", keys: [], kind: "stats", unit: "ns", value: { count: 1, average: 1000, total: 1000 }, pid: 1 }], 1, () => "delta");
    expect(m.render()).toBe(
      [
        "# HELP hookpoint_s_q_seconds s @q",
        "# TYPE hookpoint_s_q_seconds gauge",
        'hookpoint_s_q_seconds{key="a\\"b\\\\c"} 0.00025',
        "# HELP hookpoint_s_st_seconds s @st",
        "# TYPE hookpoint_s_st_seconds summary",
        "hookpoint_s_st_seconds_sum 0.000003",
        "hookpoint_s_st_seconds_count 5",
        "",
      ].join("\n"),
    );
  });

  it("renders nothing before any record", () => {
    expect(new MapMetrics().render()).toBe("");
  });
});
