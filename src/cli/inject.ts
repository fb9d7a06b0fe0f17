// `hookpoint inject`: options here; the work (inject-run.ts) loads only when it runs.
import type { Command } from "commander";
import { addDecisionOptions, addManifestOptions, addWriteOptions } from "./input-options.js";
import { runCommand } from "./run.js";
import type { InjectFlags } from "./inject-run.js";

export function register(program: Command): void {
  const cmd = program
    .command("inject")
    .description("Rewrite the proxy container of every opted-in pod template in manifests, like the webhook would (offline)");
  addWriteOptions(addDecisionOptions(addManifestOptions(cmd)))
    .option("--force", "inject every pod that has a proxy container, whatever the opt-in (exclusions and Pod Security still apply); says which decision it overrode", false)
    .action((flags: InjectFlags) => runCommand("inject", async () => (await import("./inject-run.js")).runInject(flags)));
}
