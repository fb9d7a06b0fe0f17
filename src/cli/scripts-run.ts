// `hookpoint scripts` subcommands' work: list, check a binary, show (rendered).
import { stat } from "node:fs/promises";
import { ElfError } from "../elf/format.js";
import { readSymbolTable, type SymbolTable } from "../elf/symbols.js";
import { loadCatalog, selectScripts as select, type BundledScript } from "../catalog/catalog.js";
import { checkAll, checkJson, checkText, listJson, listText } from "../catalog/format.js";
import { renderScript, symbolPatterns, symbolPatternsOf } from "../catalog/render.js";
import { errnoText } from "../errno-text.js";
import { InputError, UsageError } from "./errors.js";

export interface CheckOptions {
  binary: string;
  script?: string[];
  output: string;
}

export interface ListOptions {
  output: string;
}

export interface ShowOptions {
  binary?: string;
  pid?: number;
  byName?: boolean;
  interval: number;
}

/** An unknown script name is a usage error (exit 2). */
function selectScripts(catalog: readonly BundledScript[], names: readonly string[]): BundledScript[] {
  try {
    return select(catalog, names);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** A binary that cannot be read or is not an ELF file is bad input (exit 2). */
async function symbolsOf(binary: string, patterns: readonly string[]): Promise<SymbolTable> {
  // Opening a FIFO waits for a writer; a device never ends: neither is a binary.
  const st = await stat(binary).catch(() => undefined);
  const special = st === undefined ? undefined : st.isFIFO() ? "a FIFO" : st.isSocket() ? "a socket" : st.isCharacterDevice() || st.isBlockDevice() ? "a device" : undefined;
  if (special) throw new InputError(binary, `is ${special}, not the Envoy binary`);
  try {
    return await readSymbolTable(binary, patterns);
  } catch (err) {
    if (err instanceof ElfError) throw new InputError(err.path, err.message.slice(err.path.length + 2));
    // Opened but not readable as a file (a directory): bad input too, in words.
    if ((err as NodeJS.ErrnoException).code) throw new InputError(binary, `cannot read: ${errnoText(err, "file")}`);
    throw err;
  }
}

export async function listScripts(opts: ListOptions): Promise<void> {
  const catalog = await loadCatalog();
  process.stdout.write(opts.output === "json" ? listJson(catalog) : listText(catalog));
}

export async function checkScripts(opts: CheckOptions): Promise<void> {
  const catalog = await loadCatalog();
  const chosen = opts.script ? selectScripts(catalog, opts.script) : catalog;
  const table = await symbolsOf(opts.binary, symbolPatternsOf(chosen));
  const checks = checkAll(chosen, table);
  process.stdout.write(opts.output === "json" ? checkJson(table, checks) : checkText(table, checks));
  if (checks.some((c) => !c.result.ok)) process.exitCode = 1;
}

export async function showScript(name: string, opts: ShowOptions): Promise<void> {
  if ((opts.binary === undefined) !== (opts.pid === undefined)) throw new UsageError("give both --binary and --pid to render a program, or neither to print the script");
  const [script] = selectScripts(await loadCatalog(), [name]) as [BundledScript];
  if (opts.binary === undefined || opts.pid === undefined) {
    process.stdout.write(script.source);
    return;
  }
  const table = await symbolsOf(opts.binary, symbolPatterns(script));
  const text = renderScript(script, { binary: opts.binary, pid: opts.pid, table, byAddress: !opts.byName, intervalSeconds: opts.interval });
  process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
}
