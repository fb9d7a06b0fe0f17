// `hookpoint check`'s work: read the cluster once (src/k8s/check-snapshot.ts) or
// run the agent's preflight here (--local), judge (src/check), print the lines.
import { formatLines, summaryLine, type CheckLine } from "../check/lines.js";
import { UsageError } from "./errors.js";
import { parseDurationFlag } from "./pods-options.js";

export interface CheckFlags {
  kubeconfig?: string;
  context?: string;
  namespace: string;
  local?: boolean;
  bpftrace: string;
  timeout: string;
  output: string;
}

export async function runCheck(flags: CheckFlags, given: (option: string) => boolean): Promise<void> {
  if (flags.output !== "text" && flags.output !== "json") throw new UsageError(`--output must be text or json, got "${flags.output}"`);
  const timeoutMs = parseDurationFlag("--timeout", flags.timeout);
  let lines: CheckLine[];
  if (flags.local) {
    const clusterFlags = ["kubeconfig", "context", "namespace", "timeout"].filter(given);
    if (clusterFlags.length > 0) throw new UsageError(`--local checks this node, not a cluster: it cannot be combined with ${clusterFlags.map((f) => `--${f}`).join(", ")}`);
    const { localCheckLines } = await import("./check-local.js");
    lines = await localCheckLines({ bpftrace: flags.bpftrace });
  } else {
    if (given("bpftrace")) throw new UsageError("--bpftrace goes with --local");
    lines = await clusterCheckLines(flags, timeoutMs);
  }
  process.stdout.write(flags.output === "json" ? JSON.stringify({ ok: lines.every((l) => l.ok), checks: lines }, null, 2) + "\n" : formatLines(lines) + summaryLine(lines));
  if (lines.some((l) => !l.ok)) process.exitCode = 1;
}

async function clusterCheckLines(flags: CheckFlags, timeoutMs: number): Promise<CheckLine[]> {
  const [{ loadKubeConfig }, { readCheckSnapshot, ClusterUnreachableError }, { clusterChecks }, { loadSettings }, { webhookDefaultPodSecurity }] = await Promise.all([
    import("../k8s/kubeconfig.js"),
    import("../k8s/check-snapshot.js"),
    import("../check/cluster.js"),
    import("./settings.js"),
    import("./webhook-pod-security.js"),
  ]);
  const kc = loadKubeConfig({ file: flags.kubeconfig, context: flags.context });
  const settings = await loadSettings({ webhookNamespace: flags.namespace });
  try {
    return clusterChecks(await readCheckSnapshot(kc, settings, { timeoutMs, defaultPodSecurityOf: webhookDefaultPodSecurity }), new Date());
  } catch (err) {
    if (!(err instanceof ClusterUnreachableError)) throw err;
    return [{ name: "API server", ok: false, detail: err.message, fix: "check --kubeconfig/--context and that the cluster is up (kubectl cluster-info)" }];
  }
}
