// HookpointPolicy changes reach the webhook's decisions (scenario e): create,
// update and delete (and a namespace relabel) each change what a dry-run pod
// create answers; the time from
// the API write's answer to the first changed decision is printed (design
// target: ≤ 2 s; tests never assert on time, the poll is only bounded). A policy
// the CRD refuses never exists; one only hookpoint can judge (semantics) is
// marked Accepted=False and its previous version stays in force.
import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { BASE_POLICY_IMAGE } from "./support/expected.js";
import { apply, kubeRequest, ok, remove, statusOf } from "./support/kube-http.js";
import { container, createPod, fixturePod } from "./support/pods.js";
import { pollUntil } from "./support/poll.js";
import { useCluster } from "./support/e2e.js";
import { INJECT, STATUS, useHookpoint, type Hookpoint } from "./support/webhook.js";

const e2e = useCluster();
const hp = useHookpoint(e2e);

const RUN_LABEL = "e2e.hookpoint.dev/run";
const run = randomBytes(3).toString("hex");
const NAME = `e2e-propagation-${run}`;
const POLICY_PATH = `/apis/hookpoint.dev/v1alpha1/hookpointpolicies/${NAME}`;
/** Bounds every wait for the webhook to see a change: 5 × the 2 s design target. */
const PROPAGATION_BOUND_MS = 10_000;

const latencies: Record<string, number> = {};
afterAll(() => {
  if (Object.keys(latencies).length === 0) return;
  console.log(`change → decision propagation (API answer to the first changed dry-run decision): ${Object.entries(latencies).map(([k, v]) => `${k} ${v.toFixed(0)} ms`).join(", ")}`);
});

function policy(image: string, extra: Record<string, unknown> = {}) {
  return {
    apiVersion: "hookpoint.dev/v1alpha1",
    kind: "HookpointPolicy",
    metadata: { name: NAME },
    spec: {
      priority: 20,
      namespaceSelector: { matchLabels: { [RUN_LABEL]: run } },
      allowPodOptIn: { matchLabels: { [RUN_LABEL]: run } },
      allowedImages: ["hookpoint/proxy-istio:*"],
      defaultProfile: "tracing",
      profiles: { tracing: { image, scripts: ["envoy-socket-io"] } },
      ...extra,
    },
  };
}

interface Decision {
  /** The traced proxy's image, or "skipped". */
  image: string;
  warnings: string[];
}

interface PolicyObject {
  metadata: { generation: number };
  spec: { profiles?: Record<string, { image?: string }> };
  status?: { conditions?: { type: string; status: string; reason: string; message: string; observedGeneration?: number }[] };
}

describe("e. HookpointPolicy changes reach the webhook's decisions", () => {
  it("create, update and delete each change the decision; a refused or invalid version never governs", async (ctx) => {
    const h: Hookpoint = hp.require(ctx);
    const { admin } = h;
    const ns = await e2e.namespace("e-propagation", { labels: { [RUN_LABEL]: run } });
    await h.settle();
    const pod = fixturePod("classic-sidecar", "reviews-v1", { [INJECT]: "true" });
    const decide = async (): Promise<Decision> => {
      const { pod: answer, warnings } = await createPod(admin, ns, pod, { dryRun: true });
      return { image: answer.metadata?.annotations?.[STATUS] ? (container(answer, "istio-proxy").image ?? "") : "skipped", warnings };
    };
    /** Time from `change()`'s answer until a decision passes `done`. */
    const measure = async (what: string, change: () => Promise<unknown>, done: (d: Decision) => boolean): Promise<Decision> => {
      await change();
      const polled = await pollUntil(decide, done, { what: `decision after ${what}`, timeoutMs: PROPAGATION_BOUND_MS, intervalMs: 20 });
      latencies[what] = polled.elapsedMs;
      return polled.value;
    };
    const read = async () => ok(await kubeRequest<PolicyObject>(admin, { method: "GET", path: POLICY_PATH }), `get ${NAME}`).body;
    const accepted = (p: PolicyObject) => p.status?.conditions?.find((c) => c.type === "Accepted");
    const notAllowed = (governing: string) =>
      `hookpoint: annotation hookpoint.dev/inject="true" ignored: namespace ${ns} is not labelled hookpoint.dev/inject=enabled and HookpointPolicy ${governing} has no allowPodOptIn selecting it`;

    try {
      // Before: the base's default policy governs, and it allows no pod opt-in.
      expect(await decide()).toEqual({ image: "skipped", warnings: [notAllowed("default")] });

      const created = await measure("create", async () => ok(await apply(admin, policy("hookpoint/proxy-istio:0.1.0-e2e-a")), "create"), (d) => d.image !== "skipped");
      expect(created).toEqual({ image: "hookpoint/proxy-istio:0.1.0-e2e-a", warnings: [] });

      const updated = await measure("update", async () => ok(await apply(admin, policy("hookpoint/proxy-istio:0.1.0-e2e-b")), "update"), (d) => d.image !== "hookpoint/proxy-istio:0.1.0-e2e-a");
      expect(updated).toEqual({ image: "hookpoint/proxy-istio:0.1.0-e2e-b", warnings: [] });
      // The webhook (with only deploy/'s RBAC) reports the version it accepted.
      const acceptedB = await pollUntil(read, (p) => accepted(p)?.observedGeneration === 2, { what: `${NAME} status for generation 2`, timeoutMs: PROPAGATION_BOUND_MS });
      expect(accepted(acceptedB.value)).toMatchObject({ type: "Accepted", status: "True", reason: "Valid", message: "The policy is valid and in force.", observedGeneration: 2 });

      // Refused by the API server's schema and CEL rules: never stored, so never seen by hookpoint.
      const badMode = await apply(admin, policy("hookpoint/proxy-istio:0.1.0-e2e-c", { mode: "Sometimes" }));
      expect(statusOf(badMode)).toEqual({
        code: 422,
        reason: "Invalid",
        message:
          `HookpointPolicy.hookpoint.dev "${NAME}" is invalid: [spec.mode: Unsupported value: "Sometimes": supported values: "Disabled", "OptIn", "Enabled", ` +
          "<nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation]",
      });
      const badProfile = await apply(admin, policy("hookpoint/proxy-istio:0.1.0-e2e-c", { defaultProfile: "missing" }));
      expect(statusOf(badProfile)).toEqual({
        code: 422,
        reason: "Invalid",
        message: `HookpointPolicy.hookpoint.dev "${NAME}" is invalid: spec: Invalid value: "object": defaultProfile must name a key of profiles (or "default", the built-in profile)`,
      });
      expect((await read()).metadata.generation).toBe(2);

      // Valid for the schema, wrong for hookpoint: a script that is not bundled. Stored as
      // generation 3, marked Accepted=False, and generation 2 keeps deciding.
      const invalid = policy("hookpoint/proxy-istio:0.1.0-e2e-c");
      invalid.spec.profiles.tracing.scripts = ["envoy-socket-io", "no-such-script"];
      ok(await apply(admin, invalid), "semantic-invalid update");
      const refused = await pollUntil(read, (p) => accepted(p)?.observedGeneration === 3, { what: `${NAME} status for generation 3`, timeoutMs: PROPAGATION_BOUND_MS });
      expect(accepted(refused.value)).toMatchObject({
        type: "Accepted",
        status: "False",
        reason: "Invalid",
        message:
          'spec.profiles.tracing.scripts[1]: unknown script "no-such-script"; available: envoy-event-loop, envoy-filter-chain, envoy-http-filters, envoy-request-flow, envoy-request-trace, envoy-socket-io, hookpoint-pairs',
        observedGeneration: 3,
      });
      expect(refused.value.spec.profiles?.tracing?.image).toBe("hookpoint/proxy-istio:0.1.0-e2e-c");
      expect(await decide()).toEqual({ image: "hookpoint/proxy-istio:0.1.0-e2e-b", warnings: [] });

      const deleted = await measure("delete", () => remove(admin, invalid), (d) => d.image === "skipped");
      expect(deleted).toEqual({ image: "skipped", warnings: [notAllowed("default")] });

      // A namespace relabel travels the same way (the API server's selector and the webhook's informer).
      const relabel = () =>
        kubeRequest(admin, { method: "PATCH", path: `/api/v1/namespaces/${ns}`, contentType: "application/merge-patch+json", body: { metadata: { labels: { [INJECT]: "enabled" } } } });
      const relabelled = await measure("namespace relabel", async () => ok(await relabel(), "label namespace"), (d) => d.image !== "skipped");
      expect(relabelled).toEqual({ image: BASE_POLICY_IMAGE, warnings: [] });
    } finally {
      await remove(admin, policy(""));
    }
  });
});
