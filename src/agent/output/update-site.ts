// Where in a program a failed map update was: bpftrace (0.23) reports a failed helper call
// only by the line and column of the call in the program text. This names the map and the
// key of the statement there, so a lost update is counted against the numbers it is
// missing from. Pure.
import { maskCommentsAndStrings } from "../../catalog/program.js";

export interface UpdateSite {
  /** The map as the program names it, e.g. `@request_phase_ns`. */
  map: string;
  /** The key as bpftrace prints it ("a" or "a,b") when every key component is a string literal; null otherwise. */
  key: string | null;
}

/** `line` and `col` are 1-based, as bpftrace reports them; null when they point at no map statement. */
export function updateSite(program: string, line: number, col: number): UpdateSite | null {
  if (line < 1 || col < 1) return null;
  let at = 0;
  for (let l = 1; l < line; l++) {
    at = program.indexOf("\n", at) + 1;
    if (at === 0) return null;
  }
  const end = program.indexOf("\n", at);
  const lineEnd = end < 0 ? program.length : end;
  if (at + col - 1 > lineEnd) return null;
  // The statement holding the column starts after the last `;`, `{` or `}` before it.
  let masked: string;
  try {
    masked = maskCommentsAndStrings(program);
  } catch {
    return null;
  }
  const before = masked.slice(0, at + col - 1);
  const start = Math.max(before.lastIndexOf(";"), before.lastIndexOf("{"), before.lastIndexOf("}")) + 1;
  const m = /^\s*(@[A-Za-z0-9_]*)\s*(\[)?/.exec(before.slice(start));
  if (!m) return null;
  const map = m[1] as string;
  if (!m[2]) return { map, key: null };
  const open = start + m[0].length - 1;
  const close = closingBracket(masked, open);
  if (close < 0) return { map, key: null };
  return { map, key: literalKey(program.slice(open + 1, close), masked.slice(open + 1, close)) };
}

/** Index of the `]` closing the `[` at `open` in masked text; -1 when there is none. */
function closingBracket(masked: string, open: number): number {
  let depth = 0;
  for (let i = open; i < masked.length; i++) {
    const c = masked[i];
    if (c === "[" || c === "(") depth++;
    else if (c === "]" || c === ")") {
      depth--;
      if (depth === 0) return c === "]" ? i : -1;
    }
  }
  return -1;
}

/** The key components joined with "," when each is one string literal (split at top-level commas of the masked text). */
function literalKey(text: string, masked: string): string | null {
  const parts: string[] = [];
  let from = 0;
  let depth = 0;
  for (let i = 0; i <= masked.length; i++) {
    const c = masked[i];
    if (c === "(" || c === "[") depth++;
    else if (c === ")" || c === "]") depth--;
    else if ((c === "," && depth === 0) || i === masked.length) {
      const m = /^\s*"((?:[^"\\]|\\.)*)"\s*$/.exec(text.slice(from, i));
      if (!m) return null;
      parts.push((m[1] as string).replace(/\\(["\\])/g, "$1"));
      from = i + 1;
    }
  }
  return parts.join(",");
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
  // entry created by another meanwhile drops its update (bpftrace PR #4074 changed this after 0.23).
  "concurrent-create": "two CPUs created the same map entry at the same moment and bpftrace dropped one update (bpftrace 0.23; later releases do not)",
  "map-full": "the map holds its maximum number of entries",
};
