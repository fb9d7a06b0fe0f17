import { describe, expect, it } from "vitest";
import { Backoff } from "../../src/backoff.js";

describe("Backoff", () => {
  it("doubles from 0.5 s up to 30 s by default, jittered down by at most half", () => {
    const high = new Backoff({ random: () => 0.999999 });
    expect(Array.from({ length: 9 }, () => high.next())).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    const low = new Backoff({ random: () => 0 });
    expect(Array.from({ length: 8 }, () => low.next())).toEqual([250, 500, 1000, 2000, 4000, 8000, 15000, 15000]);
  });

  it("starts over after reset and counts failures", () => {
    const b = new Backoff({ initialMs: 50, maxMs: 200, random: () => 1 });
    expect([b.next(), b.next(), b.next(), b.next()]).toEqual([50, 100, 200, 200]);
    expect(b.failures).toBe(4);
    b.reset();
    expect(b.failures).toBe(0);
    expect(b.next()).toBe(50);
  });

  it("never overflows after many failures", () => {
    const b = new Backoff({ random: () => 1 });
    for (let i = 0; i < 10_000; i++) b.next();
    expect(b.next()).toBe(30_000);
  });
});
