// hookpoint-pairs: a program generated from a modified Envoy's own hookpoint<Name>
// functions. hookpoint<Name>Start/hookpoint<Name>End become a latency pair, any other
// hookpoint<Name> a counter. Pure (the template is passed in or read once from bpf/).
import type { SymbolTable } from "../agent/elf/symbols.js";
import { loadCatalogSync, type BundledScript } from "./catalog.js";
import { formatHeaderComment, parseScriptFile, type ScriptHeader } from "./header.js";
import { expandTemplate, isTemplate, type LoneItem, type PairItem } from "./template.js";

export const PAIRS_SCRIPT_NAME = "hookpoint-pairs";

/** Shared through the per-table cache: callers must not change it. */
export interface HookpointFunctions {
  readonly pairs: readonly PairItem[];
  readonly lone: readonly LoneItem[];
}

// extern "C" hookpointFiltersStart, or a global C++ function _Z21hookpointFiltersStartm.
const C_NAME_RE = /^hookpoint([A-Z0-9_][A-Za-z0-9_]*)$/;
const CXX_NAME_RE = /^_Z(\d+)hookpoint/;
const IDENT_RE = /^hookpoint[A-Z0-9_][A-Za-z0-9_]*$/;

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
  // <Name> → symbol; an extern "C" name wins over a C++ overload of the same name.
  const bySuffix = new Map<string, string>();
  const cxx: [string, string][] = [];
  for (const sym of table.symbols.keys()) {
    const c = C_NAME_RE.exec(sym);
    if (c) {
      bySuffix.set(c[1] ?? "", sym);
      continue;
    }
    const m = CXX_NAME_RE.exec(sym);
    if (m) {
      // The length prefix says where the name ends and the parameter types begin.
      const start = 2 + (m[1] ?? "").length;
      const ident = sym.slice(start, start + Number(m[1]));
      if (ident.length === Number(m[1]) && IDENT_RE.test(ident) && sym.length > start + ident.length) cxx.push([ident.slice("hookpoint".length), sym]);
    }
  }
  for (const [suffix, sym] of cxx.sort((a, b) => cmp(a[1], b[1]))) if (!bySuffix.has(suffix)) bySuffix.set(suffix, sym);

  const pairs: PairItem[] = [];
  const lone: LoneItem[] = [];
  const paired = new Set<string>();
  for (const [suffix, sym] of bySuffix) {
    if (!suffix.endsWith("Start") || suffix.length === "Start".length) continue;
    const name = suffix.slice(0, -"Start".length);
    const end = bySuffix.get(`${name}End`);
    if (end === undefined) continue;
    pairs.push({ NAME: name, START: sym, END: end });
    paired.add(suffix).add(`${name}End`);
  }
  for (const [suffix, sym] of bySuffix) if (!paired.has(suffix)) lone.push({ NAME: suffix, SYMBOL: sym });
  pairs.sort((a, b) => cmp(a.NAME, b.NAME));
  lone.sort((a, b) => cmp(a.NAME, b.NAME));
  return { pairs, lone };
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
  if (!isTemplate(template.source)) throw new Error(`${template.header.name} is not a template (no "// hookpoint:each" lines)`);
  const items = findHookpointFunctions(table);
  if (items.pairs.length === 0 && items.lone.length === 0) return null;
  const requires = [...items.pairs.flatMap((p) => [p.START, p.END]), ...items.lone.map((l) => l.SYMBOL)];
  const header: ScriptHeader = { ...template.header, requires };
  const { body } = parseScriptFile(template.source, template.file ?? PAIRS_SCRIPT_NAME);
  return { header, source: formatHeaderComment(header) + expandTemplate(body.replace(/^\n/, ""), { pair: items.pairs, lone: items.lone }), file: null };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
