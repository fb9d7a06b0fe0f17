// `hookpoint collect`: options here; the work (collect-run.ts) loads only when it runs.
import type { Command } from "commander";
import type { CollectFlags } from "./collect-run.js";
import { addPodsOptions } from "./pods-options.js";
import { runCommand } from "./run.js";

export function register(program: Command): void {
  addPodsOptions(
    program
      .command("collect")
      .description("Pull every traced pod's records into DIR/<namespace>/<pod>/ and write DIR/manifest.json; a re-run fetches only what is new")
      .requiredOption("-o, --output <dir>", "directory to collect into")
      .option("--since <duration|time>", "only records from this long ago (30m, 2h), or since this time (2026-03-01T10:00:00Z, with its offset) or date (UTC)"),
    { parallel: 8, timeout: "30s", timeoutHelp: "how long a pod's agent may stay silent during a request" },
  ).action((flags: CollectFlags) => runCommand("collect", async () => (await import("./collect-run.js")).runCollect(flags)));
}
