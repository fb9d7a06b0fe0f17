/// <reference lib="dom" />
// Charts, drawn with uPlot (bundled into the page): bar histograms and the request
// timeline. Each draw replaces the chart that was in its container.
import uPlot from "uplot";
import { clear, el, fmtTime } from "./dom.js";

const charts = new WeakMap<HTMLElement, uPlot>();

function replace(container: HTMLElement, make: () => uPlot): void {
  charts.get(container)?.destroy();
  clear(container);
  charts.set(container, make());
}

export interface Bars {
  title: string;
  labels: string[];
  counts: number[];
  color?: string;
  width?: number;
  height?: number;
}

/** A histogram: one bar per bucket, labelled below; its counts also in `data-counts`, for scripts and tests. */
export function barChart(container: HTMLElement, b: Bars): void {
  container.setAttribute("data-counts", b.counts.join(","));
  if (b.counts.length === 0) {
    clear(container);
    container.append(el("p", { class: "empty" }, `${b.title}: no data`));
    return;
  }
  const xs = b.counts.map((_, i) => i);
  replace(
    container,
    () =>
      new uPlot(
        {
          title: b.title,
          width: b.width ?? 340,
          height: b.height ?? 180,
          legend: { show: false },
          cursor: { drag: { x: false, y: false } },
          scales: { x: { time: false, range: [-0.5, xs.length - 0.5] }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
          axes: [
            { values: (_u, splits) => splits.map((s) => (Number.isInteger(s) ? (b.labels[s] ?? "") : "")), size: 36, font: "10px sans-serif" },
            { size: 44, font: "10px sans-serif" },
          ],
          series: [{}, { label: "requests", fill: b.color ?? "#4c78a8", stroke: b.color ?? "#4c78a8", paths: uPlot.paths.bars!({ size: [0.85, 60] }), points: { show: false } }],
        },
        [xs, b.counts],
        container,
      ),
  );
}

/**
 * Each selected request as a dot: start time (x) against its duration (y, log scale).
 * Dragging across it calls onSelect with the window in ms.
 */
export function timeline(container: HTMLElement, t: ArrayLike<number>, dur: ArrayLike<number>, idx: Int32Array, window: [number, number] | null, onSelect: (from: number, to: number) => void): void {
  if (idx.length === 0) {
    clear(container);
    container.append(el("p", { class: "empty" }, "no requests selected"));
    return;
  }
  const xs = new Float64Array(idx.length);
  const ys = new Float64Array(idx.length);
  for (let k = 0; k < idx.length; k++) {
    xs[k] = t[idx[k]!]!;
    ys[k] = Math.max(dur[idx[k]!]! / 1e6, 1e-4);
  }
  const width = Math.max(600, container.clientWidth || 900);
  replace(container, () => {
    const u = new uPlot(
      {
        width,
        height: 260,
        ms: 1,
        tzDate: (ts) => uPlot.tzDate(new Date(ts), "Etc/UTC"),
        legend: { show: false },
        cursor: { drag: { x: true, y: false, setScale: false }, points: { show: false } },
        scales: { x: { time: true }, y: { distr: 3 } },
        axes: [{ space: 120 }, { label: "duration (ms)", size: 60, values: (_u, s) => s.map((v) => (v === null || v === undefined ? "" : v >= 1 ? String(v) : v.toPrecision(1))) }],
        series: [{}, { label: "request", stroke: "#4c78a8", paths: () => null, points: { show: false } }],
        hooks: {
          // Dots drawn as 2 px squares in one pass: fast for 100,000 requests.
          draw: [
            (self: uPlot) => {
              const ctx = self.ctx;
              ctx.save();
              ctx.fillStyle = "rgba(76,120,168,0.55)";
              const { left, top, width: w, height: h } = self.bbox;
              ctx.beginPath();
              ctx.rect(left, top, w, h);
              ctx.clip();
              const px = devicePixelRatio || 1;
              for (let k = 0; k < xs.length; k++) {
                const x = self.valToPos(xs[k]!, "x", true);
                const y = self.valToPos(ys[k]!, "y", true);
                ctx.fillRect(x - px, y - px, 2 * px, 2 * px);
              }
              if (window) {
                ctx.fillStyle = "rgba(255,165,0,0.12)";
                const x0 = self.valToPos(window[0], "x", true);
                const x1 = self.valToPos(window[1], "x", true);
                ctx.fillRect(Math.max(left, x0), top, Math.min(left + w, x1) - Math.max(left, x0), h);
              }
              ctx.restore();
            },
          ],
          setSelect: [
            (self: uPlot) => {
              if (self.select.width < 2) return;
              const from = self.posToVal(self.select.left, "x");
              const to = self.posToVal(self.select.left + self.select.width, "x");
              self.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
              onSelect(from, to);
            },
          ],
        },
      },
      [Array.from(xs), Array.from(ys)],
      container,
    );
    u.root.setAttribute("title", `${fmtTime(xs[0]!)} … ${fmtTime(xs[xs.length - 1]!)} UTC; drag to choose a time window`);
    return u;
  });
}
