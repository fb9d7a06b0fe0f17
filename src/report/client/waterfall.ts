/// <reference lib="dom" />
// The request waterfall: one SVG row per request, its phases as bars from the request's
// start (each block of rows shares one time scale). Each row is a <g data-request-id>.
import { clear, el, fmtNs, fmtTime, svg } from "./dom.js";
import { subsOf, type Model } from "./model.js";

export const PHASE_COLORS = ["#4c78a8", "#72b7b2", "#54a24b", "#eeca3b", "#b279a2", "#f58518", "#bab0ac", "#e45756", "#9d755d"];

const ROW = 18;
const LABEL = 250;
const WIDTH = 1100;

/** Row element id of the n-th drawn request (the slowest list links to it). */
export function rowId(n: number): string {
  return `wf-row-${n}`;
}

export function drawWaterfall(container: HTMLElement, m: Model, blocks: { title: string; rows: number[] }[]): void {
  const data = m.data;
  const total = m.dur[m.dur.length - 1]!;
  clear(container);
  const legend = el("div", { class: "legend" });
  data.phases.forEach((p, i) => legend.append(el("span", { class: "swatch", style: `background:${PHASE_COLORS[i % PHASE_COLORS.length]}` }), ` ${p} `));
  legend.append(el("span", { class: "swatch sub" }), " filter sub-phases");
  container.append(legend);
  let n = 0;
  for (const block of blocks) {
    container.append(el("h3", {}, `${block.title} (${block.rows.length})`));
    if (block.rows.length === 0) {
      container.append(el("p", { class: "empty" }, "none"));
      continue;
    }
    const scale = Math.max(1, ...block.rows.map((i) => total[i]!));
    const plot = WIDTH - LABEL - 80;
    const height = block.rows.length * ROW + 24;
    const root = svg("svg", { width: WIDTH, height, viewBox: `0 0 ${WIDTH} ${height}`, class: "waterfall", role: "img" });
    root.append(svg("text", { x: LABEL, y: 12, class: "axis" }, "0"), svg("text", { x: LABEL + plot, y: 12, class: "axis", "text-anchor": "end" }, fmtNs(scale)));
    block.rows.forEach((i, k) => {
      const y = 18 + k * ROW;
      const r = data.requests;
      const pod = data.pods[r.pod[i]!]!;
      const g = svg("g", { "data-request-id": r.id[i]!, "data-pod": pod.key, id: rowId(n++), class: "wf-row", transform: `translate(0,${y})` });
      g.append(
        svg(
          "title",
          {},
          `${r.id[i]} · ${pod.key} · ${data.workers[r.worker[i]!]} · ${data.protocols[r.protocol[i]!]}${r.stream[i] === null ? "" : ` stream ${r.stream[i]}`}\n` +
            `start ${fmtTime(m.t[i]!)} UTC · ${fmtNs(total[i]!)} · ${r.wakeups[i]} wake rounds · ${bytesIn(r.bytesIn[i]!)}, ${r.bytesOut[i]} B out\n` +
            `downstream fd ${r.down[i]}${r.up[i] ? `\nupstream fd ${r.up[i]}` : ""}`,
        ),
        svg("rect", { x: 0, y: 0, width: WIDTH, height: ROW - 2, class: "wf-bg" }),
        svg("text", { x: 4, y: ROW - 6, class: "wf-label" }, truncate(r.id[i]!, 34)),
      );
      const x = (ns: number): number => LABEL + (ns / scale) * plot;
      data.phases.forEach((phase, p) => {
        const d = m.dur[p]![i]!;
        if (d < 0) return;
        const s = m.start[p]![i]!;
        g.append(
          svg(
            "rect",
            { x: x(s), y: 2, width: Math.max(1, x(s + d) - x(s)), height: ROW - 8, fill: PHASE_COLORS[p % PHASE_COLORS.length], "data-phase": phase },
            svg("title", {}, `${phase}: ${fmtNs(d)} (at +${fmtNs(s)})`),
          ),
        );
      });
      for (const [name, s, d] of subsOf(m, i)) {
        g.append(svg("rect", { x: x(s), y: ROW - 6, width: Math.max(1, x(s + d) - x(s)), height: 3, class: "wf-sub", "data-sub-phase": name }, svg("title", {}, `${name}: ${fmtNs(d)}`)));
      }
      g.append(svg("text", { x: Math.min(x(total[i]!) + 4, WIDTH - 76), y: ROW - 6, class: "wf-total" }, fmtNs(total[i]!)));
      root.append(g);
    });
    container.append(root);
  }
}

/** A record's bytes_in of 0 means the agent could not tell (HTTP/2, a head that came in several reads): never "0 B". */
function bytesIn(n: number): string {
  return n === 0 ? "bytes in not known" : `${n} B in`;
}

function truncate(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
}
