// Running totals → what happened in one interval. Pure.
//
// The bundled scripts never clear an output map: a clear() between two prints loses the
// updates that land in between (bpftrace issues #277, #817). Each dump holds the totals
// since that bpftrace process started; the difference to its previous dump is the
// interval's share. A new bpftrace (a new generation) starts again from zero, and so does
// an entry whose total went down.
import type { Bucket, MapRecord, StatsValue } from "./records.js";

type Total = number | Map<string, number> | StatsValue;

export class IntervalDeltas {
  private generation: number | null = null;
  private readonly last = new Map<string, Total>();

  /**
   * One dump's records as deltas. Entries that did not change are left out; gauges (avg,
   * value) pass through as they are.
   */
  delta(records: readonly MapRecord[], generation: number): MapRecord[] {
    if (generation !== this.generation) {
      this.last.clear();
      this.generation = generation;
    }
    const out: MapRecord[] = [];
    for (const r of records) {
      if (r.kind === "avg" || r.kind === "value") {
        out.push(r);
        continue;
      }
      const id = `${r.map}\u0000${r.keys.join("\u0000")}`;
      const prev = this.last.get(id);
      if (r.buckets) {
        const now = new Map(r.buckets.map((b) => [bucketId(b), b.count]));
        this.last.set(id, now);
        const before = prev instanceof Map && [...prev].every(([k, c]) => (now.get(k) ?? 0) >= c) ? prev : null;
        const buckets: Bucket[] = [];
        for (const b of r.buckets) {
          const c = b.count - (before?.get(bucketId(b)) ?? 0);
          if (c > 0) buckets.push({ ...b, count: c });
        }
        if (buckets.length > 0) out.push({ ...r, buckets });
      } else if (typeof r.value === "number") {
        this.last.set(id, r.value);
        const d = typeof prev === "number" && r.value >= prev ? r.value - prev : r.value;
        if (d !== 0) out.push({ ...r, value: d });
      } else if (r.value !== undefined && typeof r.value === "object") {
        const now = r.value;
        this.last.set(id, now);
        const before = isStats(prev) && now.count >= prev.count ? prev : { count: 0, total: 0, average: 0 };
        const count = now.count - before.count;
        const total = now.total - before.total;
        if (count > 0) out.push({ ...r, value: { count, average: total / count, total } });
      }
    }
    return out;
  }
}

function bucketId(b: Bucket): string {
  return `${b.min ?? ""}:${b.max ?? ""}`;
}

function isStats(v: Total | undefined): v is StatsValue {
  return typeof v === "object" && !(v instanceof Map);
}
