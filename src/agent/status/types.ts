// The shape of `/status` (JSON). Users and the CLI read it; keep fields stable.
import type { CheckResult, SystemInfo } from "../preflight.js";
import type { TraceStatus } from "../trace/request-trace.js";

import type { ScriptState } from "../script-state.js";

export type { ScriptState };

export interface ScriptStatus {
  name: string;
  /** Where the script is in its life (script-state.ts): pending, attaching, running, restarting, failed, skipped, stopped. */
  state: ScriptState;
  /** When it entered that state. */
  since: string;
  /** Why it is not running: "stripped", "missing-symbol", "bpftrace-version", "unknown-script", "no-hookpoint-functions", "render", "events" (envoy-request-trace's header lacks what request records need), "bpftrace". */
  reason: string | null;
  message: string | null;
  missing: string[];
  bpftracePid: number | null;
  /** bpftrace restarts over the agent's life (across Envoy restarts). */
  restarts: number;
  attachMs: number | null;
  /** Records written to the NDJSON file. */
  records: number;
  /**
   * Records written more than MAX_DISORDER_MS (5 s) after a record of the same file with a
   * later `ts` (a request held until its own events stopped), over the agent's life. The
   * agent's records endpoints read its own files exactly all the same; other readers of a
   * file (a copy, or the agent after a restart) assume 5 s.
   */
  recordsOutOfOrder: number;
  /** Records that could not be written (full or unwritable output directory). */
  recordsDropped: number;
  writeErrors: number;
  /** The last write failure ("ENOSPC: ..."), null once writing works again. */
  lastWriteError: string | null;
  lastWriteErrorAt: string | null;
  /** Events bpftrace reported lost, over the agent's life. */
  lostEvents: number;
  /** Helper calls in the program that failed, as bpftrace (0.23 and later) reports them; failed map updates among them are in `lostUpdates`. */
  helperErrors: number;
  /** Map updates bpftrace reported failed, by statement: the map misses `count` updates (samples of a count or histogram, added values of a sum). Adds up over the agent's life. */
  lostUpdates: LostUpdate[];
  /** Probes bpftrace attached for the script (its own count), null until it says. */
  probes: number | null;
  programFile: string | null;
  output: string | null;
}

export interface LostUpdate {
  /** The map and key of the statement (key: as bpftrace prints it, null when not a literal). */
  map: string;
  key: string | null;
  /**
   * The /metrics family the map feeds, e.g. `hookpoint_request_phase_duration_seconds`
   * (its count for `key` is short by `count`); null for a map the script keeps for itself,
   * such as a mark: the sample that needed the mark is then missing from its own map.
   */
  metric: string | null;
  /** Line of the statement in the program file (`programFile`); null when bpftrace gave none. */
  line: number | null;
  /** "concurrent-create": two CPUs created the same map entry at the same moment and bpftrace 0.23 dropped one update (bpftrace PR #4074 changed this upstream); "map-full": the map held its maximum of entries; else "errno N". */
  reason: string;
  count: number;
}

export interface AgentStatus {
  version: string;
  profile: string | null;
  startedAt: string;
  /** The proxy command; uid/gid it runs as (gid null: the agent's own). */
  command: { pid: number | null; argv: string[]; uid: number | null; gid: number | null; exitCode: number | null };
  /** What preflight found: kernel, capabilities, bpftrace and its features, BTF, tracefs. */
  system: SystemInfo | null;
  /** Each check with its fix; tracefs and envoy-access are evaluated again on every request. */
  preflight: CheckResult[];
  bpftraceVersion: string | null;
  envoy: {
    pid: number;
    /** The pid the scripts filter on (host pid when bpftrace reports host pids). */
    tracePid: number;
    /** What bpftrace's `pid` reports: the host pid, the namespace's, or the namespace's with `pid` and `tid` swapped (programs then swap them back). */
    pidMode: "host" | "namespace" | "swapped";
    binary: string;
    buildId: string | null;
    stripped: boolean;
    symbols: number;
    since: string;
  } | null;
  scripts: ScriptStatus[];
  outputDir: string;
  /** envoy-request-trace's request records: events, requests by outcome (absent until it runs). */
  trace?: TraceStatus;
}
