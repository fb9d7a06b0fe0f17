// npm run bench:scripts - what the bundled scripts cost, on the fixture Envoy:
//   1. reading the 200,000-symbol binary's table and rendering each default script;
//   2. bpftrace start to "all probes attached" for each default script on that binary,
//      by address vs by exact name (DESIGN: by address ≤ 0.3 × by name);
//   3. tracing cost per probed call: the fixture's --loop mode (the request flow without
//      network) timed bare and with each uprobe script attached (DESIGN: ≤ 1.5 µs).
// Prints figures; asserts nothing. Needs root, bpftrace and the built fixture.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { clearSymbolCache, readSymbolTable } from "../../../src/elf/symbols.js";
import { loadCatalog, type BundledScript } from "../../../src/catalog/catalog.js";
import { renderScript, symbolPatternsOf } from "../../../src/catalog/render.js";
import { FIXTURE, bpfSkipReason } from "../agent/support.js";
import { runProgram } from "./harness.js";

const LOOP_CALLS = 50_000;
const ATTACH_RUNS = 3;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const ms = (ns: bigint): number => Number(ns) / 1e6;

async function timed<T>(f: () => Promise<T> | T): Promise<[T, number]> {
  const t0 = process.hrtime.bigint();
  const v = await f();
  return [v, ms(process.hrtime.bigint() - t0)];
}

/** A --loop fixture waiting for SIGUSR1; resolves its pid and a promise of its elapsed ns. */
async function loopFixture(calls: number): Promise<{ pid: number; go(): Promise<number> }> {
  const child = spawn(FIXTURE.envoy, ["--concurrency", "1", "--loop", String(calls), "--loop-wait-signal"], { stdio: ["ignore", "pipe", "ignore"] });
  const lines = createInterface({ input: child.stdout! });
  const elapsed = new Promise<number>((resolve, reject) => {
    lines.on("line", (l) => {
      const m = /^loop calls=\d+ elapsed_ns=(\d+)/.exec(l);
      if (m) resolve(Number(m[1]));
    });
    child.on("exit", (code) => reject(new Error(`loop fixture exited ${code} without a result`)));
  });
  await new Promise<void>((resolve) => lines.on("line", (l) => l === "loop ready" && resolve()));
  return {
    pid: child.pid ?? 0,
    go: async () => {
      child.kill("SIGUSR1");
      return elapsed;
    },
  };
}

async function main(): Promise<void> {
  const skip = bpfSkipReason();
  if (skip) {
    console.log(`bench:scripts skipped: ${skip}`);
    return;
  }
  const catalog = await loadCatalog();
  const defaults = catalog.filter((s) => s.header.default);

  clearSymbolCache();
  // As the agent reads it: only what the default scripts name.
  const [big, readMs] = await timed(() => readSymbolTable(FIXTURE.big, symbolPatternsOf(defaults)));
  console.log(`symbol table of the big fixture: ${big.functions} functions scanned, ${big.symbols.size} kept, in ${readMs.toFixed(0)} ms`);
  for (const s of defaults) {
    const times: number[] = [];
    for (let i = 0; i < 20; i++) times.push((await timed(() => renderScript(s, { binary: FIXTURE.big, pid: 1, table: big, byAddress: true })))[1]);
    console.log(`render ${s.header.name.padEnd(20)} by address: ${median(times).toFixed(2)} ms (median of 20)`);
  }

  console.log(`\nbpftrace start → all probes attached, big fixture (${big.functions} functions), median of ${ATTACH_RUNS}:`);
  let sumAddr = 0;
  let sumName = 0;
  for (const s of defaults) {
    const figures: Record<string, number> = {};
    for (const byAddress of [true, false]) {
      const times: number[] = [];
      for (let i = 0; i < ATTACH_RUNS; i++) {
        const program = renderScript(s, { binary: FIXTURE.big, pid: process.pid, table: big, byAddress });
        const [run, t] = await timed(() => runProgram(s.header.name, program));
        await run.stop();
        times.push(t);
      }
      figures[byAddress ? "address" : "name"] = median(times);
    }
    sumAddr += figures.address ?? 0;
    sumName += figures.name ?? 0;
    console.log(
      `  ${s.header.name.padEnd(20)} by address ${figures.address?.toFixed(0)} ms, by name ${figures.name?.toFixed(0)} ms, ratio ${((figures.address ?? 0) / (figures.name ?? 1)).toFixed(2)}`,
    );
  }
  console.log(`  all default scripts (one after another): by address ${sumAddr.toFixed(0)} ms, by name ${sumName.toFixed(0)} ms, ratio ${(sumAddr / sumName).toFixed(2)}`);

  const small = await readSymbolTable(FIXTURE.envoy);
  const bare = await loopFixture(LOOP_CALLS);
  const bareNs = await bare.go();
  console.log(`\ntracing cost, fixture --loop ${LOOP_CALLS} (request flow without network): bare ${(bareNs / LOOP_CALLS).toFixed(0)} ns per request`);
  // Probe hits per request in --loop mode (no read, no dispatch, no write there).
  const hits: Record<string, number> = { "hookpoint-pairs": 9, "envoy-filter-chain": 2, "envoy-request-flow": 3 };
  for (const s of catalog.filter((c: BundledScript) => hits[c.header.name] !== undefined)) {
    const fx = await loopFixture(LOOP_CALLS);
    const program = renderScript(s, { binary: FIXTURE.envoy, pid: fx.pid, table: small, byAddress: true, intervalSeconds: 1 });
    const run = await runProgram(s.header.name, program);
    const ns = await fx.go();
    await run.stop();
    const perCall = (ns - bareNs) / LOOP_CALLS / (hits[s.header.name] ?? 1);
    console.log(`  ${s.header.name.padEnd(20)} ${hits[s.header.name]} probed calls per request: ${(ns / LOOP_CALLS / 1000).toFixed(2)} µs per request, ${(perCall / 1000).toFixed(2)} µs per probed call`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
