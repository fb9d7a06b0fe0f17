// A profile's resources merged into the proxy container: the matrix of what the
// container sets (requests only, limits only, both, none) against what the
// profile sets (requests only, limits only, both), written in non-canonical
// spellings. Every result is one the API server accepts, in its own spelling,
// and a second pass over the stored pod changes nothing; where no valid merge
// exists the pod is skipped with a warning naming container, resource and values.
// test/e2e/resources.test.ts creates every output through a real API server.
import jsonpatch from "fast-json-patch";
import { describe, expect, it } from "vitest";
import { mergeResources } from "../../../src/policy/resources.js";
import { reviewPod } from "../../../src/admission/review.js";
import { asStored, CONTAINER_RESOURCES, PROFILE_RESOURCES, RESOURCE_MATRIX, resourcesPod, resourcesPolicy } from "../../support/resources.js";
import { snapshot, settings } from "../../support/pods.js";

const NS = { web: { "hookpoint.dev/inject": "enabled" } };

describe("profile resources × container resources", () => {
  it.each(RESOURCE_MATRIX)("container with %s, profile with %s", (containerCase, profileCase, expected) => {
    const pod = asStored(resourcesPod(CONTAINER_RESOURCES[containerCase]));
    const snap = snapshot(NS, [resourcesPolicy(PROFILE_RESOURCES[profileCase])]);
    const r = reviewPod(pod, "web", snap, settings);
    if ("skip" in expected) {
      expect(r.decision).toMatchObject({ inject: false, decidedBy: "resources", reason: "invalid-resources" });
      expect(r.patch).toEqual([]);
      expect(r.warnings).toEqual([`hookpoint: not injected: profile "default" cannot be applied validly: ${expected.skip}`]);
      return;
    }
    expect(r.decision.inject).toBe(true);
    const proxy = r.mutated?.spec.containers.find((c) => c.name === "istio-proxy");
    expect(proxy?.resources).toEqual(expected.resources);
    // Stored by the API server (its spelling, its defaults) and reviewed again: nothing left to change.
    const stored = asStored(jsonpatch.applyPatch(structuredClone(pod), r.patch, true, false).newDocument);
    expect(stored.spec.containers.find((c) => c.name === "istio-proxy")?.resources).toEqual(expected.stored);
    expect(reviewPod(stored, "web", snap, settings).patch).toEqual([]);
  });
});

describe("mergeResources", () => {
  it("a manifest's limits-only container (inject, before the API server defaults requests) takes a lower profile limit", () => {
    expect(mergeResources("istio-proxy", CONTAINER_RESOURCES["limits only"], PROFILE_RESOURCES["limits only"])).toEqual({ ok: true, resources: { limits: { cpu: "1", memory: "100Mi" } } });
  });
  it("keeps the container's other resources and sides", () => {
    expect(mergeResources("istio-proxy", { limits: { cpu: "2", "ephemeral-storage": "1Gi" }, claims: [{ name: "x" }] }, { limits: { cpu: "0.5" } })).toEqual({
      ok: true,
      resources: { limits: { cpu: "500m", "ephemeral-storage": "1Gi" }, claims: [{ name: "x" }] },
    });
  });
  it("requires equal requests and limits for resources that cannot be overcommitted", () => {
    expect(mergeResources("istio-proxy", { limits: { "hugepages-2Mi": "4Mi" } }, { requests: { "hugepages-2Mi": "2Mi", memory: "64Mi" } })).toEqual({
      ok: false,
      problem:
        "container istio-proxy: requests.hugepages-2Mi 2Mi must equal limits.hugepages-2Mi 4Mi (hugepages-2Mi cannot be overcommitted) after merging the profile's requests.hugepages-2Mi with the container's limits.hugepages-2Mi; set both in the profile",
    });
    expect(mergeResources("istio-proxy", undefined, { requests: { "example.com/gpu": "1" } })).toEqual({
      ok: false,
      problem: "container istio-proxy: requests.example.com/gpu 1 needs an equal limit (example.com/gpu cannot be overcommitted) after merging the profile's requests.example.com/gpu with the container's limits.example.com/gpu; set both in the profile",
    });
  });
  it("reads the container's JSON numbers as quantities (inject reads raw manifests)", () => {
    expect(mergeResources("istio-proxy", { requests: { cpu: 3 } }, { limits: { cpu: "2" } })).toEqual({
      ok: false,
      problem: "container istio-proxy: requests.cpu 3 exceeds limits.cpu 2 after merging the profile's limits.cpu with the container's requests.cpu; set both in the profile",
    });
  });
  it("refuses a profile quantity that is not one", () => {
    expect(mergeResources("istio-proxy", undefined, { limits: { cpu: "1e3m" } })).toEqual({
      ok: false,
      problem: `the profile's limits.cpu "1e3m" is not a quantity (quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$')`,
    });
  });
});
