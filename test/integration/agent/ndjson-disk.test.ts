// NDJSON output on a real, small tmpfs: a full disk or a read-only one drops whole
// records (counted, with the reason), never leaves a torn line, and writing resumes when
// space comes back; what is known of how out of order each file was written follows the
// records that went out and the files that exist.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { WrittenOrder } from "../../../src/agent/output/disorder.js";
import { RotatingFile } from "../../../src/agent/output/ndjson.js";
import { recordTimes } from "../../../src/records/times.js";
import { lateLines } from "../../support/written-order.js";

const skip = process.getuid?.() !== 0 ? "not root: mounting a tmpfs needs root" : null;

let mounted: string | null = null;
afterEach(() => {
  if (mounted) {
    execFileSync("umount", [mounted]);
    rmSync(mounted, { recursive: true, force: true });
    mounted = null;
  }
});

function smallTmpfs(size: string): string {
  const dir = mkdtempSync(join(tmpdir(), "hookpoint-tmpfs-"));
  execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir]);
  mounted = dir;
  return dir;
}

/** A record about 300 bytes long, numbered. */
const record = (i: number) => ({ ts: "2026-01-01T00:00:00.000Z", script: "demo", map: "@calls", keys: [`key-${i}`], kind: "count", unit: "count", value: i, pad: "x".repeat(200) });

function lines(path: string): unknown[] {
  const text = readFileSync(path, "utf8");
  expect(text === "" || text.endsWith("\n"), "the file ends with a whole line").toBe(true);
  return text.split("\n").filter(Boolean).map((l) => JSON.parse(l) as unknown);
}

/** Each line's record number, null for a line that is not JSON (a torn one); the file ends with a whole line. */
function values(path: string): (number | null)[] {
  const text = readFileSync(path, "utf8");
  expect(text.endsWith("\n"), "the file ends with a whole line").toBe(true);
  return text
    .slice(0, -1)
    .split("\n")
    .map((l) => {
      try {
        return (JSON.parse(l) as { value: number }).value;
      } catch {
        return null;
      }
    });
}

/** first and last as the agent's records listing reads them from the file. */
async function listed(path: string, order: WrittenOrder): Promise<{ first: string | null; last: string | null }> {
  const fh = await open(path, "r");
  try {
    const { size, ino } = await fh.stat();
    return await recordTimes(fh, size, order.known(ino));
  } finally {
    await fh.close();
  }
}

describe("RotatingFile on a full or read-only disk", () => {
  it("drops whole records when the disk fills, keeps every written line whole, and resumes", (ctx) => {
    if (skip) return ctx.skip(skip);
    const dir = smallTmpfs("64k");
    // A filler leaves a few pages: the batches below fill them part-way through a record.
    writeFileSync(join(dir, "filler"), Buffer.alloc(48 * 1024));
    const f = new RotatingFile({ dir, name: "demo", maxBytes: 1 << 20, keep: 1 });
    let written = 0;
    let dropped = 0;
    const errors: string[] = [];
    for (let batch = 0; batch < 20; batch++) {
      const r = f.write(Array.from({ length: 7 }, (_, k) => record(batch * 7 + k)));
      written += r.written;
      dropped += r.dropped;
      if (r.error) errors.push(r.error.code ?? "?");
    }
    expect(written + dropped).toBe(140);
    expect(dropped).toBeGreaterThan(0);
    expect(new Set(errors)).toEqual(new Set(["ENOSPC"]));
    const onDisk = lines(f.path);
    expect(onDisk).toHaveLength(written);
    // The records that went out are the first ones, in order: no gap, no torn one.
    expect(onDisk.map((r) => (r as { value: number }).value)).toEqual(Array.from({ length: written }, (_, i) => i));
    expect(statSync(f.path).size).toBe(onDisk.reduce<number>((a, r) => a + JSON.stringify(r).length + 1, 0));
    rmSync(join(dir, "filler"));
    const again = f.write([record(1000), record(1001)]);
    expect(again).toEqual({ written: 2, dropped: 0, error: null, outOfOrder: 0 });
    expect(lines(f.path)).toHaveLength(written + 2);
    f.close();
  });

  it("reports a read-only output directory as EROFS, dropping the batch", (ctx) => {
    if (skip) return ctx.skip(skip);
    const dir = smallTmpfs("1m");
    const f = new RotatingFile({ dir, name: "demo", maxBytes: 1 << 20, keep: 1 });
    expect(f.write([record(1)]).written).toBe(1);
    f.close();
    execFileSync("mount", ["-o", "remount,ro", dir]);
    const r = f.write([record(2), record(3)]);
    expect([r.written, r.dropped, r.error?.code]).toEqual([0, 2, "EROFS"]);
    expect(lines(f.path)).toHaveLength(1);
  });

  it("counts and notes as written out of order only the whole records that went out before the disk filled, each where it is in the file", (ctx) => {
    if (skip) return ctx.skip(skip);
    const dir = smallTmpfs("64k");
    writeFileSync(join(dir, "filler"), Buffer.alloc(48 * 1024));
    const order = new WrittenOrder();
    const f = new RotatingFile({ dir, name: "demo", maxBytes: 1 << 20, keep: 1, order });
    // Record k ends k s after T0, every odd one 21 s earlier: 20 s behind the one before it.
    const late = (k: number) => ({ ...record(k), ts: new Date(Date.parse("2026-01-01T00:00:00.000Z") + (k % 2 === 0 ? k : k - 21) * 1000).toISOString() });
    let written = 0;
    let outOfOrder = 0;
    let failed = 0;
    // Batches of 20 (~6 KB): the third fills the disk part-way through.
    for (let batch = 0; batch < 5; batch++) {
      const r = f.write(Array.from({ length: 20 }, (_, k) => late(batch * 20 + k)));
      written += r.written;
      outOfOrder += r.outOfOrder;
      if (r.error && r.written > 0) failed++;
    }
    // One batch cut part-way; the odd records among those on disk, and no other, counted.
    expect(failed).toBe(1);
    expect(lines(f.path)).toHaveLength(written);
    expect(outOfOrder).toBe(Math.floor(written / 2));
    // Space again: a batch after the cut goes on from the file's real end.
    rmSync(join(dir, "filler"));
    expect(f.write(Array.from({ length: 4 }, (_, k) => late(200 + k)))).toEqual({ written: 4, dropped: 0, error: null, outOfOrder: 2 });
    f.close();
    // Each noted record is its line of the file (lateLines checks the bytes): the odd ones.
    const onDisk = lines(f.path) as { value: number; ts: string }[];
    expect(onDisk.map((r) => r.value)).toEqual([...Array.from({ length: written }, (_, i) => i), 200, 201, 202, 203]);
    const odd = onDisk.flatMap((r, i): [number, string][] => (r.value % 2 === 1 ? [[i, r.ts]] : []));
    expect(odd.map(([i]) => i)).toEqual([...Array.from({ length: written >> 1 }, (_, i) => 2 * i + 1), written + 1, written + 3]);
    expect(lateLines(order, f.path)).toEqual({ disorderMs: 0, late: odd });
  });

  it("starts the next record on a line of its own after a torn one left when the disk filled and the cut back failed: it is read, and noted where it is", async (ctx) => {
    if (skip) return ctx.skip(skip);
    const dir = smallTmpfs("64k");
    writeFileSync(join(dir, "filler"), Buffer.alloc(48 * 1024));
    const order = new WrittenOrder();
    const f = new RotatingFile({ dir, name: "demo", maxBytes: 1 << 20, keep: 1, order });
    // Closed before the tmpfs is unmounted, whatever happens (an open file keeps it busy).
    try {
      const at = (sec: number) => new Date(Date.parse("2026-01-01T00:00:00.000Z") + sec * 1000).toISOString();
      const timed = (i: number, sec: number) => ({ ...record(i), ts: at(sec) });
      expect(f.write([timed(0, 0)]).written).toBe(1);
      // Append-only (tmpfs has it since Linux 6.0): appends go on, the cut back fails (EPERM).
      try {
        execFileSync("chattr", ["+a", f.path], { stdio: "ignore" });
      } catch {
        return ctx.skip("chattr +a does not work on this tmpfs");
      }
      // Batches of 20 (~6 KB) in time order until the disk fills part-way through one.
      let written = 1;
      for (let batch = 0; batch < 5; batch++) {
        const r = f.write(Array.from({ length: 20 }, (_, k) => timed(1 + batch * 20 + k, 1 + batch * 20 + k)));
        written += r.written;
        if (r.error) break;
      }
      const torn = readFileSync(f.path);
      expect(torn.at(-1), "the file ends in part of a record").not.toBe(10);
      rmSync(join(dir, "filler"));
      // -100 s and 900 s are late (the latest is written - 1 s, then 1000 s).
      expect(f.write([timed(500, -100), timed(501, 1000), timed(502, 900)])).toEqual({ written: 3, dropped: 0, error: null, outOfOrder: 2 });
      expect(values(f.path)).toEqual([...Array.from({ length: written }, (_, i) => i), null, 500, 501, 502]);
      const bytes = readFileSync(f.path);
      expect([bytes.subarray(0, torn.length).equals(torn), bytes.toString("utf8", torn.length, torn.length + 1)]).toEqual([true, "\n"]);
      expect(lateLines(order, f.path)).toEqual({ disorderMs: 0, late: [[written + 1, at(-100)], [written + 3, at(900)]] });
      expect(await listed(f.path, order)).toEqual({ first: at(-100), last: at(1000) });
    } finally {
      f.close();
    }
  });

  it("leaves a file an earlier run left torn as it was while the disk is full, and starts the next record on a line of its own once there is space", async (ctx) => {
    if (skip) return ctx.skip(skip);
    const dir = smallTmpfs("64k");
    // 12 whole records and part of one (killed mid-write): one page, 20 bytes of it free.
    const path = join(dir, "demo.ndjson");
    const whole = Array.from({ length: 12 }, (_, i) => `${JSON.stringify(record(i))}\n`).join("");
    writeFileSync(path, `${whole}${JSON.stringify(record(12)).slice(0, 100)}`);
    const before = readFileSync(path);
    expect(before.length).toBe(4076);
    // The other 15 pages: the next write fills the page's rest, then fails.
    writeFileSync(join(dir, "filler"), Buffer.alloc(15 * 4096));
    const order = new WrittenOrder();
    const f = new RotatingFile({ dir, name: "demo", maxBytes: 1 << 20, keep: 1, order });
    try {
      const full = f.write([record(20), record(21), record(22), record(23)]);
      expect([full.written, full.dropped, full.error?.code]).toEqual([0, 4, "ENOSPC"]);
      expect(readFileSync(path).equals(before), "the file is as it was").toBe(true);
      rmSync(join(dir, "filler"));
      expect(f.write([record(30), record(31)])).toEqual({ written: 2, dropped: 0, error: null, outOfOrder: 0 });
      expect(values(path)).toEqual([...Array.from({ length: 12 }, (_, i) => i), null, 30, 31]);
      expect(readFileSync(path).toString("utf8", before.length, before.length + 1)).toBe("\n");
    } finally {
      f.close();
    }
  });
});

describe("RotatingFile's record of how out of order it wrote each file", () => {
  it("forgets the files rotation deletes (tmpfs gives every new file a new inode)", (ctx) => {
    if (skip) return ctx.skip(skip);
    const dir = smallTmpfs("1m");
    for (const keep of [1, 0]) {
      const order = new WrittenOrder();
      const f = new RotatingFile({ dir, name: `keep${keep}`, maxBytes: 700, keep, order });
      // Two records a file: 20 rotations.
      for (let i = 0; i < 42; i++) f.write([record(i)]);
      f.close();
      expect([keep, order.size]).toEqual([keep, keep + 1]);
    }
  });
});
