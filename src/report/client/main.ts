/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The report page's script: reads the embedded data, fills the filters, and draws every
// section for the current selection (again on each filter change).
import { counted } from "../../counted.js";
import { isoTimeMs } from "../../records/times.js";
import type { MapDumpValue, ReportData } from "../data-types.js";
import { addBuckets, bucketQuantile, waterfallRows, type BucketTriple } from "../stats.js";
import { AGENT_LIFE_NOTE, totalUnrecordedText, unrecordedText } from "../unrecorded.js";
import { barChart, timeline } from "./charts.js";
import { byId, clear, el, fmtNs, fmtTime, fmtUnit } from "./dom.js";
import { buildModel } from "./model.js";
import { inWindow, log2Lower, NO_FILTERS, phaseStats, podSelected, quantiles, selectRequests, type Filters, type PhaseStats, type Quantiles, type Selection } from "./select.js";
import { drawWaterfall, PHASE_COLORS, rowId } from "./waterfall.js";

const started = performance.now();
const data = JSON.parse(byId("hookpoint-data").textContent ?? "null") as ReportData;
const parsedMs = performance.now() - started;
const model = buildModel(data);
const modelMs = performance.now() - started - parsedMs;
const filters: Filters = { ...NO_FILTERS };
const phaseNames = model.names;

// ---- filters ----------------------------------------------------------------------------

const fNamespace = byId<HTMLSelectElement>("f-namespace");
const fWorkload = byId<HTMLSelectElement>("f-workload");
const fPod = byId<HTMLSelectElement>("f-pod");
const fProtocol = byId<HTMLSelectElement>("f-protocol");
const fFrom = byId<HTMLInputElement>("f-from");
const fTo = byId<HTMLInputElement>("f-to");

function options(select: HTMLSelectElement, all: string, items: [value: string, label: string][], keep: string): string {
  clear(select);
  select.append(el("option", { value: "" }, all));
  for (const [v, label] of items) select.append(el("option", { value: v }, label));
  const ok = items.some(([v]) => v === keep);
  select.value = ok ? keep : "";
  return select.value;
}

function fillFilters(): void {
  const namespaces = [...new Set(data.pods.map((p) => p.namespace))].sort();
  filters.namespace = options(fNamespace, "all namespaces", namespaces.map((n) => [n, n === "" ? "(unknown)" : n]), filters.namespace);
  const workloads = [...new Map(data.pods.filter((p) => filters.namespace === "" || p.namespace === filters.namespace).map((p) => [p.workload, p])).values()].sort((a, b) => (a.workload < b.workload ? -1 : 1));
  filters.workload = options(fWorkload, "all workloads", workloads.map((p) => [p.workload, `${p.workload} (${p.workloadKind}${p.workloadDerived ? ", from pod names" : ""})`]), filters.workload);
  const pods = data.pods.map((p, i) => [p, i] as const).filter(([p]) => (filters.namespace === "" || p.namespace === filters.namespace) && (filters.workload === "" || p.workload === filters.workload));
  filters.pod = Number(options(fPod, "all pods", pods.map(([p, i]) => [String(i), p.key]), filters.pod < 0 ? "" : String(filters.pod)) || -1);
  if (fProtocol.options.length === 0) {
    // Only the protocols the records have: a choice that selects nothing is no choice.
    const present = new Set(data.requests.protocol);
    options(fProtocol, "all protocols", data.protocols.flatMap((p, i): [string, string][] => (present.has(i) ? [[String(i), p]] : [])), "");
  }
}

/** A typed time: UTC unless it names its offset, a date alone is its midnight; NaN when it names no real moment (2025-04-31). */
function parseTime(text: string): number | null {
  let t = text.trim().replace(" ", "T");
  if (t === "") return null;
  if (/^\d{4}-\d\d-\d\d$/.test(t)) t += "T00:00";
  return isoTimeMs(/[zZ]|[+-]\d\d:\d\d$/.test(t) ? t.replace(/z$/, "Z") : `${t}Z`);
}

function readTimeInputs(): boolean {
  const from = parseTime(fFrom.value);
  const to = parseTime(fTo.value);
  fFrom.classList.toggle("bad", Number.isNaN(from));
  fTo.classList.toggle("bad", Number.isNaN(to));
  if (Number.isNaN(from) || Number.isNaN(to)) return false;
  filters.from = from;
  // Times show (and Date.parse reads) whole ms, while starts keep their µs: a typed "to"
  // takes in its whole millisecond, so the page's own times typed back select what they name.
  filters.to = to === null ? null : to + 1;
  return true;
}

function setWindow(from: number | null, to: number | null): void {
  fFrom.value = from === null ? "" : fmtTime(from);
  fTo.value = to === null ? "" : fmtTime(to);
  filters.from = from;
  filters.to = to;
}

fNamespace.addEventListener("change", () => {
  filters.namespace = fNamespace.value;
  fillFilters();
  render();
});
fWorkload.addEventListener("change", () => {
  filters.workload = fWorkload.value;
  fillFilters();
  render();
});
fPod.addEventListener("change", () => {
  filters.pod = fPod.value === "" ? -1 : Number(fPod.value);
  render();
});
fProtocol.addEventListener("change", () => {
  filters.protocol = fProtocol.value === "" ? -1 : Number(fProtocol.value);
  render();
});
for (const input of [fFrom, fTo]) {
  input.addEventListener("change", () => {
    if (readTimeInputs()) render();
  });
}
byId("f-reset").addEventListener("click", () => {
  Object.assign(filters, NO_FILTERS);
  setWindow(null, null);
  fProtocol.value = "";
  fillFilters();
  render();
});

// ---- sections ---------------------------------------------------------------------------

/** The figures as attributes a test or script can read: data-p50-ns etc. (no unit suffix for counts). */
function qAttrs(row: Element, q: Quantiles, unit = "-ns"): void {
  row.setAttribute("data-count", String(q.count));
  if (q.count > 0) {
    row.setAttribute(`data-p50${unit}`, String(q.p50));
    row.setAttribute(`data-p90${unit}`, String(q.p90));
    row.setAttribute(`data-p99${unit}`, String(q.p99));
  }
}

function renderSummary(stats: PhaseStats[]): void {
  const body = byId("summary").querySelector("tbody")!;
  clear(body);
  phaseNames.forEach((name, p) => {
    const q = stats[p]!.all;
    const tr = el(
      "tr",
      { class: p === data.phases.length ? "total" : "", "data-phase": name },
      el("td", {}, p < data.phases.length ? el("span", { class: "swatch", style: `background:${PHASE_COLORS[p % PHASE_COLORS.length]}` }) : "", ` ${name}`),
      el("td", { class: "num" }, String(q.count)),
      el("td", { class: "num" }, fmtNs(q.p50)),
      el("td", { class: "num" }, fmtNs(q.p90)),
      el("td", { class: "num" }, fmtNs(q.p99)),
      el("td", { class: "num" }, fmtNs(q.max)),
    );
    qAttrs(tr, q);
    body.append(tr);
  });
}

/** Per-filter timing: each filter sub-phase's durations over the selected requests. */
function renderFilterTable(sel: Selection): void {
  const r = data.requests;
  const section = byId("filter-timing");
  section.hidden = r.subNames.length === 0;
  const body = byId("filters-table").querySelector("tbody")!;
  clear(body);
  const lists: number[][] = r.subNames.map(() => []);
  for (const k of model.subOrder) if (sel.mask[r.subReq[k]!]) lists[r.subName[k]!]!.push(r.subDur[k]!);
  r.subNames.forEach((name, n) => {
    const q = quantiles(lists[n]!);
    const tr = el("tr", { "data-sub-phase": name }, el("td", {}, name), ...[String(q.count), fmtNs(q.p50), fmtNs(q.p90), fmtNs(q.p99), fmtNs(q.max)].map((t) => el("td", { class: "num" }, t)));
    qAttrs(tr, q);
    body.append(tr);
  });
}

function renderPhaseCharts(stats: PhaseStats[]): void {
  const grid = byId("phase-charts");
  clear(grid);
  // One shared range of power-of-two buckets, so the phases compare at a glance.
  let lo = Infinity;
  let hi = -1;
  for (const { log2 } of stats) {
    const first = log2.findIndex((c) => c > 0);
    if (first < 0) continue;
    lo = Math.min(lo, first);
    hi = Math.max(hi, log2.length - 1);
  }
  if (hi < 0) {
    grid.append(el("p", { class: "empty" }, "no request records selected"));
    return;
  }
  const labels: string[] = [];
  for (let b = lo; b <= hi; b++) labels.push(fmtNs(log2Lower(b)));
  stats.forEach(({ log2, all }, p) => {
    const counts = labels.map((_, k) => log2[lo + k] ?? 0);
    const box = el("div", { class: "chart", "data-chart-phase": phaseNames[p]!, "data-bucket-lower-ns": labels.map((_, k) => log2Lower(lo + k)).join(",") });
    grid.append(box);
    barChart(box, { title: `${phaseNames[p]} (${all.count})`, labels, counts, color: p < data.phases.length ? PHASE_COLORS[p % PHASE_COLORS.length]! : "#333" });
  });
}

function renderGroups(sel: Selection, stats: PhaseStats[]): void {
  const table = byId("groups");
  const head = table.querySelector("thead tr")!;
  clear(head);
  head.append(el("th", {}, "workload / pod"), el("th", { class: "num" }, "requests"));
  for (const p of phaseNames) head.append(el("th", { class: "num" }, p));
  const body = table.querySelector("tbody")!;
  clear(body);
  const perPod = new Int32Array(data.pods.length);
  for (const i of sel.idx) perPod[data.requests.pod[i]!]! += 1;
  const unrecorded = new Map(data.source.unrecorded.map((p) => [p.pod, unrecordedText(p.outcomes)]));
  const row = (kind: string, key: string, label: string, count: number, of: (s: PhaseStats) => Quantiles): HTMLElement => {
    const missing = kind === "pod" ? unrecorded.get(key) : undefined;
    const name = el("td", {}, label, missing ? el("span", { class: "unrecorded", title: AGENT_LIFE_NOTE }, ` (${missing})`) : "");
    const tr = el("tr", { "data-group": kind, "data-key": key, class: kind }, name, el("td", { class: "num" }, String(count)));
    for (let p = 0; p < phaseNames.length; p++) {
      const q = of(stats[p]!);
      const td = el("td", { class: "num", "data-phase": phaseNames[p]! }, q.count === 0 ? "–" : `${fmtNs(q.p50)} / ${fmtNs(q.p90)} / ${fmtNs(q.p99)}`);
      qAttrs(td, q);
      tr.append(td);
    }
    return tr;
  };
  model.workloads.forEach((w, wi) => {
    const pods = data.pods.map((_, i) => i).filter((i) => model.podWorkload[i] === wi && podSelected(data, i, filters));
    if (pods.length === 0) return;
    const first = data.pods[pods[0]!]!;
    const count = pods.reduce((n, i) => n + perPod[i]!, 0);
    body.append(row("workload", w, `${w} (${first.workloadKind}${first.workloadDerived ? ", from pod names" : ""})`, count, (st) => st.byWorkload[wi]!));
    for (const i of pods) body.append(row("pod", data.pods[i]!.key, data.pods[i]!.key, perPod[i]!, (st) => st.byPod[i]!));
  });
}

function renderWakeups(sel: Selection): void {
  const sorted: number[] = [];
  for (const i of model.wakeOrder) if (sel.mask[i]) sorted.push(data.requests.wakeups[i]!);
  const q = quantiles(sorted);
  const tr = byId("wakeups").querySelector("tbody tr")!;
  clear(tr);
  tr.append(el("td", { class: "num" }, String(q.count)), ...[q.p50, q.p90, q.p99, q.max].map((v) => el("td", { class: "num" }, Number.isNaN(v) ? "–" : String(v))));
  qAttrs(tr, q, "");
  const CAP = 40;
  const max = Math.min(CAP, sorted.length ? sorted[sorted.length - 1]! : 0);
  const counts = new Array<number>(max + 1).fill(0);
  for (const v of sorted) counts[Math.min(v, max)]! += 1;
  const labels = counts.map((_, i) => (i === CAP && sorted[sorted.length - 1]! > CAP ? `≥${CAP}` : String(i)));
  byId("wakeups-chart").setAttribute("data-bucket-lower", counts.map((_, i) => i).join(","));
  barChart(byId("wakeups-chart"), { title: "requests by epoll wake rounds", labels: sorted.length ? labels : [], counts: sorted.length ? counts : [], width: 700 });
}

function renderTimeline(): void {
  const { idx } = selectRequests(model, filters, false);
  const win: [number, number] | null = filters.from !== null || filters.to !== null ? [filters.from ?? -Infinity, filters.to ?? Infinity] : null;
  timeline(byId("timeline"), model.t, model.dur[model.dur.length - 1]!, idx, win, (from, to) => {
    setWindow(from, to);
    render();
  });
}

function highlight(n: number): void {
  for (const e of document.querySelectorAll(".wf-row.highlight")) e.classList.remove("highlight");
  const row = document.getElementById(rowId(n));
  if (!row) return;
  row.classList.add("highlight");
  row.scrollIntoView({ block: "center" });
  history.replaceState(null, "", `#${rowId(n)}`);
}

function renderSlowestAndWaterfall(idx: Int32Array): void {
  const r = data.requests;
  const total = model.dur[model.dur.length - 1]!;
  const rows = waterfallRows(idx, total, r.id, model.t, undefined, undefined, model.hash);
  const body = byId("slowest").querySelector("tbody")!;
  clear(body);
  rows.slowest.forEach((i, n) => {
    const link = el("a", { href: `#${rowId(n)}`, "data-row": n }, r.id[i]!);
    link.addEventListener("click", (ev) => {
      ev.preventDefault();
      highlight(n);
    });
    body.append(
      el(
        "tr",
        { "data-id": r.id[i]! },
        el("td", {}, link),
        el("td", {}, data.pods[r.pod[i]!]!.key),
        el("td", {}, data.workers[r.worker[i]!]!),
        el("td", {}, data.protocols[r.protocol[i]!]!),
        el("td", { class: "num", "data-ns": total[i]! }, fmtNs(total[i]!)),
        el("td", { class: "num" }, String(r.wakeups[i])),
        el("td", {}, `${fmtTime(model.t[i]!)}`),
      ),
    );
  });
  drawWaterfall(byId("waterfall"), model, [
    { title: "Slowest", rows: rows.slowest },
    { title: "Sample of the others", rows: rows.sample },
  ]);
}

interface MapAggregate {
  script: string;
  map: string;
  keys: string[];
  kind: string;
  unit: string;
  pods: Set<number>;
  buckets: Map<string, BucketTriple>;
  sum: number;
  stats: { count: number; total: number };
  latest: { t: number; v: MapDumpValue } | null;
}

/** Series of all pods that add up into one row of the map table. */
const seriesKeys = data.maps.series.map((s) => JSON.stringify([s.script, s.map, s.keys]));

function renderMaps(): void {
  const m = data.maps;
  const agg = new Map<string, MapAggregate>();
  // Each record is its interval's delta (the agent subtracts the scripts' running
  // totals), so histograms and counters add up; gauges show their latest value.
  for (let d = 0; d < m.dumps.s.length; d++) {
    const s = m.series[m.dumps.s[d]!]!;
    if (!podSelected(data, s.pod, filters) || !inWindow(m.dumps.t[d]!, filters)) continue;
    const key = seriesKeys[m.dumps.s[d]!]!;
    let a = agg.get(key);
    if (!a) agg.set(key, (a = { script: s.script, map: s.map, keys: s.keys, kind: s.kind, unit: s.unit, pods: new Set(), buckets: new Map(), sum: 0, stats: { count: 0, total: 0 }, latest: null }));
    a.pods.add(s.pod);
    const v = m.dumps.v[d]!;
    const t = m.dumps.t[d]!;
    if (Array.isArray(v)) addBuckets(a.buckets, v);
    else if (typeof v === "object") {
      a.stats.count += v.count;
      a.stats.total += v.total;
    } else if (typeof v === "number" && (s.kind === "count" || s.kind === "sum")) a.sum += v;
    if (!a.latest || t >= a.latest.t) a.latest = { t, v };
  }
  const body = byId("maps").querySelector("tbody")!;
  clear(body);
  const list = [...agg.values()].sort((a, b) => (a.script + a.map + a.keys.join(",") < b.script + b.map + b.keys.join(",") ? -1 : 1));
  if (list.length === 0) body.append(el("tr", {}, el("td", { colspan: 7, class: "empty" }, "no map records selected")));
  for (const a of list) {
    const name = `${a.script} ${a.map}${a.keys.length ? `[${a.keys.join(",")}]` : ""}`;
    const tr = el("tr", { "data-series": name, "data-kind": a.kind }, el("td", {}, name), el("td", { class: "num" }, String(a.pods.size)));
    if (a.kind === "hist") {
      const buckets = [...a.buckets.values()].filter((b) => b[2] > 0).sort((x, y) => (x[0] ?? -Infinity) - (y[0] ?? -Infinity));
      const count = buckets.reduce((n, b) => n + b[2], 0);
      tr.setAttribute("data-count", String(count));
      tr.append(el("td", { class: "num" }, String(count)));
      for (const p of [50, 90, 99]) {
        const b = bucketQuantile(buckets, p);
        const text = b ? `${b[0] === null ? "…" : fmtUnit(b[0], a.unit)} – ${b[1] === null ? "…" : fmtUnit(b[1], a.unit)}` : "–";
        if (b) tr.setAttribute(`data-p${p}-bucket`, `${b[0] ?? ""}..${b[1] ?? ""}`);
        tr.append(el("td", { class: "num" }, text));
      }
      const box = el("div", { class: "chart small", "data-bucket-lower": buckets.map((b) => b[0] ?? "").join(",") });
      tr.append(el("td", {}, box));
      body.append(tr);
      barChart(box, { title: "", labels: buckets.map((b) => (b[0] === null ? "…" : fmtUnit(b[0], a.unit))), counts: buckets.map((b) => b[2]), width: 320, height: 120 });
      continue;
    }
    // A counter's total and a stats map's count stand under "count" (a sum's as "total 1.2 ms",
    // which is no count); the rest of the row (an average, a gauge's latest value) reads on
    // from there, left-aligned, so no value of these maps stands under a bucket heading.
    if (a.kind === "count" || a.kind === "sum") {
      tr.setAttribute("data-value", String(a.sum));
      tr.append(el("td", { class: "num" }, a.kind === "count" ? String(a.sum) : `total ${fmtUnit(a.sum, a.unit)}`), el("td", { colspan: 3 }, ""));
    } else if (a.kind === "stats") {
      const average = `average ${a.stats.count ? fmtUnit(a.stats.total / a.stats.count, a.unit) : "–"}`;
      tr.setAttribute("data-value", `count ${a.stats.count}, ${average}`);
      tr.append(el("td", { class: "num" }, String(a.stats.count)), el("td", { colspan: 3 }, average));
    } else {
      const value = `latest ${typeof a.latest?.v === "number" ? fmtUnit(a.latest.v, a.unit) : String(a.latest?.v)}`;
      tr.setAttribute("data-value", value);
      tr.append(el("td", { colspan: 4 }, value));
    }
    tr.append(el("td", {}, ""));
    body.append(tr);
  }
}

function renderHeader(idx: Int32Array): void {
  const s = data.source;
  const r = data.requests;
  const n = r.id.length;
  const times = n ? `${fmtTime(model.t[0]!)} … ${fmtTime(model.t[n - 1]!)} UTC` : "no request records";
  const head = byId("source");
  clear(head);
  // Next to the request count: the traced requests the agents counted but wrote no record of.
  const unrecorded = totalUnrecordedText(s.unrecorded);
  head.append(
    `${counted(n, "request")} (${idx.length} selected) from ${counted(data.pods.length, "pod")}, ${counted(data.maps.dumps.s.length, "map record")}; ${times}.`,
    unrecorded === null ? "" : el("span", { id: "unrecorded" }, ` ${unrecorded} (${AGENT_LIFE_NOTE}).`),
    s.cluster ? ` Collected from ${s.cluster.context ?? s.cluster.server ?? "a cluster"}${s.collectedAt ? ` at ${s.collectedAt}` : ""}.` : "",
    s.problems ? ` ${s.problems} bad lines or files (see Notes).` : "",
  );
}

function renderNotes(): void {
  const notes = byId("notes");
  clear(notes);
  const s = data.source;
  notes.append(el("p", {}, `Read ${s.files} files, ${s.lines} lines, generated ${data.generatedAt}.`));
  const failing = data.pods.filter((p) => p.agentReachable === false || p.errors.length > 0);
  if (failing.length) {
    const ul = el("ul");
    for (const p of failing) ul.append(el("li", {}, `${p.key}: ${p.agentReachable === false ? "agent not reachable. " : ""}${p.errors.join("; ")}`));
    notes.append(el("p", {}, "Pods the collection could not fully read:"), ul);
  }
  if (s.problems) {
    const ul = el("ul", { id: "problems" });
    for (const p of s.firstProblems) ul.append(el("li", {}, p));
    notes.append(el("p", {}, `${s.problems} problems${s.problems > s.firstProblems.length ? ` (the first ${s.firstProblems.length})` : ""}:`), ul);
  }
}

let renders = 0;
/** ms per section of the last render, for bench:report. */
const sectionMs: Record<string, number> = {};
function timed<T>(name: string, f: () => T): T {
  const t = performance.now();
  const out = f();
  sectionMs[name] = performance.now() - t;
  return out;
}

function render(): void {
  const sel = timed("select", () => selectRequests(model, filters));
  const stats = timed("stats", () => phaseNames.map((_, p) => phaseStats(model, p, sel.mask)));
  timed("header", () => renderHeader(sel.idx));
  timed("summary", () => renderSummary(stats));
  timed("filterTable", () => renderFilterTable(sel));
  timed("phaseCharts", () => renderPhaseCharts(stats));
  timed("groups", () => renderGroups(sel, stats));
  timed("wakeups", () => renderWakeups(sel));
  timed("timeline", () => renderTimeline());
  timed("waterfall", () => renderSlowestAndWaterfall(sel.idx));
  timed("maps", () => renderMaps());
  renders += 1;
  document.body.setAttribute("data-renders", String(renders));
}

fillFilters();
renderNotes();
render();
const w = window as unknown as { hookpointTimings: Record<string, number> };
w.hookpointTimings = { parseMs: parsedMs, modelMs, firstRenderMs: performance.now() - started, ...Object.fromEntries(Object.entries(sectionMs).map(([k, v]) => [`${k}Ms`, v])) };
document.body.setAttribute("data-ready", "1");
