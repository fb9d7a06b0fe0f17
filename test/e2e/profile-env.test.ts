// A profile env entry whose valueFrom is a fileKeyRef (Kubernetes 1.34, alpha, feature gate
// EnvFiles, off by default), checked by the real kube-apiserver (dryRun=All, no webhook in the
// path): the pod hookpoint would inject with it is refused, which is why validation refuses
// such a profile.
import jsonpatch from "fast-json-patch";
import { describe, expect, it } from "vitest";
import { reviewPod } from "../../src/admission/review.js";
import { semanticProblems } from "../../src/policy/validate.js";
import { resourcesPod } from "../support/resources.js";
import { policy, settings, snapshot, SCRIPTS } from "../support/pods.js";
import { useCluster } from "./support/e2e.js";
import { createPod, postPod, type Pod } from "./support/pods.js";

const e2e = useCluster();

describe("a profile env entry with valueFrom.fileKeyRef through the API server", () => {
  it("is dropped by an API server without the EnvFiles gate, which then refuses the injected pod; validation names the entry", async (ctx) => {
    const { admin } = e2e.require(ctx);
    // Labelled disabled: hookpoint's webhook, if one is registered, never sees these pods.
    const ns = await e2e.namespace("profile-env", { labels: { "hookpoint.dev/inject": "disabled" } });
    const fromFile = { name: "FROM_FILE", valueFrom: { fileKeyRef: { volumeName: "hookpoint-tmp", path: "vars.env", key: "A" } } };
    const files = policy("files", { profiles: { default: { env: [fromFile] } } });

    // What the webhook would write with this profile, had the policy been taken.
    const asServed = (await createPod(admin, ns, resourcesPod(undefined, "file-key-ref"), { dryRun: true })).pod;
    const r = reviewPod(asServed, ns, snapshot({ [ns]: { "hookpoint.dev/inject": "enabled" } }, [files]), settings);
    const { metadata, ...rest } = jsonpatch.applyPatch(structuredClone(asServed), r.patch, true, false).newDocument;
    const mutated = { ...rest, metadata: { name: metadata?.name, annotations: metadata?.annotations, labels: metadata?.labels } } as Pod;
    const proxy = mutated.spec.containers.findIndex((c) => c.name === "istio-proxy");
    const entry = (mutated.spec.containers[proxy]?.env ?? []).findIndex((e) => e.name === "FROM_FILE");
    expect(mutated.spec.containers[proxy]?.env?.[entry]).toEqual(fromFile);
    expect(mutated.spec.volumes?.some((v) => v.name === "hookpoint-tmp" && "emptyDir" in v)).toBe(true);

    const out = await postPod(admin, ns, mutated, { dryRun: true });
    expect(out.status).toBe(422);
    expect((out.body as unknown as { message: string }).message).toBe(
      `Pod "file-key-ref" is invalid: spec.containers[${proxy}].env[${entry}].valueFrom: Invalid value: "": must specify one of: \`fieldRef\`, \`resourceFieldRef\`, \`configMapKeyRef\` or \`secretKeyRef\``,
    );

    expect(semanticProblems(files, SCRIPTS)).toEqual([
      {
        path: "spec.profiles.default.env[0].valueFrom.fileKeyRef",
        message: "needs the EnvFiles feature gate (alpha in Kubernetes 1.34, off by default), which the webhook cannot check: an API server without it drops fileKeyRef and refuses every pod the profile injects, as its valueFrom is left with no source",
      },
    ]);
  });
});
