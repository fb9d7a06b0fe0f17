// bench:report: `hookpoint report` on 100,000 realistic request records (6 pods, 2-4 Envoy
// workers each, an hour of map records), then the page in headless Chromium.
//
// Build: the CLI as a user runs it (a real process: start-up, read, bundle, write), three
// runs, median; plus the in-process stages of one run. Target ≤ 10 s.
// Interactive: from navigation start until the page has drawn every section and chart
// (body[data-ready], then two animation frames so it is painted) AND has answered a filter
// change made right then (a pod chosen, the page drawn again and painted). Three runs,
// median. Target ≤ 2 s. Also printed: the load event, the page's own parse and render
// times, the answer to the filter change, and the page size.
//
// BENCH_REPORT_EXPORTS=1 also times the Perfetto and OTLP exports (no target).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { clientBundle } from "../src/report/bundle.js";
import { buildReportData } from "../src/report/data.js";
import { loadResults } from "../src/report/load.js";
import { renderPage } from "../src/report/page.js";
import { launchChromium } from "../test/support/browser.js";
import { repoRoot } from "../test/support/cli.js";
import { generateMapRecords, generateRequests, writeCollectLayout, type PodSpec } from "../test/support/request-records.js";
import { median, statFields } from "./common.js";

const REQUESTS = 100_000;
const RUNS = 3;

const pods: PodSpec[] = [
  { namespace: "shop", name: "cart-7d9f8b6c5d-x2x4z", bootWallNs: 1_738_300_000_000_000_000n, pid: 4242, workers: 4 },
  { namespace: "shop", name: "cart-7d9f8b6c5d-b7k2p", bootWallNs: 1_738_300_000_250_000_000n, pid: 17, workers: 4 },
  { namespace: "shop", name: "checkout-6c8d7f9b5-q9wzt", bootWallNs: 1_738_300_000_500_000_000n, pid: 31, workers: 2 },
  { namespace: "shop", name: "payments-5f7c9d8b4-x7k2p", bootWallNs: 1_738_300_000_600_000_000n, pid: 44, workers: 2 },
  { namespace: "web", name: "frontend-0", bootWallNs: 1_738_300_001_000_000_000n, pid: 88, workers: 2 },
  { namespace: "web", name: "frontend-1", bootWallNs: 1_738_300_001_100_000_000n, pid: 90, workers: 2 },
];

function secs(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

/** CPU time (user + system, ms) of this process's waited-for children so far. */
function childrenCpuMs(): number {
  const fields = statFields("self");
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / 100; // cutime, cstime in USER_HZ (100)
}

/** CPU time (user + system, ms) of the live processes below `root` (Chromium's browser, renderer, GPU…). */
function descendantsCpuMs(root: number): number {
  const parent = new Map<number, number>();
  const ticks = new Map<number, number>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const f = statFields(Number(name));
      parent.set(Number(name), Number(f[1]));
      ticks.set(Number(name), Number(f[11]) + Number(f[12]));
    } catch {
      // gone meanwhile
    }
  }
  let sum = 0;
  for (const [pid, t] of ticks) {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) {
      if (p === root) {
        sum += t;
        break;
      }
    }
  }
  return (sum * 1000) / 100;
}

function loadAverage(): string {
  return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "hookpoint-bench-report-"));
  try {
    let t = performance.now();
    // ~4 ms between a worker's requests spreads them over ~70 s per pod.
    const records = generateRequests({ pods, count: REQUESTS, seed: 42, gapNs: 4_000_000 });
    const maps = pods.flatMap((p, i) => generateMapRecords(p, 360, 1_738_300_010_000, i + 1));
    writeCollectLayout(join(dir, "in"), records, undefined, maps);
    console.log(`generated ${REQUESTS} request records and ${maps.length} map records of ${pods.length} pods in ${secs(performance.now() - t)}`);

    console.log(`machine: ${cpus().length} cores, load average ${loadAverage()} (wall times stretch with other jobs; CPU times less so)`);
    // In-process stages of one build.
    const cpu0 = process.cpuUsage();
    t = performance.now();
    const loaded = await loadResults(join(dir, "in"));
    const tLoad = performance.now() - t;
    t = performance.now();
    const data = buildReportData(loaded, new Date());
    const tData = performance.now() - t;
    t = performance.now();
    const bundle = await clientBundle();
    const tBundle = performance.now() - t;
    t = performance.now();
    const html = renderPage(data, bundle);
    await writeFile(join(dir, "stages.html"), html);
    const tRender = performance.now() - t;
    const cpu = process.cpuUsage(cpu0);
    console.log(`stages (wall): read+validate ${secs(tLoad)}, data ${secs(tData)}, bundle (esbuild + uPlot) ${secs(tBundle)}, page+write ${secs(tRender)}; CPU ${secs((cpu.user + cpu.system) / 1000)}`);

    // The CLI as a user runs it.
    const file = join(dir, "report.html");
    const builds: number[] = [];
    const buildCpu: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      t = performance.now();
      const c = childrenCpuMs();
      const r = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", "report", join(dir, "in"), "-o", file], { cwd: repoRoot, encoding: "utf8" });
      builds.push(performance.now() - t);
      buildCpu.push(childrenCpuMs() - c);
      if (r.status !== 0) throw new Error(`hookpoint report failed: ${r.stderr}`);
    }
    const size = statSync(file).size;
    console.log(`build (hookpoint report, whole process): median ${secs(median(builds))} wall of ${builds.map(secs).join(", ")}; CPU median ${secs(median(buildCpu))} (target ≤ 10 s)`);
    console.log(`page size: ${(size / 1048576).toFixed(1)} MB (data ${(JSON.stringify(data).length / 1048576).toFixed(1)} MB, script ${(bundle.js.length / 1024).toFixed(0)} KB)`);

    const chromium = await launchChromium();
    if ("skip" in chromium) {
      console.log(`time to interactive: not measured: ${chromium.skip}`);
    } else {
      const runs: { tti: number; load: number; ready: number; filter: number; parse: number; render: number; busy: number; cpu: number }[] = [];
      for (let i = 0; i < RUNS; i++) {
        const page = await chromium.browser.newPage({ viewport: { width: 1400, height: 900 } });
        // The renderer's main-thread busy time (CDP Performance.TaskDuration): what the page
        // itself costs, less stretched than wall time when other jobs share the cores.
        const cdp = await page.context().newCDPSession(page);
        await cdp.send("Performance.enable");
        const cpu0 = descendantsCpuMs(process.pid);
        const t0 = performance.now();
        await page.goto(`file://${file}`, { waitUntil: "load", timeout: 60_000 });
        const load = performance.now() - t0;
        await page.waitForSelector("body[data-ready]", { timeout: 60_000 });
        await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
        const ready = performance.now() - t0;
        const t1 = performance.now();
        await page.selectOption("#f-pod", { label: "shop/checkout-6c8d7f9b5-q9wzt" });
        await page.waitForFunction(() => document.body.getAttribute("data-renders") === "2", undefined, { timeout: 60_000 });
        await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
        const filter = performance.now() - t1;
        const timings = (await page.evaluate(() => (window as unknown as { hookpointTimings: { parseMs: number; firstRenderMs: number } }).hookpointTimings)) ?? { parseMs: NaN, firstRenderMs: NaN };
        const tti = performance.now() - t0;
        const cpu = descendantsCpuMs(process.pid) - cpu0;
        const metrics = (await cdp.send("Performance.getMetrics")).metrics;
        const busy = (metrics.find((x) => x.name === "TaskDuration")?.value ?? NaN) * 1000;
        runs.push({ tti, load, ready, filter, parse: timings.parseMs, render: timings.firstRenderMs, busy, cpu });
        await page.close();
      }
      await chromium.close();
      const m = (k: keyof (typeof runs)[number]): string => secs(median(runs.map((r) => r[k])));
      console.log(`time to interactive (drawn and a filter change answered): median ${m("tti")} of ${runs.map((r) => secs(r.tti)).join(", ")} (target ≤ 2 s)`);
      console.log(`  until then: renderer main thread busy ${m("busy")} (wall time of its tasks); Chromium's processes used ${m("cpu")} CPU`);
      console.log(`  load event ${m("load")}; all sections drawn ${m("ready")} (data JSON.parse ${m("parse")}, first render ${m("render")}); filter change answered in ${m("filter")}`);
      console.log(`  load average now ${loadAverage()}`);
    }

    if (process.env.BENCH_REPORT_EXPORTS === "1") {
      for (const format of ["perfetto", "otlp"]) {
        const out = join(dir, `export.${format}`);
        t = performance.now();
        const r = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", "report", join(dir, "in"), "--format", format, "-o", out], { cwd: repoRoot, encoding: "utf8" });
        if (r.status !== 0) throw new Error(`hookpoint report --format ${format} failed: ${r.stderr}`);
        console.log(`--format ${format}: ${secs(performance.now() - t)}, ${(statSync(out).size / 1048576).toFixed(0)} MB`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
