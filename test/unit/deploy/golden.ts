// Golden files: reviewed like code. Under CI=true a missing or different golden
// fails; elsewhere a missing one is written (and the test says so), and
// UPDATE_GOLDEN=1 rewrites a different one after you have read the diff.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

export type GoldenResult = "matched" | "written";

export function checkGolden(path: string, actual: string): GoldenResult {
  const ci = process.env.CI === "true";
  if (!existsSync(path)) {
    if (ci) throw new Error(`golden file ${path} is missing (CI never writes goldens: run the test locally and review the file)`);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, actual);
    return "written";
  }
  const expected = readFileSync(path, "utf8");
  if (expected === actual) return "matched";
  if (!ci && process.env.UPDATE_GOLDEN === "1") {
    writeFileSync(path, actual);
    return "written";
  }
  const a = expected.split("\n");
  const b = actual.split("\n");
  const first = a.findIndex((line, i) => line !== b[i]);
  const at = first === -1 ? Math.min(a.length, b.length) : first;
  throw new Error(
    `${path} differs from the rendered output at line ${at + 1}:\n  golden:   ${JSON.stringify(a[at])}\n  rendered: ${JSON.stringify(b[at])}\n` +
      "Review the change; if it is intended, rerun outside CI with UPDATE_GOLDEN=1.",
  );
}
