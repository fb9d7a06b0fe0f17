// `hookpoint scripts`: the bundled bpftrace scripts - list them, check a binary against
// them, show one (as bundled, or rendered for a process).
import { InvalidArgumentError, Option, type Command } from "commander";
import { readSymbolTable } from "../agent/elf/symbols.js";
import { loadCatalog, selectScripts, type BundledScript } from "../scripts/catalog.js";
import { checkAll, checkJson, checkText, listJson, listText } from "../scripts/format.js";
import { DEFAULT_INTERVAL_SECONDS, renderScript } from "../scripts/render.js";

export function register(program: Command): void {
  const scripts = program.command("scripts").description("The bundled bpftrace scripts: list them, check a binary, show one rendered");

  scripts
    .command("list")
    .description("list the bundled scripts: purpose, needed symbols and probes, output maps")
    .addOption(outputOption())
    .action(async (opts: { output: string }) => {
      const catalog = await loadCatalog();
      process.stdout.write(opts.output === "json" ? listJson(catalog) : listText(catalog));
    });

  scripts
    .command("check")
    .description("say, per script, whether a binary can run it and which symbol it lacks (exit 1 if any cannot)")
    .requiredOption("--binary <path>", "the Envoy binary to check")
    .option("--script <names>", "comma-separated script names (default: all)", splitList)
    .addOption(outputOption())
    .action(async (opts: { binary: string; script?: string[]; output: string }) => {
      const catalog = await loadCatalog();
      const chosen = opts.script ? selectScripts(catalog, opts.script) : catalog;
      const table = await readSymbolTable(opts.binary);
      const checks = checkAll(chosen, table);
      process.stdout.write(opts.output === "json" ? checkJson(table, checks) : checkText(table, checks));
      if (checks.some((c) => !c.result.ok)) process.exitCode = 1;
    });

  scripts
    .command("show")
    .description("print a script; with --binary and --pid, the program bpftrace would run for that process")
    .argument("<name>", "script name")
    .option("--binary <path>", "the Envoy binary to render for")
    .option("--pid <pid>", "the Envoy process id (as bpftrace's pid builtin sees it)", parsePositiveInt)
    .option("--by-name", "attach by exact symbol name instead of by address")
    .option("--interval <seconds>", "seconds between map flushes", parsePositiveInt, DEFAULT_INTERVAL_SECONDS)
    .action(async (name: string, opts: { binary?: string; pid?: number; byName?: boolean; interval: number }, cmd: Command) => {
      const [script] = selectScripts(await loadCatalog(), [name]) as [BundledScript];
      if (opts.binary === undefined && opts.pid === undefined) {
        process.stdout.write(script.source);
        return;
      }
      if (opts.binary === undefined || opts.pid === undefined) cmd.error("error: give both --binary and --pid to render a program", { exitCode: 2 });
      const table = await readSymbolTable(opts.binary);
      const text = renderScript(script, { binary: opts.binary, pid: opts.pid, table, byAddress: !opts.byName, intervalSeconds: opts.interval });
      process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
    });
}

function outputOption(): Option {
  return new Option("-o, --output <format>", "output format").choices(["text", "json"]).default("text");
}

function splitList(value: string): string[] {
  const names = value.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (names.length === 0) throw new InvalidArgumentError(`expected comma-separated script names, got "${value}"`);
  return names;
}

function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError(`expected a positive whole number, got "${value}"`);
  return n;
}
