// Golden files are reviewed like code. Under CI=true a missing or changed
// golden fails; locally a missing one is written (review it before committing)
// and UPDATE_GOLDEN=1 rewrites changed ones.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { expect } from "vitest";

const ci = process.env.CI === "true";
const update = process.env.UPDATE_GOLDEN === "1" && !ci;

/** Compare text to the golden at `path` (absolute). */
export function expectGoldenText(path: string, actual: string): void {
  if (!existsSync(path)) {
    if (ci) throw new Error(`golden file missing under CI: ${path}`);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, actual);
    return;
  }
  const expected = readFileSync(path, "utf8");
  if (expected !== actual && update) {
    writeFileSync(path, actual);
    return;
  }
  expect(actual, `golden ${path} differs (UPDATE_GOLDEN=1 to rewrite outside CI)`).toBe(expected);
}

/** Compare a JSON value to the golden at `path`, stored as 2-space JSON. */
export function expectGoldenJson(path: string, actual: unknown): void {
  expectGoldenText(path, JSON.stringify(actual, null, 2) + "\n");
}
