// `hookpoint enable`/`disable`'s work: parse the workloads, then the rollout (k8s/rollout.ts).
import { rollout, RolloutFailed, WORKLOAD_KINDS, type WorkloadKind, type WorkloadRef } from "../k8s/rollout.js";
import type { KubeConfig } from "@kubernetes/client-node";
import { WEBHOOK_NAMESPACE } from "../defaults.js";
import { checkOptIn, type TemplateToCheck } from "./enable-check.js";
import { JobError, UsageError } from "./errors.js";
import { liveInputs } from "./explain-cluster.js";
import { parseDurationFlag } from "./pods-options.js";
import { loadSettings } from "./settings.js";

export interface EnableFlags {
  namespace: string;
  workload?: string[];
  timeout: string;
  dryRun: boolean;
  kubeconfig?: string;
  context?: string;
}

const KIND_NAMES: Readonly<Record<string, WorkloadKind>> = {
  deployment: "Deployment",
  deployments: "Deployment",
  deploy: "Deployment",
  statefulset: "StatefulSet",
  statefulsets: "StatefulSet",
  sts: "StatefulSet",
  daemonset: "DaemonSet",
  daemonsets: "DaemonSet",
  ds: "DaemonSet",
};

export function parseWorkload(raw: string): WorkloadRef {
  const m = /^([A-Za-z]+)(?:\.apps)?\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/.exec(raw);
  const kind = m ? KIND_NAMES[(m[1] as string).toLowerCase()] : undefined;
  if (!m || !kind) throw new UsageError(`--workload must be KIND/NAME with KIND one of ${WORKLOAD_KINDS.join(", ")} (or deploy, sts, ds), got ${JSON.stringify(raw)}`);
  return { kind, name: m[2] as string };
}

/** --timeout in seconds: a bare number (300), or a duration as status, collect and check take it (5m, 1h30m). */
export function timeoutSeconds(text: string): number {
  let ms: number | undefined;
  try {
    ms = /^\d+$/.test(text) ? Number(text) * 1000 : parseDurationFlag("--timeout", text);
  } catch {
    ms = undefined;
  }
  if (ms === undefined || ms < 1000 || ms > 86_400_000 || ms % 1000 !== 0) {
    throw new UsageError(`--timeout must be whole seconds (300) or a duration (5m, 1h30m) from 1s to 24h, got ${JSON.stringify(text)}`);
  }
  return ms / 1000;
}

export async function runEnable(mode: "enable" | "disable", flags: EnableFlags): Promise<void> {
  const workloads = (flags.workload ?? []).map(parseWorkload);
  const seconds = timeoutSeconds(flags.timeout);
  const { loadKubeConfig } = await import("../k8s/kubeconfig.js");
  const kubeConfig = loadKubeConfig({ file: flags.kubeconfig, context: flags.context });
  // Annotated workloads are traced only where the cluster's policies allow it: ask the webhook's own decision first.
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const precheck = mode === "enable" && workloads.length > 0 ? (templates: TemplateToCheck[]) => wouldInject(kubeConfig, flags.namespace, templates, say) : undefined;
  try {
    await rollout({ kubeConfig, namespace: flags.namespace, workloads, mode, timeoutMs: seconds * 1000, pollMs: 1000, dryRun: flags.dryRun, say, ...(precheck ? { precheck } : {}) });
  } catch (err) {
    if (err instanceof RolloutFailed) throw new JobError(err.message);
    throw err;
  }
}

/**
 * The webhook's decision for each template once annotated, with the cluster's policies and namespace labels (read as `explain --kubeconfig` reads them).
 * Accepted, a template whose proxy Istio's injector adds gets one line saying so and why.
 */
async function wouldInject(kubeConfig: KubeConfig, namespace: string, templates: TemplateToCheck[], say: (line: string) => void): Promise<string | undefined> {
  // Decide as the shipped webhook does (it never injects in its own namespace).
  const settings = await loadSettings({ webhookNamespace: WEBHOOK_NAMESPACE });
  // explain's notes describe the whole cluster, not this namespace: the refusal says what matters here.
  const live = await liveInputs(kubeConfig, settings, () => {});
  const { refusal, istioAdds } = checkOptIn(live, settings, namespace, templates);
  if (refusal === undefined) for (const line of istioAdds) say(line);
  return refusal;
}
