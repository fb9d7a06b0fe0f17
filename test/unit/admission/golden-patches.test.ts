// Golden patches for the pod shapes hookpoint meets in Istio meshes.
import jsonpatch from "fast-json-patch";
import { describe, expect, it } from "vitest";
import type { Pod } from "../../../src/admission/pod.js";
import { reviewPod } from "../../../src/admission/review.js";
import { podTemplateOf } from "../../../src/admission/workloads.js";
import { expectGoldenJson } from "../../support/golden.js";
import { loadPod, loadYaml, settings, snapshot } from "../../support/pods.js";

const enabled = { "hookpoint.dev/inject": "enabled" };
const golden = (name: string) => new URL(`./golden/${name}.json`, import.meta.url).pathname;

function review(pod: Pod, namespace: string, nsLabels: Record<string, string> = enabled) {
  const r = reviewPod(pod, namespace, snapshot({ [namespace]: nsLabels }), settings);
  const { decision } = r;
  return {
    decision: { inject: decision.inject, decidedBy: decision.decidedBy, reason: decision.reason, message: decision.message, policy: decision.policy },
    warnings: r.warnings,
    denied: r.denied ?? null,
    patch: r.patch,
    mutated: r.mutated,
  };
}

const shapes: Array<[string, string]> = [
  ["classic-sidecar", "bookinfo"],
  ["native-sidecar", "bookinfo"],
  ["cni-mode", "bookinfo"],
  ["user-declared-proxy", "bookinfo"],
  ["tproxy", "echo"],
  ["host-network", "monitoring"],
  ["several-apps", "shop"],
  ["our-volume-present", "bookinfo"],
  ["tmp-already-mounted", "bookinfo"],
  ["no-security-context", "bookinfo"],
  ["no-proxy", "bookinfo"],
  ["gateway", "istio-ingress"],
];

describe("golden patches per pod shape (namespace labelled enabled)", () => {
  for (const [shape, ns] of shapes) {
    it(shape, () => {
      const pod = loadPod(shape);
      const before = JSON.stringify(pod);
      const { mutated: _m, ...out } = review(pod, ns);
      expectGoldenJson(golden(shape), out);
      expect(JSON.stringify(pod)).toBe(before); // the input is never modified
      if (out.patch.length > 0) {
        const applied = jsonpatch.applyPatch(structuredClone(pod), out.patch, true, false).newDocument;
        expect(review(applied, ns).patch).toEqual([]); // idempotent: re-running is a no-op
      }
    });
  }

  for (const [file, kind] of [["job", "Job"], ["cronjob", "CronJob"]] as const) {
    it(`${kind} template`, () => {
      const doc = loadYaml(`workloads/${file}.yaml`);
      const t = podTemplateOf(doc);
      if (t.ok !== true) throw new Error(`no template: ${JSON.stringify(t)}`);
      const { mutated: _m, ...out } = review(t.pod, "perf");
      expectGoldenJson(golden(`${file}-template`), out);
    });
  }

  it("already-mutated input yields an empty patch and the same decision", () => {
    const pod = loadPod("classic-sidecar");
    const first = review(pod, "bookinfo");
    const again = review(first.mutated as Pod, "bookinfo");
    expect(again.patch).toEqual([]);
    expect(again.decision).toEqual(first.decision);
  });
});
