// `hookpoint status`'s work: list the traced pods, read each agent's /status (and
// /records for the last record's time) through the API server's pod proxy, print.
import pLimit from "p-limit";
import type { V1Pod } from "@kubernetes/client-node";
import { getChecked } from "../collect/agent-http.js";
import { statusRow, toAgentStatus, type StatusRow } from "../collect/status-rows.js";
import { podProxyTransport } from "../collect/pod-proxy.js";
import type { AgentTransport } from "../collect/transport.js";
import { agentPort, listTracedPods, podFacts, tracedSelector } from "../k8s/traced-pods.js";
import { RECORDS_PATH, toRecordsListing } from "../records/listing.js";
import { InputError } from "./errors.js";
import { podsChoice, type PodsFlags } from "./pods-options.js";
import { renderTable } from "./table.js";

export type StatusFlags = PodsFlags & { output: string };

export async function runStatus(flags: StatusFlags): Promise<void> {
  if (flags.output !== "table" && flags.output !== "json") throw new InputError("--output", `must be table or json, got "${flags.output}"`);
  podsChoice(flags, undefined); // bad flags are reported before the kubeconfig is read
  const { loadKubeConfig } = await import("../k8s/kubeconfig.js");
  const kc = loadKubeConfig({ file: flags.kubeconfig, context: flags.context });
  const choice = podsChoice(flags, kc.getContextObject(kc.getCurrentContext())?.namespace);
  const pods = await listTracedPods(kc, choice);
  const transport = podProxyTransport(kc, { maxSockets: choice.parallel, idleTimeoutMs: choice.timeoutMs });
  const limit = pLimit(choice.parallel);
  let rows: StatusRow[];
  try {
    rows = await Promise.all(pods.map((pod) => limit(() => podRow(pod, transport, choice.timeoutMs))));
  } finally {
    transport.close();
  }
  if (rows.length === 0) {
    process.stderr.write(`hookpoint status: no pods with ${tracedSelector(choice.selector)} in ${choice.namespace === null ? "any namespace" : `namespace ${choice.namespace}`}\n`);
  }
  process.stdout.write(flags.output === "json" ? JSON.stringify(rows, null, 2) + "\n" : rows.length ? formatStatusTable(rows) : "");
  if (rows.some((r) => r.tracing === "failing")) process.exitCode = 1;
}

/** One pod's row: its agent's /status, and /records for the last record's time, within `timeoutMs`. */
export async function podRow(pod: V1Pod, transport: AgentTransport, timeoutMs: number): Promise<StatusRow> {
  const facts = podFacts(pod);
  if (facts.phase !== "Running" || !facts.podIP) return statusRow(facts, null);
  const target = { namespace: facts.namespace, pod: facts.name, port: agentPort(pod) };
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_r, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
  });
  // Ends the waits on a busy agent once the row is done, so none outlives it.
  const done = new AbortController();
  try {
    const status = await Promise.race([getChecked(transport, target, "/status", toAgentStatus, done.signal), deadline]);
    // The records endpoint may be off (404), or busy serving a collect (429) or slow past
    // the deadline: the row then has no last record time, and still says how tracing is.
    const listing = await Promise.race([getChecked(transport, target, RECORDS_PATH, toRecordsListing, done.signal).catch(() => null), deadline.catch(() => null)]);
    return statusRow(facts, { status, listing });
  } catch (err) {
    return statusRow(facts, { error: (err as Error).message });
  } finally {
    clearTimeout(timer);
    done.abort();
  }
}

export function formatStatusTable(rows: readonly StatusRow[]): string {
  const header = ["NAMESPACE", "POD", "PHASE", "AGENT", "TRACING", "ENVOY", "SCRIPTS", "RECORDS", "DROPS", "LAST RECORD"];
  const body = rows.map((r) => {
    const up = r.agent?.reachable === true;
    return [
      r.namespace,
      r.name,
      r.phase,
      r.agent === null ? "-" : up ? "reachable" : "unreachable",
      r.tracing,
      r.envoyPid === null ? "-" : String(r.envoyPid),
      up ? `${r.scripts.filter((s) => s.state === "running").length}/${r.scripts.length} running` : "-",
      up ? String(r.records) : "-",
      up ? String(r.drops) : "-",
      r.lastRecord ?? "-",
    ];
  });
  let out = renderTable(header, body);
  const notes = rows.flatMap((r) => r.problems.map((p) => `${r.namespace}/${r.name}: ${p}`));
  if (notes.length) out += "\n" + notes.join("\n") + "\n";
  return out;
}
