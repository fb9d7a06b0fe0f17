// The report page in a real headless Chromium: built by the CLI from records whose figures
// this test computes itself, opened from file://, read through the DOM attributes the
// design fixes (#hookpoint-data, data-phase / data-p50-ns / data-p99-ns, data-request-id).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MapRecord } from "../../../src/records/map-record.js";
import type { RequestRecord } from "../../../src/records/request-record.js";
import { launchChromium, type Chromium } from "../../support/browser.js";
import { runCli } from "../../support/cli.js";
import { generateMapRecords, generateRequests, writeCollectLayout, type PodSpec } from "../../support/request-records.js";

const PHASES = ["downstream_read", "codec", "filters", "router", "upstream_connect", "upstream_write", "upstream_wait", "upstream_read", "downstream_write"];

const pods: PodSpec[] = [
  { namespace: "shop", name: "cart-7d9f8b6c5d-x2x4z", bootWallNs: 1_738_300_000_000_000_000n, pid: 4242, workers: 2 },
  { namespace: "shop", name: "cart-7d9f8b6c5d-b7k2p", bootWallNs: 1_738_300_000_250_000_000n, pid: 17, workers: 2 },
  { namespace: "web", name: "frontend-0", bootWallNs: 1_738_300_001_000_000_000n, pid: 88, workers: 2 },
];
const records: RequestRecord[] = generateRequests({ pods, count: 3000, seed: 21 });
// The slowest request has an id that tries to break out of the page's script and markup.
const EVIL = '</script><img src="http://198.51.100.1/x.png" onerror="document.title=1">';
const slowest = records.reduce((a, b) => (b.end_ns - b.start_ns > a.end_ns - a.start_ns ? b : a));
slowest.id = EVIL;
const maps = generateMapRecords(pods[0]!, 6, 1_738_300_010_000, 5);

// ---- the test's own figures, computed from the records ------------------------------

const dur = (r: RequestRecord): number => r.end_ns - r.start_ns;

function nearestRank(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil((p * sorted.length) / 100) - 1]!;
}

type Figures = Record<string, { count: number; p50: number; p90: number; p99: number }>;

const phaseDurations = (rs: RequestRecord[], phase: string): number[] => rs.flatMap((r) => r.phases.filter((p) => p.name === phase).map((p) => p.end_ns - p.start_ns));

function expectedSummary(rs: RequestRecord[]): Figures {
  const out: Figures = {};
  const figures = (values: number[]): Figures[string] => ({ count: values.length, p50: nearestRank(values, 50), p90: nearestRank(values, 90), p99: nearestRank(values, 99) });
  for (const phase of PHASES) {
    const values = phaseDurations(rs, phase);
    if (values.length) out[phase] = figures(values);
  }
  out.request = figures(rs.map(dur));
  return out;
}

/** Power-of-two histogram as the README says: 0, then [2^k, 2^(k+1)); lower bound → count. */
function powerOfTwoCounts(values: number[]): [number, number][] {
  const counts = new Map<number, number>();
  for (const v of values) {
    let lower = v === 0 ? 0 : 1;
    while (lower * 2 <= v) lower *= 2;
    counts.set(lower, (counts.get(lower) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => a[0] - b[0]);
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** The README's rule: the 25 slowest (ties by id), then the 25 smallest FNV-1a id hashes of the rest. */
function expectedWaterfall(rs: RequestRecord[]): string[] {
  const bySlow = [...rs].sort((a, b) => dur(b) - dur(a) || (a.id < b.id ? -1 : 1));
  const rest = bySlow.slice(25).sort((a, b) => fnv1a(a.id) - fnv1a(b.id));
  return [...bySlow.slice(0, 25), ...rest.slice(0, 25)].map((r) => r.id).sort();
}

// ---- the page ------------------------------------------------------------------------

let chromium: Chromium | null = null;
let skip = "";
let dir = "";
let file = "";

beforeAll(async () => {
  const launched = await launchChromium();
  if ("skip" in launched) {
    skip = launched.skip;
    return;
  }
  chromium = launched;
  dir = mkdtempSync(join(tmpdir(), "hookpoint-report-browser-"));
  writeCollectLayout(join(dir, "in"), records, undefined, maps);
  file = join(dir, "report.html");
  const r = runCli(["report", join(dir, "in"), "-o", file]);
  if (r.code !== 0) throw new Error(`hookpoint report failed: ${r.stderr}`);
}, 120_000);

afterAll(async () => {
  await chromium?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Opened {
  page: Page;
  errors: string[];
  requests: string[];
}

async function open(report = file): Promise<Opened> {
  const page = await chromium!.browser.newPage({ viewport: { width: 1400, height: 900 } });
  const errors: string[] = [];
  const requests: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") errors.push(`${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  page.on("request", (r) => requests.push(r.url()));
  await page.goto(`file://${report}`);
  await page.waitForSelector("body[data-ready]", { timeout: 30_000 });
  return { page, errors, requests };
}

async function summary(page: Page): Promise<Figures> {
  const rows = await page.$$eval("#summary tr[data-phase]", (trs) =>
    trs.map((tr) => ({ phase: tr.getAttribute("data-phase")!, count: Number(tr.getAttribute("data-count")), p50: tr.getAttribute("data-p50-ns"), p90: tr.getAttribute("data-p90-ns"), p99: tr.getAttribute("data-p99-ns") })),
  );
  const out: Figures = {};
  for (const r of rows) if (r.count > 0) out[r.phase] = { count: r.count, p50: Number(r.p50), p90: Number(r.p90), p99: Number(r.p99) };
  return out;
}

/** A drawn histogram's non-empty bars as lower bound → count, from the chart's attributes. */
async function bars(page: Page, selector: string, lowerAttr: string): Promise<[number, number][]> {
  const [lower, counts] = await page.$eval(selector, (e, a) => [e.getAttribute(a) ?? "", e.getAttribute("data-counts") ?? ""], lowerAttr);
  const l = lower.split(",").map(Number);
  const c = counts.split(",").map(Number);
  expect(l).toHaveLength(c.length);
  return l.map((x, i) => [x, c[i]!] as [number, number]).filter(([, n]) => n > 0);
}

async function waterfallIds(page: Page): Promise<string[]> {
  return (await page.$$eval("#waterfall svg [data-request-id]", (els) => els.map((e) => e.getAttribute("data-request-id")!))).sort();
}

/** Changes a filter and waits for the page to draw again. */
async function choose(page: Page, select: string, label: string): Promise<void> {
  const before = await page.getAttribute("body", "data-renders");
  await page.selectOption(select, { label });
  await page.waitForFunction((n) => document.body.getAttribute("data-renders") !== n, before);
}

describe("report page in headless Chromium", () => {
  it("opens from file:// with no console errors and no network request", async (ctx) => {
    if (skip) return ctx.skip(skip);
    const { page, errors, requests } = await open();
    expect(errors).toEqual([]);
    expect(requests).toEqual([`file://${file}`]);
    expect(await page.title()).toBe("hookpoint report");
    // The hostile id is text, not markup: no <img> exists, the page title is untouched.
    expect(await page.$$eval("img", (i) => i.length)).toBe(0);
    expect(await page.$eval("#slowest tbody tr:first-child a", (a) => a.textContent)).toBe(EVIL);
    await page.close();
  });

  it("counts in words a user reads (1 request, 1 pod), offers only the protocols the records have, and hints the time format", async (ctx) => {
    if (skip) return ctx.skip(skip);
    const one = generateRequests({ pods: [pods[0]!], count: 1, seed: 5 })[0]!;
    one.protocol = "HTTP/1.1";
    one.stream = null;
    writeCollectLayout(join(dir, "one"), [one]);
    const single = join(dir, "one.html");
    const r = runCli(["report", join(dir, "one"), "-o", single]);
    expect(r.code).toBe(0);
    const { page, errors } = await open(single);
    const header = (await page.$eval("#source", (e) => e.textContent ?? "")).replace(/; .* UTC\./, "; TIMES.");
    const protocols = await page.$$eval("#f-protocol option", (os) => os.map((o) => o.textContent));
    // The time filter's hint is a format, not a date that looks like a value.
    const hint = await page.getAttribute("#f-from", "placeholder");
    expect({ errors, header, protocols, hint }).toEqual({ errors: [], header: "1 request (1 selected) from 1 pod, 0 map records; TIMES.", protocols: ["all protocols", "HTTP/1.1"], hint: "YYYY-MM-DD hh:mm:ss.sss, UTC" });
    await page.close();
  });

  it("says next to the request count how many traced requests have no record and why, in total and per pod, from the manifest's counts", async (ctx) => {
    if (skip) return ctx.skip(skip);
    const some = records.filter((r) => r.pod !== `${pods[1]!.namespace}/${pods[1]!.name}`).slice(0, 26);
    const counts = (c: Record<string, number>) => ({ recorded: 0, aborted: 0, timeout: 0, incomplete: 0, invalid: 0, overflow: 0, rate_capped: 0, unfinished: 0, lost: 0, ...c });
    const entry = (p: PodSpec, c: Record<string, number> | null) => ({ namespace: p.namespace, name: p.name, workload: null, node: "node-a", agent: { reachable: true }, errors: [], ...(c ? { traceRequestsOverAgentLife: counts(c) } : {}) });
    const manifest = { version: 1, cluster: { server: "https://127.0.0.1", context: "lab" }, collectedAt: "2026-03-01T12:00:00.000Z", since: null, until: "2026-03-01T12:00:01.000Z" };
    writeCollectLayout(join(dir, "outcomes"), some, { ...manifest, pods: [entry(pods[0]!, { recorded: 20, aborted: 1, timeout: 1 }), entry(pods[2]!, { recorded: 9, aborted: 2 })] });
    const report = join(dir, "outcomes.html");
    expect(runCli(["report", join(dir, "outcomes"), "-o", report]).code).toBe(0);
    const { page, errors } = await open(report);
    const podNote = (p: PodSpec) => page.$eval(`#groups tr[data-key="${p.namespace}/${p.name}"] td:first-child .unrecorded`, (e) => e.textContent);
    expect({
      errors,
      total: await page.$eval("#unrecorded", (e) => e.textContent),
      cart: await podNote(pods[0]!),
      frontend: await podNote(pods[2]!),
    }).toEqual({
      errors: [],
      total: " 4 traced requests have no record: 3 aborted, 1 timeout (the agent's counts over its life, at collect time).",
      cart: " (2 traced requests have no record: 1 aborted, 1 timeout)",
      frontend: " (2 traced requests have no record: 2 aborted)",
    });
    await page.close();

    // All recorded, or no counts in the manifest (the main page has none): no word of it.
    writeCollectLayout(join(dir, "all-recorded"), some, { ...manifest, pods: [entry(pods[0]!, { recorded: 20 }), entry(pods[2]!, null)] });
    const recorded = join(dir, "all-recorded.html");
    expect(runCli(["report", join(dir, "all-recorded"), "-o", recorded]).code).toBe(0);
    for (const f of [recorded, file]) {
      const opened = await open(f);
      expect([f, await opened.page.$$eval("#unrecorded, .unrecorded", (es) => es.length)]).toEqual([f, 0]);
      await opened.page.close();
    }
  });

  it("shows exactly the quantiles the records give", async (ctx) => {
    if (skip) return ctx.skip(skip);
    const { page } = await open();
    expect(await summary(page)).toEqual(expectedSummary(records));
    // Distributions: each phase's power-of-two histogram holds exactly its durations.
    for (const phase of ["upstream_wait", "codec", "upstream_connect"]) {
      expect(await bars(page, `#phase-charts [data-chart-phase="${phase}"]`, "data-bucket-lower-ns")).toEqual(powerOfTwoCounts(phaseDurations(records, phase)));
    }
    expect(await bars(page, '#phase-charts [data-chart-phase="request"]', "data-bucket-lower-ns")).toEqual(powerOfTwoCounts(records.map(dur)));
    // Per pod and workload too (cells of the breakdown table).
    const cell = async (key: string, phase: string): Promise<[number, number]> =>
      page.$eval(`#groups tr[data-key="${key}"] td[data-phase="${phase}"]`, (td) => [Number(td.getAttribute("data-p50-ns")), Number(td.getAttribute("data-p99-ns"))] as [number, number]);
    const cart = records.filter((r) => r.pod!.startsWith("shop/cart-"));
    const waits = cart.flatMap((r) => r.phases.filter((p) => p.name === "upstream_wait").map((p) => p.end_ns - p.start_ns));
    expect(await cell("shop/cart", "upstream_wait")).toEqual([nearestRank(waits, 50), nearestRank(waits, 99)]);
    const front = records.filter((r) => r.pod === "web/frontend-0").map(dur);
    expect(await cell("web/frontend-0", "request")).toEqual([nearestRank(front, 50), nearestRank(front, 99)]);
    // Per-filter timing: each filter sub-phase over the requests.
    const authz = records.flatMap((r) => r.phases.flatMap((p) => (p.children ?? []).filter((c) => c.name === "ext_authz decodeHeaders").map((c) => c.end_ns - c.start_ns)));
    const authzRow = '#filters-table tr[data-sub-phase="ext_authz decodeHeaders"]';
    expect([await page.getAttribute(authzRow, "data-count"), await page.getAttribute(authzRow, "data-p50-ns"), await page.getAttribute(authzRow, "data-p99-ns")]).toEqual([
      String(authz.length),
      String(nearestRank(authz, 50)),
      String(nearestRank(authz, 99)),
    ]);
    // Wake rounds per request.
    const wake = records.map((r) => r.wakeups);
    expect(await page.$eval("#wakeups tbody tr", (tr) => [Number(tr.getAttribute("data-p50")), Number(tr.getAttribute("data-p90")), Number(tr.getAttribute("data-p99"))])).toEqual([nearestRank(wake, 50), nearestRank(wake, 90), nearestRank(wake, 99)]);
    // One bar per wake-round count, the last bar (40) holding every request with 40 or more.
    const capped = wake.map((w) => Math.min(w, 40));
    expect(Math.max(...wake)).toBeGreaterThan(40);
    expect(await bars(page, "#wakeups-chart", "data-bucket-lower")).toEqual([...new Set(capped)].sort((a, b) => a - b).map((w) => [w, capped.filter((x) => x === w).length]));
    // Map histograms: the bucket holding each rank, over all dumps added up.
    const phaseHist = maps.filter((m) => m.map === "@request_phase_ns" && m.keys[0] === "router_to_upstream");
    const counts = new Map<number, number>();
    for (const m of phaseHist) for (const b of m.buckets!) counts.set(b.min!, (counts.get(b.min!) ?? 0) + b.count);
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    const bucketAt = (p: number): string => {
      let seen = 0;
      for (const [min, n] of [...counts].sort((a, b) => a[0] - b[0])) {
        seen += n;
        if (seen >= Math.ceil((p * total) / 100)) return `${min}..${min * 2 - 1}`;
      }
      return "";
    };
    const row = '#maps tr[data-series="envoy-request-flow @request_phase_ns[router_to_upstream]"]';
    expect(await page.getAttribute(row, "data-count")).toBe(String(total));
    expect(await page.getAttribute(row, "data-p50-bucket")).toBe(bucketAt(50));
    expect(await page.getAttribute(row, "data-p90-bucket")).toBe(bucketAt(90));
    expect(await page.getAttribute(row, "data-p99-bucket")).toBe(bucketAt(99));
    expect(await bars(page, `${row} .chart`, "data-bucket-lower")).toEqual([...counts].filter(([, n]) => n > 0).sort((a, b) => a[0] - b[0]));
    await page.close();
  });

  it("shows a counter map's total under the count heading, not under a bucket's", async (ctx) => {
    if (skip) return ctx.skip(skip);
    const { page } = await open();
    const total = maps.filter((m) => m.map === "@loop_wakeups" && m.keys[0] === "wrk:worker_0").reduce((n, m) => n + (m.value as number), 0);
    const row = '#maps tr[data-series="envoy-event-loop @loop_wakeups[wrk:worker_0]"]';
    // Each piece of text of the row, with the column heading it stands under on the page.
    const under = await page.$eval(row, (tr) => {
      const heads = [...tr.closest("table")!.querySelectorAll("thead th")].map((th) => ({ text: th.textContent ?? "", box: th.getBoundingClientRect() }));
      return [...tr.querySelectorAll("td")].flatMap((td) => {
        const text = (td.textContent ?? "").trim();
        if (!text) return [];
        const range = document.createRange();
        range.selectNodeContents(td);
        const mid = (range.getBoundingClientRect().left + range.getBoundingClientRect().right) / 2;
        return [[text, heads.find((h) => h.box.left <= mid && mid <= h.box.right)?.text ?? "?"]];
      });
    });
    expect(under).toEqual([
      ["envoy-event-loop @loop_wakeups[wrk:worker_0]", "script map[keys]"],
      ["1", "pods"],
      [String(total), "count"],
    ]);
    await page.close();
  });

  it("says a sum map's figure is a total, in its unit", async (ctx) => {
    if (skip) return ctx.skip(skip);
    const pod = `${pods[0]!.namespace}/${pods[0]!.name}`;
    const busy = (ts: string, value: number): MapRecord & { pod: string } => ({ pod, ts, script: "envoy-event-loop", map: "@loop_busy_ns", keys: ["wrk:worker_0"], kind: "sum", unit: "ns", pid: pods[0]!.pid, value });
    writeCollectLayout(join(dir, "sum"), [records[0]!], undefined, [busy("2025-01-31T05:06:41.000Z", 70_000_000), busy("2025-01-31T05:06:42.000Z", 8_400_000)]);
    const out = join(dir, "sum.html");
    expect(runCli(["report", join(dir, "sum"), "-o", out]).code).toBe(0);
    const { page } = await open(out);
    const cells = await page.$$eval('#maps tr[data-series="envoy-event-loop @loop_busy_ns[wrk:worker_0]"] td', (tds) => tds.map((td) => td.textContent));
    expect(cells).toEqual(["envoy-event-loop @loop_busy_ns[wrk:worker_0]", "1", "total 78.4 ms", "", ""]);
    await page.close();
  });

  it("draws the slowest requests and the documented sample in the waterfall", async (ctx) => {
    if (skip) return ctx.skip(skip);
    const { page } = await open();
    expect(await waterfallIds(page)).toEqual(expectedWaterfall(records));
    // Each drawn request shows its phases: one bar per phase it went through.
    const bars = await page.$$eval("#waterfall svg g.wf-row", (gs) => gs.map((g) => [g.getAttribute("data-request-id"), g.querySelectorAll("rect[data-phase]").length] as [string, number]));
    const phasesOf = new Map(records.map((r) => [r.id, r.phases.length]));
    for (const [id, n] of bars) expect(n).toBe(phasesOf.get(id));
    await page.close();
  });

  it("says a request's bytes in are not known where the record's bytes_in is 0 (HTTP/2), not 0 B", async (ctx) => {
    if (skip) return ctx.skip(skip);
    const [h2, h1] = generateRequests({ pods: [pods[0]!], count: 2, seed: 9 });
    Object.assign(h2!, { id: "h2-post", protocol: "HTTP/2", stream: 9, bytes_in: 0, bytes_out: 57, wakeups: 2 });
    Object.assign(h1!, { id: "h1-post", protocol: "HTTP/1.1", stream: null, bytes_in: 5116, bytes_out: 116, wakeups: 2 });
    writeCollectLayout(join(dir, "bytes"), [h2!, h1!]);
    const out = join(dir, "bytes.html");
    expect(runCli(["report", join(dir, "bytes"), "-o", out]).code).toBe(0);
    const { page } = await open(out);
    const line = (id: string): Promise<string> => page.$eval(`#waterfall g[data-request-id="${id}"] > title`, (t) => (t.textContent ?? "").split("\n")[1]!.replace(/^start .*? UTC · .*? · /, ""));
    expect([await line("h2-post"), await line("h1-post")]).toEqual(["2 wake rounds · bytes in not known, 57 B out", "2 wake rounds · 5116 B in, 116 B out"]);
    await page.close();
  });

  it("filters by namespace, workload, pod, protocol and time", async (ctx) => {
    if (skip) return ctx.skip(skip);
    const { page, errors } = await open();
    await choose(page, "#f-namespace", "web");
    let sel = records.filter((r) => r.pod!.startsWith("web/"));
    expect(await summary(page)).toEqual(expectedSummary(sel));
    expect(await waterfallIds(page)).toEqual(expectedWaterfall(sel));

    await choose(page, "#f-namespace", "all namespaces");
    await choose(page, "#f-workload", "shop/cart (Deployment, from pod names)");
    await choose(page, "#f-pod", "shop/cart-7d9f8b6c5d-b7k2p");
    sel = records.filter((r) => r.pod === "shop/cart-7d9f8b6c5d-b7k2p");
    expect(await summary(page)).toEqual(expectedSummary(sel));

    await choose(page, "#f-protocol", "HTTP/2");
    sel = sel.filter((r) => r.protocol === "HTTP/2");
    expect(await summary(page)).toEqual(expectedSummary(sel));
    expect(await waterfallIds(page)).toEqual(expectedWaterfall(sel));

    // Time: requests starting in a window (wall time of start_ns, UTC; the page keeps µs).
    await page.click("#f-reset");
    const startUs = (r: RequestRecord): bigint => (pods.find((p) => r.pod === `${p.namespace}/${p.name}`)!.bootWallNs + BigInt(r.start_ns)) / 1000n;
    const starts = records.map((r) => Number(startUs(r) / 1000n)).sort((a, b) => a - b);
    const from = starts[1000]!;
    const to = starts[2000]!;
    const before = await page.getAttribute("body", "data-renders");
    await page.evaluate(([f, t]) => {
      (document.getElementById("f-from") as HTMLInputElement).value = f!;
      (document.getElementById("f-to") as HTMLInputElement).value = t!;
      document.getElementById("f-to")!.dispatchEvent(new Event("change"));
    }, [new Date(from).toISOString(), new Date(to).toISOString()]);
    await page.waitForFunction((n) => document.body.getAttribute("data-renders") !== n, before);
    // "to" takes in its whole millisecond: starts[2000] itself is in, whatever its µs.
    sel = records.filter((r) => Number(startUs(r)) / 1000 >= from && Number(startUs(r)) / 1000 < to + 1);
    expect(sel.length).toBeGreaterThan(900);
    expect(await summary(page)).toEqual(expectedSummary(sel));
    expect(errors).toEqual([]);
    await page.close();
  });

  it("selects every request when the header's own time range is typed into from and to", async (ctx) => {
    if (skip) return ctx.skip(skip);
    const { page } = await open();
    const header = (): Promise<string> => page.$eval("#source", (e) => e.textContent ?? "");
    const [, first, last] = /; (\S+ \S+) … (\S+ \S+) UTC\./.exec(await header())!;
    const before = await page.getAttribute("body", "data-renders");
    await page.fill("#f-from", first!);
    await page.fill("#f-to", last!);
    await page.dispatchEvent("#f-to", "change");
    await page.waitForFunction((n) => document.body.getAttribute("data-renders") !== n, before);
    expect((await header()).split(";")[0]).toBe(`${records.length} requests (${records.length} selected) from 3 pods, ${maps.length} map records`);
    await page.close();
  });

  it("refuses a typed time that names no real moment instead of rolling it over", async (ctx) => {
    if (skip) return ctx.skip(skip);
    const { page, errors } = await open();
    const all = await summary(page);
    const type = async (from: string, to: string) =>
      page.evaluate(
        ([f, t]) => {
          (document.getElementById("f-from") as HTMLInputElement).value = f!;
          (document.getElementById("f-to") as HTMLInputElement).value = t!;
          document.getElementById("f-to")!.dispatchEvent(new Event("change"));
          return [document.getElementById("f-from")!.classList.contains("bad"), document.getElementById("f-to")!.classList.contains("bad"), document.body.getAttribute("data-renders")];
        },
        [from, to],
      );
    const renders = await page.getAttribute("body", "data-renders");
    // April has 30 days: Date.parse reads 2025-04-31 as May 1 and would select every request.
    expect(await type("2025-01-31 05:06:40", "2025-04-31 00:00")).toEqual([false, true, renders]);
    expect(await type("2025-01-31 24:00", "")).toEqual([true, false, renders]);
    expect(await summary(page)).toEqual(all);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("scrolls to and highlights a slow request's waterfall row from the slowest list", async (ctx) => {
    if (skip) return ctx.skip(skip);
    const { page } = await open();
    const link = page.locator("#slowest tbody tr:nth-child(7) a");
    const id = await link.textContent();
    await link.click();
    const row = page.locator("#waterfall g.wf-row.highlight");
    expect(await row.count()).toBe(1);
    expect(await row.getAttribute("data-request-id")).toBe(id);
    const box = (await row.boundingBox())!;
    expect(box.y).toBeGreaterThanOrEqual(0);
    expect(box.y + box.height).toBeLessThanOrEqual(900);
    expect(await page.evaluate(() => location.hash)).toBe("#wf-row-6");
    await page.close();
  });
});
