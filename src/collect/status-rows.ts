// `hookpoint status`: one row per traced pod, from the pod and its agent's /status and
// /records. Pure.
import type { AgentStatus, ScriptStatus } from "../agent/status/types.js";
import type { PodFacts } from "../k8s/traced-pods.js";
import { FieldError, countAt, listAt, nullableStringAt, objectAt, show, stringAt } from "../records/fields.js";
import type { RecordsListing } from "../records/listing.js";
import { isoTimeNs } from "../records/times.js";

/**
 * ok: Envoy traced, every script running or skipped (not meant for this Envoy) and at least one running;
 * starting: not yet; failing: see problems; not-running: the pod is not Running.
 */
export type Tracing = "ok" | "starting" | "failing" | "not-running";

export interface StatusRow extends PodFacts {
  agent: { reachable: boolean; error?: string } | null;
  tracing: Tracing;
  envoyPid: number | null;
  scripts: { name: string; state: string; reason: string | null; message: string | null }[];
  /** Records written (map records, and envoy-request-trace's request records), summed over the scripts. */
  records: number;
  /** Events the running bpftrace reported lost and map updates reported failed over the agent's life, summed over the scripts. */
  drops: number;
  /** `ts` of the newest record in the agent's files (null: none, or the records endpoint is off, busy or slow). */
  lastRecord: string | null;
  problems: string[];
}

/** Script states that mean tracing is broken, not merely on its way. */
const BROKEN = new Set(["failed", "restarting"]);
/** Script states that are settled: a skipped script will not run on this Envoy, which is not a failure. */
const SETTLED = new Set(["running", "skipped"]);

/** `agent`: null when the pod is not Running (the agent is not asked). */
export function statusRow(pod: PodFacts, agent: { status: AgentStatus; listing: RecordsListing | null } | { error: string } | null): StatusRow {
  const row: StatusRow = { ...pod, agent: null, tracing: "not-running", envoyPid: null, scripts: [], records: 0, drops: 0, lastRecord: null, problems: [] };
  if (agent === null) return row;
  if ("error" in agent) {
    row.agent = { reachable: false, error: agent.error };
    row.tracing = "failing";
    row.problems.push(`agent unreachable: ${agent.error}`);
    return row;
  }
  const { status, listing } = agent;
  row.agent = { reachable: true };
  row.envoyPid = status.envoy?.pid ?? null;
  row.scripts = status.scripts.map((s) => ({ name: s.name, state: s.state, reason: s.reason, message: s.message }));
  row.records = status.scripts.reduce((n, s) => n + s.records, 0);
  // An agent before lostUpdates existed leaves it out.
  row.drops = status.scripts.reduce((n, s) => n + s.lostEvents + ((s.lostUpdates as ScriptStatus["lostUpdates"] | undefined) ?? []).reduce((m, u) => m + u.count, 0), 0);
  row.lastRecord = latest((listing?.files ?? []).map((f) => f.last));
  // BTF only matters to scripts using kernel types; the agent traces without it.
  for (const c of status.preflight) if (!c.ok && c.name !== "btf") row.problems.push(`preflight ${c.name}: ${c.detail}`);
  for (const s of status.scripts) {
    if (BROKEN.has(s.state)) row.problems.push(`script ${s.name} ${s.state}${s.reason ? ` (${s.reason})` : ""}${s.message ? `: ${s.message}` : ""}`);
  }
  const settled = row.scripts.length > 0 && row.scripts.every((s) => SETTLED.has(s.state));
  // Every script skipped: nothing traces this Envoy, and nothing will.
  if (settled && !row.scripts.some((s) => s.state === "running")) row.problems.push(`no script runs: ${row.scripts.map((s) => `${s.name} skipped${s.reason ? ` (${s.reason})` : ""}`).join(", ")}`);
  if (row.problems.length) row.tracing = "failing";
  else if (row.envoyPid === null || !settled) row.tracing = "starting";
  else row.tracing = "ok";
  return row;
}

/**
 * The latest of ISO times, compared to the ns: not as strings, since map records carry ms
 * ("…00.123Z"), request records µs ("…00.123400Z"), and "Z" sorts after digits.
 */
function latest(times: (string | null)[]): string | null {
  let best: { text: string; ns: bigint } | null = null;
  for (const text of times) {
    const ns = text === null ? null : isoTimeNs(text);
    if (text !== null && ns !== null && (best === null || ns > best.ns)) best = { text, ns };
  }
  return best?.text ?? null;
}

/**
 * Checks the parts of an agent's `GET /status` answer that a row reads; throws FieldError
 * naming the field (`scripts[1].records`), so an answer from something other than a
 * hookpoint agent is named rather than read as zeros or a crash.
 */
export function toAgentStatus(value: unknown): AgentStatus {
  const o = objectAt(value, "body");
  if (o.envoy !== null) countAt(objectAt(o.envoy, "envoy"), "pid", "envoy.");
  listAt(o, "preflight", "").forEach((item, i) => {
    const c = objectAt(item, `preflight[${i}]`);
    if (typeof c.ok !== "boolean") throw new FieldError(`preflight[${i}].ok`, `expected true or false, got ${show(c.ok)}`);
    stringAt(c, "name", `preflight[${i}].`);
    stringAt(c, "detail", `preflight[${i}].`);
  });
  listAt(o, "scripts", "").forEach((item, i) => {
    const path = `scripts[${i}].`;
    const s = objectAt(item, `scripts[${i}]`);
    stringAt(s, "name", path);
    stringAt(s, "state", path);
    nullableStringAt(s, "reason", path);
    nullableStringAt(s, "message", path);
    countAt(s, "records", path);
    countAt(s, "lostEvents", path);
    // An agent before lostUpdates existed leaves it out.
    if (s.lostUpdates !== undefined) listAt(s, "lostUpdates", path).forEach((u, j) => countAt(objectAt(u, `${path}lostUpdates[${j}]`), "count", `${path}lostUpdates[${j}].`));
  });
  // Not trace (a row does not read it): its check is collect's (traceRequestsOf), so that
  // an agent whose trace.requests this version cannot read still gets its status row.
  return value as AgentStatus;
}

/**
 * The request trace's requests by outcome (`trace.requests`, counts over the agent's life),
 * as the agent lists them; null when it does not run the request trace. Throws FieldError
 * naming the field (`trace.requests.aborted`). An outcome unknown here is kept: a newer
 * agent may count one more.
 */
export function traceRequestsOf(value: unknown): Record<string, number> | null {
  const status = objectAt(value, "body");
  if (status.trace === undefined) return null;
  const requests = objectAt(objectAt(status.trace, "trace").requests, "trace.requests");
  const out: Record<string, number> = {};
  for (const outcome of Object.keys(requests)) out[outcome] = countAt(requests, outcome, "trace.requests.");
  return out;
}
