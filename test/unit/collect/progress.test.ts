import { describe, expect, it } from "vitest";
import { podLines } from "../../../src/collect/progress.js";
import type { ManifestPod } from "../../../src/collect/manifest.js";

const pod = (files: number, errors: string[]): ManifestPod =>
  ({
    namespace: "shop",
    name: "web-0",
    workload: { kind: "Deployment", name: "web" },
    node: "node-a",
    podIP: "10.0.0.5",
    agent: { reachable: true },
    files: Array.from({ length: files }, (_, i) => ({ name: `f${i}.ndjson`, bytes: 1024 })),
    bytes: files * 1024,
    errors,
  }) as unknown as ManifestPod;

describe("a finished pod's progress lines", () => {
  it("count one file and one error in the singular, others in the plural", () => {
    expect(podLines(1, 2, pod(1, ["cannot fetch a: timed out"]), 1024)).toEqual(["[1/2] shop/web-0: 1 file, 1.0 KiB (1.0 KiB new), 1 error:", "  shop/web-0: cannot fetch a: timed out"]);
    expect(podLines(2, 2, pod(3, ["e1", "e2"]), 0)).toEqual(["[2/2] shop/web-0: 3 files, 3.0 KiB (0 B new), 2 errors:", "  shop/web-0: e1", "  shop/web-0: e2"]);
    expect(podLines(2, 2, pod(0, []), 0)).toEqual(["[2/2] shop/web-0: 0 files, 0 B (0 B new)"]);
  });
});
