// A request records file is only nearly in time order: a record's `ts` is its response's
// end, and it is written once the request has been quiet, at the assembler's next sweep,
// each sweep's records sorted by end. The `?since=` offset and a file's first/last times
// must still be what a full scan of the file finds.
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { WrittenOrder } from "../../../src/agent/output/disorder.js";
import { RotatingFile } from "../../../src/agent/output/ndjson.js";
import { isoMicro } from "../../../src/agent/trace/assembler.js";
import { isoTimeNs, MAX_DISORDER_MS, recordTimes, sinceOffset, type WrittenOrderOf } from "../../../src/records/times.js";
import { lateLines } from "../../support/written-order.js";

const dir = mkdtempSync(join(tmpdir(), "hookpoint-out-of-order-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const T0_MS = Date.parse("2026-03-01T10:00:00.000Z");

interface Rec {
  id: string;
  endUs: number;
}

/**
 * Writes sweeps of records through the agent's own writer, one write per sweep, as the
 * agent does; `order`: the agent's record of how out of order it wrote its files. Returns
 * the file and how many records the writer said came more than MAX_DISORDER_MS late.
 */
function writeSweepsCounted(name: string, sweeps: readonly Rec[][], pad: number, order?: WrittenOrder): { path: string; outOfOrder: number } {
  const file = new RotatingFile({ dir, name, maxBytes: 1 << 30, keep: 1, ...(order ? { order } : {}) });
  let outOfOrder = 0;
  try {
    for (const sweep of sweeps) {
      const r = file.write(sweep.map((s) => ({ kind: "request", ts: isoMicro(BigInt(T0_MS * 1000 + s.endUs) * 1000n), id: s.id, pad: "x".repeat(pad) })));
      if (r.error) throw r.error;
      outOfOrder += r.outOfOrder;
    }
  } finally {
    file.close();
  }
  return { path: join(dir, `${name}.ndjson`), outOfOrder };
}

function writeSweeps(name: string, sweeps: readonly Rec[][], pad: number): string {
  return writeSweepsCounted(name, sweeps, pad).path;
}

interface Line {
  id: string;
  ts: string;
  ms: number;
  offset: number;
}

const scans = new Map<string, Line[]>();

/** Every line of the file, with its byte offset: the full scan the search must agree with. */
function scan(path: string): Line[] {
  const done = scans.get(path);
  if (done) return done;
  const out: Line[] = [];
  let offset = 0;
  for (const text of readFileSync(path, "utf8").split("\n").slice(0, -1)) {
    const v = JSON.parse(text) as { id: string; ts: string };
    out.push({ id: v.id, ts: v.ts, ms: Date.parse(v.ts), offset });
    offset += Buffer.byteLength(text) + 1;
  }
  scans.set(path, out);
  return out;
}

/**
 * What collect gets with `--since`: the offset, and the records from there on at or after
 * `since`; `written` as the agent's listing passes it (how out of order it wrote the file).
 */
async function fromSince(path: string, since: string, written?: WrittenOrderOf | null): Promise<{ offset: number; ids: string[] }> {
  const fh = await open(path, "r");
  try {
    const { size } = await fh.stat();
    const offset = await sinceOffset(fh, size, Date.parse(since), written);
    const ids = scan(path)
      .filter((l) => l.offset >= offset && l.ms >= Date.parse(since))
      .map((l) => l.id);
    return { offset, ids };
  } finally {
    await fh.close();
  }
}

/** The same by a full scan: the first record at or after `since` in file order, and all of them. */
function fullScan(path: string, since: string): { offset: number; ids: string[] } {
  const lines = scan(path);
  const hits = lines.filter((l) => l.ms >= Date.parse(since));
  return { offset: hits[0]?.offset ?? readFileSync(path).length, ids: hits.map((l) => l.id) };
}

async function times(path: string, written?: WrittenOrderOf | null): Promise<{ first: string | null; last: string | null }> {
  const fh = await open(path, "r");
  try {
    return await recordTimes(fh, (await fh.stat()).size, written);
  } finally {
    await fh.close();
  }
}

const at = (s: number) => new Date(T0_MS + s * 1000).toISOString();

describe("a records file nearly in time order", () => {
  // Ends 10.3, 10.0, 10.6, 10.4, ... s after T0 in file order: request b ended first but
  // waited for its last write to settle, so a's sweep came before it. Lines of ~40 KB, so
  // the file is larger than one read and the offset is found by the binary search.
  const s = (id: string, sec: number): Rec => ({ id, endUs: Math.round(sec * 1e6) });
  const small = writeSweeps("small-requests", [[s("a", 10.3)], [s("b", 10.0), s("c", 10.6)], [s("d", 10.4), s("e", 10.9)], [s("f", 10.7), s("g", 11.2)], [s("h", 11.0)]], 40_000);

  it("starts --since at the first record at or after it in file order, and misses none after", async () => {
    const lines = scan(small);
    const offsetOf = (id: string) => lines.find((l) => l.id === id)!.offset;
    expect(await fromSince(small, at(10.0))).toEqual({ offset: 0, ids: ["a", "b", "c", "d", "e", "f", "g", "h"] });
    expect(await fromSince(small, at(10.1))).toEqual({ offset: 0, ids: ["a", "c", "d", "e", "f", "g", "h"] });
    expect(await fromSince(small, at(10.5))).toEqual({ offset: offsetOf("c"), ids: ["c", "e", "f", "g", "h"] });
    expect(await fromSince(small, at(10.65))).toEqual({ offset: offsetOf("e"), ids: ["e", "f", "g", "h"] });
    expect(await fromSince(small, at(10.8))).toEqual({ offset: offsetOf("e"), ids: ["e", "g", "h"] });
    expect(await fromSince(small, at(11.1))).toEqual({ offset: offsetOf("g"), ids: ["g"] });
    expect(await fromSince(small, at(11.3))).toEqual({ offset: readFileSync(small).length, ids: [] });
    for (const sec of [9, 10.0, 10.1, 10.35, 10.45, 10.5, 10.65, 10.75, 10.8, 10.95, 11.05, 11.1, 11.2, 11.3]) {
      expect([sec, await fromSince(small, at(sec))]).toEqual([sec, fullScan(small, at(sec))]);
    }
  });

  it("gives the earliest and the latest ts, not those of the first and last lines", async () => {
    expect(await times(small)).toEqual({ first: "2026-03-01T10:00:10.000000Z", last: "2026-03-01T10:00:11.200000Z" });
  });

  it("agrees with a full scan on a file written as the agent's sweeps write it", async () => {
    // ~25 requests a second; each is written at the first sweep (every 250 ms) after it was
    // quiet for 500 ms plus a few ms of event delivery, one in seven 1 s later (its last
    // write settling); each sweep sorted by end.
    let seed = 12345;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const recs = Array.from({ length: 3000 }, (_v, i) => {
      const endUs = i * 40_000 + rand(40_000);
      const readyUs = endUs + 500_000 + rand(30_000) + (i % 7 === 3 ? 1_000_000 : 0);
      return { id: `r${i}`, endUs, sweep: Math.ceil(readyUs / 250_000) };
    });
    const bySweep = new Map<number, Rec[]>();
    for (const r of recs) bySweep.set(r.sweep, [...(bySweep.get(r.sweep) ?? []), r]);
    const sweeps = [...bySweep.entries()].sort(([a], [b]) => a - b).map(([, rs]) => rs.sort((a, b) => a.endUs - b.endUs));
    const path = writeSweeps("sim-requests", sweeps, 200);
    const lines = scan(path);
    // Out of order as described, and within the bound the reader assumes.
    const ns = lines.map((l) => isoTimeNs(l.ts)!);
    expect(ns.some((t, i) => i > 0 && t < ns[i - 1]!)).toBe(true);
    let latest = ns[0]!;
    for (const t of ns) {
      expect(latest - t).toBeLessThanOrEqual(BigInt(MAX_DISORDER_MS) * 1_000_000n);
      if (t > latest) latest = t;
    }
    // Every 20th record's ts, a ms before and after it.
    for (const l of lines.filter((_l, i) => i % 20 === 0)) {
      for (const since of [l.ms - 1, l.ms, l.ms + 1].map((t) => new Date(t).toISOString())) {
        expect([since, await fromSince(path, since)]).toEqual([since, fullScan(path, since)]);
      }
    }
    const sorted = [...lines].sort((a, b) => (isoTimeNs(a.ts)! < isoTimeNs(b.ts)! ? -1 : 1));
    expect(await times(path)).toEqual({ first: sorted[0]!.ts, last: sorted.at(-1)!.ts });
  });
});

describe.each([
  { kept: "every late record noted", maxLate: undefined, disorderMs: 3950, noted: 402 },
  // Past the bound the rest widen the window: h100 (3.1 s) after a399 (29.95 s).
  { kept: "100 late records noted a file", maxLate: 100, disorderMs: 26_850, noted: 100 },
])("a records file with records written more than MAX_DISORDER_MS out of order, $kept", ({ maxLate, disorderMs, noted }) => {
  // Requests ending 10.00 to 29.95 s after T0, then 400 ending 3.000 to 3.399 s held until
  // their own events stopped and written together (27 s late), then requests ending 30.00
  // to 39.95 s, and a last sweep of three held ones ending 20, 25 and 36 s (the last only
  // 3.95 s late). Lines of ~250 bytes: the file is larger than one read, so the offset is
  // found by the binary search, and a 5 s window misses records at both ends and in between.
  const s = (id: string, sec: number): Rec => ({ id, endUs: Math.round(sec * 1e6) });
  const run = (prefix: string, from: number, count: number, stepSec: number): Rec[] => Array.from({ length: count }, (_v, i) => s(`${prefix}${i}`, from + i * stepSec));
  const inSweeps = (recs: Rec[]): Rec[][] => Array.from({ length: Math.ceil(recs.length / 5) }, (_v, i) => recs.slice(i * 5, i * 5 + 5));
  const sweeps = [...inSweeps(run("a", 10, 400, 0.05)), run("h", 3, 400, 0.001), ...inSweeps(run("b", 30, 200, 0.05)), [s("y", 20), s("x", 25), s("z", 36)]];
  const order = new WrittenOrder(maxLate);
  const { path, outOfOrder } = writeSweepsCounted(`held-${maxLate ?? "all"}-requests`, sweeps, 200, order);
  const written = async (): Promise<WrittenOrderOf | null> => {
    const fh = await open(path, "r");
    try {
      return order.known((await fh.stat()).ino);
    } finally {
      await fh.close();
    }
  };

  it("is noted by the writer: where each record more than 5 s late is, and how late the others came", () => {
    // The 400 held ones and y and x; z came 3.95 s late.
    expect(outOfOrder).toBe(402);
    const lines = scan(path);
    const known = lateLines(order, path)!;
    expect(known.disorderMs).toBe(disorderMs);
    expect(known.late.map(([line]) => lines[line]!.id)).toEqual([...Array.from({ length: 400 }, (_v, i) => `h${i}`), "y", "x"].slice(0, noted));
  });

  it("starts --since at the first record at or after it in file order, as a full scan does, with what the writer noted", async () => {
    const known = await written();
    const lines = scan(path);
    const offsetOf = (id: string) => lines.find((l) => l.id === id)!.offset;
    const all = (prefix: string, from = 0, to = 400) => Array.from({ length: to - from }, (_v, i) => `${prefix}${from + i}`);
    expect(await fromSince(path, at(15), known)).toEqual({ offset: offsetOf("a100"), ids: [...all("a", 100), ...all("b", 0, 200), "y", "x", "z"] });
    expect(await fromSince(path, at(3.2), known)).toEqual({ offset: 0, ids: [...all("a"), ...all("h", 200), ...all("b", 0, 200), "y", "x", "z"] });
    expect(await fromSince(path, at(39.9), known)).toEqual({ offset: offsetOf("b198"), ids: ["b198", "b199"] });
    for (const sec of [0, 3, 3.2, 3.4, 5, 9.99, 10, 12.5, 15, 19.99, 20, 20.01, 25, 29.95, 30, 33, 36, 38, 39.95, 40]) {
      expect([sec, await fromSince(path, at(sec), known)]).toEqual([sec, fullScan(path, at(sec))]);
    }
  });

  it("gives the earliest and the latest ts, as a full scan does, with what the writer noted", async () => {
    expect(await times(path, await written())).toEqual({ first: "2026-03-01T10:00:03.000000Z", last: "2026-03-01T10:00:39.950000Z" });
  });
});

describe("a map records file with a record written more than MAX_DISORDER_MS out of order", () => {
  // Map records are read without a window; the wall clock stepped back 25 s before the last dump.
  const order = new WrittenOrder();
  const file = new RotatingFile({ dir, name: "map", maxBytes: 1 << 20, keep: 1, order });
  file.write([10, 20, 30, 5].map((sec) => ({ ts: at(sec), script: "demo", map: "@calls", keys: [], kind: "count", value: sec })));
  file.close();

  it("gives the earliest and the latest ts and --since offsets as a full scan does, with what the writer noted", async () => {
    expect(lateLines(order, file.path)).toEqual({ disorderMs: 0, late: [[3, at(5)]] });
    const written = order.known(statSync(file.path).ino);
    expect(await times(file.path, written)).toEqual({ first: at(5), last: at(30) });
    for (const sec of [4, 5, 6, 11, 25, 31]) expect([sec, (await fromSince(file.path, at(sec), written)).offset]).toEqual([sec, fullScan(file.path, at(sec)).offset]);
  });

  it("leaves out a late record past the end it reads (written since the file's size was taken)", async () => {
    const fh = await open(file.path, "r");
    try {
      const before = scan(file.path)[3]!.offset;
      const written = order.known(statSync(file.path).ino);
      expect(await recordTimes(fh, before, written)).toEqual({ first: at(10), last: at(30) });
      expect(await sinceOffset(fh, before, Date.parse(at(4)), written)).toBe(0);
    } finally {
      await fh.close();
    }
  });
});
