// The env the webhook and the profile set wins in the container: the kubelet passes the last
// entry of a name given twice, so the webhook replaces the first entry of each name it sets and
// removes the later ones. The agent then runs what the status annotation (and `explain`) says.
import type { V1Pod } from "@kubernetes/client-node";
import jsonpatch from "fast-json-patch";
import { describe, expect, it } from "vitest";
import { restorePod } from "../../../src/admission/original.js";
import type { Container, EnvVar, Pod } from "../../../src/admission/pod.js";
import { reviewPod } from "../../../src/admission/review.js";
import { agentPort } from "../../../src/k8s/traced-pods.js";
import { policy, settings, snapshot } from "../../support/pods.js";

const NS = { web: { "hookpoint.dev/inject": "enabled" } };
const POD_NAME: EnvVar = { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } };
const MESH: EnvVar = { name: "ISTIO_META_MESH_ID", value: "cluster.local" };
const CONFIG: EnvVar = { name: "PROXY_CONFIG", value: "{}" };

function proxyPod(env: EnvVar[]): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "p", namespace: "web" },
    spec: {
      terminationGracePeriodSeconds: 30,
      containers: [
        { name: "app", image: "app:1" },
        { name: "istio-proxy", image: "docker.io/istio/proxyv2:1.24.2", args: ["proxy", "sidecar"], env },
      ],
    },
  };
}

/** The pod the API server stores: the webhook's patch applied (and checked) to the pod it was given. */
function patched(pod: Pod, r: ReturnType<typeof reviewPod>): Pod {
  return jsonpatch.applyPatch(structuredClone(pod), r.patch, true, false).newDocument;
}

const proxyEnv = (pod: Pod) => (pod.spec.containers.find((c) => c.name === "istio-proxy") as Container).env;
const statusOf = (pod: Pod) => JSON.parse(pod.metadata?.annotations?.["hookpoint.dev/status"] ?? "null") as { scripts: string[]; profile: string };

describe("env the proxy container gives twice", () => {
  const pod = proxyPod([
    POD_NAME,
    { name: "HOOKPOINT_SCRIPTS", value: "a" },
    MESH,
    { name: "HOOKPOINT_SCRIPTS", value: "envoy-socket-io" },
    { name: "HOOKPOINT_METRICS_PORT", value: "16000" },
    CONFIG,
    { name: "HOOKPOINT_METRICS_PORT", value: "16001" },
  ]);

  it("the webhook's value takes the first entry's place and the later ones go, so the container gets what the status annotation says", () => {
    const r = reviewPod(pod, "web", snapshot(NS), settings);
    expect(r.decision).toMatchObject({ inject: true, reason: "namespace-enabled" });
    const stored = patched(pod, r);
    expect(proxyEnv(stored)).toEqual([
      POD_NAME,
      { name: "HOOKPOINT_SCRIPTS", value: "envoy-request-flow,envoy-event-loop" },
      MESH,
      { name: "HOOKPOINT_METRICS_PORT", value: "15099" },
      CONFIG,
      { name: "HOOKPOINT_PROFILE", value: "default" },
      { name: "HOOKPOINT_OUTPUT_DIR", value: "/tmp/hookpoint" },
      { name: "HOOKPOINT_TERMINATION_GRACE_SECONDS", value: "30" },
    ]);
    expect(stored).toEqual(r.mutated);
    expect(statusOf(stored)).toMatchObject({ profile: "default", scripts: ["envoy-request-flow", "envoy-event-loop"] });
    // `status` and `collect` ask the agent on the port it listens on.
    expect(agentPort(stored as V1Pod)).toBe(15099);
    // The entries after a removed one move up a place: diffed in place, the last one removed.
    expect(r.patch.filter((op) => op.path.startsWith("/spec/containers/1/env/"))).toEqual([
      { op: "replace", path: "/spec/containers/1/env/1/value", value: "envoy-request-flow,envoy-event-loop" },
      { op: "replace", path: "/spec/containers/1/env/3/name", value: "HOOKPOINT_METRICS_PORT" },
      { op: "replace", path: "/spec/containers/1/env/3/value", value: "15099" },
      { op: "replace", path: "/spec/containers/1/env/4/name", value: "PROXY_CONFIG" },
      { op: "replace", path: "/spec/containers/1/env/4/value", value: "{}" },
      { op: "replace", path: "/spec/containers/1/env/5/name", value: "HOOKPOINT_PROFILE" },
      { op: "replace", path: "/spec/containers/1/env/5/value", value: "default" },
      { op: "replace", path: "/spec/containers/1/env/6/name", value: "HOOKPOINT_OUTPUT_DIR" },
      { op: "replace", path: "/spec/containers/1/env/6/value", value: "/tmp/hookpoint" },
      { op: "add", path: "/spec/containers/1/env/7", value: { name: "HOOKPOINT_TERMINATION_GRACE_SECONDS", value: "30" } },
    ]);
  });

  it("the profile's value wins over every entry of its name, and a second review changes nothing", () => {
    const godebug = (value: string): EnvVar => ({ name: "GODEBUG", value });
    const own = proxyPod([godebug("a"), MESH, godebug("b"), { name: "HOOKPOINT_LOG_LEVEL", value: "loud" }, { name: "HOOKPOINT_LOG_LEVEL", value: "info" }]);
    const snap = snapshot(NS, [policy("p", { profiles: { default: { env: [godebug("c"), { name: "HOOKPOINT_LOG_LEVEL", value: "debug" }] } } })]);
    const r = reviewPod(own, "web", snap, settings);
    expect(r.decision).toMatchObject({ inject: true, reason: "namespace-enabled", policy: "p" });
    const stored = patched(own, r);
    expect(proxyEnv(stored)).toEqual([
      godebug("c"),
      MESH,
      { name: "HOOKPOINT_LOG_LEVEL", value: "debug" },
      { name: "HOOKPOINT_PROFILE", value: "default" },
      { name: "HOOKPOINT_SCRIPTS", value: "envoy-request-flow,envoy-event-loop" },
      { name: "HOOKPOINT_OUTPUT_DIR", value: "/tmp/hookpoint" },
      { name: "HOOKPOINT_METRICS_PORT", value: "15099" },
      { name: "HOOKPOINT_TERMINATION_GRACE_SECONDS", value: "30" },
    ]);
    expect(reviewPod(stored, "web", snap, settings).patch).toEqual([]);
  });

  it("uninject gives back every entry the webhook removed, in its place", () => {
    const stored = patched(pod, reviewPod(pod, "web", snapshot(NS), settings));
    expect(restorePod(stored)).toEqual({ ok: true, pod, restored: true });
  });
});
