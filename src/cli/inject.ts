// `hookpoint inject`: options here; the work (inject-run.ts) loads only when it runs.
import type { Command } from "commander";
import { addInputOptions, type InputFlags } from "./input-options.js";
import { runCommand } from "./run.js";

export interface InjectFlags extends InputFlags {
  force: boolean;
}

export function register(program: Command): void {
  addInputOptions(
    program
      .command("inject")
      .description("Rewrite the proxy container of every opted-in pod template in manifests, like the webhook would (offline)")
      .option("--force", "inject every pod that has a proxy container, whatever the opt-in (exclusions still apply)", false),
  ).action((flags: InjectFlags) => runCommand("inject", async () => (await import("./inject-run.js")).runInject(flags)));
}
