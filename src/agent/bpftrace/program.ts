// Small, pure edits of a rendered bpftrace program.
import { maskCommentsAndStrings } from "../../catalog/program.js";

/** The printf line that tells the agent all probes are attached (BEGIN runs after them). */
export const ATTACHED_MARKER = "hookpoint:attached";

/**
 * Adds `printf("hookpoint:attached\n")` to the program's BEGIN block, or a BEGIN block when
 * there is none (bpftrace allows only one). bpftrace runs BEGIN once every probe is attached,
 * so the marker times "probes attached".
 */
export function withAttachedMarker(program: string): string {
  const stmt = `printf("${ATTACHED_MARKER}\\n");`;
  const masked = maskCommentsAndStrings(program);
  const m = /(^|[\s;}])BEGIN\s*(\/[^/\n]*\/\s*)?\{/m.exec(masked);
  if (!m) return `${program.replace(/\s*$/, "")}\n\nBEGIN { ${stmt} }\n`;
  const at = m.index + m[0].length;
  return `${program.slice(0, at)} ${stmt}${program.slice(at)}`;
}

/**
 * The program as `version` needs it. bpftrace 0.24 made a probe that cannot be found an
 * error unless `config = { missing_probes = "warn" }`; before, it was skipped. The agent
 * resolves every uprobe to an address that exists, so this only keeps a glob that matches
 * nothing on one kernel (a tracepoint on another architecture) from ending the script,
 * as on older releases. The config block must open the program.
 */
export function forBpftrace(program: string, version: readonly number[] | null): string {
  return version && versionAtLeast(version, "0.24") ? `config = { missing_probes = "warn" }\n${program}` : program;
}

/**
 * The program with the `pid` and `tid` builtins exchanged, for a bpftrace that swaps them
 * in a pid namespace (bpftrace PR #4813): its `tid` is the process id, its `pid` the
 * thread's. Tracepoint fields (`args->pid`) and variables are left alone.
 */
export function swapPidTid(program: string): string {
  const masked = maskCommentsAndStrings(program);
  let out = "";
  let at = 0;
  for (const m of masked.matchAll(/(?<![\w$@>.])(pid|tid)(?![\w(])/g)) {
    out += program.slice(at, m.index) + (m[1] === "pid" ? "tid" : "pid");
    at = m.index! + 3;
  }
  return out + program.slice(at);
}

/** bpftrace's version from `bpftrace --version` output ("bpftrace v0.17.0"). */
export function parseBpftraceVersion(text: string): [number, number, number] | null {
  const m = /v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : null;
}

export function versionAtLeast(v: readonly number[], min: string): boolean {
  const want = min.split(".").map(Number);
  for (let i = 0; i < 3; i++) {
    const a = v[i] ?? 0;
    const b = want[i] ?? 0;
    if (a !== b) return a > b;
  }
  return true;
}

/**
 * BPFTRACE_PERF_RB_PAGES for a script that prints sampled events: a burst of traced
 * requests must not overflow bpftrace's output buffer while the agent is busy (the default
 * is 64 pages; events that do not fit are lost and counted). Up to 0.22 that buffer is a
 * perf buffer per CPU; 0.23 has one BPF ring buffer for all CPUs, so it gets 4 times as
 * many pages (16 MiB): on 2 CPUs at 0.17's 4 MiB a 3,000-request burst lost events.
 */
export function eventBufferPages(version: readonly number[] | null): string {
  return version && versionAtLeast(version, "0.23") ? "4096" : "1024";
}
