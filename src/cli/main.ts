#!/usr/bin/env node
// `hookpoint` command line: one file per command, each exporting register().
import { Command } from "commander";
import { VERSION } from "../version.js";
import { registerCommands } from "./commands.js";

const program = new Command("hookpoint")
  .description("Trace the Envoy proxies of a service mesh with eBPF uprobes")
  .version(VERSION)
  .showHelpAfterError();

registerCommands(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`hookpoint: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
