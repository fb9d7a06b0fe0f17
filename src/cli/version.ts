// `hookpoint version`: this CLI's version, the webhook's and agent's it would run,
// and the Istio line the tracing image is built for; with a cluster, what is
// installed there. Options here; the work (version-run.ts) loads when it runs.
import type { Command } from "commander";
import { podNamespace } from "../config.js";
import { WEBHOOK_NAMESPACE } from "../defaults.js";
import type { VersionFlags } from "./version-run.js";
import { runCommand } from "./run.js";
import { outputFormatOption } from "./option-values.js";


export function register(program: Command): void {
  program
    .command("version")
    .description("Print the versions of the CLI, the webhook and the agent, and the Istio line of the tracing image; with --kubeconfig, also what the cluster runs")
    .option("--kubeconfig <file>", "also read the installed webhook and the traced pods of this cluster")
    .option("--context <name>", "kubeconfig context to read (implies reading a cluster)")
    .option("--namespace <ns>", "the webhook's namespace", podNamespace() ?? WEBHOOK_NAMESPACE)
    .addOption(outputFormatOption("text"))
    .action((flags: VersionFlags) => runCommand("version", async () => (await import("./version-run.js")).runVersion(flags)));
}
