// The status annotation's record of the original pod: restorePod gives back,
// key for key and in the same order, the pod hookpoint was given.
import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { restorePod } from "../../../src/admission/original.js";
import type { Pod } from "../../../src/admission/pod.js";
import { reviewPod } from "../../../src/admission/review.js";
import { podTemplateOf } from "../../../src/admission/workloads.js";
import { fixtureUrl, loadPod, loadYaml, policy, settings, snapshot } from "../../support/pods.js";

const shapes = readdirSync(fixtureUrl("pods")).filter((f) => f.endsWith(".yaml")).map((f) => f.replace(/\.yaml$/, ""));
const ns = (pod: Pod) => pod.metadata?.namespace ?? "default";
const inject = (pod: Pod, profiles = {}) => reviewPod(pod, ns(pod), snapshot({ [ns(pod)]: { "hookpoint.dev/inject": "enabled" } }, [policy("p", { profiles, defaultProfile: "big" })]), settings);

describe("restorePod gives back the pod before injection", () => {
  const profiles = { big: { env: [{ name: "EXTRA", value: "1" }, { name: "ISTIO_META_MESH_ID", value: "traced" }], resources: { limits: { cpu: "2" } } } };
  for (const shape of shapes) {
    it(shape, () => {
      const pod = loadPod(shape);
      const r = inject(pod, profiles);
      if (!r.mutated) {
        expect(r.decision.inject === false || r.patch.length === 0).toBe(true);
        expect(restorePod(pod)).toEqual({ ok: true, pod, restored: false, note: "not injected by hookpoint (no hookpoint.dev/status annotation)" });
        return;
      }
      const back = restorePod(r.mutated);
      if (!back.ok) throw new Error(back.message);
      expect(back.restored).toBe(true);
      expect(JSON.stringify(back.pod)).toBe(JSON.stringify(pod));
      // Idempotent: a restored pod is not injected any more.
      const again = restorePod(back.pod);
      expect(again.ok && again.restored).toBe(false);
      // Re-invocation keeps the first record, so restoring after it is the same.
      const twice = inject(r.mutated, profiles);
      expect(twice.patch).toEqual([]);
    });
  }
  for (const [file, kind] of [["job", "Job"], ["cronjob", "CronJob"]] as const) {
    it(`${kind} template`, () => {
      const t = podTemplateOf(loadYaml(`workloads/${file}.yaml`));
      if (t.ok !== true) throw new Error("no template");
      const r = inject({ ...t.pod, metadata: { ...t.pod.metadata, namespace: "perf" } });
      const back = restorePod(r.mutated as Pod);
      expect(back.ok && JSON.stringify(back.pod)).toBe(JSON.stringify({ ...t.pod, metadata: { ...t.pod.metadata, namespace: "perf" } }));
    });
  }
  it("a pod template without metadata gets none back", () => {
    const pod: Pod = { spec: { containers: [{ name: "istio-proxy", image: "proxyv2:1.28.0" }] } };
    const r = reviewPod(pod, "web", snapshot({}), settings, { force: true });
    const back = restorePod(r.mutated as Pod);
    expect(back.ok && back.pod).toEqual(pod);
  });
});

describe("what restorePod refuses, naming the field", () => {
  const injected = inject(loadPod("classic-sidecar")).mutated as Pod;
  const withStatus = (status: string): Pod => ({ ...injected, metadata: { ...injected.metadata, annotations: { "hookpoint.dev/status": status } } });
  it("a status without a record (an older hookpoint)", () => {
    expect(restorePod(withStatus('{"version":"0.0.9","container":"istio-proxy","location":"containers"}'))).toEqual({
      ok: false,
      path: "metadata.annotations.hookpoint.dev/status",
      message: "holds no record of the original pod (injected by hookpoint 0.0.9); re-create the pod from its un-injected manifest",
    });
  });
  it("a status that is not JSON", () => {
    expect(restorePod(withStatus("{"))).toEqual({ ok: false, path: "metadata.annotations.hookpoint.dev/status", message: "is not valid JSON" });
  });
  it("a status naming a container the pod lacks", () => {
    const status = JSON.parse(injected.metadata?.annotations?.["hookpoint.dev/status"] as string) as Record<string, unknown>;
    expect(restorePod(withStatus(JSON.stringify({ ...status, container: "cilium-envoy" })))).toEqual({
      ok: false,
      path: "metadata.annotations.hookpoint.dev/status",
      message: 'names container "cilium-envoy" in containers, which the pod does not have',
    });
  });
});
