// Request records against the fixture proxy's --truth log: pairing (by the downstream
// connection and, on it, the HTTP/2 stream or the HTTP/1.1 request order) and the
// differences a user would notice. Pure; shared by the bpf tests and the assembler's
// golden test.
import type { RequestRecord } from "../../src/records/request-record.js";
import type { TruthLine, Window } from "../integration/fixture/support.js";

/**
 * Tolerance beyond a boundary's window (the two proxy clock readings between which its
 * probe fired): none is known to be needed, every boundary of every run so far lay inside
 * its window. The probe and the fixture read one clock (CLOCK_MONOTONIC), bpf through the
 * kernel's NMI-safe accessor and the fixture through the vDSO, which may disagree by a few
 * ns around a timekeeping update; 1 µs covers that and nothing a user would notice.
 */
export const WINDOW_SLACK_NS = 1_000;

/**
 * Tolerance around a single reading, for a truth line without windows (an older truth log):
 * what a reading next to the probe, not around it, cannot order.
 */
export const BOUNDARY_NS = 200_000;

/** How one describes the tolerances, in every summary line. */
export const TOLERANCE_TEXT = `within ${WINDOW_SLACK_NS / 1000} µs of its truth window, or ${BOUNDARY_NS / 1000} µs of a reading without one`;

/**
 * The widest window that may vouch for a boundary. A hold between two readings lasts
 * milliseconds even when the host takes most of the CPU (13 ms was the widest seen); a
 * window of seconds would mean a stale reading in the fixture, and would let a wrong
 * boundary pass.
 */
export const MAX_WINDOW_NS = 1_000_000_000;

/**
 * A record's boundary `r` against the truth's: `off` is 0 inside the window, else the
 * signed distance to its nearer edge (no window: to the single reading `ns`); `raw` is
 * the signed distance to the single reading; `width` the window's (0 without one); `slack`
 * how far beyond may still be within (WINDOW_SLACK_NS, or BOUNDARY_NS without a window).
 */
export interface BoundaryOffset {
  off: number;
  raw: number;
  width: number;
  slack: number;
}

export function boundaryOffset(r: number, ns: number, window?: Window): BoundaryOffset {
  const raw = r - ns;
  if (!window) return { off: raw, raw, width: 0, slack: BOUNDARY_NS };
  return { off: r < window[0] ? r - window[0] : r > window[1] ? r - window[1] : 0, raw, width: window[1] - window[0], slack: WINDOW_SLACK_NS };
}

/** Counts boundaries within only thanks to their window (their single reading more than BOUNDARY_NS off), the largest single-reading difference among them, and the widest window. */
export class WindowTally {
  needed = 0;
  maxRawNs = 0;
  widestNs = 0;

  /** Judges one boundary: within its slack of its window (or reading); a window wider than MAX_WINDOW_NS vouches for nothing. */
  within(o: BoundaryOffset): boolean {
    this.widestNs = Math.max(this.widestNs, o.width);
    if (o.width > MAX_WINDOW_NS) return false;
    const within = Math.abs(o.off) <= o.slack;
    if (within && Math.abs(o.raw) > BOUNDARY_NS) {
      this.needed++;
      this.maxRawNs = Math.max(this.maxRawNs, Math.abs(o.raw));
    }
    return within;
  }

  describe(): string {
    return `${this.needed} boundar${this.needed === 1 ? "y" : "ies"} within only by the window${this.needed > 0 ? ` (single reading up to ${(this.maxRawNs / 1000).toFixed(1)} µs off)` : ""}; widest window ${(this.widestNs / 1000).toFixed(1)} µs`;
  }
}

export interface Comparison {
  /** Records paired with a truth line (same connection and, per connection, same order or stream). */
  pairs: { record: RequestRecord; truth: TruthLine }[];
  /** Truth lines without a record, records without a truth line. */
  unmatchedTruth: TruthLine[];
  unmatchedRecords: RequestRecord[];
  /** Pairs whose sockets, stream, id or phase names differ from the truth: what differs. */
  mismatches: string[];
  /** Pairs with every boundary within WINDOW_SLACK_NS of its window (or, without one, BOUNDARY_NS of the truth's reading). */
  within: number;
  /** The largest boundary distance (to the window's nearer edge) of each pair, largest first, with where. */
  worst: { id: string; ns: number; where: string }[];
  /** Boundaries whose single reading is more than BOUNDARY_NS off but that are within by their window. */
  neededWindow: WindowTally;
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
  const c: Comparison = { pairs: [], unmatchedTruth: [], unmatchedRecords: [], mismatches: [], within: 0, worst: [], neededWindow: new WindowTally() };
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
    let where = "no boundary off";
    let within = true;
    r.phases.forEach((p, i) => {
      const q = t.phases[i]!;
      for (const [a, b, w, edge] of [
        [p.start_ns, q.start_ns, q.start_window, "start"],
        [p.end_ns, q.end_ns, q.end_window, "end"],
      ] as const) {
        const o = boundaryOffset(a, b, w);
        if (!c.neededWindow.within(o)) within = false;
        if (Math.abs(o.off) > ns) {
          ns = Math.abs(o.off);
          where = `${p.name}.${edge} ${o.off > 0 ? "+" : ""}${o.off} ns`;
        }
      }
    });
    if (within) c.within++;
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
  return `${label}: ${c.within}/${n} requests (${(frac * 100).toFixed(3)} %) have every phase boundary ${TOLERANCE_TEXT}${realtime ? " (proxy threads SCHED_FIFO)" : ""}; ${c.neededWindow.describe()}; worst: ${worst || "none"}`;
}
