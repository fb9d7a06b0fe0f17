/// <reference lib="dom" />
// Small DOM helpers for the report page. Text always goes in through textContent and
// attributes through setAttribute, never innerHTML: request ids come from HTTP headers.

type Attrs = Record<string, string | number | boolean | null | undefined>;

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: (Node | string | null)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  setAttrs(e, attrs);
  for (const c of children) if (c !== null) e.append(c);
  return e;
}

const SVG_NS = "http://www.w3.org/2000/svg";

export function svg(tag: string, attrs: Attrs = {}, ...children: (Node | string | null)[]): SVGElement {
  const e = document.createElementNS(SVG_NS, tag) as SVGElement;
  setAttrs(e, attrs);
  for (const c of children) if (c !== null) e.append(c);
  return e;
}

function setAttrs(e: Element, attrs: Attrs): void {
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    e.setAttribute(k, v === true ? "" : String(v));
  }
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`page element #${id} is missing`);
  return e as T;
}

export function clear(e: Element): void {
  while (e.firstChild) e.firstChild.remove();
}

/** Nanoseconds, human-sized: 850 ns, 12.3 µs, 4.56 ms, 1.23 s. */
export function fmtNs(ns: number): string {
  if (!Number.isFinite(ns)) return "–";
  const a = Math.abs(ns);
  if (a < 1e3) return `${Math.round(ns)} ns`;
  if (a < 1e6) return `${sig(ns / 1e3)} µs`;
  if (a < 1e9) return `${sig(ns / 1e6)} ms`;
  return `${sig(ns / 1e9)} s`;
}

/** A value in a map's unit. */
export function fmtUnit(v: number, unit: string): string {
  if (unit === "ns") return fmtNs(v);
  if (unit === "us") return fmtNs(v * 1e3);
  if (unit === "bytes") return v < 1024 ? `${v} B` : v < 1048576 ? `${sig(v / 1024)} KiB` : `${sig(v / 1048576)} MiB`;
  return String(v);
}

function sig(v: number): string {
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);
}

/** Wall time in UTC with milliseconds: 2025-01-31 12:00:00.123. */
export function fmtTime(ms: number): string {
  return new Date(ms).toISOString().replace("T", " ").replace("Z", "");
}
