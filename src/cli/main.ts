#!/usr/bin/env node
// `hookpoint` command line: one file per command, each exporting register().
import { Command, CommanderError } from "commander";
import { VERSION } from "../version.js";
import { registerCommands } from "./commands.js";

const program = new Command("hookpoint")
  .description("Trace the Envoy proxies of a service mesh with eBPF uprobes")
  .version(VERSION)
  .showHelpAfterError()
  // Usage errors (unknown option, missing argument) exit 2 like other bad input;
  // --help and --version exit 0. Set before the commands so they inherit it.
  .exitOverride((err: CommanderError) => {
    process.exit(err.exitCode === 0 ? 0 : 2);
  });

registerCommands(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`hookpoint: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
