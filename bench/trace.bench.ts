// `npm run bench:trace`: what request tracing (envoy-request-trace) adds to a request,
// measured through the fixture proxy with a local upstream (root and bpftrace needed; run
// scripts/setup/20-bpftrace.sh and 30-fixture.sh first).
//  1. Added latency per request, p50 and p99: three proxies run side by side, each from
//     its own copy of the fixture binary (uprobes attach to a file: a copy is not traced),
//     one without the agent, one traced at --trace-sample 1 (every request traced), one at
//     the default --trace-sample 100 (almost every request untraced). Rounds interleave
//     the three (rotating order), so machine noise falls on all alike. Measured twice: the
//     client's round trip (one keep-alive connection, one request at a time), and the
//     proxy's own time per request from its --truth log (request start to its last byte
//     written, minus the wait for the upstream). Targets at p50: ≤ 25 µs traced, ≤ 3 µs
//     untraced.
//  2. CPU at a fixed, bounded request rate (HOOKPOINT_BENCH_RATE, default 1,000/s, for
//     HOOKPOINT_BENCH_SECONDS, default 5 s), each proxy in turn: the proxy's own CPU (a
//     uprobe's cost lands in the traced process), and for the traced ones the agent's and
//     its bpftrace's; then per 5,000 traced requests/s, scaled from the measured rate.
// HOOKPOINT_BENCH_BPFTRACE picks the bpftrace (default: the one on PATH).
// HOOKPOINT_BENCH_VARIANTS="label=DIR[:N],…" adds a proxy per variant, traced at 1 in N
// (default 100) with the scripts of DIR (--scripts-dir), interleaved with the others: a
// change to the script is compared with the bundled one in the same sitting.
// HOOKPOINT_BENCH_SECONDS=0 skips the CPU part.
// Prints figures; asserts nothing.
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AgentProcess, FIXTURE, bpfSkipReason, portFromFile, probesAttached, startAgent } from "../test/bpf/agent/support.js";
import { readTruth, type TruthLine } from "../test/integration/fixture/support.js";
import { cpuTicks, rotated } from "./common.js";
import { runFixedRateInChild } from "./fixed-rate.js";

const ROUNDS = Number(process.env.HOOKPOINT_BENCH_ROUNDS ?? 20);
const PER_ROUND = Number(process.env.HOOKPOINT_BENCH_REQUESTS ?? 300);
const LOAD_RATE = Number(process.env.HOOKPOINT_BENCH_RATE ?? 1000);
const LOAD_SECONDS = Number(process.env.HOOKPOINT_BENCH_SECONDS ?? 5);
const BPFTRACE = process.env.HOOKPOINT_BENCH_BPFTRACE;
const VARIANTS = (process.env.HOOKPOINT_BENCH_VARIANTS ?? "")
  .split(",")
  .filter((v) => v !== "")
  .map((v) => {
    const m = /^([\w.-]+)=([^:]+)(?::(\d+))?$/.exec(v);
    if (!m) throw new Error(`HOOKPOINT_BENCH_VARIANTS: "${v}" is not label=DIR[:N]`);
    return { label: m[1]!, dir: m[2]!, sample: Number(m[3] ?? 100) };
  });
const TICKS = 100; // USER_HZ

interface Proxy {
  label: string;
  port: number;
  pid: number;
  truthFile: string;
  agent: AgentProcess | null;
  child: ChildProcess | null;
  rtt: number[];
  /** Request ids sent in the measured rounds. */
  ids: Set<string>;
}

function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

/** An upstream that answers at once: "ok", keep-alive. */
async function upstream(): Promise<{ port: number; close(): void }> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "text/plain", "content-length": "2" });
      res.end("ok");
    });
  });
  server.keepAliveTimeout = 600_000;
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return { port: (server.address() as net.AddressInfo).port, close: () => server.close() };
}

/** The fixture binary copied to its own file (and inode), as "envoy" so the agent finds it. */
function copyOf(dir: string, label: string): string {
  mkdirSync(join(dir, label), { recursive: true });
  const bin = join(dir, label, "envoy");
  copyFileSync(FIXTURE.envoy, bin);
  chmodSync(bin, 0o755);
  chmodSync(join(dir, label), 0o777);
  return bin;
}

async function startOne(dir: string, label: string, upstreamPort: number, sample: number | null, scriptsDir?: string): Promise<Proxy> {
  const bin = copyOf(dir, label);
  const portFile = join(dir, label, "port");
  const truthFile = join(dir, label, "truth.ndjson");
  const flags = ["--listen", "127.0.0.1:0", "--port-file", portFile, "--concurrency", "1", "--upstream", `127.0.0.1:${upstreamPort}`, "--upstream-pool", "4", "--truth", truthFile];
  let agent: AgentProcess | null = null;
  let child: ChildProcess | null = null;
  let pid: number;
  if (sample === null) {
    child = spawn(bin, flags, { stdio: "ignore" });
  } else {
    agent = startAgent(["--scripts", "envoy-request-trace", "--trace-sample", String(sample), "--trace-rate", "1000000", "--output", join(dir, label, "out"), "--interval", "5", "--log-level", "info", ...(scriptsDir ? ["--scripts-dir", scriptsDir] : []), ...(BPFTRACE ? ["--bpftrace", BPFTRACE] : [])], [bin, ...flags]);
  }
  try {
    pid = agent ? (await probesAttached(agent, ["envoy-request-trace"], `${label}: probes attached`, 180_000)).envoy!.pid : child!.pid!;
    const port = await portFromFile(portFile, `${label}: port`, 30_000);
    return { label, port, pid, truthFile, agent, child, rtt: [], ids: new Set() };
  } catch (err) {
    // Not yet in the caller's list: stopped here, or its agent and proxy outlive the run.
    await stopProxy({ agent, child });
    throw err;
  }
}

/** SIGTERM to the agent (it stops its proxy and bpftrace), SIGKILL after 20 s; SIGTERM to an untraced proxy. */
async function stopProxy(p: Pick<Proxy, "agent" | "child">): Promise<void> {
  if (p.agent) {
    p.agent.child.kill("SIGTERM");
    await Promise.race([p.agent.exited, new Promise((r) => setTimeout(r, 20_000))]);
    p.agent.kill();
  }
  p.child?.kill("SIGTERM");
}

/** `n` requests, one at a time, on one raw keep-alive connection; pushes each round trip (ns). */
function sequential(p: Proxy, n: number, round: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(p.port, "127.0.0.1");
    sock.setNoDelay(true);
    let i = 0;
    let sentAt = 0n;
    let buf = "";
    const next = (): void => {
      if (i === n) {
        sock.end();
        resolve();
        return;
      }
      const id = `${p.label}-${round}-${i++}`;
      p.ids.add(id);
      sentAt = process.hrtime.bigint();
      sock.write(`GET /b HTTP/1.1\r\nhost: x\r\nx-request-id: ${id}\r\n\r\n`);
    };
    sock.on("connect", next);
    sock.on("data", (d: Buffer) => {
      buf += d.toString("latin1");
      const end = buf.indexOf("\r\n\r\n");
      if (end < 0) return;
      const len = Number(/content-length: *(\d+)/i.exec(buf.slice(0, end))?.[1] ?? 0);
      if (buf.length < end + 4 + len) return;
      p.rtt.push(Number(process.hrtime.bigint() - sentAt));
      buf = buf.slice(end + 4 + len);
      next();
    });
    sock.on("error", reject);
  });
}

/** The proxy's own time per request: start to end, minus the wait for the upstream. */
function proxyTimes(lines: readonly TruthLine[], ids: ReadonlySet<string>): number[] {
  return lines
    .filter((t) => ids.has(t.id) && t.aborted === null)
    .map((t) => {
      const wait = t.phases.find((x) => x.name === "upstream_wait");
      return t.end_ns - t.start_ns - (wait ? wait.end_ns - wait.start_ns : 0);
    });
}

async function main(): Promise<void> {
  const skip = bpfSkipReason(BPFTRACE);
  if (skip) {
    console.log(`bench:trace skipped: ${skip}`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), "hookpoint-trace-bench-"));
  chmodSync(dir, 0o755);
  const up = await upstream();
  const proxies: Proxy[] = [];
  try {
    proxies.push(await startOne(dir, "none", up.port, null));
    proxies.push(await startOne(dir, "sample-1", up.port, 1));
    proxies.push(await startOne(dir, "sample-100", up.port, 100));
    for (const v of VARIANTS) proxies.push(await startOne(dir, v.label, up.port, v.sample, v.dir));
    // Warm-up: connections to the upstream, first-touch page faults, bpftrace's maps.
    for (const p of proxies) await sequential(p, 200, -1);
    for (const p of proxies) {
      p.rtt.length = 0;
      p.ids.clear();
    }
    for (let r = 0; r < ROUNDS; r++) {
      for (const p of rotated(proxies, r)) await sequential(p, PER_ROUND, r);
    }
    await new Promise((r) => setTimeout(r, 1500));
    const [base, traced, untraced, ...variants] = proxies as [Proxy, Proxy, Proxy, ...Proxy[]];
    const own = new Map(proxies.map((p) => [p.label, proxyTimes(readTruth(p.truthFile), p.ids)]));
    const row = (p: Proxy): string => {
      const t = own.get(p.label)!;
      return `${p.label.padEnd(12)} client p50 ${(quantile(p.rtt, 0.5) / 1000).toFixed(1).padStart(7)} µs  p99 ${(quantile(p.rtt, 0.99) / 1000).toFixed(1).padStart(7)} µs   proxy p50 ${(quantile(t, 0.5) / 1000).toFixed(1).padStart(6)} µs  p99 ${(quantile(t, 0.99) / 1000).toFixed(1).padStart(6)} µs  (${p.rtt.length} requests)`;
    };
    const added = (p: Proxy, q: number): string => {
      const client = (quantile(p.rtt, q) - quantile(base.rtt, q)) / 1000;
      const proxy = (quantile(own.get(p.label)!, q) - quantile(own.get(base.label)!, q)) / 1000;
      return `client ${client.toFixed(1)} µs, proxy ${proxy.toFixed(1)} µs`;
    };
    console.log(`bench:trace: ${ROUNDS} interleaved rounds of ${PER_ROUND} sequential requests per proxy (1 worker each, HTTP/1.1 both sides, upstream answers at once)`);
    for (const p of proxies) console.log(`  ${row(p)}`);
    console.log(`  added per traced request (--trace-sample 1):     p50 ${added(traced, 0.5)}; p99 ${added(traced, 0.99)}   (target ≤ 25 µs at p50)`);
    console.log(`  added per request at the default (1 in 100):   p50 ${added(untraced, 0.5)}; p99 ${added(untraced, 0.99)}   (target ≤ 3 µs at p50 per untraced request)`);
    variants.forEach((p, i) => console.log(`  added per request, variant ${p.label} (1 in ${VARIANTS[i]!.sample}): p50 ${added(p, 0.5)}; p99 ${added(p, 0.99)}`));
    // The rounds send faster than the agent assembles (see the CPU figures below): wait,
    // bounded, until every request sent to the traced proxy has an outcome.
    const sent = 200 + ROUNDS * PER_ROUND;
    const outcomes = async (): Promise<Record<string, number>> => (await traced.agent!.status()).trace?.requests ?? {};
    const settleBy = Date.now() + 60_000;
    let seen = await outcomes();
    while (Object.values(seen).reduce((a, n) => a + n, 0) < sent && Date.now() < settleBy) {
      await new Promise((r) => setTimeout(r, 500));
      seen = await outcomes();
    }
    const others = Object.entries(seen).filter(([o, n]) => o !== "recorded" && n > 0).map(([o, n]) => `${o} ${n}`);
    console.log(`  at --trace-sample 1: ${seen.recorded ?? 0} of the ${sent} requests sent (warm-up included) recorded${others.length > 0 ? `; ${others.join(", ")}` : ", none lost or dropped"}`);

    // 2. CPU at a fixed rate, each proxy in turn.
    if (LOAD_SECONDS <= 0) return;
    console.log(`  CPU at ${LOAD_RATE} requests/s for ${LOAD_SECONDS} s each (32 keep-alive connections), in % of one core:`);
    for (const p of proxies) {
      const st = p.agent ? await p.agent.status() : null;
      const bpftracePid = st?.scripts[0]?.bpftracePid ?? null;
      const agentPid = p.agent?.child.pid ?? null;
      const ticks = (): { proxy: number; agent: number; bpftrace: number; recorded: number } => ({
        proxy: cpuTicks(p.pid),
        agent: agentPid ? cpuTicks(agentPid) : 0,
        bpftrace: bpftracePid ? cpuTicks(bpftracePid) : 0,
        recorded: 0,
      });
      const before = { ...ticks(), recorded: st?.trace?.requests.recorded ?? 0, t: Date.now() };
      const load = await runFixedRateInChild({ url: `http://127.0.0.1:${p.port}/`, method: "GET", headers: {}, bodies: [""], rate: LOAD_RATE, durationSec: LOAD_SECONDS, warmupSec: 0, connections: 32 });
      const completed = load.measured - load.errors;
      // Records are written once no event came for half a second.
      await new Promise((r) => setTimeout(r, 1000));
      const after = { ...ticks(), recorded: p.agent ? ((await p.agent.status()).trace?.requests.recorded ?? 0) : 0, t: Date.now() };
      const secs = (after.t - before.t) / 1000;
      const pct = (d: number): number => (d / TICKS / secs) * 100;
      const traced = after.recorded - before.recorded;
      let line = `    ${p.label.padEnd(12)} ${completed} requests answered; proxy ${pct(after.proxy - before.proxy).toFixed(1)} %`;
      if (p.agent) {
        const agent = pct(after.agent - before.agent);
        const bt = pct(after.bpftrace - before.bpftrace);
        line += `, agent ${agent.toFixed(1)} %, bpftrace ${bt.toFixed(1)} % (${traced} requests recorded)`;
        // Scaled only where (nearly) every request was traced: at 1 in 100 fixed costs dominate.
        if (traced >= 0.9 * completed) line += `; per 5,000 traced requests/s (scaled): agent ${((agent * 5000 * secs) / traced).toFixed(0)} %, bpftrace ${((bt * 5000 * secs) / traced).toFixed(0)} %`;
      }
      console.log(line);
    }
  } finally {
    for (const p of proxies) await stopProxy(p);
    up.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
