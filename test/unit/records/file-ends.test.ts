// recordTimes and sinceOffset at a file's edges: no complete line, a line still being
// written, CRLF, blank lines and lines without `ts`, lines longer than the first read, than
// a chunk and than the longest line searched for. Request records are out of order here,
// so the window reads (not a line at each end) are what is tested.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { firstLine, mayBeOutOfOrder, recordTimes, scanTimes, sinceOffset, type ScannedTimes } from "../../../src/records/times.js";

const dir = mkdtempSync(join(tmpdir(), "hookpoint-file-ends-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const T = (s: number) => new Date(Date.parse("2026-03-01T10:00:00.000Z") + s * 1000).toISOString();
const req = (s: number, pad = 0) => JSON.stringify({ kind: "request", ts: T(s), pad: "x".repeat(pad) });
const map = (s: number) => JSON.stringify({ ts: T(s), map: "@m", value: 1 });

let n = 0;
/**
 * recordTimes of a file holding `text`, and sinceOffset at each of `sinces` (seconds after
 * T(0)) as the line it is the start of (0 the first), or "end" for the file's size.
 */
async function read(text: string, sinces: number[]): Promise<{ first: string | null; last: string | null; offsets: (number | "end")[] }> {
  const path = join(dir, `f${n++}.ndjson`);
  writeFileSync(path, text);
  const starts = [0];
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) starts.push(Buffer.byteLength(text.slice(0, i + 1)));
  const fh = await open(path, "r");
  try {
    const { size } = await fh.stat();
    const offsets: (number | "end")[] = [];
    for (const s of sinces) {
      const offset = await sinceOffset(fh, size, Date.parse(T(s)));
      offsets.push(offset === size ? "end" : starts.includes(offset) ? starts.indexOf(offset) : -offset);
    }
    return { ...(await recordTimes(fh, size)), offsets };
  } finally {
    await fh.close();
  }
}

describe("record times at a file's edges", () => {
  it("has none without a complete line: empty, a line being written, a line without its newline", async () => {
    expect(await read("", [0])).toEqual({ first: null, last: null, offsets: ["end"] });
    expect(await read(req(1).slice(0, 20), [0])).toEqual({ first: null, last: null, offsets: ["end"] });
    expect(await read(req(1), [0])).toEqual({ first: null, last: null, offsets: ["end"] });
    expect(await read("\n", [0])).toEqual({ first: null, last: null, offsets: ["end"] });
  });

  it("reads one line, CRLF-ended too, and leaves out a newer record still being written", async () => {
    expect(await read(`${req(1)}\r\n`, [0, 1, 2])).toEqual({ first: T(1), last: T(1), offsets: [0, 0, "end"] });
    // Line 2 is being written: neither its time nor its start counts.
    expect(await read(`${req(2)}\n${req(1)}\n${req(9).slice(0, 30)}`, [0, 1.5, 2, 3, 9])).toEqual({ first: T(1), last: T(2), offsets: [0, 0, 0, "end", "end"] });
  });

  it("skips lines without a ts, at either end too, within the first (last) 4 KiB read", async () => {
    const lines = [req(3), '{"kind":"request"}', req(1), "", req(2)];
    expect(await read(`${lines.join("\n")}\n`, [0.5, 1.5, 2.5, 3.5])).toEqual({ first: T(1), last: T(3), offsets: [0, 0, 0, "end"] });
    expect(await read(`${lines.slice(1).join("\n")}\n`, [0.5, 1.5, 2.5])).toEqual({ first: T(1), last: T(2), offsets: [1, 3, "end"] });
    expect(await read(`${lines.slice(0, 4).join("\n")}\n`, [0.5, 2, 3.5])).toEqual({ first: T(1), last: T(3), offsets: [0, 0, "end"] });
    // No complete record in the head (tail) read: none named, as a file of no records.
    const long = `{"kind":"request","pad":"${"x".repeat(4_100)}"}`;
    expect(await read(`${long}\n${req(1, 200)}\n${req(2)}\n${long}\n`, [0.5, 1.5, 2.5])).toEqual({ first: null, last: null, offsets: [1, 2, "end"] });
  });

  it("a file whose first line is torn (the agent killed during its first write; the next run starts a new line) names its first record and searches with its window", async () => {
    const torn = req(2).slice(0, 40);
    expect(await read(`${torn}\n${req(3)}\n${req(1)}\n${req(2)}\n`, [0.5, 1.5, 2.5, 3.5])).toEqual({ first: T(1), last: T(3), offsets: [1, 1, 1, "end"] });
    // Past a chunk, where sinceOffset searches: 1,000 lines of 1,000 bytes, 10 a second, each
    // 100th written 4.9 s ahead of its neighbours (within the 5 s window of request records).
    const line = (s: number) => `${req(s, 999 - req(s).length)}\n`;
    const secs = Array.from({ length: 1_000 }, (_v, i) => i / 10 + (i % 100 === 0 ? 4.9 : 0));
    const text = `${torn}\n${secs.map(line).join("")}`;
    const scan = (since: number) => 1 + secs.findIndex((t) => t >= since);
    const sinces = [14.5, 24.5, 34.5, 44.5, 54.5, 64.5, 74.5, 84.5, 94.5];
    // A scan of the whole file: the lines written ahead, 101, 201, ... 901.
    expect(sinces.map(scan)).toEqual([101, 201, 301, 401, 501, 601, 701, 801, 901]);
    expect(await read(text, sinces)).toEqual({ first: T(0.1), last: T(99.9), offsets: [101, 201, 301, 401, 501, 601, 701, 801, 901] });
    // A head of more than 4 KiB without a ts names no first; the offsets are searched with a request file's window.
    const long = `{"kind":"request","pad":"${"x".repeat(4_100)}"}`;
    expect(await read(`${long}\n${secs.map(line).join("")}`, sinces)).toEqual({ first: null, last: T(99.9), offsets: [101, 201, 301, 401, 501, 601, 701, 801, 901] });
  });

  it("finds the earliest and latest past lines longer than the first read and than a chunk", async () => {
    // 5 KB (past the first 4 KB read) and 70 KB (past a 64 KB chunk), the extremes one line in.
    const lines = [req(2, 5_000), req(1, 70_000), req(4, 70_000), req(3, 5_000), req(5, 100), req(4.5, 70_000)];
    expect(await read(`${lines.join("\n")}\n`, [0, 1.5, 2.5, 3.5, 4.2, 4.8, 6])).toEqual({ first: T(1), last: T(5), offsets: [0, 0, 2, 2, 4, 4, "end"] });
  });

  it("stops at a line longer than the longest searched for (1 MiB), as before", async () => {
    expect(await read(`${req(2)}\n${req(1)}\n${req(9, 1_200_000)}\n`, [0, 3])).toEqual({ first: T(1), last: null, offsets: [0, "end"] });
  });

  it("takes a line's ts as JSON.parse does, not from how the agent starts a record", async () => {
    // A torn record that the next one was appended to (a crash mid-write, or a cut back that
    // failed), and a record cut short: each starts as the agent writes, with the latest ts,
    // but is not JSON, so has none.
    const torn = `${req(9).slice(0, 60)}${req(4)}`;
    const cut = req(8).slice(0, -1);
    expect([torn, cut].map((l) => l.slice(0, 48))).toEqual([`{"kind":"request","ts":"${T(9)}`, `{"kind":"request","ts":"${T(8)}`]);
    expect(await read(`${[req(3), req(2), torn, cut, req(1)].join("\n")}\n`, [0, 2.5, 3.5, 8])).toEqual({ first: T(1), last: T(3), offsets: [0, 0, "end", "end"] });
    // JSON with a second `ts` (plain, or spelled with an escape): JSON.parse takes the last.
    const twice = `{"kind":"request","ts":"${T(2)}","pad":"x","ts":"${T(7)}"}`;
    const escaped = `{"kind":"request","ts":"${T(2)}","t\\u0073":"${T(7)}"}`;
    expect(JSON.parse(escaped)).toEqual({ kind: "request", ts: T(7) });
    for (const line of [twice, escaped]) {
      expect(await read(`${[req(3), line, req(1)].join("\n")}\n`, [2.5, 3.5, 7.5])).toEqual({ first: T(1), last: T(7), offsets: [0, 1, "end"] });
    }
    // Map records are searched past the same way.
    expect(await read(`${map(1)}\n${map(9).slice(0, -1)}\n${map(3)}\n`, [0, 2.5])).toEqual({ first: T(1), last: T(3), offsets: [0, 2] });
  });

  it("ends the search at a read past the file's end: a file cut below the size it was listed with", async () => {
    // 100 lines of 1,000 bytes at T(1)..T(100); searched as if 1 MiB more had been there.
    const line = (s: number) => `${req(s, 999 - req(s).length)}\n`;
    const text = Array.from({ length: 100 }, (_v, i) => line(i + 1)).join("");
    expect(text.length).toBe(100_000);
    const path = join(dir, "cut.ndjson");
    writeFileSync(path, text);
    const listed = 100_000 + 1024 * 1024;
    const fh = await open(path, "r");
    try {
      const offsets = [];
      for (const s of [0, 1, 50.5, 100, 101]) offsets.push(await sinceOffset(fh, listed, Date.parse(T(s))));
      expect(offsets).toEqual([0, 0, 50_000, 99_000, listed]);
      expect((await firstLine(fh, listed))?.toString()).toBe(line(1).slice(0, -1));
      expect(await recordTimes(fh, listed)).toEqual({ first: T(1), last: T(100) });
    } finally {
      await fh.close();
    }
    // No complete line before the listed end: none.
    writeFileSync(path, req(1));
    const cut = await open(path, "r");
    try {
      expect(await firstLine(cut, listed)).toBe(null);
      expect(await sinceOffset(cut, listed, Date.parse(T(0)))).toBe(listed);
    } finally {
      await cut.close();
    }
  });

  it("reads map records, written in time order, as a line at each end", async () => {
    // A clock stepped back mid-file: the ends' own times, not the earliest and latest.
    expect(await read(`${map(5)}\n${map(1)}\n${map(9)}\n${map(3)}\n`, [0, 6, 9.5])).toEqual({ first: T(5), last: T(3), offsets: [0, 2, "end"] });
  });
});

describe("scanTimes: a file read through", () => {
  /** scanTimes of a file holding `text`, from `from` with `before`. */
  async function scan(text: string, from = 0, before?: ScannedTimes, size?: number): Promise<ScannedTimes> {
    const path = join(dir, `s${n++}.ndjson`);
    writeFileSync(path, text);
    const fh = await open(path, "r");
    try {
      return await scanTimes(fh, from, size ?? (await fh.stat()).size, before);
    } finally {
      await fh.close();
    }
  }

  it("finds the earliest and latest however far out of order, past torn lines, lines without a ts and a line being written", async () => {
    const torn = `${req(99).slice(0, 60)}${req(4)}`;
    const text = `${req(20)}\n${torn}\n\n{"kind":"request"}\n${req(1)}\r\n${req(30)}\n${map(2)}\n${req(25)}\n${req(98).slice(0, 30)}`;
    expect(await scan(text)).toEqual({ first: T(1), last: T(30), end: Buffer.byteLength(text) - 30 });
    expect(await scan("")).toEqual({ first: null, last: null, end: 0 });
    expect(await scan(req(1))).toEqual({ first: null, last: null, end: 0 });
  });

  it("reads on from where an earlier call ended, keeping what it found", async () => {
    const head = `${req(20)}\n${req(10)}\n`;
    const text = `${head}${req(15)}\n${req(12)}\n`;
    expect(await scan(text, Buffer.byteLength(head), { first: T(10), last: T(20), end: Buffer.byteLength(head) })).toEqual({ first: T(10), last: T(20), end: Buffer.byteLength(text) });
    expect(await scan(`${head}${req(5)}\n${req(21)}\n`, Buffer.byteLength(head), { first: T(10), last: T(20), end: Buffer.byteLength(head) })).toEqual({
      first: T(5),
      last: T(21),
      end: Buffer.byteLength(head) + 2 * (req(5).length + 1),
    });
  });

  it("is what a reader that has the file reads for request records; map records, written in time order, it need not", async () => {
    const outOfOrder = async (text: string) => {
      const path = join(dir, `o${n++}.ndjson`);
      writeFileSync(path, text);
      const fh = await open(path, "r");
      try {
        return await mayBeOutOfOrder(fh, (await fh.stat()).size);
      } finally {
        await fh.close();
      }
    };
    expect(await Promise.all([`${map(2)}\n${map(1)}\n`, `${req(2)}\n`, `${req(2).slice(0, 40)}\n${req(1)}\n`, "", `${"x".repeat(5_000)}\n${map(1)}\n`].map(outOfOrder))).toEqual([false, true, true, true, true]);
  });

  it("passes over a line longer than 1 MiB and reads on; a file cut below the size asked stops the read", async () => {
    const text = `${req(3)}\n${req(9, 1_200_000)}\n${req(1)}\n${req(2)}\n`;
    expect(await scan(text)).toEqual({ first: T(1), last: T(3), end: Buffer.byteLength(text) });
    expect(await scan(`${req(3)}\n${req(1)}\n`, 0, undefined, 10_000_000)).toEqual({ first: T(1), last: T(3), end: 2 * (req(1).length + 1) });
  });
});
