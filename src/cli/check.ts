// `hookpoint check`: is the install healthy? One line per check with ✔/✘ and a
// fix; exit code 1 when a check fails. Options here; the work (check-run.ts)
// loads only when it runs.
import type { Command } from "commander";
import { podNamespace } from "../config.js";
import { WEBHOOK_NAMESPACE } from "../defaults.js";
import type { CheckFlags } from "./check-run.js";
import { outputFormatOption } from "./option-values.js";
import { runCommand } from "./run.js";

export function register(program: Command): void {
  program
    .command("check")
    .description("Diagnose the install (CRD, webhook configuration, TLS, endpoints, policies, namespaces, images), or with --local this node for the agent; exit code 1 when a check fails")
    .option("--kubeconfig <file>", "the cluster to check (default: the client's default kubeconfig)")
    .option("--context <name>", "kubeconfig context to check")
    .option("--namespace <ns>", "the webhook's namespace", podNamespace() ?? WEBHOOK_NAMESPACE)
    .option("--local", "check this node instead of a cluster: kernel, capabilities, bpftrace and tracefs as the agent needs them")
    .option("--bpftrace <file>", "with --local: the bpftrace binary the agent would run", "bpftrace")
    .option("--timeout <duration>", "how long to wait for the API server and for each TLS handshake", "5s")
    .addOption(outputFormatOption("text"))
    .action((flags: CheckFlags, cmd: Command) =>
      runCommand("check", async () => (await import("./check-run.js")).runCheck(flags, (name) => cmd.getOptionValueSource(name) === "cli")),
    );
}
