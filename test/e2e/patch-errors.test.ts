// What the real kube-apiserver answers a JSON patch that fails, and whether
// patchLostRace reads it right: a `test` op that no longer holds (the object
// changed since it was read: read again) and an object that fails validation
// (report it: no retry can fix it) are both 422 Invalid; only the second names
// what is invalid. The answers must be the Status bodies recorded in
// test/fixtures/k8s, which the unit and integration tests use.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { AdmissionregistrationV1Api, CoreV1Api, type V1MutatingWebhook } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { patchLostRace } from "../../src/k8s/api-errors.js";
import { useCluster } from "./support/e2e.js";

const e2e = useCluster();

/** The recorded body, parsed, with the object's name as this run created it. */
function recorded(fixture: string, names: Record<string, string> = {}): unknown {
  let text = readFileSync(new URL(`../fixtures/k8s/${fixture}`, import.meta.url), "utf8");
  for (const [from, to] of Object.entries(names)) text = text.replaceAll(from, to);
  return JSON.parse(text);
}

/** How a call was refused: its code, the Status body parsed, and patchLostRace's reading of it. */
async function refusal(call: Promise<unknown>): Promise<{ code: unknown; body: unknown; lostRace: boolean }> {
  try {
    await call;
  } catch (err) {
    const { code, body } = err as { code?: unknown; body?: unknown };
    return { code, body: typeof body === "string" ? JSON.parse(body) : body, lostRace: patchLostRace(err) };
  }
  throw new Error("the API server accepted the request");
}

/** An entry that sends the API server nothing: no namespace carries this label. */
function idleEntry(name: string): V1MutatingWebhook {
  return {
    name,
    admissionReviewVersions: ["v1"],
    sideEffects: "None",
    failurePolicy: "Ignore",
    clientConfig: { url: "https://127.0.0.1:9/mutate" },
    rules: [{ operations: ["CREATE"], apiGroups: [""], apiVersions: ["v1"], resources: ["pods"], scope: "Namespaced" }],
    namespaceSelector: { matchLabels: { "e2e.hookpoint.dev/never": "true" } },
  };
}

describe("JSON patch refusals of the real kube-apiserver", () => {
  it("Secret: a failed resourceVersion test is the bare 422 (a lost race); annotations over 256 KiB are 422 with causes (not one); a stale update is 409", async (ctx) => {
    const { admin } = e2e.require(ctx);
    const core = admin.makeApiClient(CoreV1Api);
    const namespace = await e2e.namespace("patch-errors");
    const name = "hookpoint-webhook-tls";
    // Annotations just under the API server's 256 KiB limit (a kubectl last-applied-configuration, say).
    const secret = await core.createNamespacedSecret({
      namespace,
      body: { metadata: { name, annotations: { "kubectl.kubernetes.io/last-applied-configuration": "x".repeat(262_144 - 200) } }, type: "kubernetes.io/tls", data: { "tls.crt": "", "tls.key": "" } },
    });
    const rv = secret.metadata?.resourceVersion ?? "";
    const annotation = "/metadata/annotations/hookpoint.dev~1rotate-ca-requested-at";
    const stale = String(Number(rv) - 1);

    const race = await refusal(core.patchNamespacedSecret({ name, namespace, body: [{ op: "test", path: "/metadata/resourceVersion", value: stale }, { op: "add", path: annotation, value: "2026-01-01T00:00:00Z" }] }));
    expect(race).toEqual({ code: 422, body: recorded("patch-test-failed.json"), lostRace: true });

    const tooLong = await refusal(core.patchNamespacedSecret({ name, namespace, body: [{ op: "test", path: "/metadata/resourceVersion", value: rv }, { op: "add", path: annotation, value: "2026-01-01T00:00:00Z".repeat(20) }] }));
    expect(tooLong).toEqual({ code: 422, body: recorded("patch-invalid-secret.json"), lostRace: false });

    const conflict = await refusal(core.replaceNamespacedSecret({ name, namespace, body: { ...secret, metadata: { ...secret.metadata, resourceVersion: stale } } }));
    expect(conflict).toEqual({ code: 409, body: recorded("update-conflict-secret.json"), lostRace: true });
  });

  it("MutatingWebhookConfiguration: a failed resourceVersion or entry-name test is the bare 422 (a lost race); an invalid entry is 422 with causes (not one)", async (ctx) => {
    const { admin } = e2e.require(ctx);
    const api = admin.makeApiClient(AdmissionregistrationV1Api);
    const name = `hookpoint-e2e-patch-errors-${randomBytes(3).toString("hex")}`;
    const entries = [idleEntry("namespace.inject.hookpoint.dev"), idleEntry("pod.inject.hookpoint.dev")];
    const created = await api.createMutatingWebhookConfiguration({ body: { metadata: { name }, webhooks: entries } });
    try {
      const rv = created.metadata?.resourceVersion ?? "";
      const invalid = { ...idleEntry("perf.policy.inject.hookpoint.dev"), namespaceSelector: { matchExpressions: [{ key: "team", operator: "In", values: ["perf team"] }] } };

      const staleRv = await refusal(api.patchMutatingWebhookConfiguration({ name, body: [{ op: "test", path: "/metadata/resourceVersion", value: String(Number(rv) - 1) }, { op: "add", path: "/webhooks", value: [...entries, idleEntry("perf.policy.inject.hookpoint.dev")] }] }));
      // The caBundle patch's guard (ca-bundle-patch.ts): the entry at that index is another one, or gone.
      const movedEntry = await refusal(api.patchMutatingWebhookConfiguration({ name, body: [{ op: "test", path: "/webhooks/1/name", value: "namespace.inject.hookpoint.dev" }, { op: "add", path: "/webhooks/1/clientConfig/caBundle", value: "" }] }));
      const goneEntry = await refusal(api.patchMutatingWebhookConfiguration({ name, body: [{ op: "test", path: "/webhooks/2/name", value: "perf.policy.inject.hookpoint.dev" }, { op: "add", path: "/webhooks/2/clientConfig/caBundle", value: "" }] }));
      const race = { code: 422, body: recorded("patch-test-failed.json"), lostRace: true };
      expect([staleRv, movedEntry, goneEntry]).toEqual([race, race, race]);

      const rejected = await refusal(api.patchMutatingWebhookConfiguration({ name, body: [{ op: "test", path: "/metadata/resourceVersion", value: rv }, { op: "add", path: "/webhooks", value: [...entries, invalid] }] }));
      expect(rejected).toEqual({ code: 422, body: recorded("patch-invalid-webhook-configuration.json", { "zz-hookpoint": name }), lostRace: false });
    } finally {
      await api.deleteMutatingWebhookConfiguration({ name });
    }
  });
});
