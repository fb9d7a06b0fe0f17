import { describe, expect, it } from "vitest";
import { addBuckets, bucketQuantile, fnv1a, nearestRank, orderByValue, waterfallRows, type BucketTriple } from "../../../src/report/stats.js";

describe("nearest-rank quantiles", () => {
  it("picks the value at rank ⌈p·n/100⌉ of the sorted values", () => {
    const ten = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
    expect(nearestRank(ten, 50)).toBe(50); // rank 5
    expect(nearestRank(ten, 90)).toBe(90); // rank 9
    expect(nearestRank(ten, 99)).toBe(100); // rank ⌈9.9⌉ = 10
    expect(nearestRank(ten, 100)).toBe(100);
    expect(nearestRank(ten, 1)).toBe(10);
  });

  it("is exact where floating point would round: 29 % of 100 values is rank 29", () => {
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(nearestRank(hundred, 29)).toBe(29); // 0.29 * 100 = 28.999999999999996 in floating point
    expect(nearestRank(hundred, 99)).toBe(99);
  });

  it("handles one value and none", () => {
    expect(nearestRank([7], 50)).toBe(7);
    expect(nearestRank([7], 99)).toBe(7);
    expect(nearestRank([], 50)).toBeNaN();
  });

  it("p99 of 1000 values is the 990th", () => {
    const values = Array.from({ length: 1000 }, (_, i) => (i + 1) * 3);
    expect(nearestRank(values, 99)).toBe(2970);
    expect(nearestRank(values, 50)).toBe(1500);
  });
});

describe("histogram bucket quantiles", () => {
  const buckets: BucketTriple[] = [
    [1024, 2047, 50],
    [0, 0, 0],
    [2048, 4095, 40],
    [4096, 8191, 9],
    [8192, null, 1],
  ];

  it("gives the bounds of the bucket holding the nearest rank", () => {
    expect(bucketQuantile(buckets, 50)).toEqual([1024, 2047, 50]); // rank 50 is the last of the first bucket
    expect(bucketQuantile(buckets, 51)).toEqual([2048, 4095, 40]);
    expect(bucketQuantile(buckets, 90)).toEqual([2048, 4095, 40]); // rank 90
    expect(bucketQuantile(buckets, 99)).toEqual([4096, 8191, 9]); // rank 99
    expect(bucketQuantile(buckets, 100)).toEqual([8192, null, 1]);
  });

  it("is null for an empty histogram", () => {
    expect(bucketQuantile([[1, 1, 0]], 50)).toBeNull();
  });

  it("adds histograms bucket by bucket", () => {
    const into = new Map<string, BucketTriple>();
    addBuckets(into, [
      [1, 1, 2],
      [2, 3, 5],
    ]);
    addBuckets(into, [
      [2, 3, 1],
      [4, 7, 4],
    ]);
    expect([...into.values()]).toEqual([
      [1, 1, 2],
      [2, 3, 6],
      [4, 7, 4],
    ]);
  });
});

describe("waterfall rows", () => {
  it("FNV-1a 32 matches the published test vectors", () => {
    expect(fnv1a("")).toBe(0x811c9dc5);
    expect(fnv1a("a")).toBe(0xe40c292c);
    expect(fnv1a("foobar")).toBe(0xbf9cf968);
  });

  it("takes the slowest first, then the smallest id hashes of the rest in start order", () => {
    const id = ["a", "b", "c", "d", "e", "f", "g"];
    const dur = [5, 70, 70, 1, 9, 3, 2];
    const start = [0, 1, 2, 3, 4, 5, 6];
    const rows = waterfallRows([0, 1, 2, 3, 4, 5, 6], dur, id, start, 3, 2);
    expect(rows.slowest).toEqual([1, 2, 4]); // 70 (b), 70 (c: tie broken by id), 9
    // The rest: a, d, f, g; their FNV-1a hashes order them; the two smallest, by start.
    const rest = [0, 3, 5, 6].sort((x, y) => fnv1a(id[x]!) - fnv1a(id[y]!));
    expect(rows.sample).toEqual(rest.slice(0, 2).sort((x, y) => x - y));
  });

  it("draws everything when there are fewer requests than rows", () => {
    const rows = waterfallRows([2, 0], [1, 2, 3], ["x", "y", "z"], [0, 1, 2]);
    expect(rows).toEqual({ slowest: [2, 0], sample: [] });
  });
});

describe("orders by value", () => {
  it("orders indices by value, ties by index, leaving out absent (negative) values", () => {
    const values = [30, -1, 10, 30, 0, 20];
    expect(Array.from(orderByValue(values))).toEqual([4, 2, 5, 0, 3]);
  });

  it("falls back to a comparison sort when packing would lose precision", () => {
    const big = [2 ** 52, 5, 2 ** 52 - 1, -1];
    expect(Array.from(orderByValue(big))).toEqual([1, 2, 0]);
  });

  it("gives the same waterfall rows as a full sort on random data", () => {
    let seed = 7;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const n = 500;
    const id = Array.from({ length: n }, (_, i) => `r${Math.floor(rnd() * 300)}-${i % 7}`);
    const dur = Array.from({ length: n }, () => Math.floor(rnd() * 50));
    const start = Array.from({ length: n }, () => Math.floor(rnd() * 1000));
    const all = Array.from({ length: n }, (_, i) => i);
    const bySlow = [...all].sort((a, b) => dur[b]! - dur[a]! || (id[a]! < id[b]! ? -1 : id[a]! > id[b]! ? 1 : a - b));
    const rest = bySlow.slice(25).sort((a, b) => fnv1a(id[a]!) - fnv1a(id[b]!) || a - b).slice(0, 25);
    rest.sort((a, b) => start[a]! - start[b]! || a - b);
    expect(waterfallRows(all, dur, id, start)).toEqual({ slowest: bySlow.slice(0, 25), sample: rest });
  });
});
