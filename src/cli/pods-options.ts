// The options `status` and `collect` share: which traced pods, which cluster, how many
// at once and how long to wait for one; checked here, exit code 2 when wrong.
import type { Command } from "commander";
import parseDuration from "parse-duration";
import { InputError } from "./errors.js";

export interface PodsFlags {
  namespace?: string;
  allNamespaces?: boolean;
  selector?: string;
  kubeconfig?: string;
  context?: string;
  parallel: string;
  timeout: string;
}

export function addPodsOptions(cmd: Command, defaults: { parallel: number; timeout: string; timeoutHelp: string }): Command {
  return cmd
    .option("-n, --namespace <ns>", "namespace of the pods (default: the kubeconfig context's, else default)")
    .option("-A, --all-namespaces", "pods of every namespace")
    .option("-l, --selector <selector>", "label selector, added to hookpoint.dev/injected=true")
    .option("--kubeconfig <file>", "kubeconfig file (default: KUBECONFIG, ~/.kube/config, in-cluster)")
    .option("--context <name>", "kubeconfig context (default: its current context)")
    .option("--parallel <n>", "pods visited at once", String(defaults.parallel))
    .option("--timeout <duration>", defaults.timeoutHelp, defaults.timeout);
}

/** "90s", "10m", "1h30m" → milliseconds; a bare number or anything else is refused naming `flag`. */
export function parseDurationFlag(flag: string, text: string): number {
  const ms = /^\s*(\d+(\.\d+)?\s*(ms|s|m|h|d)\s*)+$/.test(text) ? parseDuration(text) : null;
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms <= 0) {
    throw new InputError(flag, `expected a duration such as 30s, 10m or 1h30m, got "${text}"`);
  }
  return ms;
}

export interface PodsChoice {
  /** null: every namespace. */
  namespace: string | null;
  selector: string | undefined;
  parallel: number;
  timeoutMs: number;
}

/** Checks the shared flags; `contextNamespace` is the kubeconfig context's namespace, if any. */
export function podsChoice(flags: PodsFlags, contextNamespace: string | undefined): PodsChoice {
  if (flags.allNamespaces && flags.namespace !== undefined) throw new InputError("--all-namespaces", "cannot be combined with --namespace");
  const parallel = Number(flags.parallel);
  if (!/^\d+$/.test(flags.parallel) || parallel < 1 || parallel > 256) throw new InputError("--parallel", `expected an integer from 1 to 256, got "${flags.parallel}"`);
  return {
    namespace: flags.allNamespaces ? null : (flags.namespace ?? contextNamespace ?? "default"),
    selector: flags.selector,
    parallel,
    timeoutMs: parseDurationFlag("--timeout", flags.timeout),
  };
}
