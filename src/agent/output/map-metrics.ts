// Map records → Prometheus series. Pure (no I/O): the status server calls render() on
// each scrape.
//
// The records are per-interval deltas (see deltas.ts), so every counter, histogram and
// summary is their running sum: monotonic across bpftrace restarts and Envoy restarts.
// Names come from each map's `metric` header field: `hookpoint_<metric>` plus the base
// unit (`_seconds`, `_bytes`) and `_total` for counters, converted here and only here.
// Histograms expose one fixed log2 ladder per unit from the first scrape, whatever
// buckets were hit, so `histogram_quantile()` and `rate()` line up across restarts.
import type { ScriptMapInfo } from "../../catalog/header.js";
import type { Bucket, MapRecord, StatsValue } from "./records.js";

type Kind = ScriptMapInfo["kind"];
type Unit = ScriptMapInfo["unit"];

interface Series {
  labels: Record<string, string>;
  value: number;
  /** Samples by the bucket's upper bound (bpftrace's inclusive max; Infinity when open). */
  buckets: Map<number, { min: number; count: number }>;
  stats: { count: number; total: number };
}

interface Family {
  name: string;
  help: string;
  type: "counter" | "gauge" | "histogram" | "summary";
  scale: number;
  unit: Unit;
  labelNames: string[];
  series: Map<string, Series>;
}

/** Base units: latencies in seconds, sizes in bytes; counts have no unit. */
function unitOf(unit: Unit): { scale: number; suffix: string } {
  if (unit === "ns") return { scale: 1e-9, suffix: "_seconds" };
  if (unit === "us") return { scale: 1e-6, suffix: "_seconds" };
  if (unit === "bytes") return { scale: 1, suffix: "_bytes" };
  return { scale: 1, suffix: "" };
}

function typeOf(kind: Kind): Family["type"] {
  if (kind === "hist") return "histogram";
  if (kind === "count" || kind === "sum") return "counter";
  if (kind === "stats") return "summary";
  return "gauge";
}

/** `hookpoint_<metric>[_seconds|_bytes][_total]`. */
export function metricName(metric: string, kind: Kind, unit: Unit): string {
  const base = `hookpoint_${metric}${unitOf(unit).suffix}`;
  return typeOf(kind) === "counter" ? `${base}_total` : base;
}

/**
 * The `le` bounds (in the map's unit) of its histograms: bpftrace's log2 bucket maxima
 * 2^k - 1, over a range that covers what the unit measures (64 ns to 68.7 s; 1 µs to 67 s;
 * 1 byte to 4 GiB; 1 to ~1M events).
 */
export function histogramLadder(unit: Unit): number[] {
  const [from, to] = unit === "ns" ? [6, 36] : unit === "us" ? [0, 26] : unit === "bytes" ? [0, 32] : [0, 20];
  const out: number[] = [];
  for (let k = from; k <= to; k++) out.push(2 ** k - 1);
  return out;
}

export class MapMetrics {
  private readonly families = new Map<string, Family>();
  /** `script\0map` → its family. */
  private readonly byMap = new Map<string, Family>();

  /**
   * Declares a script's maps: their families exist from the first scrape, and a map
   * without keys has its one series (at zero) before any sample. Idempotent.
   */
  register(script: string, maps: readonly ScriptMapInfo[]): void {
    for (const m of maps) {
      const id = `${script}\u0000${m.name}`;
      if (this.byMap.has(id)) continue;
      const name = metricName(m.metric, m.kind, m.unit);
      let fam = this.families.get(name);
      if (!fam) {
        const type = typeOf(m.kind);
        const sumNote = type === "histogram" ? " (_sum estimated from bucket midpoints)" : "";
        fam = { name, help: `${m.meaning}${sumNote}`, type, scale: unitOf(m.unit).scale, unit: m.unit, labelNames: (m.keys ?? []).map(labelName), series: new Map() };
        this.families.set(name, fam);
      }
      this.byMap.set(id, fam);
      if (fam.labelNames.length === 0 && fam.type !== "gauge") this.series(fam, []);
    }
  }

  /** Adds one interval's delta records (gauges take the latest value). Unregistered maps are ignored. */
  add(records: readonly MapRecord[]): void {
    for (const r of records) {
      const fam = this.byMap.get(`${r.script}\u0000${r.map}`);
      if (!fam) continue;
      const s = this.series(fam, r.keys);
      if (fam.type === "gauge") {
        const v = typeof r.value === "object" ? (r.value as StatsValue).average : Number(r.value);
        if (Number.isFinite(v)) s.value = v;
      } else if (fam.type === "counter") {
        if (typeof r.value === "number") s.value += r.value;
      } else if (fam.type === "summary") {
        const st = r.value as StatsValue | undefined;
        if (st && typeof st === "object") {
          s.stats.count += st.count;
          s.stats.total += st.total;
        }
      } else {
        for (const b of r.buckets ?? []) addBucket(s, b);
      }
    }
  }

  /** Prometheus text exposition (format 0.0.4). */
  render(): string {
    const lines: string[] = [];
    for (const fam of [...this.families.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      lines.push(`# HELP ${fam.name} ${escapeHelp(fam.help)}`, `# TYPE ${fam.name} ${fam.type}`);
      for (const s of fam.series.values()) {
        if (fam.type === "counter" || fam.type === "gauge") {
          lines.push(`${fam.name}${labelText(s.labels)} ${num(s.value * fam.scale)}`);
        } else if (fam.type === "summary") {
          lines.push(`${fam.name}_sum${labelText(s.labels)} ${num(s.stats.total * fam.scale)}`);
          lines.push(`${fam.name}_count${labelText(s.labels)} ${num(s.stats.count)}`);
        } else {
          renderHistogram(fam, s, lines);
        }
      }
    }
    return lines.length ? lines.join("\n") + "\n" : "";
  }

  private series(fam: Family, keys: readonly string[]): Series {
    const labels: Record<string, string> = {};
    keys.forEach((k, i) => {
      labels[fam.labelNames[i] ?? (keys.length === 1 ? "key" : `key${i}`)] = k;
    });
    const id = JSON.stringify(labels);
    let s = fam.series.get(id);
    if (!s) {
      s = { labels, value: 0, buckets: new Map(), stats: { count: 0, total: 0 } };
      fam.series.set(id, s);
    }
    return s;
  }
}

function addBucket(s: Series, b: Bucket): void {
  const max = b.max ?? Infinity;
  const had = s.buckets.get(max);
  if (had) had.count += b.count;
  else s.buckets.set(max, { min: b.min ?? max, count: b.count });
}

function renderHistogram(fam: Family, s: Series, lines: string[]): void {
  const held = [...s.buckets].sort((a, b) => a[0] - b[0]);
  let i = 0;
  let cum = 0;
  let sum = 0;
  for (const le of histogramLadder(fam.unit)) {
    // bpftrace's buckets end at 2^k - 1, as the ladder does: a bucket counts once le reaches its max.
    while (i < held.length && held[i]![0] <= le) cum += held[i++]![1].count;
    lines.push(`${fam.name}_bucket${labelText({ ...s.labels, le: num(le * fam.scale) })} ${cum}`);
  }
  let total = 0;
  for (const [max, b] of held) {
    total += b.count;
    sum += b.count * (max === Infinity ? b.min : (b.min + max) / 2);
  }
  lines.push(`${fam.name}_bucket${labelText({ ...s.labels, le: "+Inf" })} ${total}`);
  lines.push(`${fam.name}_sum${labelText(s.labels)} ${num(sum * fam.scale)}`);
  lines.push(`${fam.name}_count${labelText(s.labels)} ${total}`);
}

function labelName(key: string): string {
  const out = key.replace(/[^a-zA-Z0-9_]/g, "_");
  return /^[a-zA-Z_]/.test(out) ? out : `_${out}`;
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
