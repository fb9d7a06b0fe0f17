// The report page: one self-contained HTML file. Styles and script are inline, the data
// is JSON in <script type="application/json" id="hookpoint-data">, and a Content Security
// Policy forbids every network fetch, so the page works from file:// and reaches nothing.
import type { ReportData } from "./data-types.js";
import type { ClientBundle } from "./bundle.js";
import { WATERFALL_SAMPLE, WATERFALL_SLOWEST } from "./stats.js";

/**
 * JSON made safe inside a <script> element: `<`, `>` and `&` become \u escapes (so no
 * `</script>` or `<!--` can appear), and U+2028/2029 too. JSON.parse reads it back unchanged.
 */
export function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** Inline script or style text that cannot close its element early. */
export function inlineSafe(text: string, tag: "script" | "style"): string {
  return text.replace(new RegExp(`</(${tag})`, "gi"), "<\\/$1");
}

const CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; connect-src 'none'; form-action 'none'; base-uri 'none'";

const STYLE = `
:root { font: 13px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222; }
body { margin: 0 24px 48px; }
header { position: sticky; top: 0; background: #fff; z-index: 2; border-bottom: 1px solid #ddd; padding: 8px 0; }
h1 { font-size: 20px; margin: 4px 0; } h2 { font-size: 16px; margin: 24px 0 8px; } h3 { font-size: 13px; margin: 12px 0 4px; }
#filters { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; }
#filters label { display: flex; gap: 4px; align-items: center; }
#filters input { width: 190px; } input.bad { outline: 2px solid #e45756; }
table { border-collapse: collapse; margin: 4px 0; } th, td { padding: 3px 8px; border-bottom: 1px solid #eee; text-align: left; vertical-align: middle; }
th { background: #f6f6f6; font-weight: 600; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.total td, tr.workload td { font-weight: 600; } tr.pod td:first-child { padding-left: 24px; } #groups td:first-child { white-space: nowrap; }
.scroll { overflow-x: auto; } .grid { display: flex; flex-wrap: wrap; gap: 8px; }
.chart { border: 1px solid #eee; padding: 2px; } .chart.small { border: 0; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; vertical-align: middle; }
.swatch.sub { background: #222; height: 3px; }
.legend { margin: 4px 0; } .empty { color: #888; font-style: italic; }
svg.waterfall { font: 11px ui-monospace, monospace; display: block; }
svg.waterfall .axis { fill: #666; } .wf-bg { fill: transparent; } .wf-row:hover .wf-bg { fill: #f3f6fa; }
.wf-row.highlight .wf-bg { fill: #ffe9a8; } .wf-sub { fill: #222; } .wf-total { fill: #444; }
#slowest a { font-family: ui-monospace, monospace; }
.method { color: #555; max-width: 900px; }
`;

export function renderPage(data: ReportData, bundle: ClientBundle): string {
  const title = data.source.cluster?.context ? `hookpoint report: ${data.source.cluster.context}` : "hookpoint report";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${inlineSafe(bundle.css, "style")}</style>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>${escapeHtml(title)}</h1>
<p id="source"></p>
<nav id="filters">
<label>namespace <select id="f-namespace"></select></label>
<label>workload <select id="f-workload"></select></label>
<label>pod <select id="f-pod"></select></label>
<label>protocol <select id="f-protocol"></select></label>
<label>from <input id="f-from" placeholder="YYYY-MM-DD hh:mm:ss.sss, UTC" title="UTC"></label>
<label>to <input id="f-to" placeholder="UTC, or drag on the timeline" title="UTC"></label>
<button id="f-reset" type="button">reset</button>
</nav>
</header>
<main>
<section id="sec-summary">
<h2>Request phases</h2>
<p class="method">From request records: per phase, the requests that went through it. Quantiles are exact, by nearest rank: of n durations sorted, p50 is the one at rank ⌈0.5·n⌉, p99 at ⌈0.99·n⌉. The charts count durations in power-of-two buckets, as bpftrace's histograms do.</p>
<table id="summary"><thead><tr><th>phase</th><th class="num">requests</th><th class="num">p50</th><th class="num">p90</th><th class="num">p99</th><th class="num">max</th></tr></thead><tbody></tbody></table>
<div id="filter-timing" hidden>
<h3>Per-filter timing (sub-phases of filters)</h3>
<table id="filters-table"><thead><tr><th>filter callback</th><th class="num">calls</th><th class="num">p50</th><th class="num">p90</th><th class="num">p99</th><th class="num">max</th></tr></thead><tbody></tbody></table>
</div>
<div id="phase-charts" class="grid"></div>
</section>
<section id="sec-groups">
<h2>By workload and pod</h2>
<p class="method">p50 / p90 / p99 of each phase.</p>
<div class="scroll"><table id="groups"><thead><tr></tr></thead><tbody></tbody></table></div>
</section>
<section id="sec-wakeups">
<h2>Epoll wake rounds per request</h2>
<table id="wakeups"><thead><tr><th class="num">requests</th><th class="num">p50</th><th class="num">p90</th><th class="num">p99</th><th class="num">max</th></tr></thead><tbody><tr></tr></tbody></table>
<div id="wakeups-chart" class="chart"></div>
</section>
<section id="sec-timeline">
<h2>Requests over time</h2>
<p class="method">Each dot is a request: its start (UTC) and duration. Drag across the chart to choose a time window.</p>
<div id="timeline"></div>
</section>
<section id="sec-slowest">
<h2>Slowest requests</h2>
<table id="slowest"><thead><tr><th>id</th><th>pod</th><th>worker</th><th>protocol</th><th class="num">duration</th><th class="num">wake rounds</th><th>start (UTC)</th></tr></thead><tbody></tbody></table>
</section>
<section id="sec-waterfall">
<h2>Waterfall</h2>
<p class="method">One row per request, its phases from its start: the ${WATERFALL_SLOWEST} slowest of the selection, then a sample of ${WATERFALL_SAMPLE} others (those whose id has the smallest FNV-1a hash: the same sample every time). Hover for details.</p>
<div id="waterfall"></div>
</section>
<section id="sec-maps">
<h2>Script maps</h2>
<p class="method">From map records (the bpftrace scripts' histograms and counters, added up over the selected pods and time). Histograms hold only bucket counts, so their quantiles are the bounds of the bucket holding that rank.</p>
<table id="maps"><thead><tr><th>script map[keys]</th><th class="num">pods</th><th class="num">count</th><th class="num">p50 bucket</th><th class="num">p90 bucket</th><th class="num">p99 bucket</th><th>distribution</th></tr></thead><tbody></tbody></table>
</section>
<section id="sec-notes">
<h2>Notes</h2>
<div id="notes"></div>
</section>
</main>
<script type="application/json" id="hookpoint-data">${scriptSafeJson(data)}</script>
<script>${inlineSafe(bundle.js, "script")}</script>
</body>
</html>
`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
