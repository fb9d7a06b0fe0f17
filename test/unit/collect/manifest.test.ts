import { describe, expect, it } from "vitest";
import { earlierManifestPods } from "../../../src/collect/manifest.js";

const good = { namespace: "shop", name: "web-0", workload: { kind: "Deployment", name: "web" }, node: "node-a", podIP: "10.0.0.5", agent: { reachable: true }, files: [], bytes: 0, errors: [] };
const manifest = (pods: unknown[], extra: Record<string, unknown> = {}) => JSON.stringify({ version: 1, cluster: { server: "https://x", context: "c" }, collectedAt: "2026-03-01T11:00:00.000Z", since: null, until: "2026-03-01T11:00:02.000Z", pods, ...extra });

describe("an earlier manifest's pods", () => {
  it("are taken as that run wrote them; a manifest from before pods had their own time gives them its run's", () => {
    const lost = { ...good, name: "lost", workload: null, node: null, podIP: null, agent: { reachable: false, error: "timeout" }, errors: ["timeout"], collectedAt: "2026-03-01T09:00:00.000Z" };
    expect(earlierManifestPods(manifest([good, lost]))).toEqual([
      { ...good, collectedAt: "2026-03-01T11:00:00.000Z" },
      { ...lost, files: [], bytes: 0 },
    ]);
  });

  it("keep the agent's traced requests by outcome that their run found", () => {
    const counts = { recorded: 26, aborted: 1, timeout: 1, incomplete: 0 };
    expect(earlierManifestPods(manifest([{ ...good, traceRequestsOverAgentLife: counts }]))).toEqual([{ ...good, traceRequestsOverAgentLife: counts, collectedAt: "2026-03-01T11:00:00.000Z" }]);
  });

  it("leave out an entry not shaped as collect writes it, or whose names would lead out of the folder", () => {
    const entries = [
      { ...good, namespace: ".." },
      { ...good, name: "../../etc" },
      { ...good, name: "a/b" },
      { ...good, workload: "web" },
      { ...good, agent: { reachable: "yes" } },
      { ...good, errors: [1] },
      { ...good, node: 5 },
      { ...good, collectedAt: "yesterday" },
      { ...good, traceRequestsOverAgentLife: { aborted: -1 } },
      { ...good, traceRequestsOverAgentLife: [3] },
      "web-0",
      { ...good, name: "kept" },
    ];
    expect(earlierManifestPods(manifest(entries)).map((p) => p.name)).toEqual(["kept"]);
    // Without a time of its own or its run's, a pod's facts have no date: left out.
    expect(earlierManifestPods(manifest([good], { collectedAt: null }))).toEqual([]);
  });

  it("are none when the file is not a version 1 manifest", () => {
    expect(earlierManifestPods("{not json")).toEqual([]);
    expect(earlierManifestPods(manifest([good], { version: 2 }))).toEqual([]);
    expect(earlierManifestPods(JSON.stringify([good]))).toEqual([]);
    expect(earlierManifestPods(manifest([good], { pods: {} }))).toEqual([]);
  });
});
