// Request records against the fixture proxy's --truth log: pairing (by the downstream
// connection and, on it, the HTTP/2 stream or the HTTP/1.1 request order) and the
// differences a user would notice. Pure; shared by the bpf tests and the assembler's
// golden test.
import type { RequestRecord } from "../../src/records/request-record.js";
import type { TruthLine } from "../integration/fixture/support.js";

/** Tolerance for every phase boundary against the truth. */
export const BOUNDARY_NS = 200_000;

export interface Comparison {
  /** Records paired with a truth line (same connection and, per connection, same order or stream). */
  pairs: { record: RequestRecord; truth: TruthLine }[];
  /** Truth lines without a record, records without a truth line. */
  unmatchedTruth: TruthLine[];
  unmatchedRecords: RequestRecord[];
  /** Pairs whose sockets, stream, id or phase names differ from the truth: what differs. */
  mismatches: string[];
  /** Pairs with every boundary within BOUNDARY_NS. */
  within: number;
  /** The largest boundary difference of each pair, largest first, with where. */
  worst: { id: string; ns: number; where: string }[];
}

/**
 * Pairs records with truth lines by what a user can check against their own logs: the
 * downstream connection (its peer address) and, on it, the HTTP/2 stream id or (HTTP/1.1,
 * one request at a time) the order of the requests; then compares each pair.
 */
export function compareWithTruth(records: readonly RequestRecord[], truth: readonly TruthLine[]): Comparison {
  const key = (peer: string | null, stream: number | null): string => `${peer} ${stream ?? ""}`;
  const groups = new Map<string, { r: RequestRecord[]; t: TruthLine[] }>();
  const group = (k: string): { r: RequestRecord[]; t: TruthLine[] } => groups.get(k) ?? groups.set(k, { r: [], t: [] }).get(k)!;
  for (const r of records) group(key(r.downstream.peer, r.protocol === "HTTP/2" ? r.stream : null)).r.push(r);
  for (const t of truth) group(key(t.downstream.peer, t.protocol === "HTTP/2" ? t.stream : null)).t.push(t);
  const c: Comparison = { pairs: [], unmatchedTruth: [], unmatchedRecords: [], mismatches: [], within: 0, worst: [] };
  for (const { r, t } of groups.values()) {
    r.sort((a, b) => a.start_ns - b.start_ns);
    t.sort((a, b) => a.start_ns - b.start_ns);
    for (let i = 0; i < Math.max(r.length, t.length); i++) {
      if (!r[i]) c.unmatchedTruth.push(t[i]!);
      else if (!t[i]) c.unmatchedRecords.push(r[i]!);
      else c.pairs.push({ record: r[i]!, truth: t[i]! });
    }
  }
  for (const { record: r, truth: t } of c.pairs) {
    const what: string[] = [];
    if (!r.id.startsWith("hp-") && r.id !== t.id) what.push(`id ${r.id}`);
    if (r.worker !== t.worker) what.push(`worker ${r.worker}`);
    if (r.protocol !== t.protocol) what.push(`protocol ${r.protocol}`);
    if (r.stream !== t.stream) what.push(`stream ${r.stream} vs ${t.stream}`);
    const same = (a: { fd: number; local: string | null; peer: string | null } | null, b: { fd: number; local: string; peer: string } | null): boolean =>
      a === null || b === null ? a === b : a.fd === b.fd && a.local === b.local && a.peer === b.peer;
    if (!same(r.downstream, t.downstream)) what.push(`downstream ${JSON.stringify(r.downstream)} vs ${JSON.stringify(t.downstream)}`);
    if (!same(r.upstream, t.upstream)) what.push(`upstream ${JSON.stringify(r.upstream)} vs ${JSON.stringify(t.upstream)}`);
    const names = r.phases.map((p) => p.name).join(",");
    const tnames = t.phases.map((p) => p.name).join(",");
    if (names !== tnames) what.push(`phases ${names} vs ${tnames}`);
    if (what.length > 0) {
      c.mismatches.push(`${t.id}: ${what.join("; ")}`);
      continue;
    }
    let ns = 0;
    let where = "";
    r.phases.forEach((p, i) => {
      const q = t.phases[i]!;
      for (const [a, b, edge] of [
        [p.start_ns, q.start_ns, "start"],
        [p.end_ns, q.end_ns, "end"],
      ] as const) {
        if (Math.abs(a - b) > ns) {
          ns = Math.abs(a - b);
          where = `${p.name}.${edge} ${a - b > 0 ? "+" : ""}${a - b} ns`;
        }
      }
    });
    if (ns <= BOUNDARY_NS) c.within++;
    c.worst.push({ id: t.id, ns, where });
  }
  c.worst.sort((a, b) => b.ns - a.ns);
  return c;
}

/** One line for the test output: the fraction within tolerance and the worst pairs. */
export function describeComparison(label: string, c: Comparison, realtime: boolean): string {
  const n = c.pairs.length;
  const frac = n === 0 ? 0 : c.within / n;
  const worst = c.worst
    .slice(0, 3)
    .map((w) => `${w.id} ${(w.ns / 1000).toFixed(1)} µs (${w.where})`)
    .join(", ");
  return `${label}: ${c.within}/${n} requests (${(frac * 100).toFixed(3)} %) have every phase boundary within ${BOUNDARY_NS / 1000} µs of the truth${realtime ? " (proxy threads SCHED_FIFO)" : ""}; worst: ${worst || "none"}`;
}
