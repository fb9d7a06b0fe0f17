// Golden files are reviewed like code. Under CI=true a missing or changed
// golden fails; locally a missing one is written (review it before committing)
// and UPDATE_GOLDEN=1 rewrites changed ones.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { expect } from "vitest";

/** What the rules above made of a golden: written, missing under CI, or compared (equal or not). */
export type GoldenState = { state: "written" } | { state: "missing" } | { state: "compared"; expected: string };

/** Applies the rules (writing the file where they say so); each helper fails in its own style. */
export function settleGolden(path: string, actual: string): GoldenState {
  const ci = process.env.CI === "true";
  if (!existsSync(path)) {
    if (ci) return { state: "missing" };
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, actual);
    return { state: "written" };
  }
  const expected = readFileSync(path, "utf8");
  if (expected !== actual && !ci && process.env.UPDATE_GOLDEN === "1") {
    writeFileSync(path, actual);
    return { state: "written" };
  }
  return { state: "compared", expected };
}

/** Compare text to the golden at `path` (absolute). */
export function expectGoldenText(path: string, actual: string): void {
  const golden = settleGolden(path, actual);
  if (golden.state === "missing") throw new Error(`golden file missing under CI: ${path}`);
  if (golden.state === "compared") expect(actual, `golden ${path} differs (UPDATE_GOLDEN=1 to rewrite outside CI)`).toBe(golden.expected);
}

/** Compare a JSON value to the golden at `path`, stored as 2-space JSON. */
export function expectGoldenJson(path: string, actual: unknown): void {
  expectGoldenText(path, JSON.stringify(actual, null, 2) + "\n");
}
