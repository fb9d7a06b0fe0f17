// `hookpoint enable` / `hookpoint disable`: opt a namespace (or some workloads) in
// or out, restart the workloads, watch the new pods, and roll back a failed
// enable. Options here; the work (enable-run.ts) loads only when it runs.
import type { Command } from "commander";
import type { EnableFlags } from "./enable-run.js";
import { runCommand } from "./run.js";


const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

function command(program: Command, mode: "enable" | "disable", description: string): void {
  program
    .command(mode)
    .description(description)
    .requiredOption("-n, --namespace <ns>", "the namespace")
    .option("--workload <kind/name>", "only this Deployment, StatefulSet or DaemonSet (deployment/web, sts/db, ds/agent); repeat for more", collect)
    .option("--timeout <seconds|duration>", "how long the new pods get to run with a ready proxy: seconds, or a duration such as 5m", "300")
    .option("--dry-run", "print the plan and change nothing", false)
    .option("--kubeconfig <file>", "kubeconfig (default: KUBECONFIG, ~/.kube/config or in-cluster)")
    .option("--context <name>", "kubeconfig context")
    .action((flags: EnableFlags) => runCommand(mode, async () => (await import("./enable-run.js")).runEnable(mode, flags)));
}

export function register(program: Command): void {
  command(
    program,
    "enable",
    "Opt a namespace in (label) or some workloads (pod-template annotation), restart them, and watch the new pods; roll back if a traced pod crash-loops or its proxy is not ready in time",
  );
  command(program, "disable", "Undo enable: remove the namespace label (or opt the workloads out), restart them, and watch the new pods run untraced");
}
