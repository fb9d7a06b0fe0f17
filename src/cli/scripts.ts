// `hookpoint scripts`: the bundled bpftrace scripts - list them, check a binary against
// them, show one (as bundled, or rendered for a process). Options here; the work
// (scripts-run.ts) loads only when a subcommand runs.
import { InvalidArgumentError, Option, type Command } from "commander";
import { DEFAULT_INTERVAL_SECONDS } from "../defaults.js";
import { runCommand } from "./run.js";
import type { CheckOptions, ListOptions, ShowOptions } from "./scripts-run.js";

export function register(program: Command): void {
  const scripts = program.command("scripts").description("List the bundled bpftrace scripts, check a binary against them, or show one rendered");

  scripts
    .command("list")
    .description("List the bundled scripts: purpose, needed symbols and probes, output maps")
    .addOption(outputOption())
    .action((opts: ListOptions) => runCommand("scripts list", async () => (await import("./scripts-run.js")).listScripts(opts)));

  scripts
    .command("check")
    .description("Say, per script, whether a binary can run it and which symbol it lacks (exit code 1 if any cannot)")
    .requiredOption("--binary <path>", "the Envoy binary to check")
    .option("--script <names>", "comma-separated script names, or repeat (default: all)", splitList)
    .addOption(outputOption())
    .action((opts: CheckOptions) => runCommand("scripts check", async () => (await import("./scripts-run.js")).checkScripts(opts)));

  scripts
    .command("show")
    .description("Print a script; with --binary and --pid, the program bpftrace would run for that process")
    .argument("<name>", "script name")
    .option("--binary <path>", "the Envoy binary to render for")
    .option("--pid <pid>", "the Envoy process id (as bpftrace's pid builtin sees it)", parsePositiveInt)
    .option("--by-name", "attach by exact symbol name instead of by address")
    .option("--interval <seconds>", "seconds between map flushes", parsePositiveInt, DEFAULT_INTERVAL_SECONDS)
    .action((name: string, opts: ShowOptions) => runCommand("scripts show", async () => (await import("./scripts-run.js")).showScript(name, opts)));
}

function outputOption(): Option {
  return new Option("-o, --output <format>", "output format").choices(["text", "json"]).default("text");
}

/** --script repeats and takes comma-separated names; each name counts once. */
function splitList(value: string, previous: string[] | undefined): string[] {
  const names = value.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (names.length === 0) throw new InvalidArgumentError(`expected comma-separated script names, got "${value}"`);
  return [...new Set([...(previous ?? []), ...names])];
}

function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError(`expected a positive whole number, got "${value}"`);
  return n;
}
