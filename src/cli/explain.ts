// `hookpoint explain`: options here; the work (explain-run.ts) loads only when it runs.
import type { Command } from "commander";
import { addClusterOptions } from "./explain-cluster.js";
import { addDecisionOptions, addManifestOptions } from "./input-options.js";
import { outputFormatOption } from "./option-values.js";
import { runCommand } from "./run.js";
import type { ExplainFlags } from "./explain-run.js";

export function register(program: Command): void {
  const cmd = program
    .command("explain")
    .description("Say, per resource, whether hookpoint would inject it, which rule decided and why, and what it would apply");
  addClusterOptions(addDecisionOptions(addManifestOptions(cmd)))
    .addOption(outputFormatOption("table"))
    .action((flags: ExplainFlags) => runCommand("explain", async () => (await import("./explain-run.js")).runExplain(flags)));
}
