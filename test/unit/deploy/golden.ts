// Golden files of the rendered overlays, under the rules of test/support/golden.ts;
// a difference is reported as the first differing line.
import { settleGolden } from "../../support/golden.js";

export type GoldenResult = "matched" | "written";

export function checkGolden(path: string, actual: string): GoldenResult {
  const golden = settleGolden(path, actual);
  if (golden.state === "missing") throw new Error(`golden file ${path} is missing (CI never writes goldens: run the test locally and review the file)`);
  if (golden.state === "written") return "written";
  if (golden.expected === actual) return "matched";
  const a = golden.expected.split("\n");
  const b = actual.split("\n");
  const first = a.findIndex((line, i) => line !== b[i]);
  const at = first === -1 ? Math.min(a.length, b.length) : first;
  throw new Error(
    `${path} differs from the rendered output at line ${at + 1}:\n  golden:   ${JSON.stringify(a[at])}\n  rendered: ${JSON.stringify(b[at])}\n` +
      "Review the change; if it is intended, rerun outside CI with UPDATE_GOLDEN=1.",
  );
}
