// What the agent's writer knows of how out of time order it wrote a file (WrittenOrder),
// checked against the file: each late record must be a whole line of it as written.
import { readFileSync, statSync } from "node:fs";
import { expect } from "vitest";
import type { WrittenOrder } from "../../src/agent/output/disorder.js";
import { isoTimeNs } from "../../src/records/times.js";

/**
 * The order's window for the file at `path` and its late records as [line number, ts],
 * null when it knows nothing of the file. Fails unless each late record's bytes are
 * exactly one line of the file, newline included, with that `ts`.
 */
export function lateLines(order: WrittenOrder, path: string): { disorderMs: number; late: [number, string][] } | null {
  const known = order.known(statSync(path).ino);
  if (!known) return null;
  const bytes = readFileSync(path);
  const starts: number[] = [];
  for (let at = 0; at < bytes.length; ) {
    starts.push(at);
    const nl = bytes.indexOf(10, at);
    if (nl < 0) break;
    at = nl + 1;
  }
  const late = known.late.map((r): [number, string] => {
    const line = starts.indexOf(r.start);
    expect([line >= 0, r.next, bytes[r.next - 1]], `late record at ${r.start}: a line start, ending with its newline`).toEqual([true, starts[line + 1] ?? bytes.length, 10]);
    const ts = (JSON.parse(bytes.toString("utf8", r.start, r.next)) as { ts: string }).ts;
    expect([r.ts, r.ns]).toEqual([ts, isoTimeNs(ts)]);
    return [line, ts];
  });
  return { disorderMs: known.disorderMs, late };
}
