// Property tests over random pods: the patch is valid RFC 6902 (checked with an
// independent implementation), the result is a valid Pod, re-running is a
// no-op, every changed path is one hookpoint owns, and the operations are
// those of fast-json-patch's compare() over the whole pods.
import fc from "fast-check";
import jsonpatch from "fast-json-patch";
import { Pod as PodModel } from "kubernetes-models/v1";
import { applyPatch } from "rfc6902";
import { describe, expect, it } from "vitest";
import type { Container, Pod, Volume, VolumeMount } from "../../../src/admission/pod.js";
import { reviewPod } from "../../../src/admission/review.js";
import { settings, snapshot } from "../../support/pods.js";

const OUR_VOLUMES = ["hookpoint-lib-modules", "hookpoint-usr-src", "hookpoint-tracefs", "hookpoint-tmp"];
const CAPS = ["ALL", "NET_ADMIN", "NET_RAW", "SYS_ADMIN", "BPF", "PERFMON", "SYS_RESOURCE", "CHOWN"];
const PATHS = ["/tmp", "/tmp/", "/etc/istio/proxy", "/lib/modules", "/usr/src", "/var/log", "/sys/kernel/tracing", "/data"];
const VOLUME_NAMES = ["istio-envoy", "data", "logs", "scratch", ...OUR_VOLUMES];

const securityContext = fc.record(
  {
    runAsUser: fc.constantFrom(0, 1000, 1337),
    runAsGroup: fc.constantFrom(0, 1337, 2000),
    runAsNonRoot: fc.boolean(),
    privileged: fc.boolean(),
    allowPrivilegeEscalation: fc.boolean(),
    readOnlyRootFilesystem: fc.boolean(),
    capabilities: fc.record({ add: fc.uniqueArray(fc.constantFrom(...CAPS)), drop: fc.uniqueArray(fc.constantFrom(...CAPS)) }, { requiredKeys: [] }),
  },
  { requiredKeys: [] },
);

const podArb = fc
  .record({
    apps: fc.uniqueArray(fc.constantFrom("app", "cache", "worker", "sidecar-logs"), { minLength: 0, maxLength: 3 }),
    proxyWhere: fc.constantFrom("containers", "initContainers", "none"),
    proxyPos: fc.nat(3),
    sc: fc.option(securityContext, { nil: undefined }),
    podSc: fc.option(fc.record({ runAsUser: fc.constantFrom(1337, 0), runAsGroup: fc.constantFrom(1337, 3000) }, { requiredKeys: [] }), { nil: undefined }),
    command: fc.option(fc.constantFrom(["/usr/local/bin/pilot-agent"], ["hookpoint", "agent", "--", "/usr/local/bin/pilot-agent"], ["/bin/sh", "-c", "exec pilot-agent"]), { nil: undefined }),
    // Names may come twice: the webhook removes the later entries of the names it sets.
    env: fc.array(fc.constantFrom("POD_NAME", "HOOKPOINT_SCRIPTS", "HOOKPOINT_PROXY_UID", "ISTIO_META_MESH_ID", "HOOKPOINT_METRICS_PORT"), { maxLength: 5 }),
    volumes: fc.uniqueArray(fc.constantFrom(...VOLUME_NAMES), { maxLength: 5 }),
    mounts: fc.array(fc.tuple(fc.nat(8), fc.constantFrom(...PATHS)), { maxLength: 4 }),
    annotations: fc.option(fc.dictionary(fc.constantFrom("hookpoint.dev/inject", "hookpoint.dev/scripts", "hookpoint.dev/profile", "sidecar.istio.io/status", "traffic.sidecar.istio.io/excludeInboundPorts", "team"), fc.constantFrom("true", "false", "envoy-socket-io,nope", "default", "x", "15020", "15099,15020")), { nil: undefined }),
    labels: fc.option(fc.dictionary(fc.constantFrom("app", "hookpoint.dev/injected", "version"), fc.constantFrom("v1", "true", "reviews")), { nil: undefined }),
    hostNetwork: fc.option(fc.boolean(), { nil: undefined }),
    initArgs: fc.constantFrom(
      ["istio-iptables", "-p", "15001", "-b", "*", "-d", "15090,15021,15020"],
      ["istio-iptables", "-p", "15001", "-b", "*", "-d", "15090,15021,15099"],
      ["istio-iptables", "-p", "15001", "-d=15090"],
      ["istio-iptables", "-p", "15001", "-m", "TPROXY"],
    ),
    managedFields: fc.boolean(),
  })
  .map((r): Pod => {
    const containers: Container[] = r.apps.map((name) => ({ name, image: `ghcr.io/example/${name}:1` }));
    const initContainers: Container[] = [{ name: "istio-init", image: "docker.io/istio/proxyv2:1.24.2", args: [...r.initArgs] }];
    const volumes: Volume[] = r.volumes.map((name) => (name.startsWith("hookpoint-") ? { name, hostPath: { path: "/var/tmp" } } : { name, emptyDir: {} }));
    const proxy: Container = { name: "istio-proxy", image: "docker.io/istio/proxyv2:1.24.2", args: ["proxy", "sidecar"] };
    if (r.sc) proxy.securityContext = r.sc;
    if (r.command) proxy.command = [...r.command];
    if (r.env.length) proxy.env = r.env.map((name, i) => ({ name, value: `v${i}` }));
    const mounts: VolumeMount[] = [];
    for (const [vi, path] of r.mounts) {
      const vol = volumes[vi % Math.max(volumes.length, 1)];
      if (!vol || mounts.some((m) => m.mountPath.replace(/\/$/, "") === path.replace(/\/$/, ""))) continue;
      mounts.push({ name: vol.name, mountPath: path });
    }
    if (mounts.length) proxy.volumeMounts = mounts;
    if (r.proxyWhere === "containers") containers.splice(Math.min(r.proxyPos, containers.length), 0, proxy);
    if (r.proxyWhere === "initContainers") initContainers.push({ ...proxy, restartPolicy: "Always" });
    if (containers.length === 0) containers.push({ name: "main", image: "ghcr.io/example/main:1" });
    const pod: Pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "web" }, spec: { containers, initContainers } };
    if (volumes.length) pod.spec.volumes = volumes;
    if (r.podSc) pod.spec.securityContext = r.podSc;
    if (r.hostNetwork !== undefined) pod.spec.hostNetwork = r.hostNetwork;
    if (r.annotations) pod.metadata!.annotations = r.annotations;
    if (r.labels) pod.metadata!.labels = r.labels;
    if (r.managedFields) pod.metadata!.managedFields = [{ manager: "kubectl", operation: "Update", apiVersion: "v1", fieldsType: "FieldsV1", fieldsV1: {} }];
    return pod;
  });

const nsLabelsArb = fc.dictionary(fc.constantFrom("hookpoint.dev/inject", "team", "pod-security.kubernetes.io/enforce"), fc.constantFrom("enabled", "disabled", "perf", "privileged", "baseline"));

function owned(path: string, pod: Pod): boolean {
  if (path === "/metadata/annotations" || path === "/metadata/annotations/hookpoint.dev~1status") return true;
  // The agent's port, excluded from Istio's inbound capture (annotation and istio-init's -d list).
  if (path === "/metadata/annotations/traffic.sidecar.istio.io~1excludeInboundPorts") return true;
  const init = /^\/spec\/initContainers\/(\d+)\/args(\/|$)/.exec(path);
  if (init && pod.spec.initContainers?.[Number(init[1])]?.name === "istio-init") return true;
  if (path === "/metadata/labels" || path === "/metadata/labels/hookpoint.dev~1injected") return true;
  if (path === "/spec/volumes") return true;
  const vol = /^\/spec\/volumes\/(\d+)(\/|$)/.exec(path);
  if (vol) {
    const i = Number(vol[1]);
    const existing = pod.spec.volumes?.[i];
    return existing === undefined || OUR_VOLUMES.includes(existing.name);
  }
  const c = /^\/spec\/(containers|initContainers)\/(\d+)(\/|$)/.exec(path);
  if (c) return (pod.spec[c[1] as "containers" | "initContainers"]?.[Number(c[2])]?.name ?? "") === "istio-proxy";
  return false;
}

describe("properties of the mutation over random pods", () => {
  it("patch applies independently, result is a valid Pod, re-run is a no-op, only owned paths change", () => {
    fc.assert(
      fc.property(podArb, nsLabelsArb, fc.boolean(), (pod, nsLabels, force) => {
        const snap = snapshot({ web: nsLabels });
        const r = reviewPod(pod, "web", snap, settings, { force });
        const { managedFields: _mf, ...meta } = pod.metadata ?? {};
        const target = structuredClone({ ...pod, metadata: meta });
        const results = applyPatch(target, r.patch as Parameters<typeof applyPatch>[1]);
        expect(results.every((x) => x === null)).toBe(true);
        if (r.mutated) {
          const { managedFields: _m2, ...mmeta } = r.mutated.metadata ?? {};
          expect(target).toEqual({ ...r.mutated, metadata: mmeta });
          new PodModel(target as never).validate();
          // The identity-skipping diff gives exactly fast-json-patch's operations.
          const reference = jsonpatch.compare({ ...pod, metadata: meta }, { ...r.mutated, metadata: mmeta });
          const key = (ops: readonly object[]) => ops.map((o) => JSON.stringify(o)).sort();
          expect(key(r.patch)).toEqual(key(reference));
          expect(reviewPod(target, "web", snap, settings, { force }).patch).toEqual([]);
          // The container gets the scripts the status annotation names, from its one entry.
          const proxy = [...target.spec.containers, ...(target.spec.initContainers ?? [])].find((c) => c.name === "istio-proxy");
          expect(proxy?.env?.filter((e) => e.name === "HOOKPOINT_SCRIPTS")).toEqual([{ name: "HOOKPOINT_SCRIPTS", value: r.status?.scripts.join(",") }]);
        } else {
          expect(r.patch).toEqual([]);
        }
        for (const op of r.patch) expect(owned(op.path, pod), op.path).toBe(true);
        expect(r.patch.some((op) => op.path.includes("managedFields"))).toBe(false);
      }),
      { numRuns: 400, seed: 20261122 },
    );
  });
});
