// An agent's /status answer for tests of what reads it (status rows, collect), with
// every field filled; each script is "running" unless the caller says otherwise.
import type { AgentStatus, ScriptStatus } from "../../src/agent/status/types.js";
import type { Outcome } from "../../src/agent/trace/assembler.js";
import { blankTraceStatus, type TraceStatus } from "../../src/agent/trace/request-trace.js";

/** `iso(s)`: the timestamp s seconds after the test's epoch. */
export function agentStatus(envoyPid: number | null, scripts: Partial<ScriptStatus>[], iso: (s: number) => string): AgentStatus {
  return {
    version: "0.1.0",
    profile: "default",
    startedAt: iso(-60),
    command: { pid: 7, argv: ["/usr/local/bin/pilot-agent", "proxy", "sidecar"], uid: 1337, gid: 1337, exitCode: null },
    system: null,
    preflight: [
      { name: "root", ok: true, detail: "running as uid 0" },
      { name: "tracefs", ok: true, detail: "/sys/kernel/tracing mounted" },
      { name: "bpftrace", ok: true, detail: "bpftrace v0.17.0" },
      { name: "btf", ok: true, detail: "/sys/kernel/btf/vmlinux present" },
    ],
    bpftraceVersion: "0.17.0",
    envoy: envoyPid === null ? null : { pid: envoyPid, tracePid: envoyPid, pidMode: "host", binary: "/usr/local/bin/envoy", buildId: "ab12", stripped: false, symbols: 200000, since: iso(-50) },
    scripts: scripts.map((s) => ({ name: "x", state: "running", since: iso(-40), reason: null, message: null, missing: [], bpftracePid: 9, restarts: 0, attachMs: 700, records: 0, recordsOutOfOrder: 0, recordsDropped: 0, writeErrors: 0, lastWriteError: null, lastWriteErrorAt: null, lostEvents: 0, helperErrors: 0, lostUpdates: [], probes: 12, programFile: null, output: null, ...s })),
    outputDir: "/tmp/hookpoint",
  };
}

/** envoy-request-trace's part of /status (`trace`), its requests by outcome as given (the others 0). */
export function traceStatus(requests: Partial<Record<Outcome, number>>): TraceStatus {
  const t = blankTraceStatus("envoy-request-trace", "/tmp/hookpoint/envoy-request-trace.ndjson", 100, 1000);
  return { ...t, requests: { ...t.requests, ...requests } };
}
