// How far out of time order the agent's writer wrote each records file (WrittenOrder, kept
// by RotatingFile as records go out): per file, across rotation and a new writer of the
// same file, and for a file an earlier agent run wrote.
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { WrittenOrder } from "../../../src/agent/output/disorder.js";
import { RotatingFile } from "../../../src/agent/output/ndjson.js";

const root = mkdtempSync(join(tmpdir(), "hookpoint-written-order-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const T0_MS = Date.parse("2026-03-01T10:00:00.000Z");
/** A request record ending `sec` after T0, ~140 bytes as a line. */
const rec = (sec: number) => ({ kind: "request", ts: new Date(T0_MS + sec * 1000).toISOString(), pad: "x".repeat(80) });

let n = 0;
const outputDir = (): string => join(root, `d${n++}`);

/** Disorder (ms) the order knows of the file now at `name` in `dir`. */
const disorderOf = (order: WrittenOrder, dir: string, name: string): number => order.disorderMs(statSync(join(dir, name)).ino);

describe("the writer's record of how out of order it wrote each file", () => {
  it("counts records more than 5 s late and keeps the largest lateness, to the ms rounded up", () => {
    const dir = outputDir();
    const order = new WrittenOrder();
    const f = new RotatingFile({ dir, name: "r", maxBytes: 1 << 20, keep: 1, order });
    // 20 s, then 14.9995 s (5.0005 s late: counted), 15 s (exactly 5 s: not), 20.5 s, a record without a ts, 1 s (19.5 s late).
    expect(f.write([rec(20), rec(14.9995), rec(15)]).outOfOrder).toBe(1);
    expect(disorderOf(order, dir, "r.ndjson")).toBe(5001);
    expect(f.write([rec(20.5), { kind: "request", pad: "no ts" }, rec(1)])).toEqual({ written: 3, dropped: 0, error: null, outOfOrder: 1 });
    expect(disorderOf(order, dir, "r.ndjson")).toBe(19_500);
    f.close();
  });

  it("keeps a rotated file's disorder under its new name, starts the new file afresh, and goes on across writers of the same file", () => {
    const dir = outputDir();
    const order = new WrittenOrder();
    // Two records a file.
    const f = new RotatingFile({ dir, name: "r", maxBytes: 300, keep: 1, order });
    f.write([rec(30), rec(10)]);
    // The new file's first record is older than the last file's latest: the new file is in order.
    expect(f.write([rec(12)]).outOfOrder).toBe(0);
    expect([disorderOf(order, dir, "r.ndjson.1"), disorderOf(order, dir, "r.ndjson")]).toEqual([20_000, 0]);
    f.close();
    // Envoy restarted: a new writer of the same live file knows its latest (12 s).
    const g = new RotatingFile({ dir, name: "r", maxBytes: 300, keep: 1, order });
    expect(g.write([rec(6)]).outOfOrder).toBe(1);
    expect([disorderOf(order, dir, "r.ndjson.1"), disorderOf(order, dir, "r.ndjson")]).toEqual([20_000, 6000]);
    // Rotation deletes r.ndjson.1 (20 s) and renames r.ndjson (6 s) to it.
    g.write([rec(40)]);
    g.close();
    expect([disorderOf(order, dir, "r.ndjson.1"), disorderOf(order, dir, "r.ndjson")]).toEqual([6000, 0]);
  });

  it("compares what it appends to a file of an earlier agent run among itself: the earlier records are taken as within 5 s", () => {
    const dir = outputDir();
    const earlier = new RotatingFile({ dir, name: "r", maxBytes: 1 << 20, keep: 1, order: new WrittenOrder() });
    earlier.write([rec(100), rec(50)]);
    earlier.close();
    const order = new WrittenOrder();
    const f = new RotatingFile({ dir, name: "r", maxBytes: 1 << 20, keep: 1, order });
    expect(f.write([rec(60), rec(200), rec(199)]).outOfOrder).toBe(0);
    expect(disorderOf(order, dir, "r.ndjson")).toBe(1000);
    f.close();
  });
});
