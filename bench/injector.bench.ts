// npm run bench:injector [-- --duration S] [--rates 200,500,1000] [--connections N]
//
// Istio's injector (the /inject of the istiod built from istio.io/istio, the one the
// e2e tests run; started with the local cluster when needed) against hookpoint's
// /mutate (the webhook as bench:webhook runs it, a child process, example policy and
// namespaces), same machine, same run, same AdmissionReview bodies: the Istio-injected
// pod shapes of test/fixtures/pods that `npm run istio:goldens` regenerates from that
// istiod (istiod re-renders an injected pod, so it does its full work on them). Also
// istiod on the same pods before injection (what it meets at CREATE), for reference.
// Open-loop fixed rate (bench/fixed-rate.ts): p50/p99 at each rate, first second as
// warm-up; then saturated throughput (autocannon, 32 connections). Servers alternate.
// Target (DESIGN.md): hookpoint ≥ 3 × istiod's throughput at ≤ its p99. Prints figures;
// asserts nothing.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import autocannon from "autocannon";
import type { Pod } from "../src/admission/pod.js";
import { createCertificateAuthority, createServingCertificate } from "../src/certs/generate.js";
import { ensureIstiod } from "../test/e2e/support/istiod.js";
import { ISTIO_SHAPES, podCreateReview } from "../test/support/istio-shapes.js";
import { loadPod } from "../test/support/pods.js";
import { fixedRate, type FixedRateResult } from "./fixed-rate.js";


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

function review(pod: Pod, i: number): Buffer {
  return Buffer.from(JSON.stringify(podCreateReview(pod, `0b7e3c1a-0000-4000-8000-${String(i).padStart(12, "0")}`)));
}

interface Server {
  child: ChildProcess;
  port: number;
}

/** hookpoint's webhook as bench:webhook runs it (bench/webhook-server.ts). */
async function startHookpoint(cert: string, key: string): Promise<Server> {
  const child = spawn(process.execPath, ["--import", "tsx", new URL("./webhook-server.ts", import.meta.url).pathname, "webhook", cert, key], { stdio: ["ignore", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    lines.once("line", (l) => resolve((JSON.parse(l) as { port: number }).port));
    child.once("exit", (code) => reject(new Error(`webhook-server exited with code ${code}`)));
  });
  return { child, port };
}

async function saturated(url: string, ca: string, bodies: readonly Buffer[], connections: number, seconds: number) {
  const u = new URL(url);
  const r = await autocannon({
    url: `${u.protocol}//${u.host}`,
    connections,
    pipelining: 1,
    duration: seconds,
    tlsOptions: { ca },
    requests: bodies.map((b) => ({ method: "POST", path: u.pathname, headers: { "content-type": "application/json" }, body: b.toString("utf8") })),
  } as autocannon.Options);
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.timeouts + r.non2xx };
}

const fmt = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : "-");

const f = flags(process.argv.slice(2));
const istiod = await ensureIstiod();
const dir = mkdtempSync(join(tmpdir(), "hookpoint-bench-injector-"));
const ca = createCertificateAuthority({ commonName: "bench CA" });
const serving = createServingCertificate({ ca, commonName: "127.0.0.1", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] });
writeFileSync(join(dir, "tls.crt"), serving.certPem);
writeFileSync(join(dir, "tls.key"), serving.keyPem);
const hookpoint = await startHookpoint(join(dir, "tls.crt"), join(dir, "tls.key"));
try {
  const bodies = ISTIO_SHAPES.map((s, i) => review(loadPod(s.file), i));
  const before = ISTIO_SHAPES.map((s, i) => review(s.input(), 100 + i));
  const avgKb = bodies.reduce((n, b) => n + b.length, 0) / bodies.length / 1024;
  const targets = [
    { name: "hookpoint /mutate", url: `https://127.0.0.1:${hookpoint.port}/mutate`, ca: ca.certPem, bodies },
    { name: "istiod /inject", url: istiod.injectUrl, ca: istiod.caPem, bodies },
    { name: "istiod /inject (pods before injection)", url: istiod.injectUrl, ca: istiod.caPem, bodies: before },
  ];
  console.log(`bench:injector: istio.io/istio ${istiod.version} (pilot-discovery), hookpoint webhook (child process); ${bodies.length} pod shapes (${ISTIO_SHAPES.map((s) => s.file).join(", ")}), ${fmt(avgKb, 1)} KB per review on average; ${f.duration} s per run after 1 s warm-up`);
  const rows: Record<string, FixedRateResult[]> = {};
  for (const rate of f.rates) {
    for (const t of targets) {
      const r = await fixedRate({ url: t.url, ca: t.ca, bodies: t.bodies, rate, durationS: f.duration, warmupS: 1, connections: f.connections });
      (rows[t.name] ??= []).push(r);
      console.log(`  fixed ${rate}/s  ${t.name.padEnd(40)} p50 ${fmt(r.p50Ms)} ms  p99 ${fmt(r.p99Ms)} ms  max ${fmt(r.maxMs)} ms  achieved ${fmt(r.achievedRate, 0)}/s  errors ${r.errors}/${r.measured}`);
    }
  }
  const sat: Record<string, Awaited<ReturnType<typeof saturated>>> = {};
  for (const t of targets) {
    sat[t.name] = await saturated(t.url, t.ca, t.bodies, f.connections, f.duration);
    const s = sat[t.name]!;
    console.log(`  saturated (${f.connections} connections)  ${t.name.padEnd(40)} ${fmt(s.rps, 0)} reviews/s  p50 ${s.p50} ms  p99 ${s.p99} ms  errors ${s.errors}`);
  }
  const hp = sat["hookpoint /mutate"]!;
  const ist = sat["istiod /inject"]!;
  const worst = (name: string) => Math.max(...(rows[name] ?? []).map((r) => r.p99Ms));
  console.log(`  hookpoint / istiod throughput: ${fmt(hp.rps / ist.rps)} × (target ≥ 3 ×); highest fixed-rate p99: hookpoint ${fmt(worst("hookpoint /mutate"))} ms, istiod ${fmt(worst("istiod /inject"))} ms (target: hookpoint ≤ istiod)`);
} finally {
  hookpoint.child.kill("SIGTERM");
  rmSync(dir, { recursive: true, force: true });
}
