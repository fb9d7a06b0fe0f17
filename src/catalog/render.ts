// From a bundled script and a binary's symbol table to a bpftrace program for one process:
// whether the binary can run it (checkScript), and the program itself (renderScript).
// Pure: the symbol table is read by the caller.
import { matchSymbols, type ElfSymbol, type SymbolTable } from "../elf/symbols.js";
import { DEFAULT_INTERVAL_SECONDS, DEFAULT_TRACE_RATE, DEFAULT_TRACE_SAMPLE, MAX_TRACE_SETTING } from "../defaults.js";
import type { BundledScript } from "./catalog.js";
import { alternatives } from "./header.js";
import { isKernelRequirement, uprobePattern } from "./lint.js";
import { FILTERS_SCRIPT_NAME, generateFiltersScript } from "./filters.js";
import { findHookpointFunctions, generatePairsScript, HOOKPOINT_SYMBOL_PATTERN, PAIRS_SCRIPT_NAME } from "./pairs.js";
import { parseProgram } from "./program.js";
import { fill, isTemplate } from "./template.js";

export { generatePairsScript } from "./pairs.js";
// The CLI imports the default from here.
export { DEFAULT_INTERVAL_SECONDS } from "../defaults.js";

export type CheckResult =
  | { ok: true }
  | { ok: false; reason: "stripped" | "missing-symbol"; missing: string[]; message: string };

export interface RenderOptions {
  /** Path bpftrace attaches the uprobes to (the Envoy binary as the tracer sees it). */
  binary: string;
  /** The traced process as bpftrace's `pid` builtin reports it (the host pid before bpftrace 0.23). */
  pid: number;
  table: SymbolTable;
  /** Attach by address (fast on a large binary) instead of by exact name. */
  byAddress: boolean;
  /** Seconds between map flushes (default 10). */
  intervalSeconds?: number;
  /** Request tracing: trace 1 request in N (default 100; 1 = all). */
  traceSample?: number;
  /** Request tracing: at most N traced requests per second (default 1000). */
  traceRate?: number;
  /** The other scripts selected beside this one: probes the header lists under `with` for a script not among them are left out. */
  companions?: readonly string[];
}

/** Whether `table`'s binary has what `script` needs, and if not, which symbol is missing. */
export function checkScript(script: BundledScript, table: SymbolTable): CheckResult {
  const name = script.header.name;
  const template = isTemplate(script.source) && name === PAIRS_SCRIPT_NAME;
  const needs = template ? [HOOKPOINT_SYMBOL_PATTERN] : script.header.requires.filter((r) => !isKernelRequirement(r));
  if (needs.length === 0) return { ok: true };
  if (table.stripped) {
    return {
      ok: false,
      reason: "stripped",
      missing: needs,
      message: `${name}: ${table.path} is stripped (no symbol table), and the script probes ${describe(needs)}`,
    };
  }
  if (template) {
    const found = findHookpointFunctions(table);
    if (found.pairs.length + found.lone.length > 0) return { ok: true };
    return {
      ok: false,
      reason: "missing-symbol",
      missing: needs,
      message: `${name}: ${table.path} has no hookpoint<Name> function (a modified Envoy exports e.g. hookpointFiltersStart/hookpointFiltersEnd)`,
    };
  }
  const missing = needs.filter((r) => alternatives(r).every((alt) => matchSymbols(table, alt).length === 0));
  if (missing.length === 0) return { ok: true };
  return {
    ok: false,
    reason: "missing-symbol",
    missing,
    message: `${name}: ${table.path} lacks ${describe(missing)}`,
  };
}

/**
 * The symbol names and globs a script's program can probe: what the symbol table must be
 * read for (a generated script probes hookpoint* functions).
 */
export function symbolPatterns(script: BundledScript): string[] {
  if (isTemplate(script.source)) return script.header.name === PAIRS_SCRIPT_NAME ? [HOOKPOINT_SYMBOL_PATTERN] : script.header.requires.filter((r) => !isKernelRequirement(r)).flatMap(alternatives);
  const out = new Set<string>();
  for (const b of parseProgram(script.body)) for (const a of b.attachPoints) {
    const up = uprobePattern(a);
    if (up) out.add(up.pattern);
  }
  return [...out];
}

/** The patterns of several scripts, for one read of a binary's table. */
export function symbolPatternsOf(scripts: readonly BundledScript[]): string[] {
  return [...new Set(scripts.flatMap(symbolPatterns))].sort();
}

/**
 * The bpftrace program for one process: each `uprobe:{{BINARY}}:PATTERN` becomes one attach
 * point per matching function (thunks and `.cold` parts excluded, aliases of one address
 * once), by address or exact name; probes on optional symbols the binary lacks are left
 * out. Throws when the binary cannot run the script (see checkScript) or an option is bad.
 */
export function renderScript(script: BundledScript, opts: RenderOptions): string {
  const interval = opts.intervalSeconds ?? DEFAULT_INTERVAL_SECONDS;
  const sample = opts.traceSample ?? DEFAULT_TRACE_SAMPLE;
  const rate = opts.traceRate ?? DEFAULT_TRACE_RATE;
  checkOptions(opts.binary, opts.pid, interval);
  checkCount("traceSample", sample);
  checkCount("traceRate", rate);
  let s = script;
  if (isTemplate(s.source)) {
    const generated = s.header.name === FILTERS_SCRIPT_NAME ? generateFiltersScript(opts.table, s) : generatePairsScript(opts.table, s);
    if (!generated) throw new Error(checkFailure(s, opts.table));
    s = generated;
  }
  const check = checkScript(s, opts.table);
  if (!check.ok) throw new Error(check.message);

  const body = s.body;
  const blocks = parseProgram(body);
  const left = new Set(Object.entries(s.header.with ?? {}).flatMap(([script, symbols]) => (opts.companions?.includes(script) ? [] : symbols)));
  let out = "";
  let at = 0;
  for (const b of blocks) {
    const attach: string[] = [];
    const seen = new Set<bigint>();
    let hadUprobe = false;
    for (const a of b.attachPoints) {
      const up = uprobePattern(a);
      if (!up) {
        attach.push(a);
        continue;
      }
      hadUprobe = true;
      if (left.has(up.pattern)) continue;
      for (const sym of resolve(opts.table, up.pattern)) {
        if (seen.has(sym.address)) continue;
        seen.add(sym.address);
        const target = opts.byAddress ? `0x${sym.address.toString(16)}` : quoteSymbol(sym.name);
        attach.push(`${up.type}:"${opts.binary}":${target}`);
      }
    }
    if (hadUprobe && attach.length === 0) {
      // Every symbol of this probe is optional and absent: drop the block, and the
      // comment lines just above it that describe it.
      out += body.slice(at, b.start).replace(/(\n[ \t]*\/\/[^\n]*)+\n?[ \t]*$/, "\n");
      at = b.end;
      continue;
    }
    out += body.slice(at, b.attachStart) + attach.join(",\n") + body.slice(b.attachEnd, b.end);
    at = b.end;
  }
  out += body.slice(at);
  const program = fill(out, { PID: String(opts.pid), INTERVAL: String(interval), TRACE_SAMPLE: String(sample), TRACE_RATE: String(rate) });
  const title = `// hookpoint ${s.header.name}: pid ${opts.pid}, ${opts.binary}, flush every ${interval}s`;
  return `${title}\n${program.replace(/^\n+/, "").replace(/\n{3,}/g, "\n\n")}`;
}

/** Functions a pattern names, by address (renderScript attaches once per address). */
function resolve(table: SymbolTable, pattern: string): ElfSymbol[] {
  return matchSymbols(table, pattern).sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : a.name < b.name ? -1 : 1));
}

function checkFailure(script: BundledScript, table: SymbolTable): string {
  const r = checkScript(script, table);
  return r.ok ? `${script.header.name}: nothing to trace in ${table.path}` : r.message;
}

// bpftrace 0.17 splits a probe on ":" even inside quotes, and a quote would end the path.
function checkOptions(binary: string, pid: number, interval: number): void {
  if (!binary.startsWith("/")) throw new Error(`binary: expected an absolute path, got "${binary}"`);
  const bad = /[:"\n\\]/.exec(binary);
  if (bad) throw new Error(`binary: bpftrace cannot attach to a path containing ${JSON.stringify(bad[0])}: "${binary}"`);
  if (!Number.isSafeInteger(pid) || pid <= 0) throw new Error(`pid: expected a positive integer, got ${pid}`);
  if (!Number.isSafeInteger(interval) || interval < 1 || interval > 3600) {
    throw new Error(`intervalSeconds: expected a whole number of seconds from 1 to 3600, got ${interval}`);
  }
}

function checkCount(name: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_TRACE_SETTING) throw new Error(`${name}: expected a whole number from 1 to ${MAX_TRACE_SETTING}, got ${n}`);
}

/** Mangled names are plain identifiers, except clang's `$` and suffixes like `.isra.0`. */
function quoteSymbol(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : `"${name}"`;
}

function describe(symbols: string[]): string {
  const shown = symbols.slice(0, 3).map((s) => (s.includes("|") ? `one of ${alternatives(s).join(" or ")}` : s));
  return `symbol${symbols.length > 1 ? "s" : ""} ${shown.join(", ")}${symbols.length > 3 ? ` and ${symbols.length - 3} more` : ""}`;
}
