// hookpoint-pairs: a program generated from a modified Envoy's own hookpoint<Name>
// functions. hookpoint<Name>Start/hookpoint<Name>End of one scope become a latency pair,
// any other hookpoint<Name> a counter. Pure (the template is passed in or read once from bpf/).
//
// Where the functions are declared decides what identifies one Start/End interval:
//   extern "C" hookpointXStart              arg0 (by convention a uint64 id)
//   global C++ hookpointXStart(T id, ...)   arg0 when T is an id type (below), else the thread
//   C++ member Cls::hookpointXStart(T id)   this (arg0) and the id (arg1) when T is an id type,
//                                           else this alone
// An id type is an integer of at most 64 bits, a pointer or a reference (passed as an
// address); narrower integers are cut to their width, since the upper bits of their
// register are undefined, and widened again so that every key component is 8 bytes.
import type { SymbolTable } from "../elf/symbols.js";
import { loadCatalogSync, type BundledScript } from "./catalog.js";
import { assertTemplate, fromTemplate } from "./generated.js";
import { MangledNameError, parseMangledFunction, type CxxFunction } from "./mangled.js";
import type { LoneItem, PairItem } from "./template.js";

export const PAIRS_SCRIPT_NAME = "hookpoint-pairs";
/** The symbols a binary's hookpoint functions can have: extern "C", global and member C++ names. */
export const HOOKPOINT_SYMBOL_PATTERN = "*hookpoint*";
/** bpftrace 0.17 refuses string literals over 63 bytes, and pair names are map keys. */
export const MAX_LABEL_BYTES = 63;

/** Shared through the per-table cache: callers must not change it. */
export interface HookpointFunctions {
  readonly pairs: readonly PairItem[];
  readonly lone: readonly LoneItem[];
  /** hookpoint functions left out or not paired, each with the reason. */
  readonly warnings: readonly string[];
}

// extern "C" hookpointFiltersStart; the same shape is what a C++ function's own name must have.
const C_NAME_RE = /^hookpoint([A-Z0-9_][A-Za-z0-9_]*)$/;
// A length-prefixed hookpoint name somewhere in a C++ symbol: worth a warning when the
// symbol cannot be parsed. (Local names, `_ZZ...`, are lambdas and statics inside a
// hookpoint function; special names, `_ZT...`/`_ZGV...`, thunks and guards: never probed.)
const CXX_HOOKPOINT_RE = /\dhookpoint[A-Z0-9_]/;
const CXX_FUNCTION_RE = /^_Z[^ZTG]/;

interface Found {
  symbol: string;
  /** <Name>Start, <Name>End or <Name>. */
  suffix: string;
  /** Equal for functions of one class or namespace; "" for global ones. */
  scopeKey: string;
  scope: readonly string[];
  /** The probe's key expression: what identifies one call's interval. */
  key: string;
  /** Why the key is what it is, for warnings. */
  keyedBy: string;
}

// Per symbol map, like matchSymbols' glob cache: each Envoy start and each check or render
// asks again, and every Envoy of one build shares its table.
const hookpointsBySymbols = new WeakMap<SymbolTable["symbols"], HookpointFunctions>();

/** The hookpoint<Name> functions of a binary, sorted by name. */
export function findHookpointFunctions(table: SymbolTable): HookpointFunctions {
  let result = hookpointsBySymbols.get(table.symbols);
  if (!result) hookpointsBySymbols.set(table.symbols, (result = scan(table)));
  return result;
}

function scan(table: SymbolTable): HookpointFunctions {
  const warnings: string[] = [];
  // scopeKey → <suffix> → function. An extern "C" name wins over a global C++ function of
  // the same name, and the first overload (by mangled name) over the others.
  const scopes = new Map<string, Map<string, Found>>();
  const cxx: Found[] = [];
  for (const sym of table.symbols.keys()) {
    if (!sym.includes("hookpoint")) continue;
    const c = C_NAME_RE.exec(sym);
    if (c) {
      scopeOf(scopes, "").set(c[1] ?? "", { symbol: sym, suffix: c[1] ?? "", scopeKey: "", scope: [], key: "arg0", keyedBy: "its first argument" });
      continue;
    }
    if (!CXX_FUNCTION_RE.test(sym)) continue;
    let fn: CxxFunction;
    try {
      fn = parseMangledFunction(sym);
    } catch (err) {
      if (!(err instanceof MangledNameError)) throw err;
      if (CXX_HOOKPOINT_RE.test(sym)) warnings.push(`${sym}: left out: ${err.reason}`);
      continue;
    }
    const own = C_NAME_RE.exec(fn.name);
    if (!own) continue;
    cxx.push({ symbol: sym, suffix: own[1] ?? "", scopeKey: fn.scopeKey, scope: fn.scope, ...keyOf(fn) });
  }
  for (const f of cxx.sort((a, b) => cmp(a.symbol, b.symbol))) {
    const byName = scopeOf(scopes, f.scopeKey);
    const taken = byName.get(f.suffix);
    if (!taken) byName.set(f.suffix, f);
    else warnings.push(`${f.symbol}: left out: ${taken.symbol} has the same name and scope`);
  }

  const pairs: Omit<PairItem, "NAME" | "LABEL" | "VAR">[] = [];
  const pairFound: Found[] = [];
  const lone: Found[] = [];
  for (const byName of scopes.values()) {
    const paired = new Set<string>();
    for (const [suffix, start] of byName) {
      if (!suffix.endsWith("Start") || suffix.length === "Start".length) continue;
      const name = suffix.slice(0, -"Start".length);
      const end = byName.get(`${name}End`);
      if (!end) continue;
      if (start.key !== end.key) {
        warnings.push(`${start.symbol} and ${end.symbol}: counted, not paired: the start is keyed by ${start.keyedBy}, the end by ${end.keyedBy}`);
        continue;
      }
      pairs.push({ START: start.symbol, END: end.symbol, KEY: start.key });
      pairFound.push({ ...start, suffix: name });
      paired.add(suffix).add(`${name}End`);
    }
    for (const [suffix, f] of byName) if (!paired.has(suffix)) lone.push(f);
  }

  const pairNames = labels(pairFound);
  const vars = identifiers(pairNames);
  const literals = alignedLiterals(pairNames);
  const loneNames = labels(lone);
  return {
    pairs: pairs.map((p, i) => ({ NAME: pairNames[i] ?? "", LABEL: literals[i] ?? "", ...p, VAR: vars[i] ?? "" })).sort((a, b) => cmp(a.NAME, b.NAME)),
    lone: lone.map((f, i) => ({ NAME: loneNames[i] ?? "", SYMBOL: f.symbol })).sort((a, b) => cmp(a.NAME, b.NAME)),
    warnings: warnings.sort(),
  };
}

function scopeOf(scopes: Map<string, Map<string, Found>>, key: string): Map<string, Found> {
  let m = scopes.get(key);
  if (!m) scopes.set(key, (m = new Map()));
  return m;
}

function keyOf(fn: CxxFunction): { key: string; keyedBy: string } {
  const first = fn.params[0];
  const idArg = fn.nested ? "arg1" : "arg0";
  const id = first?.idBits ? (first.idBits === 64 ? idArg : `(uint64)(uint${first.idBits})${idArg}`) : null;
  const what = first ? `its first parameter (${first.text})` : "";
  if (fn.nested) return id ? { key: `arg0, ${id}`, keyedBy: `this and ${what}` } : { key: "arg0", keyedBy: "this" };
  return id ? { key: id, keyedBy: what } : { key: "tid", keyedBy: "the thread" };
}

/**
 * Names shown in the maps (the `pair` and `function` metric labels): <Name> for a global
 * function, the scope and <Name> for a C++ member ("Router::Filter::Route", Envoy's own
 * namespace left out). Where two would be equal, the full scope; still equal, a "#2"
 * suffix; longer than bpftrace takes, the leading scopes dropped ("..Filter::Route").
 */
function labels(found: readonly Found[]): string[] {
  const full = found.map((f) => [...f.scope, f.suffix].join("::"));
  const short = found.map((f, i) => (f.scope[0] === "Envoy" && f.scope.length > 1 ? full[i]!.slice("Envoy::".length) : full[i]!));
  const count = (names: readonly string[]): Map<string, number> => names.reduce((m, n) => m.set(n, (m.get(n) ?? 0) + 1), new Map<string, number>());
  const shortCount = count(short);
  const chosen = short.map((s, i) => fit((shortCount.get(s) ?? 0) > 1 ? full[i]! : s));
  const seen = new Map<string, number>();
  // Deterministic numbering: by symbol, not by the order the symbol table lists them.
  const order = found.map((f, i) => i).sort((a, b) => cmp(found[a]!.symbol, found[b]!.symbol));
  const out: string[] = [];
  for (const i of order) {
    const name = chosen[i]!;
    const n = (seen.get(name) ?? 0) + 1;
    seen.set(name, n);
    out[i] = n === 1 ? name : fit(name, `#${n}`);
  }
  return out;
}

function fit(name: string, suffix = ""): string {
  const max = MAX_LABEL_BYTES - suffix.length;
  if (Buffer.byteLength(name) <= max) return name + suffix;
  const parts = name.split("::");
  while (parts.length > 1 && Buffer.byteLength(`..${parts.join("::")}`) > max) parts.shift();
  const kept = `..${parts.join("::")}`;
  return (Buffer.byteLength(kept) <= max ? kept : `..${Buffer.from(name).subarray(-(max - 2)).toString()}`) + suffix;
}

/**
 * The names as bpftrace string literals, the longest padded with NULs to a multiple of 8
 * bytes. bpftrace 0.17 sizes a map's string key to its longest literal and stores a
 * histogram's bucket right after the key, as 8 bytes: at an offset that is not a multiple
 * of 8 the kernel's verifier refuses the program ("misaligned stack access"). The map
 * output stops at the first NUL, so the names read as they are.
 */
function alignedLiterals(names: readonly string[]): string[] {
  const longest = Math.max(0, ...names.map((n) => Buffer.byteLength(n)));
  const pad = (8 - ((longest + 1) % 8)) % 8;
  return names.map((n) => (Buffer.byteLength(n) === longest ? n + "\\0".repeat(pad) : n));
}

/** bpftrace map-name parts for the pairs' pending starts: the name's word characters, unique. */
function identifiers(names: readonly string[]): string[] {
  const used = new Set<string>();
  return names.map((n) => {
    const base = n.replace(/[^A-Za-z0-9_]+/g, "_").replace(/^_+|_+$/g, "") || "pair";
    let id = base;
    for (let k = 2; used.has(id); k++) id = `${base}_${k}`;
    used.add(id);
    return id;
  });
}

let bundledTemplate: BundledScript | undefined;

/** The bundled hookpoint-pairs template (read once). */
export function pairsTemplate(): BundledScript {
  bundledTemplate ??= loadCatalogSync().find((s) => s.header.name === PAIRS_SCRIPT_NAME);
  if (!bundledTemplate) throw new Error(`the bundled scripts lack ${PAIRS_SCRIPT_NAME}.bt`);
  return bundledTemplate;
}

/**
 * The hookpoint-pairs program for this binary (null when it has no hookpoint* function).
 * Its header lists the exact symbols it probes; `file` is null because it is generated.
 */
export function generatePairsScript(table: SymbolTable, template: BundledScript = pairsTemplate()): BundledScript | null {
  assertTemplate(template);
  const items = findHookpointFunctions(table);
  if (items.pairs.length === 0 && items.lone.length === 0) return null;
  const requires = [...items.pairs.flatMap((p) => [p.START, p.END]), ...items.lone.map((l) => l.SYMBOL)];
  return fromTemplate(template, requires, { pair: items.pairs, lone: items.lone });
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
