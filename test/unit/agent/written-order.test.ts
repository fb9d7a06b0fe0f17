// How far out of time order the agent's writer wrote each records file (WrittenOrder, kept
// by RotatingFile as records go out): where each record more than 5 s late starts, how far
// out of order the rest came, per file, across rotation and a new writer of the same file,
// for a file an earlier agent run wrote, and past the bound on late records kept.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { WrittenOrder } from "../../../src/agent/output/disorder.js";
import { RotatingFile } from "../../../src/agent/output/ndjson.js";
import { lateLines } from "../../support/written-order.js";

const root = mkdtempSync(join(tmpdir(), "hookpoint-written-order-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const T0_MS = Date.parse("2026-03-01T10:00:00.000Z");
const at = (sec: number): string => new Date(T0_MS + sec * 1000).toISOString();
/** A request record ending `sec` after T0, ~140 bytes as a line. */
const rec = (sec: number) => ({ kind: "request", ts: at(sec), pad: "x".repeat(80) });

let n = 0;
const outputDir = (): string => join(root, `d${n++}`);

describe("the writer's record of how out of order it wrote each file", () => {
  it("notes where each record more than 5 s late is, and how late the others came, to the ms rounded up", () => {
    const dir = outputDir();
    const order = new WrittenOrder();
    const f = new RotatingFile({ dir, name: "r", maxBytes: 1 << 20, keep: 1, order });
    // 20 s, then 14.9995 s (5.0005 s late: noted), 15 s (exactly 5 s: not), 20.5 s, a record without a ts, 1 s (19.5 s late), 16.9994 s (3.5006 s late).
    expect(f.write([rec(20), rec(14.9995), rec(15)]).outOfOrder).toBe(1);
    expect(lateLines(order, f.path)).toEqual({ disorderMs: 5000, late: [[1, at(14.9995)]] });
    expect(f.write([rec(20.5), { kind: "request", pad: "no ts" }, rec(1)])).toEqual({ written: 3, dropped: 0, error: null, outOfOrder: 1 });
    expect(lateLines(order, f.path)).toEqual({ disorderMs: 5000, late: [[1, at(14.9995)], [5, at(1)]] });
    f.close();
    const g = new RotatingFile({ dir, name: "s", maxBytes: 1 << 20, keep: 1, order });
    g.write([rec(20.5), rec(16.9994)]);
    g.close();
    expect(lateLines(order, g.path)).toEqual({ disorderMs: 3501, late: [] });
  });

  it("keeps a rotated file's late records under its new name, starts the new file afresh, and goes on across writers of the same file", () => {
    const dir = outputDir();
    const order = new WrittenOrder();
    // Two records a file.
    const f = new RotatingFile({ dir, name: "r", maxBytes: 300, keep: 1, order });
    f.write([rec(30), rec(10)]);
    // The new file's first record is older than the last file's latest: the new file is in order.
    expect(f.write([rec(12)]).outOfOrder).toBe(0);
    expect([lateLines(order, `${f.path}.1`), lateLines(order, f.path)]).toEqual([
      { disorderMs: 0, late: [[1, at(10)]] },
      { disorderMs: 0, late: [] },
    ]);
    f.close();
    // Envoy restarted: a new writer of the same live file knows its latest (12 s).
    const g = new RotatingFile({ dir, name: "r", maxBytes: 300, keep: 1, order });
    expect(g.write([rec(6)]).outOfOrder).toBe(1);
    expect(lateLines(order, f.path)).toEqual({ disorderMs: 0, late: [[1, at(6)]] });
    // Rotation deletes r.ndjson.1 (10 s at line 1) and renames r.ndjson (6 s) to it.
    g.write([rec(40)]);
    g.close();
    expect([lateLines(order, `${f.path}.1`), lateLines(order, f.path)]).toEqual([
      { disorderMs: 0, late: [[1, at(6)]] },
      { disorderMs: 0, late: [] },
    ]);
  });

  it("compares what it appends to a file of an earlier agent run among itself: the earlier records are taken as within 5 s", () => {
    const dir = outputDir();
    const earlier = new RotatingFile({ dir, name: "r", maxBytes: 1 << 20, keep: 1, order: new WrittenOrder() });
    earlier.write([rec(100), rec(50)]);
    earlier.close();
    const order = new WrittenOrder();
    const f = new RotatingFile({ dir, name: "r", maxBytes: 1 << 20, keep: 1, order });
    expect(f.write([rec(60), rec(200), rec(199)]).outOfOrder).toBe(0);
    expect(lateLines(order, f.path)).toEqual({ disorderMs: 1000, late: [] });
    // Noted where it is in the file, after the earlier run's records.
    expect(f.write([rec(150)]).outOfOrder).toBe(1);
    expect(lateLines(order, f.path)).toEqual({ disorderMs: 1000, late: [[5, at(150)]] });
    f.close();
  });

  it("does not order the record that joins a torn line the writer could not cut back, nor a failed write's none, and notes the rest where they start", () => {
    const order = new WrittenOrder();
    const line = (sec: number): number => JSON.stringify(rec(sec)).length + 1;
    order.opened(7, 0);
    expect(order.appended(7, 0, [rec(100)], [line(100)])).toBe(0);
    // 30 bytes of a record left at the end; the next write fails before a whole record goes out.
    order.torn(7);
    const torn = line(100) + 30;
    expect(order.appended(7, torn, [], [line(101)])).toBe(0);
    // 10 s joins the torn line; 20 s is 80 s late, on the line after it.
    expect(order.appended(7, torn, [rec(10), rec(20), rec(30)], [line(10), line(20), line(30)])).toBe(2);
    const from = torn + line(10);
    expect(order.known(7)).toEqual({
      disorderMs: 0,
      late: [
        { start: from, next: from + line(20), ts: at(20), ns: 1772359220000000000n },
        { start: from + line(20), next: from + line(20) + line(30), ts: at(30), ns: 1772359230000000000n },
      ],
    });
  });

  it("past its bound on late records per file, takes how late the others came as the file's window", () => {
    const dir = outputDir();
    const order = new WrittenOrder(2);
    const f = new RotatingFile({ dir, name: "r", maxBytes: 1 << 20, keep: 1, order });
    // 100 s, then 10 s, 20 s, 90 s (10 s late), 30 s, 94 s (6 s late): five late, two noted.
    expect(f.write([rec(100), rec(10), rec(20), rec(90), rec(30), rec(94)]).outOfOrder).toBe(5);
    expect(lateLines(order, f.path)).toEqual({ disorderMs: 70_000, late: [[1, at(10)], [2, at(20)]] });
    f.close();
  });
});
