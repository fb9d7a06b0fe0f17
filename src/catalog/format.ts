// Text and JSON views of the catalog and of a binary check, for `hookpoint scripts`. Pure.
import type { SymbolTable } from "../elf/symbols.js";
import type { BundledScript } from "./catalog.js";
import { findHookpointFunctions, PAIRS_SCRIPT_NAME } from "./pairs.js";
import { checkScript, type CheckResult } from "./render.js";
import { isTemplate } from "./template.js";
import { counted } from "../counted.js";

export function listJson(catalog: readonly BundledScript[]): string {
  return `${JSON.stringify(catalog.map((s) => s.header), null, 2)}\n`;
}

export function listText(catalog: readonly BundledScript[]): string {
  const out: string[] = [];
  for (const { header: h } of catalog) {
    out.push(`${h.name}${h.default ? " (default)" : ""}  bpftrace >= ${h.minBpftrace}`);
    out.push(`  ${h.purpose}`);
    out.push(`  needs: ${h.requires.join(", ") || "nothing"}`);
    const width = Math.max(...h.maps.map((m) => mapLabel(m.name, m.keys).length));
    for (const m of h.maps) {
      out.push(`  ${mapLabel(m.name, m.keys).padEnd(width)}  ${`${m.kind}, ${m.unit}`.padEnd(12)}  ${m.meaning}`);
    }
    out.push("");
  }
  return out.join("\n");
}

function mapLabel(name: string, keys: string[] | undefined): string {
  return keys && keys.length > 0 ? `${name}[${keys.join(", ")}]` : name;
}

export interface ScriptCheck {
  name: string;
  result: CheckResult;
  /** For a generated script that can run: what it will probe. */
  pairs?: string[];
  counters?: string[];
  /** hookpoint functions it leaves out or counts instead of pairing, with why. */
  warnings?: string[];
}

export function checkAll(scripts: readonly BundledScript[], table: SymbolTable): ScriptCheck[] {
  return scripts.map((s) => {
    const result = checkScript(s, table);
    if (!result.ok || !isTemplate(s.source) || s.header.name !== PAIRS_SCRIPT_NAME) return { name: s.header.name, result };
    const found = findHookpointFunctions(table);
    return { name: s.header.name, result, pairs: found.pairs.map((p) => p.NAME), counters: found.lone.map((l) => l.NAME), warnings: [...found.warnings] };
  });
}

export function checkJson(table: SymbolTable, checks: readonly ScriptCheck[]): string {
  const doc = {
    binary: table.path,
    buildId: table.buildId,
    stripped: table.stripped,
    functionSymbols: table.functions,
    scripts: checks.map((c) => ({
      name: c.name,
      ...c.result,
      ...(c.pairs ? { pairs: c.pairs, counters: c.counters, ...(c.warnings?.length ? { warnings: c.warnings } : {}) } : {}),
    })),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

export function checkText(table: SymbolTable, checks: readonly ScriptCheck[]): string {
  const out = [
    `${table.path}: ${table.stripped ? "stripped, " : ""}${table.functions} function symbols, build-id ${table.buildId ?? "none"}`,
  ];
  const width = Math.max(...checks.map((c) => c.name.length));
  for (const c of checks) {
    if (c.result.ok) {
      const extra = c.pairs ? `  ${describeItems(c.pairs, "pair")}, ${describeItems(c.counters ?? [], "counter")}` : "";
      out.push(`ok       ${c.name.padEnd(width)}${extra}`);
      for (const w of c.warnings ?? []) out.push(`         ${" ".repeat(width)}  warning: ${w}`);
    } else {
      out.push(`${c.result.reason === "stripped" ? "stripped" : "missing "} ${c.name.padEnd(width)}  ${c.result.message.replace(`${c.name}: `, "")}`);
    }
  }
  return `${out.map((l) => l.trimEnd()).join("\n")}\n`;
}

function describeItems(names: string[], what: string): string {
  return `${counted(names.length, what)}${names.length > 0 ? ` (${names.join(", ")})` : ""}`;
}
