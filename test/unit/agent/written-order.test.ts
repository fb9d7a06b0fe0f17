// How far out of time order the agent's writer wrote each records file (WrittenOrder, kept
// by RotatingFile as records go out): where each record more than 5 s late starts, how far
// out of order the rest came, per file, across rotation and a new writer of the same file,
// for a file an earlier agent run wrote, and past the bound on late records kept.
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { WrittenOrder } from "../../../src/agent/output/disorder.js";
import { RotatingFile } from "../../../src/agent/output/ndjson.js";
import { fileEtag, openOutputFile } from "../../../src/agent/records/files.js";
import { recordTimes, sinceOffset } from "../../../src/records/times.js";
import { lateLines } from "../../support/written-order.js";

const root = mkdtempSync(join(tmpdir(), "hookpoint-written-order-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const T0_MS = Date.parse("2026-03-01T10:00:00.000Z");
const at = (sec: number): string => new Date(T0_MS + sec * 1000).toISOString();
/** A request record ending `sec` after T0, ~140 bytes as a line. */
const rec = (sec: number, id?: number) => ({ kind: "request", ts: at(sec), ...(id === undefined ? {} : { id }), pad: "x".repeat(80) });

let n = 0;
const outputDir = (): string => join(root, `d${n++}`);

interface Scanned {
  start: number;
  /** The record's id and ts; null for a line that is not JSON. */
  id: number | null;
  ts: string | null;
}

/** Every line of a file (the last one ended by its newline), as a reader of all of it takes them. */
function scan(bytes: Buffer): Scanned[] {
  const out: Scanned[] = [];
  for (let at = 0, nl = bytes.indexOf(10); nl >= 0; at = nl + 1, nl = bytes.indexOf(10, at)) {
    let v: { id?: number; ts?: string } | null = null;
    try {
      v = JSON.parse(bytes.toString("utf8", at, nl)) as { id?: number; ts?: string };
    } catch {
      // a torn line: no record
    }
    out.push({ start: at, id: v?.id ?? null, ts: v?.ts ?? null });
  }
  return out;
}

/** The ETag the agent's records endpoints send for r.ndjson in `dir`. */
async function etagOf(dir: string): Promise<string> {
  const f = (await openOutputFile(dir, "r.ndjson"))!;
  try {
    return await fileEtag(f, 1 << 20);
  } finally {
    await f.fh.close();
  }
}

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

  it("starts what it appends to a file an earlier run left torn on a line of its own: every record is read, each late one noted where it is, the file's bytes and ETag unchanged", async () => {
    const dir = outputDir();
    const earlier = new RotatingFile({ dir, name: "r", maxBytes: 1 << 20, keep: 1, order: new WrittenOrder() });
    earlier.write([rec(100, 1), rec(101, 2), rec(102, 3)]);
    earlier.close();
    // Killed mid-write: 60 bytes of a record, its ts (300 s) among them, and no newline.
    appendFileSync(earlier.path, JSON.stringify(rec(300, 4)).slice(0, 60));
    const before = readFileSync(earlier.path);
    const etag = await etagOf(dir);
    const order = new WrittenOrder();
    const f = new RotatingFile({ dir, name: "r", maxBytes: 1 << 20, keep: 1, order });
    // 50 s comes 60 s after 110 s: late.
    expect(f.write([rec(110, 10), rec(50, 11), rec(120, 12)])).toEqual({ written: 3, dropped: 0, error: null, outOfOrder: 1 });
    expect(f.write([rec(121, 13)]).written).toBe(1);
    f.close();
    const after = readFileSync(f.path);
    const lines = scan(after);
    expect(lines.map((l) => l.id)).toEqual([1, 2, 3, null, 10, 11, 12, 13]);
    // Appended only (collect resumes its copies by byte range), after a newline that ends the torn line.
    expect([after.subarray(0, before.length).equals(before), after.toString("utf8", before.length, before.length + 1)]).toEqual([true, "\n"]);
    expect(await etagOf(dir)).toBe(etag);
    expect(lateLines(order, f.path)).toEqual({ disorderMs: 0, late: [[5, at(50)]] });
    // What the agent's listing reads of the file is what a scan of all of it finds.
    const ms = (l: Scanned) => (l.ts === null ? NaN : Date.parse(l.ts));
    const sinces = [0, 50, 60, 100, 101.5, 103, 110, 115, 120, 121, 122, 300].map((sec) => Date.parse(at(sec)));
    const fh = await open(f.path, "r");
    try {
      const { size, ino } = await fh.stat();
      const read = { ...(await recordTimes(fh, size, order.known(ino))), offsets: await Promise.all(sinces.map((s) => sinceOffset(fh, size, s, order.known(ino)))) };
      const timed = lines.filter((l) => l.ts !== null).sort((a, b) => ms(a) - ms(b));
      const full = { first: timed[0]!.ts, last: timed.at(-1)!.ts, offsets: sinces.map((s) => lines.find((l) => ms(l) >= s)?.start ?? size) };
      expect(read).toEqual(full);
      expect(full).toEqual({ first: at(50), last: at(121), offsets: [0, 0, 0, 0, lines[2]!.start, lines[4]!.start, lines[4]!.start, lines[6]!.start, lines[6]!.start, lines[7]!.start, size, size] });
    } finally {
      await fh.close();
    }
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
