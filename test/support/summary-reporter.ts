// Prints every skipped test with its reason, then the plain closing line
// `N passed, N failed[, N skipped]` that CI reads.
import type { Reporter, TestModule } from "vitest/node";

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    let passed = 0;
    let failed = 0;
    const skipped: string[] = [];
    for (const mod of testModules) {
      // A file that failed to load has no tests but must count as a failure.
      if (mod.state() === "failed" && [...mod.children.allTests()].length === 0) failed += 1;
      for (const test of mod.children.allTests()) {
        const r = test.result();
        if (r.state === "passed") passed += 1;
        else if (r.state === "failed") failed += 1;
        else if (r.state === "skipped") skipped.push(`${test.project.name} ${test.fullName}: ${r.note ?? "skipped"}`);
      }
    }
    failed += unhandledErrors.length;
    const out: string[] = [];
    if (skipped.length > 0) {
      out.push("", "Skipped:");
      for (const s of skipped) out.push(`  - ${s}`);
    }
    out.push("", `${passed} passed, ${failed} failed${skipped.length > 0 ? `, ${skipped.length} skipped` : ""}`);
    process.stdout.write(out.join("\n") + "\n");
  }
}
