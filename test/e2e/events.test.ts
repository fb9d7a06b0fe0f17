// Decisions people can see, on the real API server: a ReplicaSet's pods get a
// warning the API server shows only to whoever created them (the ReplicaSet
// controller), so the webhook also writes it as an Event on the ReplicaSet,
// once, with a count. The webhook's ServiceAccount may create and patch Events
// (deploy/base's RBAC) and nothing more on them. There is no controller-manager
// here, so the test creates the pods the way the ReplicaSet controller does:
// generateName and a controller ownerReference.
import { describe, expect, it } from "vitest";
import { canI, describeAccess, type Access } from "./support/access.js";
import { kubeRequest, ok } from "./support/kube-http.js";
import { createPod, probePod } from "./support/pods.js";
import { pollUntil } from "./support/poll.js";
import { useCluster } from "./support/e2e.js";
import { INJECT, useHookpoint } from "./support/webhook.js";

const e2e = useCluster();
const hp = useHookpoint(e2e);

interface Event {
  type: string;
  reason: string;
  message: string;
  count: number;
  involvedObject: { kind: string; name: string; uid: string };
  source: { component: string };
}

describe("warnings on the pod's owner", () => {
  it("a warning on three pods of one ReplicaSet is one Event on the ReplicaSet, counted three times", async (ctx) => {
    const { admin, webhook, settle } = hp.require(ctx);
    const ns = await e2e.namespace("events", { labels: { [INJECT]: "enabled" } });
    await settle();
    const rs = ok(
      await kubeRequest<{ metadata: { name: string; uid: string } }>(admin, {
        method: "POST",
        path: `/apis/apps/v1/namespaces/${ns}/replicasets`,
        body: {
          apiVersion: "apps/v1",
          kind: "ReplicaSet",
          metadata: { name: "reviews-v1-7598cc9867" },
          spec: { replicas: 3, selector: { matchLabels: { app: "reviews" } }, template: { metadata: { labels: { app: "reviews" } }, spec: probePod("x").spec } },
        },
      }),
      "create ReplicaSet",
    ).body;

    // A profile the policy does not define: injected with the default one, and a warning.
    const warnings: string[][] = [];
    for (let i = 0; i < 3; i++) {
      const pod = probePod("unused", { "hookpoint.dev/profile": "deep" });
      const { name: _n, ...metadata } = pod.metadata ?? {};
      pod.metadata = {
        ...metadata,
        generateName: "reviews-v1-7598cc9867-",
        labels: { app: "reviews" },
        ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: rs.metadata.name, uid: rs.metadata.uid, controller: true, blockOwnerDeletion: true }],
      };
      warnings.push((await createPod(admin, ns, pod)).warnings);
    }
    const [warning] = warnings[0] ?? [];
    expect(warning).toMatch(/^hookpoint: profile "deep" \(annotation hookpoint.dev\/profile\) is not defined by /);
    expect(warnings).toEqual([[warning], [warning], [warning]]);

    const events = await pollUntil(
      async () =>
        ok(
          await kubeRequest<{ items: Event[] }>(admin, { method: "GET", path: `/api/v1/namespaces/${ns}/events`, query: { fieldSelector: `involvedObject.uid=${rs.metadata.uid}` } }),
          "list Events",
        ).body.items,
      (items) => items.length === 1 && items[0]?.count === 3,
      { what: "one Event counted 3 times on the ReplicaSet" },
    );
    expect(events.value.map((e) => [e.type, e.reason, e.message, e.count, e.involvedObject.kind, e.involvedObject.name, e.source.component])).toEqual([
      ["Warning", "HookpointWarning", warning, 3, "ReplicaSet", "reviews-v1-7598cc9867", "hookpoint-webhook"],
    ]);

    // One info line per review, naming the owner (log lines are written within 200 ms).
    const lines = (
      await pollUntil(
        async () => webhook.logLines().filter((l) => l.msg === "pod reviewed" && l.namespace === ns),
        (found) => found.length >= 3,
        { what: "three pod reviewed lines in the webhook's log" },
      )
    ).value;
    expect(lines.map((l) => [l.owner, l.decision, l.reason, (l.pod as string).startsWith("reviews-v1-7598cc9867-")])).toEqual(
      Array.from({ length: 3 }, () => ["ReplicaSet/reviews-v1-7598cc9867", "injected", "namespace-enabled", true]),
    );
    const metrics = await webhook.metrics();
    expect(metrics).toContain('hookpoint_events_total{result="created"} 1');
    expect(metrics).toContain('hookpoint_events_total{result="failed"} 0');
  });

  it("the webhook may create and patch Events, and do nothing else with them", async (ctx) => {
    const { serviceAccount } = hp.require(ctx);
    const verbs = ["create", "patch", "get", "list", "watch", "update", "delete"];
    const allowed: string[] = [];
    for (const verb of verbs) {
      const a: Access = { verb, group: "", resource: "events", namespace: "default" };
      if (await canI(serviceAccount.kubeConfig, a)) allowed.push(describeAccess(a));
    }
    expect(allowed).toEqual(["create core/events in default", "patch core/events in default"]);
  });
});
