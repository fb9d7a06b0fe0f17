// Map records → Prometheus series, accumulated across dumps and bpftrace restarts. Pure
// (no I/O): the status server calls render() on each scrape.
//
// A script either clears a map after printing it (each dump is that interval's delta) or
// keeps it (each dump is the total since that bpftrace started). Both become monotonic
// Prometheus counters/histograms: deltas are added up; totals are added to a base that
// grows by the last total whenever bpftrace restarts (a new generation).
import type { Bucket, MapRecord, StatsValue } from "./records.js";

export type DumpMode = "delta" | "cumulative";

interface Series {
  labels: Record<string, string>;
  generation: number;
  // Accumulated values from finished generations (cumulative) or all dumps (delta).
  base: number;
  last: number;
  baseBuckets: Map<number, number>;
  lastBuckets: Map<number, number>;
  baseStats: { count: number; total: number };
  lastStats: { count: number; total: number };
  /** Lower bound of each bucket, by upper bound (for the _sum estimate). */
  mins: Map<number, number>;
}

interface Family {
  name: string;
  help: string;
  type: "counter" | "gauge" | "histogram" | "summary";
  scale: number;
  series: Map<string, Series>;
}

/** Unit conversion to Prometheus base units: latencies in seconds. */
function scaleOf(unit: MapRecord["unit"]): { scale: number; suffix: string } {
  if (unit === "ns") return { scale: 1e-9, suffix: "_seconds" };
  if (unit === "us") return { scale: 1e-6, suffix: "_seconds" };
  if (unit === "bytes") return { scale: 1, suffix: "_bytes" };
  return { scale: 1, suffix: "" };
}

export function sanitizeMetricName(s: string): string {
  const out = s.replace(/^@/, "").replace(/[^a-zA-Z0-9_]/g, "_").replace(/_+/g, "_").toLowerCase();
  return /^[a-z_]/.test(out) ? out : `_${out}`;
}

/** The Prometheus metric name for a map of a script. */
export function metricName(script: string, map: string, kind: MapRecord["kind"], unit: MapRecord["unit"]): string {
  const base = `hookpoint_${sanitizeMetricName(script)}_${sanitizeMetricName(map)}${scaleOf(unit).suffix}`.replace(/_+/g, "_");
  return kind === "count" || kind === "sum" ? `${base}_total` : base;
}

export class MapMetrics {
  private readonly families = new Map<string, Family>();

  /**
   * Adds one dump's records. `generation` identifies the bpftrace process that produced
   * them (it changes on restart); `modeOf(map)` says whether that map is cleared per dump.
   */
  apply(records: MapRecord[], generation: number, modeOf: (map: string) => DumpMode, keyNames: (map: string) => string[] = () => [], help: (map: string) => string = () => ""): void {
    for (const r of records) {
      const fam = this.family(r, help);
      const names = keyNames(r.map);
      const labels: Record<string, string> = {};
      r.keys.forEach((k, i) => {
        labels[names[i] ? sanitizeMetricName(names[i]!) : r.keys.length === 1 ? "key" : `key${i}`] = k;
      });
      const id = JSON.stringify(labels);
      let s = fam.series.get(id);
      if (!s) {
        s = { labels, generation, base: 0, last: 0, baseBuckets: new Map(), lastBuckets: new Map(), baseStats: { count: 0, total: 0 }, lastStats: { count: 0, total: 0 }, mins: new Map() };
        fam.series.set(id, s);
      }
      const mode = modeOf(r.map);
      if (fam.type === "gauge") {
        s.last = typeof r.value === "number" ? r.value : typeof r.value === "object" ? r.value.average : Number(r.value);
        continue;
      }
      if (mode === "delta" || s.generation !== generation) {
        // Close the previous dump into the base: every delta counts, and a total from an
        // earlier bpftrace generation is final.
        s.base += s.last;
        for (const [le, c] of s.lastBuckets) s.baseBuckets.set(le, (s.baseBuckets.get(le) ?? 0) + c);
        s.baseStats.count += s.lastStats.count;
        s.baseStats.total += s.lastStats.total;
        s.generation = generation;
      }
      s.last = typeof r.value === "number" ? r.value : 0;
      s.lastBuckets = r.buckets ? bucketsByUpperBound(r.buckets) : new Map();
      for (const b of r.buckets ?? []) if (b.min !== null) s.mins.set(b.max ?? Infinity, b.min);
      const st = r.value as StatsValue | undefined;
      s.lastStats = fam.type === "summary" && st && typeof st === "object" ? { count: st.count, total: st.total } : { count: 0, total: 0 };
    }
  }

  /** Prometheus text exposition (format 0.0.4) of every map series seen so far. */
  render(): string {
    const lines: string[] = [];
    for (const fam of [...this.families.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      lines.push(`# HELP ${fam.name} ${escapeHelp(fam.help)}`, `# TYPE ${fam.name} ${fam.type}`);
      for (const s of fam.series.values()) {
        if (fam.type === "counter" || fam.type === "gauge") {
          const v = fam.type === "gauge" ? s.last : s.base + s.last;
          lines.push(`${fam.name}${labelText(s.labels)} ${num(v * fam.scale)}`);
        } else if (fam.type === "summary") {
          lines.push(`${fam.name}_sum${labelText(s.labels)} ${num((s.baseStats.total + s.lastStats.total) * fam.scale)}`);
          lines.push(`${fam.name}_count${labelText(s.labels)} ${num(s.baseStats.count + s.lastStats.count)}`);
        } else {
          const merged = new Map(s.baseBuckets);
          for (const [le, c] of s.lastBuckets) merged.set(le, (merged.get(le) ?? 0) + c);
          let cum = 0;
          let sum = 0;
          const bounds = [...merged.keys()].sort((a, b) => a - b);
          for (const le of bounds) {
            const c = merged.get(le)!;
            cum += c;
            if (le !== Infinity) {
              lines.push(`${fam.name}_bucket${labelText({ ...s.labels, le: num(le * fam.scale) })} ${cum}`);
            }
            sum += c * midpoint(s.mins.get(le) ?? 0, le);
          }
          lines.push(`${fam.name}_bucket${labelText({ ...s.labels, le: "+Inf" })} ${cum}`);
          lines.push(`${fam.name}_sum${labelText(s.labels)} ${num(sum * fam.scale)}`);
          lines.push(`${fam.name}_count${labelText(s.labels)} ${cum}`);
        }
      }
    }
    return lines.length ? lines.join("\n") + "\n" : "";
  }

  /** `help` is asked only when the family is new. */
  private family(r: MapRecord, help: (map: string) => string): Family {
    const name = metricName(r.script, r.map, r.kind, r.unit);
    let fam = this.families.get(name);
    if (!fam) {
      const type = r.kind === "hist" ? "histogram" : r.kind === "count" || r.kind === "sum" ? "counter" : r.kind === "stats" ? "summary" : "gauge";
      const sumNote = type === "histogram" ? " (_sum estimated from bucket midpoints)" : "";
      fam = { name, help: `${help(r.map) || `${r.script} ${r.map}`}${sumNote}`, type, scale: scaleOf(r.unit).scale, series: new Map() };
      this.families.set(name, fam);
    }
    return fam;
  }
}

/** bpftrace buckets hold integers in [min, max]; Prometheus `le` is inclusive, so `le = max`. */
function bucketsByUpperBound(buckets: Bucket[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const b of buckets) {
    const le = b.max ?? Infinity;
    out.set(le, (out.get(le) ?? 0) + b.count);
  }
  return out;
}

/** Middle of a bucket [min, max]; an open-ended last bucket counts at its lower bound. */
function midpoint(min: number, max: number): number {
  return max === Infinity ? min : (min + max) / 2;
}

function labelText(labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"')}"`);
  return parts.length ? `{${parts.join(",")}}` : "";
}

function escapeHelp(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function num(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(Number(v.toPrecision(12)));
}
