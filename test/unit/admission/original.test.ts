// The status annotation's record of the original pod: restorePod gives back,
// key for key and in the same order, the pod hookpoint was given.
import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { restorePod } from "../../../src/admission/original.js";
import type { Pod } from "../../../src/admission/pod.js";
import { reviewPod } from "../../../src/admission/review.js";
import { uninjectManifests } from "../../../src/manifests/uninject.js";
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

describe("what restorePod refuses in a damaged record, naming the field", () => {
  const injected = inject(loadPod("classic-sidecar")).mutated as Pod;
  const status = JSON.parse(injected.metadata?.annotations?.["hookpoint.dev/status"] as string) as { original: Record<string, unknown> };
  const withOriginal = (change: Record<string, unknown>): Pod => ({
    ...injected,
    metadata: { ...injected.metadata, annotations: { "hookpoint.dev/status": JSON.stringify({ ...status, original: { ...status.original, ...change } }) } },
  });
  const refused = (what: string) => ({
    ok: false,
    path: "metadata.annotations.hookpoint.dev/status",
    message: `${what} (the record was edited or damaged; re-create the pod from its un-injected manifest)`,
  });
  const cases: [string, Record<string, unknown>, string][] = [
    ["env names that are not a list", { env: { names: 5 } }, "original.env.names: must be a list of strings (got number 5)"],
    ["an env name that is not a string", { env: { names: ["HOOKPOINT_PROFILE", 7] } }, "original.env.names[1]: must be a string (got number 7)"],
    ["a position that is not a whole number", { volumeMounts: { names: ["hookpoint-output"], was: [[1.5, { name: "hookpoint-output" }]] } }, "original.volumeMounts.was[0][0]: must be a position, a whole number from 0 (got number 1.5)"],
    ["an entry without a name", { volumes: { names: ["v"], was: [[0, { path: "/x" }]] } }, "original.volumes.was[0][1]: must be an entry with a string name (got an object without one)"],
    ["absent that is not true", { env: { names: [], absent: "yes" } }, 'original.env.absent: must be true when present (got string "yes")'],
    ["a field hookpoint never replaces", { fields: { image: "proxyv2:1.28.0", ports: null } }, "original.fields.ports: is not a field hookpoint replaces (image, command, securityContext, resources)"],
    ["created naming something else", { created: ["spec"] }, 'original.created: "spec" is not one of metadata, annotations, labels'],
    ["a label that is not a string", { label: 1 }, "original.label: must be a string (got number 1)"],
    ["an annotation value that is a list", { annotations: { "traffic.sidecar.istio.io/excludeInboundPorts": ["9464"] } }, "original.annotations.traffic.sidecar.istio.io/excludeInboundPorts: must be a string or null (got a list)"],
    ["istio-init's field unknown", { istioInit: { field: "env", was: [] } }, 'original.istioInit.field: must be "args" or "command" (got string "env")'],
    ["istio-init's list of numbers", { istioInit: { field: "args", was: [1] } }, "original.istioInit.was[0]: must be a string (got number 1)"],
  ];
  for (const [name, change, what] of cases) {
    it(name, () => {
      expect(restorePod(withOriginal(change))).toEqual(refused(what));
    });
  }
  it("the record as written is accepted", () => {
    expect(restorePod(withOriginal({})).ok).toBe(true);
  });
});

describe("a proxy container whose env holds many entries of hookpoint's names", () => {
  // 10,003 entries: a stale HOOKPOINT_PROFILE before each of 5,000 others, then HOOKPOINT_SCRIPTS twice.
  // setEnv keeps the first entry of a name and removes the rest, which moves every later entry.
  const stale = Array.from({ length: 5000 }, (_, i) => ({ name: "HOOKPOINT_PROFILE", value: `stale-${i}` }));
  const scripts = [{ name: "HOOKPOINT_SCRIPTS", value: "a" }, { name: "HOOKPOINT_SCRIPTS", value: "b" }];
  const env = [...stale.flatMap((e, i) => [e, { name: `APP_${i}`, value: String(i) }]), scripts[0], { name: "APP_END", value: "end" }, scripts[1]];
  const pod: Pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "many-env", namespace: "web" }, spec: { containers: [{ name: "app", image: "app:1" }, { name: "istio-proxy", image: "auto", env }] } } as Pod;
  const profiles = { big: { env: [{ name: "EXTRA", value: "1" }] } };

  it("is injected with one entry of each name, recorded with every entry it removed, and restored exactly", () => {
    const r = inject(pod, profiles);
    const proxy = r.mutated?.spec.containers[1];
    expect(proxy?.env).toEqual([
      { name: "HOOKPOINT_PROFILE", value: "big" },
      ...Array.from({ length: 5000 }, (_, i) => ({ name: `APP_${i}`, value: String(i) })),
      { name: "HOOKPOINT_SCRIPTS", value: "envoy-request-flow,envoy-event-loop" },
      { name: "APP_END", value: "end" },
      { name: "HOOKPOINT_OUTPUT_DIR", value: "/tmp/hookpoint" },
      { name: "HOOKPOINT_METRICS_PORT", value: "15099" },
      { name: "EXTRA", value: "1" },
    ]);
    const status = JSON.parse(r.mutated?.metadata?.annotations?.["hookpoint.dev/status"] as string) as { original: { env: unknown } };
    expect(status.original.env).toEqual({
      names: ["HOOKPOINT_PROFILE", "HOOKPOINT_SCRIPTS", "HOOKPOINT_OUTPUT_DIR", "HOOKPOINT_METRICS_PORT", "EXTRA"],
      was: [...stale.map((e, i) => [2 * i, e]), [10_000, scripts[0]], [10_002, scripts[1]]],
    });
    const back = restorePod(r.mutated as Pod);
    expect(back.ok && JSON.stringify(back.pod)).toBe(JSON.stringify(pod));
    // `hookpoint uninject` over the injected manifest gives back the input byte for byte.
    expect(uninjectManifests(JSON.stringify(r.mutated), "pod.json").output).toBe(JSON.stringify(pod));
  });

  it("a record whose positions do not ascend (edited by hand) is put back entry by entry, as before", () => {
    const injected = inject(loadPod("classic-sidecar")).mutated as Pod;
    const status = JSON.parse(injected.metadata?.annotations?.["hookpoint.dev/status"] as string) as { original: { env: unknown } };
    const withEnvRecord = (was: unknown): Pod => ({
      ...injected,
      metadata: { ...injected.metadata, annotations: { "hookpoint.dev/status": JSON.stringify({ ...status, original: { ...status.original, env: { names: ["X", "Y"], was } } }) } },
      spec: { ...injected.spec, containers: injected.spec.containers.map((c) => (c.name === "istio-proxy" ? { ...c, env: [{ name: "A" }, { name: "B" }, { name: "C" }] } : c)) },
    });
    const envAfter = (was: unknown) => {
      const back = restorePod(withEnvRecord(was));
      return back.ok ? back.pod.spec.containers.find((c) => c.name === "istio-proxy")?.env?.map((e) => e.name) : back.message;
    };
    expect(envAfter([[3, { name: "X" }], [1, { name: "Y" }]])).toEqual(["A", "Y", "B", "C", "X"]);
    expect(envAfter([[1, { name: "Y" }], [1, { name: "X" }]])).toEqual(["A", "X", "Y", "B", "C"]);
    expect(envAfter([[1, { name: "Y" }], [10, { name: "X" }]])).toEqual(["A", "Y", "B", "C", "X"]);
    // A negative position is no position recordOriginal writes: refused, not spliced from the end.
    expect(envAfter([[-1, { name: "Y" }]])).toBe(
      "original.env.was[0][0]: must be a position, a whole number from 0 (got number -1) (the record was edited or damaged; re-create the pod from its un-injected manifest)",
    );
  });
});
