// npm run bench:policy — the decision inputs at cluster scale.
//  1. decision time with 10,000 namespaces and 100 HookpointPolicies in the
//     snapshot (target ≤ 20 µs), best and worst case of policy selection;
//  2. snapshot build time and retained heap (run with --expose-gc);
//  3. propagation: a namespace relabel or policy change on a (fake, loopback)
//     API server until new decisions see it (target ≤ 2 s), plus the cluster
//     source's sync time and memory with the same 10,000 + 100 objects;
//  4. the webhook process itself with that snapshot (from files): its resident
//     memory next to the same webhook with the example files, and its latency at
//     a fixed 500 reviews/s (bench/fixed-rate.ts) with either.
// Prints figures; asserts nothing. Every loop is bounded in count and time.
import { decide } from "../src/admission/decision.js";
import { reviewPod } from "../src/admission/review.js";
import { createClusterSource } from "../src/k8s/cluster-source.js";
import type { SourceLogger } from "../src/k8s/logger.js";
import { buildSnapshot, governingPolicy, namespaceLabels, type Snapshot } from "../src/policy/snapshot.js";
import type { HookpointPolicy, HookpointPolicySpec, NamespaceInfo } from "../src/policy/types.js";
import { FakeKubeApi } from "../test/integration/k8s/fake-kube-api.js";
import { atCreate, podReview } from "../test/unit/server/harness.js";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import https from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { settings } from "./common.js";
import { formatFixedRate, runFixedRateInChild } from "./fixed-rate.js";
import { realisticPod } from "./realistic-pod.js";
import { rssMiB, writeBenchCerts, type Server } from "./servers.js";

const ROOT = new URL("..", import.meta.url).pathname;

const NAMESPACES = 10_000;
const POLICIES = 100;
const DECISION_TARGET_US = 20;
const PROPAGATION_TARGET_MS = 2_000;

const gc = (globalThis as { gc?: () => void }).gc;
const fmt = (n: number, digits = 2) => n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** Namespaces as a large cluster labels them: team, environment, Istio injection, a few opted in. */
function namespaceLabelsFor(i: number): Record<string, string> {
  const labels: Record<string, string> = {
    "kubernetes.io/metadata.name": nsName(i),
    team: `team-${i % POLICIES}`,
    env: ["prod", "staging", "dev"][i % 3] as string,
    "istio-injection": "enabled",
    "app.kubernetes.io/part-of": `product-${i % 250}`,
  };
  if (i % 20 === 0) labels["hookpoint.dev/inject"] = "enabled";
  return labels;
}
const nsName = (i: number) => `ns-${String(i).padStart(5, "0")}`;

/** One policy per team (priority = team number), with selectors of every kind. */
function policySpec(t: number): HookpointPolicySpec {
  return {
    mode: t % 10 === 0 ? "Enabled" : "OptIn",
    priority: t,
    namespaceSelector: { matchLabels: { team: `team-${t}` }, matchExpressions: [{ key: "env", operator: "In", values: ["prod", "staging", "dev"] }] },
    podSelector: { matchExpressions: [{ key: "app", operator: "Exists" }] },
    allowPodOptIn: { matchLabels: { env: "dev" } },
    excludedNamespaces: [`legacy-${t}`],
    allowedImages: ["registry.example.com/tracing/*"],
    defaultProfile: "deep",
    profiles: { deep: { scripts: ["envoy-request-flow", "envoy-socket-io"] } },
  };
}
const policyOf = (t: number): HookpointPolicy => ({ apiVersion: "hookpoint.dev/v1alpha1", kind: "HookpointPolicy", metadata: { name: `team-${t}` }, spec: policySpec(t) });

function inputs(): { namespaces: NamespaceInfo[]; policies: HookpointPolicy[] } {
  const namespaces: NamespaceInfo[] = [];
  for (let i = 0; i < NAMESPACES; i++) namespaces.push({ name: nsName(i), labels: namespaceLabelsFor(i) });
  const policies: HookpointPolicy[] = [];
  for (let t = 0; t < POLICIES; t++) policies.push(policyOf(t));
  return { namespaces, policies };
}

function measure(label: string, fn: () => void, maxIterations = 200_000, maxMs = 3_000): number {
  for (let i = 0; i < 5_000; i++) fn(); // warm-up (JIT)
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(maxMs) * 1_000_000n;
  let n = 0;
  while (n < maxIterations) {
    fn();
    n++;
    if ((n & 1023) === 0 && process.hrtime.bigint() > deadline) break;
  }
  const us = Number(process.hrtime.bigint() - start) / 1e3 / n;
  console.log(`  ${label.padEnd(70)} ${fmt(us).padStart(8)} µs/op  (${n.toLocaleString("en-US")} iterations)`);
  return us;
}

function heapUsed(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
}

function section(title: string): void {
  console.log(`\n${title}`);
}

// --- 1. decisions -------------------------------------------------------------

console.log(`hookpoint bench:policy — node ${process.version}, ${NAMESPACES.toLocaleString("en-US")} namespaces, ${POLICIES} policies${gc ? "" : " (run with --expose-gc for memory figures)"}`);
const { namespaces, policies } = inputs();
const snapshot = buildSnapshot(namespaces, policies, settings);
const pod = realisticPod();
pod.metadata = { ...pod.metadata, labels: { ...pod.metadata?.labels, app: "reviews" } };
const podLabels = pod.metadata.labels ?? {};

function decideOnly(snap: Snapshot, ns: string) {
  const nsLabels = namespaceLabels(snap, ns);
  return decide({ pod, namespace: ns, nsLabels, policy: governingPolicy(snap, nsLabels, podLabels) });
}

section("decision: namespaceLabels + governingPolicy + decide (what admission does before mutating)");
const cases: [string, string][] = [
  ["best case: the highest-priority policy governs (1 policy tried)", nsName(99)],
  ["worst matching case: the lowest-priority policy governs (100 tried)", nsName(100)],
  ["worst case: a namespace no policy selects (100 tried, defaults)", "not-in-the-snapshot"],
];
let worstDecision = 0;
for (const [label, ns] of cases) {
  const d = decideOnly(snapshot, ns);
  const us = measure(`${label} → ${d.reason}, ${d.policy ?? "defaults"}`, () => void decideOnly(snapshot, ns));
  worstDecision = Math.max(worstDecision, us);
}
section("the whole admission core on a realistic Istio pod (decision + mutation + patch)");
measure(`reviewPod, skipped (${decideOnly(snapshot, nsName(1)).reason})`, () => void reviewPod(pod, nsName(1), snapshot, settings));
measure(`reviewPod, injected (${decideOnly(snapshot, nsName(20)).reason})`, () => void reviewPod(pod, nsName(20), snapshot, settings), 50_000);
console.log(`  target: decision ≤ ${DECISION_TARGET_US} µs — ${worstDecision <= DECISION_TARGET_US ? "met" : "NOT met"} (worst ${fmt(worstDecision)} µs)`);

// --- 2. snapshot build and memory -----------------------------------------------

section("snapshot: buildSnapshot over 10,000 namespaces and 100 policies (what each change costs)");
const builds: number[] = [];
const buildDeadline = Date.now() + 5_000;
for (let i = 0; i < 30 && Date.now() < buildDeadline; i++) {
  const t0 = process.hrtime.bigint();
  buildSnapshot(namespaces, policies, settings);
  builds.push(Number(process.hrtime.bigint() - t0) / 1e6);
}
builds.sort((a, b) => a - b);
console.log(`  build: median ${fmt(builds[Math.floor(builds.length / 2)] ?? 0)} ms, max ${fmt(builds[builds.length - 1] ?? 0)} ms (${builds.length} builds)`);
if (gc) {
  const before = heapUsed();
  const fresh = inputs();
  let kept: Snapshot | undefined = buildSnapshot(fresh.namespaces, fresh.policies, settings);
  fresh.namespaces.length = 0;
  fresh.policies.length = 0;
  const retained = heapUsed() - before;
  console.log(`  retained heap of one snapshot, its namespace labels and policies included: ${fmt(retained / 1024 / 1024)} MiB (${fmt(retained / NAMESPACES, 0)} B per namespace)`);
  kept = undefined;
  void kept;
}

// --- 3. propagation through a (fake) API server ----------------------------------

const quiet: SourceLogger = { debug() {}, info() {}, warn() {}, error() {} };

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))] ?? NaN;
}

/** The fake API server holds what examples/ does: 3 namespaces and the default policy. */
function fillExamples(api: FakeKubeApi): void {
  api.setNamespace("bookinfo", { "hookpoint.dev/inject": "enabled" });
  api.setNamespace("perf", { team: "perf" });
  api.setNamespace("payments", { "hookpoint.dev/inject": "disabled" });
  api.applyPolicy("default", { mode: "OptIn", allowPodOptIn: { matchLabels: { team: "perf" } }, defaultProfile: "default", profiles: { default: { scripts: ["envoy-request-flow", "envoy-event-loop"] } } });
}

/** The fake API server holds what a large cluster does: 10,000 namespaces, 100 policies. */
function fill(api: FakeKubeApi): void {
  for (let i = 0; i < NAMESPACES; i++) {
    const { "kubernetes.io/metadata.name": _n, ...labels } = namespaceLabelsFor(i);
    api.setNamespace(nsName(i), labels);
  }
  for (let t = 0; t < POLICIES; t++) api.applyPolicy(`team-${t}`, policySpec(t));
}

async function propagation(): Promise<void> {
  section("cluster source against a fake API server on 127.0.0.1 (list + watch, same process)");
  const api = new FakeKubeApi();
  await api.start();
  fill(api);

  const heapBefore = heapUsed();
  const source = createClusterSource({ kubeConfig: api.kubeConfig(), settings, logger: quiet });
  const t0 = performance.now();
  await source.start();
  await source.whenSynced(30_000);
  console.log(`  initial sync (paged lists of 10,000 namespaces and 100 policies, first snapshot): ${fmt(performance.now() - t0, 0)} ms`);
  if (gc) console.log(`  retained heap of the running source (informer caches + maps + snapshot): ${fmt((heapUsed() - heapBefore) / 1024 / 1024)} MiB`);

  /** Apply a change on the API server and time it until a new snapshot decides differently. Bounded by 5 s. */
  const timeChange = (change: () => void, changed: (s: Snapshot) => boolean): Promise<number> =>
    new Promise((resolve) => {
      const start = performance.now();
      const timer = setTimeout(() => {
        off();
        resolve(Infinity);
      }, 5_000);
      const off = source.onChange((s) => {
        if (!changed(s)) return;
        clearTimeout(timer);
        off();
        resolve(performance.now() - start);
      });
      change();
    });

  const report = (label: string, samples: number[]) => {
    const sorted = [...samples].sort((a, b) => a - b);
    const max = sorted[sorted.length - 1] ?? Infinity;
    console.log(
      `  ${label.padEnd(52)} p50 ${fmt(percentile(sorted, 0.5))} ms, p95 ${fmt(percentile(sorted, 0.95))} ms, max ${fmt(max)} ms (${samples.length} changes) — target ≤ ${PROPAGATION_TARGET_MS} ms ${max <= PROPAGATION_TARGET_MS ? "met" : "NOT met"}`,
    );
  };

  const relabel: number[] = [];
  // Namespaces not labelled yet whose team policy is OptIn: labelling one enabled flips its decision.
  const candidates = [...Array(NAMESPACES).keys()].filter((k) => k % 20 !== 0 && (k % POLICIES) % 10 !== 0);
  for (let i = 0; i < 20; i++) {
    const index = candidates[i * 37] ?? 1;
    const ns = nsName(index);
    const { "kubernetes.io/metadata.name": _n, ...labels } = namespaceLabelsFor(index);
    relabel.push(await timeChange(() => api.setNamespace(ns, { ...labels, "hookpoint.dev/inject": "enabled" }), (s) => decideOnly(s, ns).inject));
  }
  report("namespace relabel → new decision", relabel);

  const policyChange: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t = 1 + i * 3; // OptIn policies; switching one to Disabled flips decisions in its labelled namespaces
    const ns = nsName(t); // namespace t belongs to team t, so policy team-t governs its pods
    const disabled = (s: Snapshot) => decideOnly(s, ns).reason === "policy-disabled";
    policyChange.push(await timeChange(() => api.applyPolicy(`team-${t}`, { ...policySpec(t), mode: "Disabled" }), disabled));
  }
  report("policy change → new decision", policyChange);

  await source.stop();
  await api.stop();
}

await propagation();

// --- 4. the webhook process with the big snapshot ----------------------------------

/** An AdmissionReview of the realistic pod at CREATE in `namespace`. */
function reviewBody(namespace: string): string {
  return JSON.stringify(podReview(atCreate(pod), { uid: "7a1d5a2e-0000-4000-8000-000000000001", namespace }));
}

/** `hookpoint webhook` as deployed: the built CLI (dist/), synced from the API server behind `kubeconfig`. */
async function startBuiltWebhook(cert: string, key: string, kubeconfig: string, caPem: string): Promise<Server> {
  const child = spawn(
    process.execPath,
    [join(ROOT, "dist", "cli", "main.js"), "webhook", "--host", "127.0.0.1", "--port", "0", "--cert", cert, "--key", key, "--kubeconfig", kubeconfig, "--namespace", "hookpoint-system", "--shutdown-delay", "0", "--log-level", "warn"],
    { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] },
  );
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  // The port from /proc: the process listens on exactly one TCP port.
  const deadline = Date.now() + 60_000;
  let port = 0;
  while (!port && Date.now() < deadline && child.exitCode === null) {
    await new Promise((r) => setTimeout(r, 200));
    port = listeningPort(child.pid!);
  }
  if (!port) throw new Error(`the built webhook did not listen within 60 s (exit ${child.exitCode})`);
  // Ready = certificate loaded and the informers synced.
  while (Date.now() < deadline) {
    const ready = await new Promise<boolean>((resolve) => {
      https.get({ host: "127.0.0.1", port, path: "/readyz", ca: caPem, servername: "localhost" }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      }).on("error", () => resolve(false));
    });
    if (ready) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    child,
    port,
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

/** The TCP port a process listens on (from /proc/net/tcp and its socket inodes). */
function listeningPort(pid: number): number {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m?.[1]) inodes.add(m[1]);
    } catch {
      // the fd closed meanwhile
    }
  }
  for (const line of readFileSync("/proc/net/tcp", "utf8").split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[3] === "0A" && f[9] && inodes.has(f[9])) return parseInt(f[1]?.split(":")[1] ?? "0", 16);
  }
  return 0;
}

async function webhookMemory(): Promise<void> {
  section("hookpoint webhook as deployed (the built CLI, node dist/cli/main.js), synced from a fake API server: 10,000 namespaces and 100 policies, beside the 3 example namespaces and 1 policy");
  const dir = mkdtempSync(join(tmpdir(), "hookpoint-bench-policy-"));
  const servers: Server[] = [];
  const apis: FakeKubeApi[] = [];
  try {
    execFileSync(process.execPath, [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", join(ROOT, "tsconfig.build.json")], { stdio: "inherit" });
    const { caPem, cert, key } = writeBenchCerts(dir);
    const kubeconfigFor = async (name: string, fillIt: (api: FakeKubeApi) => void) => {
      const api = new FakeKubeApi();
      apis.push(api);
      await api.start();
      fillIt(api);
      const file = join(dir, `${name}.kubeconfig`);
      writeFileSync(file, api.kubeConfigYaml());
      return file;
    };
    const small = await startBuiltWebhook(cert, key, await kubeconfigFor("small", fillExamples), caPem);
    servers.push(small);
    const big = await startBuiltWebhook(cert, key, await kubeconfigFor("big", fill), caPem);
    servers.push(big);
    const runs = [
      ["3 namespaces, 1 policy", small, reviewBody("bookinfo")],
      // ns-00020 is labelled enabled (every 20th is) and its team policy governs: the pod is injected.
      ["10,000 namespaces, 100 policies", big, reviewBody(nsName(20))],
    ] as const;
    for (const [label, server] of runs) console.log(`  ${label.padEnd(32)} RSS ${fmt(rssMiB(server.child.pid!), 1)} MiB once synced`);
    for (const [label, server, body] of runs) {
      const r = await runFixedRateInChild({ url: `https://127.0.0.1:${server.port}/mutate`, ca: caPem, servername: "localhost", bodies: [body], rate: 500, durationSec: 4 });
      console.log(`  ${label.padEnd(32)} RSS ${fmt(rssMiB(server.child.pid!), 1)} MiB after 2,500 reviews at 500/s: ${formatFixedRate("", r).trim()}`);
    }
    console.log("  (the Deployment's memory request is 128 MiB, its limit 256 MiB; Node and the Kubernetes client library alone take about 110 MiB)");
  } finally {
    await Promise.all(servers.map((x) => x.stop()));
    for (const api of apis) await api.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await webhookMemory();
