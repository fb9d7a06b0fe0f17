// Compact figures for the per-interval summary log line. Pure.
import type { Bucket, MapRecord, StatsValue } from "./records.js";

export interface MapSummary {
  /** Events in the interval (hist, stats) or the value (count, sum, avg, value). */
  count?: number;
  value?: number | string;
  /** Percentile estimates from histogram buckets (upper bound of the bucket), in the map's unit. */
  p50?: number;
  p99?: number;
  max?: number;
  unit: string;
}

/** `script/map[key]` → figures, for the last dump of each map. */
export function summarize(records: readonly MapRecord[]): Record<string, MapSummary> {
  const out: Record<string, MapSummary> = {};
  for (const r of records) {
    const id = `${r.script}/${r.map.replace(/^@/, "")}${r.keys.length ? `[${r.keys.join(",")}]` : ""}`;
    if (r.buckets) {
      const total = r.buckets.reduce((a, b) => a + b.count, 0);
      out[id] = { count: total, unit: r.unit, ...(total > 0 ? { p50: quantile(r.buckets, 0.5), p99: quantile(r.buckets, 0.99), max: maxBound(r.buckets) } : {}) };
    } else if (typeof r.value === "object" && r.value !== null) {
      const s = r.value as StatsValue;
      out[id] = { count: s.count, value: s.average, unit: r.unit };
    } else if (r.value !== undefined) {
      out[id] = { value: r.value, unit: r.unit };
    }
  }
  return out;
}

/** Upper bound of the bucket holding the q-quantile (min bound for an open last bucket). */
export function quantile(buckets: readonly Bucket[], q: number): number {
  const sorted = [...buckets].sort((a, b) => (a.min ?? -Infinity) - (b.min ?? -Infinity));
  const total = sorted.reduce((a, b) => a + b.count, 0);
  let seen = 0;
  for (const b of sorted) {
    seen += b.count;
    if (b.count > 0 && seen >= q * total) return b.max ?? b.min ?? 0;
  }
  return 0;
}

function maxBound(buckets: readonly Bucket[]): number {
  let m = 0;
  for (const b of buckets) if (b.count > 0) m = Math.max(m, b.max ?? b.min ?? 0);
  return m;
}
