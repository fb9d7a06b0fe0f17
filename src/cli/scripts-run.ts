// `hookpoint scripts` subcommands' work: list, check a binary, show (rendered).
import type { Command } from "commander";
import { readSymbolTable } from "../agent/elf/symbols.js";
import { loadCatalog, selectScripts, type BundledScript } from "../scripts/catalog.js";
import { checkAll, checkJson, checkText, listJson, listText } from "../scripts/format.js";
import { renderScript, symbolPatterns, symbolPatternsOf } from "../scripts/render.js";
import type { CheckOptions, ListOptions, ShowOptions } from "./scripts.js";

export async function listScripts(opts: ListOptions): Promise<void> {
  const catalog = await loadCatalog();
  process.stdout.write(opts.output === "json" ? listJson(catalog) : listText(catalog));
}

export async function checkScripts(opts: CheckOptions): Promise<void> {
  const catalog = await loadCatalog();
  const chosen = opts.script ? selectScripts(catalog, opts.script) : catalog;
  const table = await readSymbolTable(opts.binary, symbolPatternsOf(chosen));
  const checks = checkAll(chosen, table);
  process.stdout.write(opts.output === "json" ? checkJson(table, checks) : checkText(table, checks));
  if (checks.some((c) => !c.result.ok)) process.exitCode = 1;
}

export async function showScript(name: string, opts: ShowOptions, cmd: Command): Promise<void> {
  const [script] = selectScripts(await loadCatalog(), [name]) as [BundledScript];
  if (opts.binary === undefined && opts.pid === undefined) {
    process.stdout.write(script.source);
    return;
  }
  if (opts.binary === undefined || opts.pid === undefined) cmd.error("error: give both --binary and --pid to render a program", { exitCode: 2 });
  const table = await readSymbolTable(opts.binary, symbolPatterns(script));
  const text = renderScript(script, { binary: opts.binary, pid: opts.pid, table, byAddress: !opts.byName, intervalSeconds: opts.interval });
  process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
}
