// Valid pods only, checked by the real kube-apiserver (dryRun=All: validated
// and defaulted as if stored, nothing stored): quantities come back exactly as
// hookpoint's port of resource.Quantity says (the spelling it keeps, the
// canonical one it writes, the errors it refuses), and every pod the resources
// matrix injects is accepted, with the resources the unit test expects and
// nothing left for a second pass to change.
import jsonpatch from "fast-json-patch";
import { describe, expect, it } from "vitest";
import { reviewPod } from "../../src/admission/review.js";
import { QUANTITY_CASES, QUANTITY_ERRORS } from "../support/quantities.js";
import { asStored, CONTAINER_RESOURCES, PROFILE_RESOURCES, RESOURCE_MATRIX, resourcesPod, resourcesPolicy } from "../support/resources.js";
import { settings, snapshot } from "../support/pods.js";
import { useCluster } from "./support/e2e.js";
import { createPod, postPod, type Container, type Pod } from "./support/pods.js";

const e2e = useCluster();
const INJECT_ENABLED = { "hookpoint.dev/inject": "enabled" };

/** A pod whose containers request cpu in each spelling (a resource list), one container per spelling, and whose emptyDir volumes are limited to them (a plain quantity). */
function quantityPod(values: readonly string[]): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "quantities" },
    spec: {
      containers: values.map((v, i) => ({ name: `c${i}`, image: "registry.example.com/app:1", resources: { requests: { cpu: v } } })),
      volumes: values.map((v, i) => ({ name: `v${i}`, emptyDir: { sizeLimit: v } })),
    },
  };
}

const cpuOf = (c: Container) => (c.resources as { requests?: { cpu?: string } } | undefined)?.requests?.cpu;
const sizeLimitOf = (v: unknown) => (v as { emptyDir?: { sizeLimit?: string } }).emptyDir?.sizeLimit;

describe("quantities through the API server", () => {
  it("each spelling comes back as storedQuantity()/storedResourceQuantity() say, and what hookpoint writes comes back unchanged", async (ctx) => {
    const { admin } = e2e.require(ctx);
    // Labelled disabled: hookpoint's webhook, if one is registered, never sees these pods.
    const ns = await e2e.namespace("quantities", { labels: { "hookpoint.dev/inject": "disabled" } });
    const answer = (await createPod(admin, ns, quantityPod(QUANTITY_CASES.map(([input]) => input)), { dryRun: true })).pod;
    expect(answer.spec.volumes?.filter((v) => /^v\d+$/.test(v.name)).map(sizeLimitOf)).toEqual(QUANTITY_CASES.map(([, stored]) => stored));
    expect(answer.spec.containers.map(cpuOf)).toEqual(QUANTITY_CASES.map(([, , inResources]) => inResources));
    const written = QUANTITY_CASES.map(([, , , w]) => w);
    expect((await createPod(admin, ns, quantityPod(written), { dryRun: true })).pod.spec.containers.map(cpuOf)).toEqual(written);
  });

  it.for(QUANTITY_ERRORS)("%s is refused with the message the port gives", async ([input, message], ctx) => {
    const { admin } = e2e.require(ctx);
    const ns = await e2e.namespace("quantity-errors", { labels: { "hookpoint.dev/inject": "disabled" } });
    const res = await postPod(admin, ns, quantityPod([input]), { dryRun: true });
    expect(res.status).toBe(400);
    expect((res.body as unknown as { message: string }).message).toContain(message);
  });
});

describe("the resources matrix through the API server", () => {
  it.for(RESOURCE_MATRIX)("container with %s, profile with %s", async ([containerCase, profileCase, expected], ctx) => {
    const { admin } = e2e.require(ctx);
    const ns = await e2e.namespace("resources", { labels: { "hookpoint.dev/inject": "disabled" } });
    // The pod as the API server hands it to a webhook: stored form (its spelling, its defaults).
    const raw = resourcesPod(CONTAINER_RESOURCES[containerCase], `r-${containerCase.replace(/ /g, "-")}-${profileCase.replace(/ /g, "-")}`);
    const asServed = (await createPod(admin, ns, raw, { dryRun: true })).pod;
    const proxyOf = (p: Pod) => p.spec.containers.find((c) => c.name === "istio-proxy") as Container;
    expect(proxyOf(asServed).resources).toEqual(proxyOf(asStored(raw)).resources);

    const snap = snapshot({ [ns]: INJECT_ENABLED }, [resourcesPolicy(PROFILE_RESOURCES[profileCase])]);
    const r = reviewPod(asServed, ns, snap, settings);
    if ("skip" in expected) {
      expect(r.decision.reason).toBe("invalid-resources");
      return;
    }
    const mutated = jsonpatch.applyPatch(structuredClone(asServed), r.patch, true, false).newDocument;
    const { metadata, ...rest } = mutated;
    // A fresh create of the output (server-managed metadata dropped): accepted, resources as expected.
    const out = await postPod(admin, ns, { ...rest, metadata: { name: metadata?.name, annotations: metadata?.annotations, labels: metadata?.labels } } as Pod, { dryRun: true });
    expect(out.status, JSON.stringify(out.body).slice(0, 600)).toBe(201);
    expect(proxyOf(out.body).resources).toEqual(expected.stored);
    expect(reviewPod(out.body, ns, snap, settings).patch).toEqual([]);
  });
});
