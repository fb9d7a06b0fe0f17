// npm run bench:injector [-- --duration S] [--rates 200,500,1000] [--connections N]
//
// Istio's injector (the /inject of the istiod built from istio.io/istio, the one the
// e2e tests run; started with the local cluster when needed) against hookpoint's
// /mutate (the webhook as bench:webhook runs it, a child process, example policy and
// namespaces), same machine, same run, same AdmissionReview bodies: the Istio-injected
// pod shapes of test/fixtures/pods that `npm run istio:goldens` regenerates from that
// istiod (istiod re-renders an injected pod, so it does its full work on them). Also
// istiod on the same pods before injection (what it meets at CREATE), for reference.
// Open-loop fixed rate (bench/fixed-rate.ts, the driver in its own process, latency
// from each request's due time, the first second not counted): p50/p90/p99/max and
// server CPU per review at each rate; then saturated throughput (autocannon, 32
// connections). Servers alternate, and each run starts once both are idle again
// (istiod goes on with what it was sent after a run it fell behind in). Target
// (DESIGN.md): hookpoint ≥ 3 × istiod's throughput at ≤ its p99. Prints figures;
// asserts nothing.
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import type { Pod } from "../src/admission/pod.js";
import { down as clusterDown, status as clusterStatus } from "../scripts/cluster/control.js";
import { ensureIstiod, istiodStatus, stopIstiod } from "../test/e2e/support/istiod.js";
import { ISTIO_SHAPES, podCreateReview } from "../test/support/istio-shapes.js";
import { loadPod } from "../test/support/pods.js";
import { formatFixedRate, startFixedRateDriver, type FixedRateOptions, type FixedRateResult } from "./fixed-rate.js";
import { rotated } from "./common.js";
import { cpuUs, startServer, writeBenchCerts, type Server } from "./servers.js";

function flags(argv: string[]): { duration: number; rates: number[]; connections: number } {
  const f = { duration: 5, rates: [200, 500, 1000], connections: 32 };
  for (let i = 0; i < argv.length; i += 2) {
    const [k, v] = [argv[i], argv[i + 1] ?? ""];
    if (k === "--duration") f.duration = Math.min(Math.max(Number(v), 1), 60);
    else if (k === "--rates") f.rates = v.split(",").map(Number).filter((n) => n > 0 && n <= 5000);
    else if (k === "--connections") f.connections = Math.min(Math.max(Number(v), 1), 256);
    else throw new Error(`unknown flag: ${k}`);
  }
  return f;
}

function review(pod: Pod, i: number): string {
  return JSON.stringify(podCreateReview(pod, `0b7e3c1a-0000-4000-8000-${String(i).padStart(12, "0")}`));
}

interface Target {
  name: string;
  url: string;
  ca: string;
  servername?: string;
  bodies: string[];
  pid: number;
}

/** Server CPU per answered request, in µs, around `run`. */
async function withCpu<T>(pid: number, requests: (r: T) => number, run: () => Promise<T>): Promise<{ r: T; cpuUs: number }> {
  const before = cpuUs(pid);
  const r = await run();
  return { r, cpuUs: (cpuUs(pid) - before) / Math.max(1, requests(r)) };
}

/**
 * Waits (at most 20 s) until none of the servers uses more than a tenth of a core: a
 * server that fell behind (istiod) goes on working through what it was sent after
 * the driver has gone, and would take the CPU from the next run.
 */
async function settle(pids: readonly number[]): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const before = pids.map(cpuUs);
    await new Promise((r) => setTimeout(r, 500));
    if (pids.every((pid, i) => cpuUs(pid) - before[i]! <= 50_000)) return;
  }
}

async function saturated(t: Target, connections: number, seconds: number) {
  const u = new URL(t.url);
  const r = await autocannon({
    url: `${u.protocol}//${u.host}`,
    connections,
    pipelining: 1,
    duration: seconds,
    tlsOptions: { ca: t.ca, ...(t.servername ? { servername: t.servername } : {}) },
    requests: t.bodies.map((b) => ({ method: "POST", path: u.pathname, headers: { "content-type": "application/json" }, body: b })),
  } as autocannon.Options);
  return { rps: r.requests.average, total: r.requests.total, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.timeouts + r.non2xx };
}

/** The driver's options for one run against `t`. */
function fixedRateOf(t: Target, rate: number, durationSec: number, warmupSec: number): FixedRateOptions {
  return { url: t.url, ca: t.ca, ...(t.servername ? { servername: t.servername } : {}), bodies: t.bodies, rate, durationSec, warmupSec, connections: f.connections, timeoutMs: 10_000 };
}

const fmt = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : "-");
/** Seconds of each warm-up step, flat out and then at the highest fixed rate. */
const WARM_SECONDS = 4;

const f = flags(process.argv.slice(2));
// What this run starts, it stops: a kube-apiserver, etcd and istiod left running took the
// CPU in bursts of a few ms from every benchmark run after it (perf sched showed the
// webhook waiting 2–4 ms for the core they held).
const clusterWasUp = (await clusterStatus()) !== undefined;
const istiodWasUp = istiodStatus() !== undefined;
const dir = mkdtempSync(join(tmpdir(), "hookpoint-bench-injector-"));
let hookpoint: Server | undefined;
try {
  // Inside the try: an istiod or webhook that fails to start must not leave the rest running.
  const istiod = await ensureIstiod();
  const { caPem, cert, key } = writeBenchCerts(dir);
  hookpoint = await startServer("webhook", cert, key);
  const bodies = ISTIO_SHAPES.map((s, i) => review(loadPod(s.file), i));
  const before = ISTIO_SHAPES.map((s, i) => review(s.input(), 100 + i));
  const avgKb = bodies.reduce((n, b) => n + Buffer.byteLength(b), 0) / bodies.length / 1024;
  const targets: Target[] = [
    { name: "hookpoint /mutate", url: `https://127.0.0.1:${hookpoint.port}/mutate`, ca: caPem, servername: "localhost", bodies, pid: hookpoint.child.pid! },
    { name: "istiod /inject", url: istiod.injectUrl, ca: istiod.caPem, bodies, pid: istiod.pid },
    { name: "istiod /inject (pods before injection)", url: istiod.injectUrl, ca: istiod.caPem, bodies: before, pid: istiod.pid },
  ];
  console.log(`bench:injector: istio.io/istio ${istiod.version} (pilot-discovery), hookpoint webhook (child process); load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  console.log(`  ${bodies.length} pod shapes (${ISTIO_SHAPES.map((s) => s.file).join(", ")}), ${fmt(avgKb, 1)} KB per review on average; fixed rate: open loop, one driver process for every run, ${f.duration} s counted after 1 s warm-up, latency in ms from each request's due time`);
  const pids = [hookpoint.child.pid!, istiod.pid];
  const rows: Record<string, FixedRateResult[]> = {};
  // One driver for every run (bench/fixed-rate.ts says why). Before anything is counted each
  // server is loaded flat out, so that hookpoint's compiler is done (it went on optimizing
  // for ~12,000 reviews), then answers the driver, which warms the driver too.
  const driver = startFixedRateDriver();
  try {
    for (const t of targets) {
      await saturated(t, f.connections, WARM_SECONDS);
      await settle(pids);
      await driver.run(fixedRateOf(t, Math.max(...f.rates), WARM_SECONDS, 0));
    }
    console.log(`  warm-up: each server ${WARM_SECONDS} s flat out, then ${WARM_SECONDS} s at ${Math.max(...f.rates)}/s, not counted`);
    for (const [n, rate] of f.rates.entries()) {
      for (const t of rotated(targets, n)) {
        await settle(pids);
        const { r, cpuUs: cpu } = await withCpu(t.pid, (x: FixedRateResult) => x.measured, () =>
          driver.run(fixedRateOf(t, rate, f.duration, 1)),
        );
        (rows[t.name] ??= []).push(r);
        console.log(`  ${String(rate).padStart(5)}/s ${t.name.padEnd(40)} ${formatFixedRate("", r).trim()}  ${fmt(cpu, 0)} µs server CPU/review`);
      }
    }
  } finally {
    await driver.close();
  }
  const sat: Record<string, Awaited<ReturnType<typeof saturated>>> = {};
  for (const t of targets) {
    await settle(pids);
    const { r: s, cpuUs: cpu } = await withCpu(t.pid, (x: Awaited<ReturnType<typeof saturated>>) => x.total, () => saturated(t, f.connections, f.duration));
    sat[t.name] = s;
    console.log(`  saturated (${f.connections} connections)  ${t.name.padEnd(40)} ${fmt(s.rps, 0)} reviews/s  p50 ${s.p50} ms  p99 ${s.p99} ms  errors ${s.errors}  ${fmt(cpu, 0)} µs server CPU/review`);
  }
  const hp = sat["hookpoint /mutate"]!;
  const ist = sat["istiod /inject"]!;
  // A rate at which a server answered nothing in time (p99 NaN: istiod at 1,000/s) is its worst.
  const worst = (name: string) => Math.max(...(rows[name] ?? []).map((r) => (Number.isNaN(r.p99) ? Infinity : r.p99)));
  const p99Text = (n: number) => (n === Infinity ? "none answered at one rate" : `${fmt(n)} ms`);
  const ratio = hp.rps / ist.rps;
  const [wh, wi] = [worst("hookpoint /mutate"), worst("istiod /inject")];
  console.log(`  hookpoint / istiod throughput: ${fmt(ratio)} × (target ≥ 3 ×: ${ratio >= 3 ? "met" : "NOT met"}); highest fixed-rate p99: hookpoint ${p99Text(wh)}, istiod ${p99Text(wi)} (target hookpoint ≤ istiod: ${wh <= wi ? "met" : "NOT met"})`);
} finally {
  await hookpoint?.stop();
  rmSync(dir, { recursive: true, force: true });
  try {
    if (!istiodWasUp) await stopIstiod();
  } finally {
    // Even when istiod would not stop: the cluster this run started goes too.
    if (!clusterWasUp) await clusterDown();
  }
  const fate = (wasUp: boolean) => (wasUp ? "left running (it was running before)" : "stopped (this run started it)");
  console.log(`  istiod: ${fate(istiodWasUp)}; local cluster: ${fate(clusterWasUp)}`);
}
