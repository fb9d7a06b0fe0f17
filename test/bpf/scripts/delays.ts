// Checks a latency histogram against a delay the fixture was configured with.
import { expect } from "vitest";
import { bucketOf, sum } from "./harness.js";

/**
 * Every sample of an interval the fixture makes at least `us` long: exactly `count` of
 * them, none below the configured time (bucket bounds are exact, and nothing can be
 * faster than its delay), and the median in the bucket holding it or the one above. Only
 * the median, and one bucket of slack: a sleep on a shared 2-core machine is sometimes
 * milliseconds late, never early (a loaded CI run put exactly half of 40 samples one
 * bucket up).
 */
export function expectDelay(buckets: Map<number, number>, us: number, count: number): void {
  const ns = us * 1000;
  const home = bucketOf(ns);
  const all = JSON.stringify([...buckets].filter(([, n]) => n > 0));
  expect(sum(buckets), `samples of a ${us} µs interval (${all})`).toBe(count);
  const early = [...buckets].filter(([min, n]) => n > 0 && min < home);
  expect(early, `samples below the ${home} ns bucket of ${us} µs`).toEqual([]);
  const near = (buckets.get(home) ?? 0) + (buckets.get(home * 2) ?? 0);
  expect(near, `samples in the ${home} ns bucket of ${us} µs or the one above (${all})`).toBeGreaterThan(count / 2);
}
