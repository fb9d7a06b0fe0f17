#!/usr/bin/env node
// `hookpoint` command line: one file per command, each exporting register().
import { Command, CommanderError } from "commander";
import { VERSION } from "../version.js";
import { registerCommands } from "./commands.js";

const program = new Command("hookpoint")
  .description("Trace the Envoy proxies of a service mesh with eBPF uprobes")
  .version(VERSION)
  // Commander's own wording is lower-case; every other command's description starts with a capital verb.
  .helpCommand("help [command]", "Display help for a command")
  // Usage errors (unknown option, missing argument) exit 2 like other bad input;
  // --help and --version exit 0. Set before the commands so they inherit it.
  .exitOverride((err: CommanderError) => {
    process.exit(err.exitCode === 0 ? 0 : 2);
  });

registerCommands(program);
oneLineErrors(program, "hookpoint");

// A reader that stops early (`| head`) closes the pipe: end quietly, as Unix tools do,
// rather than with Node's stack trace for the EPIPE; not all was delivered, so exit 1.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code !== "EPIPE") throw err;
    process.exit(1);
  });
}

/** Commander's usage errors as every other error: one line, `hookpoint <command>: `, the reason, where to read more. */
function oneLineErrors(cmd: Command, path: string): void {
  cmd.configureOutput({
    outputError: (text, write) => write(`${path}: ${text.trim().replace(/^error: /, "").replace(/\s*\n\s*/g, " ")} (see ${path} --help)\n`),
  });
  for (const sub of cmd.commands) oneLineErrors(sub, `${path} ${sub.name()}`);
}

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`hookpoint: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
