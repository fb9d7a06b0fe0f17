// `npm run bench:collect`: `collect` throughput from 20 agents on loopback. The agents'
// records servers run in a child process (the agent's own server code, default limits);
// the collector is collect()'s core with a direct loopback transport instead of the API
// server's pod proxy. Three runs: everything (cold), nothing new, 10 % new records.
import { spawn } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { Agent, type IncomingHttpHeaders } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { collect, type CollectPod } from "../src/collect/collect.js";
import { send } from "../src/collect/pod-proxy.js";
import type { AgentTransport } from "../src/collect/transport.js";
import { writeRecords } from "../test/support/records.js";

const PODS = 20;
const RECORDS_PER_FILE = 20_000; // ~4.6 MB per file, 2 files per agent
const T0 = Date.parse("2026-03-01T10:00:00.000Z");

const root = mkdtempSync(join(tmpdir(), "hookpoint-bench-collect-"));
const template = join(root, "template");
writeRecords(template, "envoy-event-loop", 0, RECORDS_PER_FILE, { t0Ms: T0, stepMs: 100 });
writeRecords(template, "envoy-request-flow", 0, RECORDS_PER_FILE, { t0Ms: T0, stepMs: 100 });
const dirs = Array.from({ length: PODS }, (_v, i) => {
  const d = join(root, `agent-${i}`);
  mkdirSync(d, { recursive: true });
  for (const f of ["envoy-event-loop.ndjson", "envoy-request-flow.ndjson"]) copyFileSync(join(template, f), join(d, f));
  return d;
});
const perPod = ["envoy-event-loop.ndjson", "envoy-request-flow.ndjson"].reduce((n, f) => n + statSync(join(template, f)).size, 0);

const child = spawn(process.execPath, ["--import", "tsx", "bench/collect-agents.ts", ...dirs], { stdio: ["ignore", "pipe", "inherit"] });
const ports = JSON.parse(await new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once("line", resolve))) as number[];

const pool = new Agent({ keepAlive: true, maxSockets: 64 });
let served = 0;
const transport: AgentTransport = {
  get(target, path, headers: Record<string, string> = {}) {
    const port = ports[Number(target.pod.slice("pod-".length))]!;
    return send(false, { host: "127.0.0.1", port, path, headers: headers as IncomingHttpHeaders, agent: pool }, 30_000, target.pod);
  },
  close: () => pool.destroy(),
};
const pods: CollectPod[] = dirs.map((_d, i) => ({ namespace: "bench", name: `pod-${i}`, workload: null, node: null, podIP: "127.0.0.1", port: 15099, skip: null }));
const out = join(root, "collected");

async function run(label: string): Promise<void> {
  const start = performance.now();
  const r = await collect({ dir: out, pods, transport, since: null, parallel: 8, cluster: { server: "loopback", context: "bench" }, events: { bytes: (n) => (served += n), podDone: () => undefined } });
  const s = (performance.now() - start) / 1000;
  if (r.failed) throw new Error(`${label}: ${r.failed} pods failed: ${JSON.stringify(r.manifest.pods.flatMap((p) => p.errors))}`);
  const mb = r.fetched / 1e6;
  console.log(`${label.padEnd(28)} ${PODS} pods, ${mb.toFixed(1).padStart(6)} MB in ${s.toFixed(2)} s: ${(mb / s).toFixed(1).padStart(6)} MB/s, ${(PODS / s).toFixed(1).padStart(6)} pods/s`);
}

try {
  console.log(`bench:collect: ${PODS} agents on loopback, ${(perPod / 1e6).toFixed(1)} MB each (2 NDJSON files), parallel 8, default agent limits`);
  await run("cold (everything)");
  await run("again (nothing new)");
  for (const d of dirs) writeRecords(d, "envoy-event-loop", RECORDS_PER_FILE, RECORDS_PER_FILE + RECORDS_PER_FILE / 5, { t0Ms: T0, stepMs: 100 });
  await run("again (10 % new records)");
  console.log(`received from the agents: ${(served / 1e6).toFixed(1)} MB in total`);
} finally {
  transport.close();
  child.kill("SIGTERM");
  rmSync(root, { recursive: true, force: true });
}
