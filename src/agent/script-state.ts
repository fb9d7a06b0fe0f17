// Each script's life in the agent, as one explicit state machine. Pure.
//
//   pending --spawned--> attaching --attached--> running
//   attaching, running --exited--> restarting --spawned--> attaching
//   pending --cannot-run--> failed   pending --skip--> skipped
//   any --envoy-gone--> pending      any --stop--> stopped (for good)
//
// pending: waiting for preflight, Envoy and its symbols. attaching: bpftrace runs, its
// probes are not all attached yet. running: attached. restarting: bpftrace exited and is
// started again after a backoff. failed: cannot run against this Envoy (the reason says
// why: stripped binary, missing symbol, bpftrace too old, ...). skipped: not meant for this
// Envoy, and no failure (hookpoint-pairs on a binary without hookpoint<Name> functions,
// i.e. a stock Envoy). When the traced Envoy goes
// away every script waits, pending, for its successor; when the agent stops tracing (the
// proxy exited), it is stopped.

export const SCRIPT_STATES = ["pending", "attaching", "running", "restarting", "failed", "skipped", "stopped"] as const;
export type ScriptState = (typeof SCRIPT_STATES)[number];

export type ScriptEvent =
  /** A bpftrace process was started for the script. */
  | "spawned"
  /** All its probes are attached (the program's BEGIN ran). */
  | "attached"
  /** Its bpftrace exited while wanted: it is restarted after a backoff. */
  | "exited"
  /** The script cannot run against this Envoy. */
  | "cannot-run"
  /** The script is not meant for this Envoy (nothing in it for the script to probe). */
  | "skip"
  /** The traced Envoy went away: wait for its successor. */
  | "envoy-gone"
  /** The agent stops tracing (the proxy exited, or the grace period is ending). */
  | "stop";

const NEXT: Readonly<Record<ScriptState, Partial<Record<ScriptEvent, ScriptState>>>> = {
  pending: { spawned: "attaching", "cannot-run": "failed", skip: "skipped", "envoy-gone": "pending", stop: "stopped" },
  attaching: { attached: "running", exited: "restarting", "envoy-gone": "pending", stop: "stopped" },
  running: { exited: "restarting", "envoy-gone": "pending", stop: "stopped" },
  restarting: { spawned: "attaching", "envoy-gone": "pending", stop: "stopped" },
  failed: { "envoy-gone": "pending", stop: "stopped" },
  skipped: { "envoy-gone": "pending", stop: "stopped" },
  stopped: {},
};

/** The state `event` leads to from `state`; null when the event cannot happen there. */
export function nextState(state: ScriptState, event: ScriptEvent): ScriptState | null {
  return NEXT[state][event] ?? null;
}
