// The cluster snapshot source against a fake API server on 127.0.0.1: list +
// watch of Namespaces and HookpointPolicies, policy acceptance and its status,
// propagation of changes, and what happens when watches fail, expire (410),
// stall, or the API server goes away.
import { Registry } from "prom-client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { judgePolicy, type ClusterPolicy, type ConditionCore } from "../../../src/k8s/acceptance.js";
import { createClusterSource, type ClusterSource, type ClusterSourceOptions } from "../../../src/k8s/cluster-source.js";
import { PolicyStatusWriter } from "../../../src/k8s/policy-status.js";
import { createSourceMetrics } from "../../../src/k8s/source-metrics.js";
import type { HookpointPolicySpec } from "../../../src/policy/types.js";
import { settings } from "../../support/pods.js";
import { FakeKubeApi } from "./fake-kube-api.js";
import { decision, eventually, metricValue, RecordingLogger } from "./support.js";

const ENABLED = { "hookpoint.dev/inject": "enabled" };
const PERF: HookpointPolicySpec = {
  mode: "Enabled",
  priority: 10,
  namespaceSelector: { matchLabels: { team: "perf" } },
  defaultProfile: "deep",
  profiles: { deep: { scripts: ["envoy-socket-io"] } },
};
const T0 = "2025-03-01T10:00:00Z";

const DEFAULT_SCRIPTS = ["envoy-request-flow", "envoy-event-loop"];
const byNamespaceLabel = { inject: true, decidedBy: "namespace-label", reason: "namespace-enabled", policy: null, image: settings.defaultImage, scripts: DEFAULT_SCRIPTS };
const byPerfPolicy = (scripts = ["envoy-socket-io"]) => ({ inject: true, decidedBy: "policy", reason: "policy-enabled", policy: "perf", image: settings.defaultImage, scripts });
const notOptedIn = { inject: false, decidedBy: "default", reason: "not-opted-in", policy: null, image: undefined, scripts: undefined };

let api: FakeKubeApi;
let running: ClusterSource[] = [];

beforeEach(async () => {
  api = new FakeKubeApi();
  await api.start();
});

afterEach(async () => {
  for (const s of running) await s.stop();
  running = [];
  await api.stop();
});

function startSource(overrides: Partial<ClusterSourceOptions> = {}) {
  const log = new RecordingLogger();
  const registry = new Registry();
  let clock = new Date(T0);
  const source = createClusterSource({
    kubeConfig: api.kubeConfig(),
    settings,
    logger: log,
    metrics: createSourceMetrics(registry),
    // random 1: the delays are exactly 50, 100, 200, 200 ms.
    backoff: { initialMs: 50, maxMs: 200, random: () => 1 },
    now: () => clock,
    ...overrides,
  });
  running.push(source);
  void source.start();
  return {
    source,
    log,
    registry,
    setClock: (iso: string) => {
      clock = new Date(iso);
    },
    metric: (name: string, labels: Record<string, string> = {}) => metricValue(registry, name, labels),
  };
}

const condition = (name: string) => (api.policies.get(name)?.status as { conditions?: Record<string, unknown>[] } | undefined)?.conditions?.[0];
const writesFor = (name: string) => api.statusWrites.filter((w) => w.name === name);
const crdReads = () => api.requests.filter((r) => r.path === "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/hookpointpolicies.hookpoint.dev").length;

/** Wait until the source has seen every policy event sent so far: events of one watch arrive in order. */
async function policyBarrier(source: ClusterSource, tag: string): Promise<void> {
  api.applyPolicy(`barrier-${tag}`, { mode: "OptIn", priority: -100 });
  await eventually(`barrier ${tag}`, () => source.state().policies.some((p) => p.name === `barrier-${tag}`));
}

describe("sync", () => {
  it("lists namespaces and policies, then decides from memory only", async () => {
    api.setNamespace("bookinfo", ENABLED);
    api.setNamespace("perf", { team: "perf" });
    api.applyPolicy("perf", PERF);
    const { source, metric, log } = startSource();

    await source.whenSynced(5_000);
    expect(source.synced()).toBe(true);
    expect(decision(source.current(), "bookinfo")).toEqual(byNamespaceLabel);
    expect(decision(source.current(), "perf")).toEqual(byPerfPolicy());
    expect(decision(source.current(), "web")).toEqual(notOptedIn);
    expect(source.describe()).toBe(`cluster ${api.url}`);

    const before = api.requests.length;
    for (let i = 0; i < 100; i++) decision(source.current(), i % 2 ? "perf" : "bookinfo");
    expect(api.requests.length).toBe(before);

    expect(log.find("cluster snapshot synced").map((l) => l.fields)).toEqual([{ namespaces: 2, policies: 1, accepted: 1 }]);
    expect(await metric("hookpoint_source_connected", { resource: "namespaces" })).toBe(1);
    expect(await metric("hookpoint_source_connected", { resource: "hookpointpolicies" })).toBe(1);
    expect(await metric("hookpoint_policies", { accepted: "true" })).toBe(1);
    expect(await metric("hookpoint_policies", { accepted: "false" })).toBe(0);
    expect(await metric("hookpoint_snapshot_age_seconds")).toBe(0);
    expect(await metric("hookpoint_source_restarts_total", { resource: "namespaces" })).toBe(0);
  });

  it("is not synced, and decides with the built-in defaults, until both lists arrive", async () => {
    api.setNamespace("bookinfo", ENABLED);
    api.faults.push({ method: "GET", resource: "hookpointpolicies", on: "list", status: 500, times: 2 });
    const { source, log } = startSource();
    await eventually("a failed policy list", () => log.find("watch failed; retrying").length >= 1);
    expect(source.synced()).toBe(false);
    expect(decision(source.current(), "bookinfo")).toEqual(notOptedIn);
    await source.whenSynced(5_000);
    expect(decision(source.current(), "bookinfo")).toEqual(byNamespaceLabel);
    expect(log.find("watch failed; retrying").map((l) => l.fields)).toEqual([
      { resource: "hookpointpolicies", err: "HTTP 500: injected failure 500", retryInMs: 50, failures: 1, freshInformer: false },
      { resource: "hookpointpolicies", err: "HTTP 500: injected failure 500", retryInMs: 100, failures: 2, freshInformer: false },
    ]);
  });

  it("without the HookpointPolicy CRD, syncs with no policies (the built-in defaults, as explain and check say), a known current state, and takes the policies once it is installed", async () => {
    api.servePolicies = false;
    api.crdStored = false;
    api.setNamespace("bookinfo", ENABLED);
    api.setNamespace("perf", { team: "perf" });
    const { source, log, metric } = startSource();
    await source.whenSynced(5_000);
    // The retries go on (50, 100, 200, 200 ms here), each confirming the CRD absent again.
    await eventually("four CRD reads", () => crdReads() >= 4);
    expect(decision(source.current(), "bookinfo")).toEqual(byNamespaceLabel);
    expect(source.state()).toMatchObject({ synced: true, connected: { namespaces: true, hookpointpolicies: true }, policyCrdAbsent: true, snapshotAgeSeconds: 0, policies: [] });
    expect(await metric("hookpoint_snapshot_age_seconds")).toBe(0);
    expect(await metric("hookpoint_source_connected", { resource: "hookpointpolicies" })).toBe(1);
    expect(await metric("hookpoint_source_restarts_total", { resource: "hookpointpolicies" })).toBe(0);
    const treatedAsEmpty = [{ level: "warn", msg: "resource not served; treated as empty", fields: { resource: "hookpointpolicies", err: "HTTP 404: the server could not find the requested resource" } }];
    expect(log.lines.filter((l) => l.fields.resource === "hookpointpolicies")).toEqual(treatedAsEmpty);

    api.servePolicies = true;
    api.crdStored = true;
    api.applyPolicy("perf", PERF);
    await eventually("the policy once the CRD is served", () => decision(source.current(), "perf").policy === "perf");
    expect(decision(source.current(), "perf")).toEqual(byPerfPolicy());
    await eventually("policies watched", () => log.find("watch connected").some((l) => l.fields.resource === "hookpointpolicies"));
    expect(source.state()).toMatchObject({ connected: { namespaces: true, hookpointpolicies: true }, policyCrdAbsent: false, snapshotAgeSeconds: 0 });
    expect(await metric("hookpoint_snapshot_age_seconds")).toBe(0);
    expect(await metric("hookpoint_source_connected", { resource: "hookpointpolicies" })).toBe(1);
    expect(log.lines.filter((l) => l.fields.resource === "hookpointpolicies" && l.msg !== "policy accepted")).toEqual([
      ...treatedAsEmpty,
      { level: "info", msg: "resource served again", fields: { resource: "hookpointpolicies", items: 1 } },
      { level: "info", msg: "watch connected", fields: { resource: "hookpointpolicies" } },
    ]);
  });

  it("a CRD absence that can no longer be confirmed (its read gets no answer) is not current: the snapshot ages from the last confirmation", async () => {
    api.servePolicies = false;
    api.crdStored = false;
    api.setNamespace("bookinfo", ENABLED);
    const { source, log, metric } = startSource({ listTimeoutMs: 300, resyncMs: 60_000 });
    await source.whenSynced(5_000);
    expect(source.state()).toMatchObject({ connected: { hookpointpolicies: true }, policyCrdAbsent: true, snapshotAgeSeconds: 0 });

    api.crdSilent = true;
    await eventually("a retry logged", () => log.find("watch failed; retrying").find((l) => l.fields.resource === "hookpointpolicies"));
    expect(log.find("resource not served; cannot tell whether it exists")[0]?.fields).toEqual({ resource: "hookpointpolicies", err: "The user aborted a request." });
    const failed = () => log.find("watch failed; retrying").filter((l) => l.fields.resource === "hookpointpolicies");
    expect(failed()[0]?.fields).toMatchObject({ err: "HTTP 404: the server could not find the requested resource", freshInformer: true });
    expect(source.state()).toMatchObject({ connected: { namespaces: true, hookpointpolicies: false }, policyCrdAbsent: false, policies: [] });
    // Last confirmed before the read that was given up after 300 ms.
    expect(source.state().snapshotAgeSeconds).toBeGreaterThanOrEqual(0.3);
    expect(await metric("hookpoint_source_connected", { resource: "hookpointpolicies" })).toBe(0);
    // Each failed check is a restart again, counted and logged (the next one comes 500 ms later at the soonest).
    expect(await metric("hookpoint_source_restarts_total", { resource: "hookpointpolicies" })).toBe(failed().length);
    expect(decision(source.current(), "bookinfo")).toEqual(byNamespaceLabel);

    api.crdSilent = false;
    await eventually("absent again", () => source.state().policyCrdAbsent);
    expect(source.state()).toMatchObject({ connected: { namespaces: true, hookpointpolicies: true }, snapshotAgeSeconds: 0 });
    expect(await metric("hookpoint_snapshot_age_seconds")).toBe(0);
    // The same absence: not announced again.
    expect(log.find("resource not served; treated as empty")).toHaveLength(1);
  });

  it("a CRD deleted under a running webhook takes its policies with it", async () => {
    api.setNamespace("perf", { team: "perf" });
    api.applyPolicy("perf", PERF);
    const { source } = startSource();
    await source.whenSynced(5_000);
    expect(decision(source.current(), "perf")).toEqual(byPerfPolicy());
    // As if the DELETED events were missed: the CRD and its objects are gone at the next list.
    await api.stop();
    api.policies.clear();
    api.servePolicies = false;
    api.crdStored = false;
    api.compact();
    await api.start();
    await eventually("the policy gone", () => decision(source.current(), "perf").policy === null);
    expect(decision(source.current(), "perf")).toEqual(notOptedIn);
  });

  it("policies not served for a while although their CRD exists (an API server restarting) are kept, and a fresh start waits for them", async () => {
    api.setNamespace("perf", { team: "perf" });
    api.applyPolicy("perf", { ...PERF, mode: "Disabled" });
    api.setNamespace("web", ENABLED);
    const { source, log } = startSource();
    await source.whenSynced(5_000);
    await api.stop();
    api.servePolicies = false;
    api.compact();
    await api.start();
    await eventually("a few failed lists", () => log.find("watch failed; retrying").filter((l) => l.fields.resource === "hookpointpolicies").length >= 3);
    // The kill switch stays in force: a 404 alone never drops the policies.
    expect(decision(source.current(), "perf")).toMatchObject({ inject: false, policy: "perf", reason: "policy-disabled" });
    expect(log.find("resource not served; treated as empty")).toEqual([]);

    const fresh = startSource();
    await expect(fresh.source.whenSynced(500)).rejects.toThrow(`not synced with cluster ${api.url} after 500 ms`);
    api.servePolicies = true;
    await fresh.source.whenSynced(5_000);
    expect(decision(fresh.source.current(), "perf")).toMatchObject({ inject: false, policy: "perf", reason: "policy-disabled" });
  });

  it("a CRD read that gets no answer ends with the list timeout: the watcher retries, and syncs once the CRD is known absent", async () => {
    api.servePolicies = false;
    api.crdStored = false;
    api.crdSilent = true;
    api.setNamespace("bookinfo", ENABLED);
    // The watchdog alone would replace a hung attempt only after the 60 s resync: here the read must end in 300 ms.
    const { source, log } = startSource({ listTimeoutMs: 300, resyncMs: 60_000 });
    await eventually("two CRD reads given up", () => log.find("resource not served; cannot tell whether it exists").length >= 2);
    expect(log.find("resource not served; cannot tell whether it exists")[0]?.fields).toEqual({ resource: "hookpointpolicies", err: "The user aborted a request." });
    expect(source.synced()).toBe(false);

    api.crdSilent = false;
    await source.whenSynced(5_000);
    expect(source.state().policies).toEqual([]);
  });

  it("pages through large lists", async () => {
    for (let i = 0; i < 1_200; i++) api.setNamespace(`ns-${String(i).padStart(4, "0")}`, i % 100 === 0 ? ENABLED : {});
    const { source } = startSource();
    await source.whenSynced(10_000);
    const lists = api.requests.filter((r) => r.path === "/api/v1/namespaces" && r.query.watch !== "true");
    expect(lists.map((r) => [r.query.limit, r.query.continue !== undefined])).toEqual([
      ["500", false],
      ["500", true],
      ["500", true],
    ]);
    expect(source.state().namespaces).toBe(1_200);
    expect(decision(source.current(), "ns-1100")).toEqual(byNamespaceLabel);
    expect(decision(source.current(), "ns-1101")).toEqual(notOptedIn);
  });
});

describe("policy acceptance and status", () => {
  it("a valid policy gets Accepted=True with observedGeneration, written once", async () => {
    api.applyPolicy("perf", PERF);
    const { source } = startSource();
    await source.whenSynced(5_000);
    await eventually("status written", () => condition("perf"));
    expect(api.policies.get("perf")?.status).toEqual({
      conditions: [{ type: "Accepted", status: "True", reason: "Valid", message: "The policy is valid and in force.", observedGeneration: 1, lastTransitionTime: T0 }],
      acceptedGeneration: 1,
      acceptedSpec: PERF,
    });
    await policyBarrier(source, "1");
    expect(writesFor("perf")).toHaveLength(1);
    expect(api.count({ method: "PUT", path: "/apis/hookpoint.dev/v1alpha1/hookpointpolicies/perf/status" })).toBe(1);
  });

  it("an invalid update keeps the last accepted version in force and says why; lastTransitionTime moves only on flips", async () => {
    api.setNamespace("perf", { team: "perf" });
    api.applyPolicy("perf", PERF);
    const { source, log, setClock, metric } = startSource();
    await source.whenSynced(5_000);
    await eventually("generation 1 accepted", () => condition("perf")?.observedGeneration === 1);

    // Generation 2 would switch tracing off, but it names a profile that does not exist.
    setClock("2025-03-01T10:05:00Z");
    api.applyPolicy("perf", { ...PERF, mode: "Disabled", defaultProfile: "fast" });
    await eventually("generation 2 rejected", () => condition("perf")?.observedGeneration === 2);
    expect(condition("perf")).toEqual({
      type: "Accepted",
      status: "False",
      reason: "Invalid",
      message: 'spec.defaultProfile: names profile "fast", which is not defined (profiles: deep)',
      observedGeneration: 2,
      lastTransitionTime: "2025-03-01T10:05:00Z",
    });
    expect(decision(source.current(), "perf")).toEqual(byPerfPolicy());
    expect((api.policies.get("perf")?.status as Record<string, unknown>).acceptedGeneration).toBe(1);
    expect(log.find("policy rejected").map((l) => l.fields)).toEqual([
      { policy: "perf", generation: 2, problems: 'spec.defaultProfile: names profile "fast", which is not defined (profiles: deep)', inForce: "previous", inForceGeneration: 1 },
    ]);
    expect(source.state().policies).toEqual([
      { name: "perf", generation: 2, accepted: false, inForce: "previous", inForceGeneration: 1, message: 'spec.defaultProfile: names profile "fast", which is not defined (profiles: deep)' },
    ]);
    expect(await metric("hookpoint_policies", { accepted: "false" })).toBe(1);
    expect(await metric("hookpoint_policies", { accepted: "true" })).toBe(0);

    // Still invalid, for other reasons: the message changes, the transition time does not.
    setClock("2025-03-01T10:10:00Z");
    api.applyPolicy("perf", { ...PERF, defaultProfile: "fast", allowedImages: ["Registry.example.com/X/*"] });
    await eventually("generation 3 rejected", () => condition("perf")?.observedGeneration === 3);
    expect(condition("perf")).toEqual({
      type: "Accepted",
      status: "False",
      reason: "Invalid",
      message:
        'spec.defaultProfile: names profile "fast", which is not defined (profiles: deep); spec.allowedImages[0]: pattern "Registry.example.com/X/*" can never match: it has upper-case letters in the repository path, which no image reference has',
      observedGeneration: 3,
      lastTransitionTime: "2025-03-01T10:05:00Z",
    });
    expect(decision(source.current(), "perf")).toEqual(byPerfPolicy());

    // Fixed: generation 4 governs at once.
    setClock("2025-03-01T10:15:00Z");
    api.applyPolicy("perf", { ...PERF, profiles: { deep: { scripts: ["envoy-filter-chain"] } } });
    await eventually("generation 4 accepted", () => condition("perf")?.observedGeneration === 4);
    expect(condition("perf")).toEqual({ type: "Accepted", status: "True", reason: "Valid", message: "The policy is valid and in force.", observedGeneration: 4, lastTransitionTime: "2025-03-01T10:15:00Z" });
    expect(decision(source.current(), "perf")).toEqual(byPerfPolicy(["envoy-filter-chain"]));
    expect(writesFor("perf").map((w) => (w.status as { acceptedGeneration: number }).acceptedGeneration)).toEqual([1, 1, 1, 4]);
  });

  it("an invalid policy without an accepted version governs nothing", async () => {
    api.setNamespace("perf", { team: "perf" });
    api.applyPolicy("perf", PERF);
    // Higher priority and mode Disabled: if it governed, nothing in perf would be traced.
    api.applyPolicy("broken", { mode: "Disabled", priority: 100, defaultProfile: "nope" });
    const { source, metric } = startSource();
    await source.whenSynced(5_000);
    expect(decision(source.current(), "perf")).toEqual(byPerfPolicy());
    await eventually("broken rejected", () => condition("broken"));
    expect(condition("broken")).toEqual({
      type: "Accepted",
      status: "False",
      reason: "Invalid",
      message: 'spec.defaultProfile: names profile "nope", which is not defined (profiles: none)',
      observedGeneration: 1,
      lastTransitionTime: T0,
    });
    expect(api.policies.get("broken")?.status).not.toHaveProperty("acceptedSpec");
    expect(source.state().policies.find((p) => p.name === "broken")).toEqual({
      name: "broken",
      generation: 1,
      accepted: false,
      inForce: "none",
      inForceGeneration: undefined,
      message: 'spec.defaultProfile: names profile "nope", which is not defined (profiles: none)',
    });
    expect(await metric("hookpoint_policies", { accepted: "false" })).toBe(1);
    expect(await metric("hookpoint_policies", { accepted: "true" })).toBe(1);
  });

  it("a restarted replica keeps the accepted version recorded in status in force", async () => {
    api.setNamespace("perf", { team: "perf" });
    api.applyPolicy("perf", PERF);
    const first = startSource();
    await first.source.whenSynced(5_000);
    await eventually("generation 1 accepted", () => condition("perf")?.observedGeneration === 1);
    api.applyPolicy("perf", { ...PERF, defaultProfile: "fast" });
    await eventually("generation 2 rejected", () => condition("perf")?.observedGeneration === 2);

    const second = startSource();
    await second.source.whenSynced(5_000);
    expect(decision(second.source.current(), "perf")).toEqual(byPerfPolicy());
    expect(second.source.state().policies).toEqual([
      { name: "perf", generation: 2, accepted: false, inForce: "previous", inForceGeneration: 1, message: 'spec.defaultProfile: names profile "fast", which is not defined (profiles: deep)' },
    ]);
  });

  it("without acceptedSpec in the CRD's status schema, a restarted replica has no accepted version to fall back on", async () => {
    api.prunedStatusFields = ["acceptedGeneration", "acceptedSpec"];
    api.setNamespace("perf", { team: "perf" });
    api.applyPolicy("perf", PERF);
    const first = startSource();
    await first.source.whenSynced(5_000);
    await eventually("generation 1 accepted", () => condition("perf")?.observedGeneration === 1);
    api.applyPolicy("perf", { ...PERF, defaultProfile: "fast" });
    await eventually("generation 2 rejected", () => condition("perf")?.observedGeneration === 2);

    const second = startSource();
    await second.source.whenSynced(5_000);
    expect(decision(first.source.current(), "perf")).toEqual(byPerfPolicy());
    expect(decision(second.source.current(), "perf")).toEqual(notOptedIn);
  });

  it("two replicas write each change once (resourceVersion-guarded writes)", async () => {
    api.applyPolicy("perf", PERF);
    const a = startSource();
    const b = startSource();
    await Promise.all([a.source.whenSynced(5_000), b.source.whenSynced(5_000)]);
    await eventually("accepted", () => condition("perf")?.observedGeneration === 1);
    await policyBarrier(a.source, "a1");
    await eventually("b saw the barrier", () => b.source.state().policies.some((p) => p.name === "barrier-a1"));
    expect(writesFor("perf")).toHaveLength(1);

    api.applyPolicy("perf", { ...PERF, defaultProfile: "fast" });
    await eventually("rejected", () => condition("perf")?.observedGeneration === 2);
    await policyBarrier(a.source, "a2");
    await eventually("b saw the barrier", () => b.source.state().policies.some((p) => p.name === "barrier-a2"));
    expect(writesFor("perf")).toHaveLength(2);
    expect(api.count({ method: "PUT", path: "/apis/hookpoint.dev/v1alpha1/hookpointpolicies/perf/status", status: 200 })).toBe(2);
  });

  it("retries a failed status write with backoff", async () => {
    api.applyPolicy("perf", PERF);
    api.faults.push({ method: "PUT", resource: "hookpointpolicies", on: "status", status: 403, times: 2 });
    const { source, log } = startSource();
    await source.whenSynced(5_000);
    await eventually("status written", () => condition("perf"));
    expect(log.find("policy status write failed; retrying").map((l) => l.fields)).toEqual([
      { policy: "perf", status: 403, err: "HTTP 403: injected failure 403", retryInMs: 50 },
      { policy: "perf", status: 403, err: "HTTP 403: injected failure 403", retryInMs: 100 },
    ]);
    expect(writesFor("perf")).toHaveLength(1);
  });

  it("slows down instead of fighting another writer over the status", async () => {
    api.applyPolicy("perf", PERF);
    const { source, log } = startSource();
    await source.whenSynced(5_000);
    await eventually("accepted", () => writesFor("perf").length === 1);
    const other = { conditions: [{ type: "Accepted", status: "False", reason: "Invalid", message: "unknown script", observedGeneration: 1, lastTransitionTime: "2025-01-01T00:00:00Z" }] };
    for (let round = 1; round <= 3; round++) {
      api.overwriteStatus("perf", other);
      await eventually(`rewrite ${round}`, () => writesFor("perf").length === 1 + round);
    }
    expect(log.find("policy status replaced by another writer; rewriting after a delay").map((l) => l.fields)).toEqual([
      { policy: "perf", retryInMs: 50, rewrites: 1 },
      { policy: "perf", retryInMs: 100, rewrites: 2 },
      { policy: "perf", retryInMs: 200, rewrites: 3 },
    ]);
    expect(condition("perf")).toMatchObject({ status: "True", reason: "Valid", observedGeneration: 1 });
  });

  /** A status writer alone (no informer) over the policy "perf", and that policy as first stored with its verdict. */
  function writerOfPerf() {
    api.applyPolicy("perf", PERF);
    const log = new RecordingLogger();
    const writer = new PolicyStatusWriter({ kubeConfig: api.kubeConfig(), log, backoff: { initialMs: 50, maxMs: 200, random: () => 1 }, now: () => new Date(T0) });
    const before = structuredClone(api.policies.get("perf")!) as unknown as ClusterPolicy;
    return { log, writer, before, verdict: judgePolicy(before, ["envoy-socket-io"]) };
  }

  it("the object it wrote over, handed in again (the routing pass holds what the informer last delivered), is no other writer", async () => {
    const { log, writer, before, verdict } = writerOfPerf();
    try {
      writer.update(before, verdict);
      await eventually("status written", () => writesFor("perf").length === 1);
      await eventually("write answered", () => log.find("policy status written").length === 1);
      writer.update(before, verdict);
      await new Promise((r) => setTimeout(r, 300));
      expect(log.find("policy status replaced by another writer; rewriting after a delay")).toEqual([]);
      expect(writesFor("perf")).toHaveLength(1);
    } finally {
      await writer.stop();
    }
  });

  it("the echo of its previous write, delivered while the next write is in flight, is no other writer", async () => {
    const { log, writer, before, verdict } = writerOfPerf();
    try {
      writer.update(before, verdict);
      await eventually("first write answered", () => log.find("policy status written").length === 1);
      // What the informer delivers of that first write, as the API server now holds it.
      const echo = structuredClone(api.policies.get("perf")!) as unknown as ClusterPolicy;
      const routed: ConditionCore[] = [{ type: "Routed", status: "True", reason: "Routed", message: "routed" }];
      writer.update(before, verdict, routed);
      // In the same turn, so before that second write's answer: the echo arrives.
      writer.update(echo, verdict, routed);
      await eventually("second write answered", () => log.find("policy status written").length === 2);
      await new Promise((r) => setTimeout(r, 300));
      expect(log.find("policy status replaced by another writer; rewriting after a delay")).toEqual([]);
      expect(writesFor("perf")).toHaveLength(2);
    } finally {
      await writer.stop();
    }
  });

  it("a deleted policy stops governing", async () => {
    api.setNamespace("perf", { team: "perf" });
    api.applyPolicy("perf", PERF);
    const { source, log } = startSource();
    await source.whenSynced(5_000);
    expect(decision(source.current(), "perf")).toEqual(byPerfPolicy());
    api.deletePolicy("perf");
    await eventually("perf no longer governs", () => decision(source.current(), "perf").policy === null);
    expect(decision(source.current(), "perf")).toEqual(notOptedIn);
    expect(log.find("policy deleted").map((l) => l.fields)).toEqual([{ policy: "perf" }]);
    expect(source.state().policies).toEqual([]);
  });

  it("writes no status when told not to", async () => {
    api.applyPolicy("perf", PERF);
    const { source } = startSource({ writeStatus: false });
    await source.whenSynced(5_000);
    await policyBarrier(source, "1");
    expect(api.statusWrites).toEqual([]);
  });
});

describe("propagation", () => {
  it("a namespace label change reaches new decisions", async () => {
    api.setNamespace("web", {});
    const { source } = startSource();
    await source.whenSynced(5_000);
    expect(decision(source.current(), "web")).toEqual(notOptedIn);
    api.setNamespace("web", ENABLED);
    await eventually("web enabled", () => decision(source.current(), "web").inject);
    expect(decision(source.current(), "web")).toEqual(byNamespaceLabel);
    api.setNamespace("web", { "hookpoint.dev/inject": "disabled" });
    await eventually("web vetoed", () => decision(source.current(), "web").reason === "namespace-disabled");
  });

  it("a policy change reaches new decisions", async () => {
    api.setNamespace("perf", { team: "perf" });
    api.applyPolicy("perf", PERF);
    const { source } = startSource();
    await source.whenSynced(5_000);
    api.applyPolicy("kill", { mode: "Disabled", priority: 1_000 });
    await eventually("kill switch", () => decision(source.current(), "perf").reason === "policy-disabled");
    expect(decision(source.current(), "perf")).toMatchObject({ inject: false, decidedBy: "policy", policy: "kill" });
  });

  it("notifies listeners of each new snapshot", async () => {
    api.setNamespace("web", {});
    const { source } = startSource();
    await source.whenSynced(5_000);
    const seen: boolean[] = [];
    const off = source.onChange((s) => seen.push(decision(s, "web").inject));
    api.setNamespace("web", ENABLED);
    await eventually("listener called", () => seen.length === 1);
    off();
    api.setNamespace("web", {});
    await eventually("web back to default", () => !decision(source.current(), "web").inject);
    expect(seen).toEqual([true]);
  });
});

describe("failures", () => {
  it("a failing watch restarts with backoff while the last snapshot stays in force", async () => {
    api.setNamespace("bookinfo", ENABLED);
    const { source, log, metric } = startSource();
    await source.whenSynced(5_000);
    api.faults.push({ method: "GET", resource: "namespaces", on: "watch", status: 500, times: 3 });
    api.closeWatches(); // the informer resumes the watch by itself, which now fails three times
    await eventually("three failures", () => log.find("watch failed; retrying").length === 3);
    expect(decision(source.current(), "bookinfo")).toEqual(byNamespaceLabel);
    await eventually("reconnected", () => source.state().connected.namespaces);
    expect(log.find("watch failed; retrying").map((l) => [l.fields.resource, l.fields.retryInMs])).toEqual([
      ["namespaces", 50],
      ["namespaces", 100],
      ["namespaces", 200],
    ]);
    expect(await metric("hookpoint_source_restarts_total", { resource: "namespaces" })).toBe(3);
    expect(await metric("hookpoint_source_restarts_total", { resource: "hookpointpolicies" })).toBe(0);
    api.setNamespace("bookinfo", {});
    await eventually("change after recovery", () => !decision(source.current(), "bookinfo").inject);
  });

  it.each([
    ["an ERROR event on the watch", false],
    ["HTTP 410 on the watch request", true],
  ])("410 Gone (%s): relists, and sees what changed meanwhile, deletions included", async (_what, asHttp) => {
    api.setNamespace("web", {});
    api.setNamespace("perf", { team: "perf" });
    api.applyPolicy("perf", PERF);
    const { source, log } = startSource();
    await source.whenSynced(5_000);
    expect(decision(source.current(), "perf")).toEqual(byPerfPolicy());

    await api.stop();
    api.setNamespace("web", ENABLED);
    api.deletePolicy("perf");
    api.compact();
    api.goneAsHttpStatus = asHttp;
    await api.start();

    await eventually("changes seen", () => decision(source.current(), "web").inject && decision(source.current(), "perf").policy === null);
    expect(decision(source.current(), "web")).toEqual(byNamespaceLabel);
    expect(decision(source.current(), "perf")).toEqual(notOptedIn);
    expect(log.find("resource relisted").map((l) => l.fields.resource).sort()).toEqual(["hookpointpolicies", "namespaces"]);
    expect(api.count({ method: "GET", path: "/api/v1/namespaces", watch: false })).toBe(2);
  });

  it("a policy deleted and created again while the watch was down (seen only in the relist) is judged as the new object alone", async () => {
    api.setNamespace("perf", { team: "perf" });
    api.setNamespace("web", { team: "web" });
    api.setNamespace("batch", { team: "batch" });
    const BATCH: HookpointPolicySpec = { ...PERF, namespaceSelector: { matchLabels: { team: "batch" } } };
    api.applyPolicy("perf", PERF);
    api.applyPolicy("batch", BATCH);
    const { source } = startSource();
    await source.whenSynced(5_000);
    expect(decision(source.current(), "perf")).toEqual(byPerfPolicy());
    expect(decision(source.current(), "batch")).toMatchObject({ inject: true, policy: "batch" });

    await api.stop();
    // The new objects have generation 1, like the old ones: only their uid tells them apart.
    api.deletePolicy("perf");
    api.applyPolicy("perf", { ...PERF, namespaceSelector: { matchLabels: { team: "web" } } });
    api.deletePolicy("batch");
    api.applyPolicy("batch", { ...BATCH, defaultProfile: "missing" });
    api.compact();
    await api.start();

    await eventually("relisted", () => source.state().policies.find((p) => p.name === "batch")?.accepted === false);
    await eventually("new perf in force", () => decision(source.current(), "web").inject);
    // The new perf governs web, not perf; the deleted batch's accepted version does not stand in for the new, invalid one.
    expect(decision(source.current(), "web")).toEqual(byPerfPolicy());
    expect(decision(source.current(), "perf")).toEqual(notOptedIn);
    expect(decision(source.current(), "batch")).toEqual(notOptedIn);
    expect(source.state().policies.find((p) => p.name === "batch")).toMatchObject({ accepted: false, inForce: "none" });
  });

  it("while the API server is unreachable the last snapshot stays in force, visibly", async () => {
    api.setNamespace("bookinfo", ENABLED);
    api.setNamespace("perf", { team: "perf" });
    api.applyPolicy("perf", PERF);
    const { source, log, metric } = startSource();
    await source.whenSynced(5_000);

    await api.stop();
    await eventually("both watches down", () => !source.state().connected.namespaces && !source.state().connected.hookpointpolicies);
    await eventually("connection refused logged", () => log.find("watch failed; retrying").some((l) => String(l.fields.err) === "connection refused"));
    expect(source.synced()).toBe(true);
    expect(decision(source.current(), "bookinfo")).toEqual(byNamespaceLabel);
    expect(decision(source.current(), "perf")).toEqual(byPerfPolicy());
    expect(await metric("hookpoint_source_connected", { resource: "namespaces" })).toBe(0);
    expect(await metric("hookpoint_source_connected", { resource: "hookpointpolicies" })).toBe(0);
    await eventually("snapshot ages", async () => ((await metric("hookpoint_snapshot_age_seconds")) ?? 0) > 0);
    expect(source.state().snapshotAgeSeconds).toBeGreaterThan(0);

    api.setNamespace("perf", {});
    await api.start();
    await eventually("both watches up", () => source.state().connected.namespaces && source.state().connected.hookpointpolicies);
    await eventually("change seen", () => decision(source.current(), "perf").policy === null);
    expect(await metric("hookpoint_snapshot_age_seconds")).toBe(0);
    expect(log.find("watch connected").length).toBeGreaterThanOrEqual(4);
  });

  it("starts while the API server is unreachable and syncs once it answers", async () => {
    await api.stop();
    api.setNamespace("bookinfo", ENABLED);
    const { source, metric } = startSource();
    await eventually("two failed attempts", async () => ((await metric("hookpoint_source_restarts_total", { resource: "namespaces" })) ?? 0) >= 2);
    expect(source.synced()).toBe(false);
    expect(decision(source.current(), "bookinfo")).toEqual(notOptedIn);
    await expect(source.whenSynced(50)).rejects.toThrow(`not synced with cluster ${api.url} after 50 ms`);
    await api.start();
    await source.whenSynced(5_000);
    expect(decision(source.current(), "bookinfo")).toEqual(byNamespaceLabel);
  });

  it("replaces a watch that fell silent (a dead connection)", async () => {
    api.setNamespace("web", {});
    const { source, log } = startSource({ resyncMs: 500 });
    await source.whenSynced(5_000);
    api.stallWatches = true;
    await eventually("stall detected", () => log.find("watch failed; retrying").find((l) => /^no response for \d+ s$/.test(String(l.fields.err))), 10_000);
    expect(log.find("watch failed; retrying").find((l) => String(l.fields.err).startsWith("no response"))?.fields.freshInformer).toBe(true);
    api.stallWatches = false;
    api.setNamespace("web", ENABLED);
    await eventually("recovered", () => source.state().connected.namespaces && decision(source.current(), "web").inject, 10_000);
  });

  it("backs off from a watch that closes as soon as it opens", async () => {
    api.setNamespace("web", {});
    const { source, log, metric } = startSource();
    await source.whenSynced(5_000);
    api.endWatchesAtOnce = true;
    api.closeWatches();
    await eventually("loop detected", () => log.find("watch failed; retrying").some((l) => l.fields.resource === "namespaces" && l.fields.err === "watch closes as soon as it opens"));
    expect(await metric("hookpoint_source_restarts_total", { resource: "namespaces" })).toBeGreaterThanOrEqual(1);
    api.endWatchesAtOnce = false;
    api.setNamespace("web", ENABLED);
    await eventually("recovered", () => source.state().connected.namespaces && decision(source.current(), "web").inject);
  });
});
