// `npm run bench:agent`: the agent's quality figures on the fixture Envoy (root and
// bpftrace needed; run scripts/setup/20-bpftrace.sh and 30-fixture.sh first).
//  1. Envoy start → probes attached, default scripts, 200k-symbol fixture: the agent
//     (symbols read in Node, probes by address) next to bpftrace attaching the same probes
//     by name. Targets: ≤ 2 s and ≤ 0.3 × by-name.
//  2. Cost per probed call: the fixture's request flow in a loop, traced vs untraced.
//     Target ≤ 1.5 µs.
//  3. Agent CPU at 50,000 events/s. Target ≤ 5 % of a core.
//  4. Agent memory attached to the 200k-symbol fixture and to the 3,000,000-symbol one,
//     the agent built and started as the image starts it (the launcher). Target ≤ 80 MB.
// Prints figures; asserts nothing.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { withAttachedMarker, ATTACHED_MARKER } from "../src/agent/bpftrace/program.js";
import { clearSymbolCache, readSymbolTable } from "../src/elf/symbols.js";
import { DEFAULT_SCRIPT_NAMES, loadCatalog } from "../src/catalog/catalog.js";
import { renderScript, symbolPatternsOf } from "../src/catalog/render.js";
import { AgentProcess, FIXTURE, ROOT, bpfSkipReason, startAgent, waitFor } from "../test/bpf/agent/support.js";
import { cpuTicks, median } from "./common.js";

const ROUNDS = Number(process.env.HOOKPOINT_BENCH_ROUNDS ?? 3);
// Probed calls per iteration of the fixture's request flow with the default scripts: 9
// hookpoint* functions + FilterManager::decodeHeaders, Router::Filter::decodeHeaders and
// UpstreamRequest::encodeHeaders (the loop has no socket I/O, so no onReadReady/dispatch).
const PROBES_PER_REQUEST = 12;
const TICKS = 100; // USER_HZ

async function stopAgent(a: AgentProcess): Promise<void> {
  a.child.kill("SIGTERM");
  await Promise.race([a.exited, new Promise((r) => setTimeout(r, 20_000))]);
  a.kill();
}

/** ms from the command's start to the last script's "probes attached", from the agent's own log times. */
async function agentAttach(dir: string): Promise<number> {
  const a = startAgent(["--output", join(dir, "out"), "--log-level", "info"], [FIXTURE.pilotAgent, "--envoy", FIXTURE.big, "--", "--port-file", join(dir, "port")]);
  try {
    await waitFor("default scripts attached", 120_000, async () => {
      const st = a.port !== null ? await a.status() : null;
      return st !== null && st.scripts.length > 0 && st.scripts.every((s) => s.state === "running");
    }, () => a.logText());
    const started = a.logs.find((l) => l.msg === "command started")!.time as number;
    const attached = a.logs.filter((l) => l.msg === "probes attached").map((l) => l.time as number);
    return Math.max(...attached) - started;
  } finally {
    await stopAgent(a);
  }
}

/** ms until every program's BEGIN ran (all its probes attached), all programs started together. */
async function bpftraceAttach(programs: string[]): Promise<number> {
  const t0 = performance.now();
  const one = (file: string): Promise<number> =>
    new Promise((resolve, reject) => {
      const child = spawn("bpftrace", ["-f", "json", file], { stdio: ["ignore", "pipe", "pipe"] });
      let err = "";
      child.stderr.on("data", (d: Buffer) => (err += d.toString()));
      child.stdout.on("data", (d: Buffer) => {
        if (d.toString().includes(ATTACHED_MARKER)) {
          resolve(performance.now() - t0);
          child.kill("SIGINT");
        }
      });
      child.on("exit", (code) => reject(new Error(`bpftrace ${file} exited ${code}: ${err.slice(-300)}`)));
    });
  return Math.max(...(await Promise.all(programs.map(one))));
}

async function attachBench(dir: string): Promise<void> {
  const catalog = await loadCatalog();
  clearSymbolCache();
  const t0 = performance.now();
  // What the agent reads: only the symbols the default scripts name.
  const table = await readSymbolTable(FIXTURE.big, symbolPatternsOf(catalog.filter((s) => s.header.default)));
  const readMs = performance.now() - t0;
  const render = (byAddress: boolean): string[] =>
    DEFAULT_SCRIPT_NAMES.map((name, i) => {
      // renderScript generates hookpoint-pairs from its template in the catalog.
      const script = catalog.find((s) => s.header.name === name)!;
      const file = join(dir, `${byAddress ? "addr" : "name"}-${i}.bt`);
      writeFileSync(file, withAttachedMarker(renderScript(script, { binary: FIXTURE.big, pid: 999_999, table, byAddress, intervalSeconds: 10 })));
      return file;
    });
  const byName = render(false);
  const byAddr = render(true);
  const probes = byName.map((f) => (readFileSync(f, "utf8").match(/^\s*uprobe:/gm) ?? []).length).reduce((a, b) => a + b, 0);

  const agentMs: number[] = [];
  const nameMs: number[] = [];
  const addrMs: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    agentMs.push(await agentAttach(dir));
    nameMs.push(await bpftraceAttach(byName));
    addrMs.push(await bpftraceAttach(byAddr));
  }
  const a = median(agentMs);
  const n = median(nameMs);
  console.log(`\n1. Envoy start -> probes attached (default scripts: ${DEFAULT_SCRIPT_NAMES.join(", ")}; ${table.functions} function symbols; ${probes} uprobes; median of ${ROUNDS})`);
  console.log(`   ELF symbols read in Node (cold):           ${readMs.toFixed(0)} ms`);
  console.log(`   agent, command start -> all attached:      ${a.toFixed(0)} ms   (runs: ${agentMs.map((x) => x.toFixed(0)).join(", ")})`);
  console.log(`   bpftrace alone, same probes by address:    ${median(addrMs).toFixed(0)} ms`);
  console.log(`   bpftrace alone, same probes by name:       ${n.toFixed(0)} ms   (runs: ${nameMs.map((x) => x.toFixed(0)).join(", ")})`);
  console.log(`   agent / by-name:                           ${(a / n).toFixed(2)}   (targets: <= 2000 ms and <= 0.30)`);
}

/** The fixture's loop with empty uprobes on the same 12 functions: the kernel's own uprobe cost. */
async function loopBare(dir: string, n: number): Promise<number> {
  const table = await readSymbolTable(FIXTURE.envoy);
  const names = [...table.symbols.keys()].filter(
    (k) => k.startsWith("hookpoint") || k.includes("13FilterManager13decodeHeaders") || k.includes("6Router6Filter13decodeHeaders") || k.includes("15UpstreamRequest13encodeHeaders"),
  );
  if (names.length !== PROBES_PER_REQUEST) throw new Error(`expected ${PROBES_PER_REQUEST} probed functions, found ${names.length}`);
  const file = join(dir, "bare.bt");
  writeFileSync(file, withAttachedMarker(names.map((k) => `uprobe:${FIXTURE.envoy}:0x${table.symbols.get(k)!.address.toString(16)} { }`).join("\n")));
  const fixture = spawn(FIXTURE.envoy, ["--loop", String(n), "--concurrency", "1", "--loop-wait-signal"], { stdio: ["ignore", "pipe", "ignore"] });
  let out = "";
  fixture.stdout.on("data", (d: Buffer) => (out += d.toString()));
  const bt = spawn("bpftrace", ["-f", "json", file], { stdio: ["ignore", "pipe", "ignore"] });
  try {
    await new Promise<void>((resolve) => bt.stdout.on("data", (d: Buffer) => d.toString().includes(ATTACHED_MARKER) && resolve()));
    await waitFor("the fixture waiting", 10_000, () => out.includes("loop ready"));
    fixture.kill("SIGUSR1");
    const line = await waitFor("the loop's result", 300_000, () => /elapsed_ns=(\d+)/.exec(out)?.[1]);
    return Number(line);
  } finally {
    bt.kill("SIGINT");
    fixture.kill("SIGKILL");
  }
}

function loopUntraced(n: number): number {
  const out = spawnSync(FIXTURE.envoy, ["--loop", String(n), "--concurrency", "1"], { encoding: "utf8" });
  return Number(/elapsed_ns=(\d+)/.exec(out.stdout)![1]);
}

/** Runs the fixture's loop under the agent with the default scripts; returns its elapsed ns and CPU figures. */
async function loopTraced(dir: string, n: number, rate: number): Promise<{ elapsedNs: number; agentCpu: number; bpftraceCpu: number; seconds: number }> {
  const a = startAgent(["--output", join(dir, "out"), "--interval", "1"], [FIXTURE.envoy, "--loop", String(n), "--loop-rate", String(rate), "--loop-wait-signal", "--concurrency", "1"]);
  try {
    const st = await waitFor("default scripts attached", 120_000, async () => {
      const s = a.port !== null ? await a.status() : null;
      return s && s.envoy && s.scripts.length > 0 && s.scripts.every((x) => x.state === "running") ? s : undefined;
    }, () => a.logText());
    const bpids = st.scripts.map((s) => s.bpftracePid!).filter(Boolean);
    const agentPid = a.child.pid!;
    const c0 = cpuTicks(agentPid);
    const b0 = bpids.map(cpuTicks).reduce((x, y) => x + y, 0);
    const t0 = performance.now();
    process.kill(st.envoy!.pid, "SIGUSR1");
    const line = await waitFor("the loop's result", 300_000, () => a.stderr.find((l) => l.startsWith("loop calls=")));
    const seconds = (performance.now() - t0) / 1000;
    const agentCpu = (cpuTicks(agentPid) - c0) / TICKS / seconds;
    const bpftraceCpu = (bpids.map(cpuTicks).reduce((x, y) => x + y, 0) - b0) / TICKS / seconds;
    return { elapsedNs: Number(/elapsed_ns=(\d+)/.exec(line)![1]), agentCpu, bpftraceCpu, seconds };
  } finally {
    await stopAgent(a);
  }
}

/** The image layout (dist/, bpf/, node_modules) built with tsc into `dir`, as the Dockerfiles do. */
function buildImageLayout(dir: string): void {
  execFileSync(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", join(ROOT, "tsconfig.build.json"), "--outDir", join(dir, "dist")], { cwd: ROOT, stdio: "pipe" });
  cpSync(join(ROOT, "bpf"), join(dir, "bpf"), { recursive: true });
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
}

/** kB figures of /proc/<pid>/status. */
function memory(pid: number): Record<"VmRSS" | "VmHWM" | "RssAnon" | "RssFile", number> {
  const text = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? NaN);
  return { VmRSS: kb("VmRSS"), VmHWM: kb("VmHWM"), RssAnon: kb("RssAnon"), RssFile: kb("RssFile") };
}

/** The built agent, started through the image's launcher, traces `envoy` with the default scripts for a while. */
async function agentMemory(home: string, dir: string, envoy: string): Promise<ReturnType<typeof memory>> {
  const child = spawn("sh", [join(ROOT, "deploy/images/hookpoint-launcher.sh"), "agent", "--metrics-host", "127.0.0.1", "--metrics-port", "0", "--output", join(dir, "out-mem"), "--interval", "1", "--", FIXTURE.pilotAgent, "--envoy", envoy, "--", "--port-file", join(dir, "port-mem")], {
    env: { ...process.env, HOOKPOINT_HOME: home, HOOKPOINT_NODE: process.execPath },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const a = new AgentProcess(child);
  try {
    await waitFor("default scripts attached", 180_000, async () => {
      const st = a.port !== null ? await a.status() : null;
      return st !== null && st.envoy !== null && st.scripts.length > 0 && st.scripts.every((s) => s.state === "running");
    }, () => a.logText());
    // A few flushes (interval 1 s) and scrapes, as in a pod.
    for (let i = 0; i < 5; i++) {
      await a.metrics();
      await new Promise((r) => setTimeout(r, 1000));
    }
    return memory(child.pid!);
  } finally {
    await stopAgent(a);
  }
}

async function memoryBench(dir: string): Promise<void> {
  const home = join(dir, "image");
  buildImageLayout(home);
  console.log("\n4. Agent memory, built and started through the image's launcher, default scripts attached, interval 1 s (kB; target VmRSS <= 80 MB)");
  for (const [label, envoy] of [["200k-symbol fixture", FIXTURE.big], ["3,000,000-symbol fixture", FIXTURE.huge]] as const) {
    if (!existsSync(envoy)) {
      console.log(`   ${label}: not built (scripts/setup/31-fixture-huge.sh)`);
      continue;
    }
    const m = await agentMemory(home, dir, envoy);
    console.log(`   ${label.padEnd(26)} VmRSS ${m.VmRSS} (anonymous ${m.RssAnon}, file-backed ${m.RssFile}), peak VmHWM ${m.VmHWM}`);
  }
}

async function main(): Promise<void> {
  const skip = bpfSkipReason();
  if (skip) {
    console.log(`bench:agent cannot run here: ${skip}`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), "hookpoint-bench-"));
  chmodSync(dir, 0o777);
  try {
    await attachBench(dir);

    const N = 300_000;
    const untraced = median([loopUntraced(N), loopUntraced(N), loopUntraced(N)]);
    const traced = await loopTraced(dir, N, 0);
    const bare = await loopBare(dir, N);
    const perCallUs = (traced.elapsedNs - untraced) / (N * PROBES_PER_REQUEST) / 1000;
    const bareUs = (bare - untraced) / (N * PROBES_PER_REQUEST) / 1000;
    console.log(`\n2. Cost per probed call (fixture request flow in a loop, ${N} iterations x ${PROBES_PER_REQUEST} probed calls, default scripts)`);
    console.log(`   untraced: ${((N / untraced) * 1e9).toFixed(0)} iterations/s   traced: ${((N / traced.elapsedNs) * 1e9).toFixed(0)} iterations/s`);
    console.log(`   probed calls/s traced: ${((N * PROBES_PER_REQUEST) / traced.elapsedNs * 1e9).toFixed(0)}`);
    console.log(`   cost per probed call:  ${perCallUs.toFixed(2)} us   (target <= 1.5 us)`);
    console.log(`   of which the kernel's bare uprobe (empty probe on the same 12 functions): ${bareUs.toFixed(2)} us; the scripts' own work: ${(perCallUs - bareUs).toFixed(2)} us`);

    const eventsPerSecond = 50_000;
    const rate = Math.round(eventsPerSecond / PROBES_PER_REQUEST);
    const seconds = 10;
    const cpu = await loopTraced(dir, rate * seconds, rate);
    console.log(`\n3. Agent CPU at ${eventsPerSecond} events/s (${rate} iterations/s x ${PROBES_PER_REQUEST} probes for ${cpu.seconds.toFixed(1)} s, interval 1 s)`);
    console.log(`   agent (node) CPU: ${(cpu.agentCpu * 100).toFixed(2)} % of a core   (target <= 5 %)`);
    console.log(`   bpftrace processes (in-kernel probe cost not included): ${(cpu.bpftraceCpu * 100).toFixed(2)} % of a core`);

    await memoryBench(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
