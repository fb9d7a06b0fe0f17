import { defineConfig } from "vitest/config";

// Four projects, one per kind of test. The README's test command runs them all
// through scripts/test.sh, which also installs what the bpf and e2e tests need.
export default defineConfig({
  test: {
    projects: [
      { test: { name: "unit", include: ["test/unit/**/*.test.ts"], testTimeout: 20_000 } },
      { test: { name: "integration", include: ["test/integration/**/*.test.ts"], testTimeout: 60_000, hookTimeout: 60_000 } },
      { test: { name: "bpf", include: ["test/bpf/**/*.test.ts"], testTimeout: 120_000, hookTimeout: 180_000, fileParallelism: false } },
      { test: { name: "e2e", include: ["test/e2e/**/*.test.ts"], testTimeout: 120_000, hookTimeout: 600_000, fileParallelism: false } },
    ],
  },
});
