// envoy-http-filters: a program generated from the binary's own HTTP filter classes (stock
// Envoy's Envoy::Extensions::HttpFilters::*), one timed probe pair per callback
// (decodeHeaders, decodeData, encodeHeaders, encodeData), labelled by filter and method.
// Also names filter callbacks for request records. Pure.
import { matchSymbols, type SymbolTable } from "../elf/symbols.js";
import type { BundledScript } from "./catalog.js";
import { assertTemplate, fromTemplate } from "./generated.js";
import type { FilterItem } from "./template.js";

export const FILTERS_SCRIPT_NAME = "envoy-http-filters";

/** The callbacks timed, each as the glob over every filter class that has it (thunks are not in the table). */
export const FILTER_METHOD_GLOBS: Readonly<Record<string, string>> = {
  decodeHeaders: "_ZN5Envoy10Extensions11HttpFilters*13decodeHeadersERNS_4Http16RequestHeaderMapEb",
  decodeData: "_ZN5Envoy10Extensions11HttpFilters*10decodeDataERNS_6Buffer8InstanceEb",
  encodeHeaders: "_ZN5Envoy10Extensions11HttpFilters*13encodeHeadersERNS_4Http17ResponseHeaderMapEb",
  encodeData: "_ZN5Envoy10Extensions11HttpFilters*10encodeDataERNS_6Buffer8InstanceEb",
};

const HTTP_FILTERS = ["Envoy", "Extensions", "HttpFilters"];

/**
 * The components of a mangled nested name (`_ZN5Envoy4Http3FooE...` → Envoy, Http, Foo), or
 * null when it is not a plain one (templates, substitutions, special names).
 */
export function nestedName(mangled: string): string[] | null {
  if (!mangled.startsWith("_ZN")) return null;
  let i = 3;
  while (mangled[i] === "K" || mangled[i] === "V" || mangled[i] === "r") i++;
  const out: string[] = [];
  while (i < mangled.length && mangled[i] !== "E") {
    const m = /^(\d+)/.exec(mangled.slice(i));
    if (!m) return null;
    const len = Number(m[1]);
    i += m[1]!.length;
    const id = mangled.slice(i, i + len);
    if (id.length !== len || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(id)) return null;
    out.push(id);
    i += len;
  }
  return mangled[i] === "E" ? out : null;
}

/** "ExtAuthz" → "ext_authz", "HTTPFault" → "http_fault". */
export function snakeCase(id: string): string {
  return id
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1_$2")
    .toLowerCase();
}

/**
 * A filter callback's labels from its mangled name: the filter is its namespace below
 * Envoy::Extensions::HttpFilters in snake case (cors, ext_authz, lua: the names Envoy's
 * configuration uses), the method its last component. Null for anything else.
 */
export function filterCall(mangled: string): { filter: string; className: string; method: string } | null {
  const parts = nestedName(mangled);
  if (!parts || parts.length < 6 || HTTP_FILTERS.some((p, i) => parts[i] !== p)) return null;
  const method = parts[parts.length - 1]!;
  const className = parts.slice(3, -1).join("::");
  return { filter: parts.slice(3, -2).map(snakeCase).join("."), className, method };
}

/**
 * Every timed callback in the binary, sorted by filter and method. Two classes whose
 * namespaces give the same filter name are told apart by their class name.
 */
export function findFilterCallbacks(table: SymbolTable): FilterItem[] {
  const found: { call: { filter: string; className: string; method: string }; symbol: string }[] = [];
  for (const [method, glob] of Object.entries(FILTER_METHOD_GLOBS)) {
    for (const sym of matchSymbols(table, glob)) {
      const call = filterCall(sym.name);
      if (call && call.method === method) found.push({ call, symbol: sym.name });
    }
  }
  const classesOf = new Map<string, Set<string>>();
  for (const f of found) (classesOf.get(f.call.filter) ?? classesOf.set(f.call.filter, new Set()).get(f.call.filter)!).add(f.call.className);
  const items = found.map((f) => ({
    FILTER: (classesOf.get(f.call.filter)?.size ?? 0) > 1 ? `${f.call.filter}.${f.call.className.split("::").pop()}` : f.call.filter,
    METHOD: f.call.method,
    SYMBOL: f.symbol,
    ID: "",
  }));
  items.sort((a, b) => (a.FILTER === b.FILTER ? cmp(a.METHOD, b.METHOD) : cmp(a.FILTER, b.FILTER)));
  items.forEach((it, i) => (it.ID = String(i + 1)));
  return items;
}

/** "filter method" of every callback, by the symbol's address (request records name sub-phases so). */
export function filterCallNames(table: SymbolTable): Map<bigint, string> {
  const out = new Map<bigint, string>();
  for (const it of findFilterCallbacks(table)) {
    const sym = table.symbols.get(it.SYMBOL);
    if (sym) out.set(sym.address, `${it.FILTER} ${it.METHOD}`);
  }
  return out;
}

/**
 * The envoy-http-filters program for this binary (null when it has no filter callback).
 * Its header lists the exact symbols it probes; `file` is null because it is generated.
 */
export function generateFiltersScript(table: SymbolTable, template: BundledScript): BundledScript | null {
  assertTemplate(template);
  const items = findFilterCallbacks(table);
  if (items.length === 0) return null;
  return fromTemplate(template, items.map((i) => i.SYMBOL), { pair: [], lone: [], filter: items });
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
