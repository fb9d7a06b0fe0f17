// Where in a program a failed map update was: bpftrace (0.23) reports a failed helper call
// only by the line and column of the call in the program text. This names the map and the
// key of the statement there, so a lost update is counted against the numbers it is
// missing from. Pure.
import { keyComponents, maskCommentsAndStrings } from "../../catalog/program.js";
import type { BpftraceEvent } from "./records.js";

export interface UpdateSite {
  /** The map as the program names it, e.g. `@request_phase_ns`. */
  map: string;
  /** The key as bpftrace prints it ("a" or "a,b") when every key component is a string literal; null otherwise. */
  key: string | null;
}

/** A failed map update, put against its statement: the map "unknown" when bpftrace named no statement of one. */
export interface LostUpdateAt extends UpdateSite {
  line: number | null;
  reason: string;
}

/** The site of the statement at a 1-based line and column of one program, null when there is none. */
export type SiteFinder = (line: number, col: number) => UpdateSite | null;

/**
 * The statements of one program text, for naming the sites of failed updates. Failures come
 * in bursts (hundreds on a load's first requests), so the text is masked once, here.
 */
export function programSites(program: string): SiteFinder {
  let masked: string | null;
  try {
    masked = maskCommentsAndStrings(program);
  } catch {
    masked = null;
  }
  const lineStarts = [0];
  for (let i = program.indexOf("\n"); i >= 0; i = program.indexOf("\n", i + 1)) lineStarts.push(i + 1);
  return (line, col) => {
    const at = lineStarts[line - 1];
    if (masked === null || at === undefined || col < 1) return null;
    const lineEnd = lineStarts[line] ?? program.length + 1;
    const offset = at + col - 1;
    if (offset >= lineEnd) return null;
    // The statement holding the column starts after the last `;`, `{` or `}` before it
    // (the column may point at the map itself, at `=`, or at the aggregation call).
    const before = masked.slice(0, offset);
    const start = Math.max(before.lastIndexOf(";"), before.lastIndexOf("{"), before.lastIndexOf("}")) + 1;
    const m = /^\s*(@[A-Za-z0-9_]*)\s*(\[)?/.exec(masked.slice(start));
    if (!m) return null;
    const map = m[1] as string;
    if (!m[2]) return { map, key: null };
    const { close, parts } = keyComponents(masked, start + m[0].length - 1);
    if (close < 0) return { map, key: null };
    return { map, key: literalKey(parts.map(([from, to]) => program.slice(from, to))) };
  };
}

/** A helper_error that is a failed map update, put against its statement; null for any other failed helper. */
export function lostUpdateOf(sites: SiteFinder, ev: Extract<BpftraceEvent, { type: "helperError" }>): LostUpdateAt | null {
  if (ev.helper !== "map_update_elem") return null;
  const site = ev.line !== null && ev.col !== null ? sites(ev.line, ev.col) : null;
  return { map: site?.map ?? "unknown", key: site?.key ?? null, line: ev.line, reason: lostUpdateReason(ev.retcode) };
}

/**
 * The key components joined with "," when each is one plain string literal; null otherwise,
 * and for a literal with another escape than `\"` or `\\` (bpftrace prints those
 * decoded, and a guess at the decoding would name a key that is not there). Trailing `\0`s
 * are not part of the key as bpftrace prints it: hookpoint-pairs pads its longest name with them.
 */
function literalKey(parts: readonly string[]): string | null {
  const out: string[] = [];
  for (const text of parts) {
    // Trailing `\0`s only: elsewhere, `\0` followed by digits would be an octal escape.
    const m = /^\s*"((?:[^"\\]|\\["\\])*)(?:\\0)*"\s*$/.exec(text);
    if (!m) return null;
    out.push((m[1] as string).replace(/\\(["\\])/g, "$1"));
  }
  return out.join(",");
}

/** Why a map update failed, from the helper's return code (a negative errno). */
export function lostUpdateReason(retcode: number): string {
  if (retcode === -17) return "concurrent-create";
  if (retcode === -7) return "map-full";
  return `errno ${-retcode}`;
}

/** What each reason means, for the log line that first reports it. */
export const LOST_UPDATE_WHY: Readonly<Record<string, string>> = {
  // bpftrace 0.23 creates a missing per-CPU map entry with BPF_NOEXIST; a CPU that finds the
  // entry created by another meanwhile drops its update (bpftrace PR #4074 changed this).
  "concurrent-create": "two CPUs created the same map entry at the same moment and bpftrace dropped one update (bpftrace 0.23; bpftrace PR #4074 changed this)",
  "map-full": "the map holds its maximum number of entries",
};
