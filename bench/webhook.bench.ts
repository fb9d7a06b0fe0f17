// npm run bench:webhook [-- --rates 200,500,1000] [--fixed-seconds S] [--fixed-rounds N] [--fixed 0|1] [--saturated 0|1]
//                          [--keep-cpus-awake 0|1] [--breakdown 0|1]
//                          [--duration S] [--rounds N] [--connections N] [--soak MINUTES]
//
// Two views of the real webhook over HTTPS next to a bare Fastify HTTPS server that
// answers a constant, each server in its own child process:
//
// 1. Fixed rate (what a cluster feels): 200, 500 and 1,000 reviews/s of the realistic
//    ~10 KB injected pod, open loop (bench/fixed-rate.ts, one driver process for every
//    run: latency from each request's due time, the first second not counted; each
//    server first loaded flat out, then at the highest rate, none of it counted),
//    HTTPS keep-alive; p50/p90/p99/max, errors and server CPU per review, hookpoint and
//    bare side by side at each rate, taking turns for --fixed-rounds rounds (default 2,
//    the order rotating) with each server's latencies pooled over its rounds, so one
//    disturbed slot of the shared machine does not land on one server alone. Targets (DESIGN.md) at
//    1,000/s: p50 ≤ 1 ms, p99 ≤ 1.25 × bare's p99, 0 errors. --keep-cpus-awake 1 runs
//    this section with a SCHED_IDLE busy loop on every CPU (bench/cpus-awake.ts), so
//    no CPU halts between requests: latencies without a virtual machine's wake-ups.
// 2. Saturated (what it costs): autocannon, 32 connections, seven realistic bodies
//    (injected and skipped); rounds alternate bare/sized/webhook so drift hits all
//    alike. "sized" is a bare server that answers each body with a constant text
//    exactly as large as the webhook's answer to it. Target: throughput ratio
//    webhook/bare ≥ 0.5 (stretch 0.65). Server CPU per request is printed.
//
// Then where Istio's injector is compared: npm run bench:injector runs istiod's /inject
// and this webhook side by side in one run (this line says whether istiod is built). Prints figures; asserts nothing about time. --breakdown 1 adds
// saturated runs with injected-only and skipped-only bodies. --soak runs the webhook
// alone and reports its resident memory at start and end.
// BENCH_NODE_FLAGS="--cpu-prof --cpu-prof-dir=DIR" passes flags to both server processes (profiling);
// BENCH_WEBHOOK_NODE_FLAGS to this webhook only, BENCH_BASELINE_NODE_FLAGS to the --compare one only
// (e.g. --compare on a checkout of the same commit: one V8 flag tried side by side).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import https from "node:https";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import type { Pod } from "../src/admission/pod.js";
import { answerJson } from "../src/server/answer-json.js";
import { answerPod, classify } from "../src/server/answer.js";
import type { AdmissionReview } from "../src/server/review-types.js";
import { ISTIO_BUILD_SCRIPT } from "../test/e2e/support/istio-binaries.js";
import { loadPod } from "../test/support/pods.js";
import { atCreate, podReview } from "../test/unit/server/harness.js";
import { exampleSource, rotated } from "./common.js";
import { keepCpusAwake } from "./cpus-awake.js";
import { cpuUs, rssMiB, startServer, writeBenchCerts, type Server } from "./servers.js";
import { formatFixedRate, pooled, startFixedRateDriver, type FixedRateDriver, type FixedRateResult } from "./fixed-rate.js";
import { realisticPod } from "./realistic-pod.js";

interface Flags {
  duration: number;
  warmup: number;
  rounds: number;
  connections: number;
  breakdown: number;
  soak: number;
  fixed: number;
  fixedSeconds: number;
  fixedRounds: number;
  saturated: number;
  keepCpusAwake: number;
  rates: number[];
  /** Another checkout of hookpoint whose webhook runs beside this one ("baseline"), for before/after figures. */
  compare: string | undefined;
}

function flags(argv: string[]): Flags {
  const f: Flags = { duration: 8, warmup: 2, rounds: 2, connections: 32, breakdown: 0, soak: 0, fixed: 1, fixedSeconds: 5, fixedRounds: 2, saturated: 1, keepCpusAwake: 0, rates: [200, 500, 1000], compare: undefined };
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i]?.replace(/^--/, "").replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase()) as keyof Flags;
    if (name === "compare") {
      f.compare = argv[i + 1];
      if (!f.compare || !existsSync(join(f.compare, "bench", "webhook-server.ts"))) throw new Error(`--compare needs a hookpoint checkout with bench/webhook-server.ts, got ${argv[i + 1] ?? "nothing"}`);
      i++;
      continue;
    }
    if (name === "rates") {
      f.rates = (argv[i + 1] ?? "").split(",").map(Number);
      if (f.rates.some((r) => !(r > 0 && r <= 5000))) throw new Error(`--rates must be a comma list of rates between 1 and 5,000, got ${argv[i + 1] ?? ""}`);
      i++;
      continue;
    }
    const value = Number(argv[i + 1]);
    if (!(name in f) || !Number.isFinite(value) || value < 0) throw new Error(`unknown flag or bad value: ${argv[i]} ${argv[i + 1] ?? ""}`);
    (f as unknown as Record<string, number>)[name] = value;
    i++;
  }
  // On or off: a bigger number is no count of anything, and is refused rather than read as 1.
  for (const [flag, value] of [["--fixed", f.fixed], ["--saturated", f.saturated], ["--breakdown", f.breakdown], ["--keep-cpus-awake", f.keepCpusAwake]] as const) {
    if (value !== 0 && value !== 1) throw new Error(`${flag} must be 0 or 1, got ${value}`);
  }
  f.fixedSeconds = Math.min(Math.max(f.fixedSeconds, 1), 30);
  f.fixedRounds = Math.min(Math.max(Math.round(f.fixedRounds), 1), 5);
  // Bounded whatever is asked: at most 60 s per measured run, 24 h of soak.
  f.duration = Math.min(Math.max(f.duration, 1), 60);
  f.rounds = Math.min(Math.max(Math.round(f.rounds), 1), 5);
  f.soak = Math.min(f.soak, 24 * 60);
  return f;
}

// ---- bodies --------------------------------------------------------------

/** Namespaces are those of examples/namespaces.yaml, which the webhook child loads. */
const SHAPES: Array<{ label: string; pod: Pod; namespace: string; expect: "injected" | "skipped" }> = [
  { label: "classic sidecar, 10 KB with managedFields", pod: realisticPod(), namespace: "bookinfo", expect: "injected" },
  { label: "native sidecar (initContainers)", pod: loadPod("native-sidecar"), namespace: "bookinfo", expect: "injected" },
  { label: "several app containers", pod: loadPod("several-apps"), namespace: "bookinfo", expect: "injected" },
  { label: "gateway", pod: loadPod("gateway"), namespace: "bookinfo", expect: "injected" },
  { label: "classic sidecar, namespace vetoed", pod: realisticPod(), namespace: "payments", expect: "skipped" },
  { label: "classic sidecar, not opted in", pod: loadPod("classic-sidecar"), namespace: "perf", expect: "skipped" },
  { label: "no proxy container", pod: loadPod("no-proxy"), namespace: "bookinfo", expect: "skipped" },
];

function body(pod: Pod, namespace: string, i: number): string {
  return JSON.stringify(podReview(atCreate(pod), { uid: `7a1d5a2e-0000-4000-8000-${String(i).padStart(12, "0")}`, namespace }));
}

const BODIES = SHAPES.map((s, i) => ({ ...s, body: body(s.pod, s.namespace, i) }));

function post(port: number, ca: string, payload: string): Promise<{ status: number; size: number; json: { response?: { uid?: string; allowed?: boolean; patch?: string } } }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: "127.0.0.1", port, path: "/mutate", method: "POST", ca, servername: "localhost", headers: { "content-type": "application/json" } }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, size: Buffer.byteLength(text), json: JSON.parse(text) as never }));
    });
    req.on("error", reject);
    req.end(payload);
  });
}

/** Every body gets the answer the shape expects, before any load: a benchmark of errors measures nothing. Returns the answers' sizes, by uid. */
async function checkBodies(port: number, ca: string): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  for (const b of BODIES) {
    const { status, size, json } = await post(port, ca, b.body);
    const got = status === 200 && json.response?.allowed ? (json.response.patch ? "injected" : "skipped") : `HTTP ${status}`;
    if (got !== b.expect) throw new Error(`body "${b.label}": expected ${b.expect}, got ${got}`);
    sizes.set(json.response?.uid ?? "", size);
  }
  return sizes;
}

/** A constant allowed answer of exactly `size` bytes (padded in `patch`), for the sized bare server. */
function sizedAnswer(uid: string, size: number): string {
  const text = (pad: string) => JSON.stringify({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", response: { uid, allowed: true, patch: pad } });
  return text("A".repeat(Math.max(0, size - Buffer.byteLength(text("")))));
}

/**
 * The review alone (classify, decision, mutation, patch, answer text), in this
 * process, hot, over the same bodies already parsed: what the webhook's own work
 * costs at best, without HTTP, TLS, parsing, logging or metrics. Bounded: 100,000 reviews.
 */
async function reviewCostUs(): Promise<number> {
  const { settings, source } = await exampleSource();
  await source.start();
  try {
    const reviews = BODIES.map((b) => JSON.parse(b.body) as AdmissionReview);
    let bytes = 0;
    const once = (review: AdmissionReview) => {
      const c = classify(review.request);
      if (c.kind !== "pod") throw new Error(`body ${review.request.uid} is not a reviewable pod`);
      const answer = answerPod(review.request.uid, c.pod, c.namespace, source.current(), settings);
      bytes += answerJson({ apiVersion: review.apiVersion, kind: review.kind, response: answer.response }).length;
    };
    for (let i = 0; i < 20_000; i++) once(reviews[i % reviews.length]!);
    const n = 100_000;
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) once(reviews[i % reviews.length]!);
    const us = Number(process.hrtime.bigint() - start) / n / 1000;
    if (bytes === 0) throw new Error("no answers");
    return us;
  } finally {
    await source.stop();
  }
}

// ---- load ----------------------------------------------------------------

interface Load {
  /** Server CPU (user + system) per answered request, in µs: robust to other load on the machine. */
  cpuUs: number;
  /** The load generator's own CPU per request, in µs (it shares the 2 cores with the server). */
  clientCpuUs: number;
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  failures: number;
}


async function load(server: Server, seconds: number, connections: number, bodies = BODIES): Promise<Load> {
  const { port } = server;
  const cpuBefore = cpuUs(server.child.pid!);
  const clientBefore = process.cpuUsage();
  const result = await autocannon({
    url: `https://127.0.0.1:${port}`,
    connections,
    pipelining: 1,
    duration: seconds,
    requests: bodies.map((b) => ({ method: "POST", path: "/mutate", headers: { "content-type": "application/json" }, body: b.body })),
  });
  const cpu = cpuUs(server.child.pid!) - cpuBefore;
  const client = process.cpuUsage(clientBefore);
  return {
    cpuUs: cpu / Math.max(1, result.requests.total),
    clientCpuUs: (client.user + client.system) / Math.max(1, result.requests.total),
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    failures: result.errors + result.timeouts + result.non2xx,
  };
}


const fmt = (n: number, d = 0) => n.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });

// ---- saturated ---------------------------------------------------------------

/** DESIGN.md: ratio ≥ 0.5 and never lower than the last release (the README's figure), stretch 0.65. */
const RATIO_TARGET = 0.5;
const LAST_RATIO = 0.51;
const RATIO_STRETCH = 0.65;

async function saturatedSection(webhook: Server, bare: Server, baseline: Server | undefined, cert: string, key: string, answerSizes: Map<string, number>): Promise<void> {
  const answersFile = join(dir, "answers.json");
  writeFileSync(answersFile, JSON.stringify(Object.fromEntries([...answerSizes].map(([uid, size]) => [uid, sizedAnswer(uid, size)]))));
  const sized = await startServer("bare", cert, key, { args: [answersFile] });
  servers.push(sized);
  console.log(`load: autocannon, HTTPS keep-alive, ${f.connections} connections, ${f.rounds} rounds of ${f.duration} s each (after ${f.warmup} s warm-up), servers in child processes`);
  const runs: Record<"bare" | "sized" | "webhook" | "baseline", Load[]> = { bare: [], sized: [], webhook: [], baseline: [] };
  const order = [["bare", bare], ["sized", sized], ["webhook", webhook], ...(baseline ? [["baseline", baseline]] : [])] as Array<[keyof typeof runs, Server]>;
  for (let round = 1; round <= f.rounds; round++) {
    for (const [name, server] of order) {
      if (f.warmup > 0) await load(server, f.warmup, f.connections);
      const r = await load(server, f.duration, f.connections);
      runs[name].push(r);
      console.log(`  round ${round} ${name.padEnd(7)} ${fmt(r.rps).padStart(7)} req/s  p50 ${r.p50} ms  p99 ${r.p99} ms  ${fmt(r.cpuUs).padStart(4)} µs CPU/request, load generator ${fmt(r.clientCpuUs)} µs  (${fmt(r.requests)} requests, ${r.failures} failed)`);
    }
  }
  const mean = (xs: Load[], k: keyof Load) => xs.reduce((s, x) => s + x[k], 0) / xs.length;
  const summary = (xs: Load[]) => ({ rps: mean(xs, "rps"), p50: mean(xs, "p50"), p99: mean(xs, "p99"), cpuUs: mean(xs, "cpuUs") });
  const b = summary(runs.bare);
  const s = summary(runs.sized);
  const w = summary(runs.webhook);
  const failed = [...runs.bare, ...runs.sized, ...runs.webhook].reduce((n, r) => n + r.failures, 0);
  // Printed and judged at two decimals, so the verdict agrees with the figure beside it.
  const ratio = Number((w.rps / b.rps).toFixed(2));
  console.log(`bare Fastify (constant answer): ${fmt(b.rps)} req/s, p50 ${fmt(b.p50, 1)} ms, p99 ${fmt(b.p99, 1)} ms, ${fmt(b.cpuUs)} µs CPU/request`);
  console.log(`bare, answers of the webhook's sizes: ${fmt(s.rps)} req/s, p50 ${fmt(s.p50, 1)} ms, p99 ${fmt(s.p99, 1)} ms, ${fmt(s.cpuUs)} µs CPU/request`);
  console.log(`hookpoint webhook:              ${fmt(w.rps)} req/s, p50 ${fmt(w.p50, 1)} ms, p99 ${fmt(w.p99, 1)} ms, ${fmt(w.cpuUs)} µs CPU/request`);
  if (baseline) {
    const bl = summary(runs.baseline);
    console.log(`baseline webhook (${f.compare}): ${fmt(bl.rps)} req/s, p50 ${fmt(bl.p50, 1)} ms, p99 ${fmt(bl.p99, 1)} ms, ${fmt(bl.cpuUs)} µs CPU/request; hookpoint/baseline CPU per request ${(w.cpuUs / bl.cpuUs).toFixed(3)}, throughput ${(w.rps / bl.rps).toFixed(3)}`);
  }
  const review = await reviewCostUs();
  console.log(`sizes alone, sized/bare: ${(s.rps / b.rps).toFixed(2)} (the highest ratio a server sending these answers reaches here, with no review at all)`);
  console.log(`webhook CPU beyond that: ${fmt(w.cpuUs - s.cpuUs)} µs/request; the review alone, hot, in this process: ${fmt(review, 1)} µs/request on average over these bodies`);
  console.log(`server CPU per request, bare/webhook: ${(b.cpuUs / w.cpuUs).toFixed(2)} (the throughput ratio a server-bound, otherwise idle machine would show)`);
  console.log(`throughput ratio webhook/bare:  ${ratio.toFixed(2)} (target ≥ ${RATIO_TARGET} and never below the last release's ${LAST_RATIO}: ${ratio >= Math.max(RATIO_TARGET, LAST_RATIO) ? "met" : "NOT met"}; stretch ${RATIO_STRETCH}); failed requests: ${failed}`);
  // Each round's pair ran minutes apart at most: one disturbed slot shows here instead of hiding in the mean.
  console.log(`  by round (webhook/bare of the same round): ${runs.webhook.map((r, i) => (r.rps / (runs.bare[i]?.rps ?? NaN)).toFixed(2)).join(", ")}`);

  if (f.breakdown > 0) {
    const injected = BODIES.filter((b) => b.expect === "injected");
    const skipped = BODIES.filter((b) => b.expect === "skipped");
    console.log(`breakdown (${f.duration} s each after ${f.warmup} s warm-up):`);
    const line = async (label: string, server: Server, bodies: typeof BODIES) => {
      if (f.warmup > 0) await load(server, f.warmup, f.connections, bodies);
      const r = await load(server, f.duration, f.connections, bodies);
      console.log(`  ${label.padEnd(46)} ${fmt(r.rps).padStart(7)} req/s  p50 ${r.p50} ms  p99 ${r.p99} ms  ${fmt(r.cpuUs).padStart(4)} µs CPU/request  (${r.failures} failed)`);
      return r;
    };
    const bi = await line("bare, injected bodies", bare, injected);
    const wi = await line("webhook, injected bodies", webhook, injected);
    const pi = await line("bare, answers of the webhook's sizes, injected", sized, injected);
    const bs = await line("bare, skipped bodies", bare, skipped);
    const ws = await line("webhook, skipped bodies", webhook, skipped);
    console.log(`  ratios: injected ${(wi.rps / bi.rps).toFixed(2)} (vs a bare server sending answers of the same sizes: ${(wi.rps / pi.rps).toFixed(2)}), skipped ${(ws.rps / bs.rps).toFixed(2)}`);
  }
}

// ---- fixed rate ------------------------------------------------------------

interface FixedRun {
  result: FixedRateResult;
  /** Server CPU per request over the run (warm-up included), in µs. */
  serverCpuUs: number;
}

async function fixedRate(driver: FixedRateDriver, server: Server, ca: string, rate: number, seconds: number): Promise<FixedRun> {
  const body = BODIES[0] as (typeof BODIES)[number];
  const before = cpuUs(server.child.pid!);
  const result = await driver.run({ url: `https://127.0.0.1:${server.port}/mutate`, ca, servername: "localhost", bodies: [body.body], rate, durationSec: seconds, warmupSec: 1 });
  const cpu = cpuUs(server.child.pid!) - before;
  return { result, serverCpuUs: cpu / Math.round(rate * (seconds + 1)) };
}

/** Rounds of one server at one rate as one run: latencies pooled, CPU per review averaged. */
function pooledRun(runs: readonly FixedRun[]): FixedRun {
  return { result: pooled(runs.map((r) => r.result)), serverCpuUs: runs.reduce((n, r) => n + r.serverCpuUs, 0) / runs.length };
}

/** Seconds each server answers at the highest rate before anything is counted (plus the driver's own 1 s). */
const WARM_SECONDS = 2;
/** Seconds each server is first loaded flat out (autocannon), so that its compiler is done before anything is counted. */
const SATURATED_WARM_SECONDS = 4;

type ServerName = "bare" | "webhook" | "baseline";
const LABELS: Record<ServerName, string> = { bare: "bare", webhook: "hookpoint", baseline: "baseline" };

async function fixedRateSection(servers: Partial<Record<ServerName, Server>> & { webhook: Server; bare: Server }, ca: string): Promise<void> {
  const body = BODIES[0] as (typeof BODIES)[number];
  console.log(
    `fixed rate: open loop (bench/fixed-rate.ts: one process for every run, its GC on its own thread), ${body.label} (${fmt(body.body.length)} bytes, injected), HTTPS keep-alive; per server and rate ${f.fixedRounds} round(s) of ${f.fixedSeconds} s counted after 1 s of warm-up, servers taking turns, latencies pooled over the rounds; latency in ms from each request's due time`,
  );
  const names = (["bare", "webhook", "baseline"] as const).filter((n) => servers[n]);
  const awake = f.keepCpusAwake === 1 ? await keepCpusAwake() : undefined;
  try {
    if (awake) console.log(`  CPUs kept awake: ${awake.count} busy loops at SCHED_IDLE (they run only when nothing else wants a CPU; server CPU is counted per process)`);
    // One driver for every run: the warm-up below warms it too (fixed-rate.ts says why that matters).
    const driver = startFixedRateDriver();
    try {
      await fixedRateRuns(driver, names, servers, ca);
    } finally {
      await driver.close();
    }
  } finally {
    // Also when the driver fails to start or to close: the loops must not outlive the section.
    await awake?.stop();
  }
}

async function fixedRateRuns(driver: FixedRateDriver, names: readonly ServerName[], servers: Partial<Record<ServerName, Server>>, ca: string): Promise<void> {
  // A server just started is still compiling its hot paths, and the webhook went on doing
  // so for its first ~12,000 reviews (--trace-opt: 382 functions optimized in the first 6 s
  // at 1,000/s, 62 in the next 6 s, 8 in the third), stealing the core it serves on: p99
  // 3–6 ms in those runs, 0.7 ms after. So each server is first loaded flat out (all the
  // bodies, tens of thousands of reviews), then answers the driver at the highest rate,
  // which warms the driver too. None of it is counted.
  const warm = Math.max(...f.rates);
  let warmed = 0;
  for (const name of names) warmed += (await load(servers[name] as Server, SATURATED_WARM_SECONDS, f.connections)).requests;
  for (const name of names) await fixedRate(driver, servers[name] as Server, ca, warm, WARM_SECONDS);
  console.log(
    `  warm-up: each server first answered ${SATURATED_WARM_SECONDS} s flat out (${fmt(warmed / names.length)} reviews on average), then ${fmt(warm * (WARM_SECONDS + 1))} reviews at ${fmt(warm)}/s, not counted`,
  );
  const at: Record<number, Partial<Record<ServerName, FixedRun>> & { webhook: FixedRun; bare: FixedRun }> = {};
  let turn = 0;
  for (const rate of f.rates) {
    const rounds: Partial<Record<ServerName, FixedRun[]>> = {};
    for (let round = 0; round < f.fixedRounds; round++, turn++) {
      for (const name of rotated(names, turn)) (rounds[name] ??= []).push(await fixedRate(driver, servers[name] as Server, ca, rate, f.fixedSeconds));
    }
    const runs: Partial<Record<ServerName, FixedRun>> = {};
    for (const name of names) runs[name] = pooledRun(rounds[name] as FixedRun[]);
    at[rate] = runs as (typeof at)[number];
    for (const name of (["webhook", "baseline", "bare"] as const).filter((x) => runs[x])) {
      const r = runs[name] as FixedRun;
      const byRound = f.fixedRounds > 1 ? `  (p99 by round ${(rounds[name] as FixedRun[]).map((x) => x.result.p99.toFixed(2)).join(", ")})` : "";
      console.log(`  ${fmt(rate).padStart(5)}/s ${LABELS[name].padEnd(9)} ${formatFixedRate("", r.result).trim()}  ${fmt(r.serverCpuUs)} µs server CPU/review${byRound}`);
    }
  }
  const top = at[1000];
  if (top) {
    const { webhook: w, bare: b } = top;
    // Judged at the two decimals printed, as the saturated ratio is, so the verdict agrees with the figure beside it.
    const p99Ratio = Number((w.result.p99 / b.result.p99).toFixed(2));
    console.log(
      `  at 1,000/s: hookpoint p50 ${w.result.p50.toFixed(2)} ms (target ≤ 1 ms: ${w.result.p50 <= 1 ? "met" : "NOT met"}), p99 ${w.result.p99.toFixed(2)} ms = ${p99Ratio.toFixed(2)} × bare's ${b.result.p99.toFixed(2)} ms (target ≤ 1.25: ${p99Ratio <= 1.25 ? "met" : "NOT met"}), errors ${w.result.errors} (target 0: ${w.result.errors === 0 ? "met" : "NOT met"})`,
    );
  }
}

/** Istio's injector is compared in a run of its own that holds both servers: whether its binary is built, and where the figures come from. */
function istiodLine(): string {
  const printed = spawnSync("bash", [ISTIO_BUILD_SCRIPT, "--print-paths"], { encoding: "utf8" });
  const bin = /^pilot-discovery=(.*)$/m.exec(printed.stdout ?? "")?.[1];
  if (printed.status !== 0 || !bin) return `istiod: not built (bash scripts/setup/45-istio.sh builds it); npm run bench:injector then runs its /inject and hookpoint's /mutate on the same pods in one run`;
  return `istiod: built (${bin}); npm run bench:injector runs its /inject and hookpoint's /mutate on the same Istio pod shapes in one run (throughput, p50/p90/p99 at fixed rates, server CPU per review)`;
}

// ---- main ----------------------------------------------------------------

const f = flags(process.argv.slice(2));
const dir = mkdtempSync(join(tmpdir(), "hookpoint-bench-"));
const servers: Server[] = [];
try {
  const { caPem, cert, key } = writeBenchCerts(dir);
  const ca = { certPem: caPem };

  console.log(`hookpoint bench:webhook — node ${process.version}, ${availableParallelism()} CPUs, load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  console.log(`bodies: ${BODIES.length} AdmissionReviews, ${fmt(Math.min(...BODIES.map((b) => b.body.length)))}–${fmt(Math.max(...BODIES.map((b) => b.body.length)))} bytes; ${BODIES.filter((b) => b.expect === "injected").length} injected, ${BODIES.filter((b) => b.expect === "skipped").length} skipped`);
  for (const b of BODIES) console.log(`  ${b.expect.padEnd(8)} ${b.label} (${fmt(b.body.length)} bytes, namespace ${b.namespace})`);

  const webhook = await startServer("webhook", cert, key);
  servers.push(webhook);
  const answerSizes = await checkBodies(webhook.port, ca.certPem);
  console.log(`answers: ${[...answerSizes.values()].map((n, i) => `${BODIES[i]?.expect} ${fmt(n)} B`).join(", ")}`);

  if (f.soak > 0) {
    console.log(`soak: ${f.soak} min against the webhook, ${f.connections} connections`);
    await load(webhook, 5, f.connections); // warm-up
    const start = rssMiB(webhook.child.pid!);
    let total = 0;
    let failures = 0;
    const deadline = Date.now() + f.soak * 60_000;
    let minute = 0;
    while (Date.now() < deadline) {
      const r = await load(webhook, Math.min(60, Math.ceil((deadline - Date.now()) / 1000)), f.connections);
      total += r.requests;
      failures += r.failures;
      minute++;
      console.log(`  after ${minute} min: ${fmt(r.rps)} req/s, p99 ${r.p99} ms, RSS ${fmt(rssMiB(webhook.child.pid!), 1)} MiB`);
    }
    const end = rssMiB(webhook.child.pid!);
    console.log(`resident memory: start ${fmt(start, 1)} MiB, end ${fmt(end, 1)} MiB (${end >= start ? "+" : ""}${fmt(end - start, 1)} MiB) after ${fmt(total)} requests, ${failures} failed`);
  } else {
    const bare = await startServer("bare", cert, key);
    servers.push(bare);
    const baseline = f.compare ? await startServer("webhook", cert, key, { checkout: f.compare }) : undefined;
    if (baseline) {
      servers.push(baseline);
      console.log(`baseline: the webhook of ${f.compare}, side by side`);
    }
    if (f.fixed > 0) await fixedRateSection({ webhook, bare, ...(baseline ? { baseline } : {}) }, ca.certPem);
    console.log(istiodLine());
    if (f.saturated > 0) await saturatedSection(webhook, bare, baseline, cert, key, answerSizes);
    console.log(`webhook resident memory after the runs: ${fmt(rssMiB(webhook.child.pid!), 1)} MiB`);
  }
} finally {
  await Promise.all(servers.map((s) => s.stop()));
  rmSync(dir, { recursive: true, force: true });
}
