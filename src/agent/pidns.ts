// The pid that bpftrace's `pid` builtin reports for Envoy, found out rather than assumed.
// In a pod the agent sees pids of the container's pid namespace, and bpftrace's builtins
// differ by version: before 0.23 `pid` is the host pid; from 0.23 it is the pid in
// bpftrace's own namespace, except that releases before the fix of bpftrace PR #4813
// swap `pid` and `tid` there (`pid` is the thread id, `tid` the process id).
//
// A one-shot bpftrace (tracepoints only: kprobes and fentry are often unavailable) watches
// two things the agent does: an openat() of a marker path from one of its thread-pool
// threads (a thread whose tid is not the pid), which shows what `pid` and `tid` report;
// and SIGCONT sent to itself and to Envoy (no effect on a running process that does not
// handle it, which Envoy does not), where kill(2) names the target as the agent sees it
// and the kernel's signal_generate tracepoint names its host pid. It runs under the same
// guard as the scripts (bpftrace/guard.ts), so an agent killed meanwhile leaves none behind.
import { spawn, type ChildProcess } from "node:child_process";
import { open, readlink } from "node:fs/promises";
import { createInterface } from "node:readline";
import { UNGUARDED, type BpftraceGuard } from "./bpftrace/guard.js";

/** /proc/self/ns/pid of the initial pid namespace is always this inode (PROC_PID_INIT_INO). */
const INIT_PID_NS = "pid:[4026531836]";

/** What `pid` reports, and the value the scripts' `pid == N` filter needs for Envoy. */
export type PidMode = "host" | "namespace" | "swapped";
export interface PidView {
  mode: PidMode;
  tracePid: number;
}

export function pidProgram(marker: string): string {
  return `
tracepoint:syscalls:sys_enter_openat /str(args->filename) == "${marker}"/ { printf("hookpoint-ids %d %d\\n", pid, tid); }
tracepoint:syscalls:sys_enter_kill /args->sig == 18/ { @hookpoint_want[tid] = args->pid + 1; }
tracepoint:signal:signal_generate /args->sig == 18 && @hookpoint_want[tid] != 0/ {
  printf("hookpoint-pid %d %d %d\\n", pid, @hookpoint_want[tid] - 1, args->pid);
  delete(@hookpoint_want[tid]);
}
tracepoint:syscalls:sys_exit_kill /@hookpoint_want[tid] != 0/ { delete(@hookpoint_want[tid]); }
BEGIN { printf("hookpoint-pid-ready\\n"); }
END { clear(@hookpoint_want); }
`;
}

export interface PidLine {
  sender: number;
  nsTarget: number;
  hostTarget: number;
}

export function parsePidLine(line: string): PidLine | null {
  const m = /hookpoint-pid (\d+) (-?\d+) (\d+)/.exec(line);
  return m ? { sender: Number(m[1]), nsTarget: Number(m[2]), hostTarget: Number(m[3]) } : null;
}

/**
 * What `pid` means to this bpftrace, from its `pid` and `tid` for a thread of the agent
 * that is not its main thread: the agent's own pid in either is the namespace's view.
 */
export function pidModeFrom(ids: { pid: number; tid: number }, selfNsPid: number): PidMode {
  if (ids.pid === selfNsPid) return "namespace";
  if (ids.tid === selfNsPid) return "swapped";
  return "host";
}

/**
 * From the observed kill(2) calls: our own host pid is the one whose self-signal landed on
 * itself; then the host pid of each target we signalled.
 */
export function hostPidsFrom(lines: readonly PidLine[], selfNsPid: number, targets: readonly number[]): Map<number, number> | null {
  const self = lines.find((l) => l.nsTarget === selfNsPid && l.hostTarget === l.sender);
  if (!self) return null;
  const out = new Map<number, number>();
  for (const t of targets) {
    const hit = lines.find((l) => l.sender === self.sender && l.nsTarget === t);
    if (hit) out.set(t, hit.hostTarget);
  }
  return out;
}

export async function inInitPidNamespace(procRoot = "/proc"): Promise<boolean | null> {
  try {
    return (await readlink(`${procRoot}/self/ns/pid`)) === INIT_PID_NS;
  } catch {
    return null;
  }
}

export interface ResolveOptions {
  /** How bpftrace is started (bpftrace/guard.ts); default: in the agent's process group. */
  guard?: BpftraceGuard;
  /** How long bpftrace gets to answer. */
  timeoutMs?: number;
  /** Once answered or timed out: how long after SIGINT bpftrace gets to exit before SIGKILL. */
  graceMs?: number;
  /** Ends the wait at once (the agent is stopping): rejects with an AbortedError. */
  signal?: AbortSignal;
}

/** The pid probe saw nothing in time (bpftrace still compiling or attaching): worth another, longer try, unlike a bpftrace that failed. */
export class NoAnswerError extends Error {
  /** Resolves once that try's bpftrace has exited, so the next one does not compile beside it. */
  exited: Promise<void> = Promise.resolve();
}

/** The wait was ended by ResolveOptions.signal. */
export class AbortedError extends Error {}

/**
 * resolvePidView, tried `attempts` times while it only times out, each try waiting one
 * `timeoutMs` longer than the last (10, 20, 30 s by default): on a loaded node bpftrace can
 * take that long to compile and attach, and the agent's fallback, a guess, filters on the
 * wrong pid when it is wrong. A bpftrace that fails is not tried again.
 */
export async function resolvePidViewPatiently(bpftrace: string, nsPid: number, opts: ResolveOptions & { attempts?: number; onRetry?: (err: Error, nextTimeoutMs: number) => void } = {}): Promise<PidView> {
  const { attempts = 3, timeoutMs = 10_000, onRetry, ...rest } = opts;
  for (let i = 1; ; i++) {
    try {
      return await resolvePidView(bpftrace, nsPid, { ...rest, timeoutMs: timeoutMs * i });
    } catch (err) {
      if (!(err instanceof NoAnswerError) || i >= attempts || rest.signal?.aborted) throw err;
      onRetry?.(err, timeoutMs * (i + 1));
      await err.exited;
    }
  }
}

/** How bpftrace reports `nsPid` (a pid of the agent's namespace), or an Error saying why it could not tell. */
export async function resolvePidView(bpftrace: string, nsPid: number, opts: ResolveOptions = {}): Promise<PidView> {
  const { guard = UNGUARDED, timeoutMs = 10_000, graceMs = 5_000, signal } = opts;
  if (signal?.aborted) throw new AbortedError("stopped before the pid probe started");
  const marker = `/hookpoint-pid-probe-${process.pid}-${Date.now()}`;
  const [file, ...argv] = [...guard.wrapper, bpftrace, "-e", pidProgram(marker)];
  const child = spawn(file!, argv, { stdio: ["ignore", "pipe", "pipe"], detached: guard.detached });
  const lines: PidLine[] = [];
  let mode: PidMode | null = null;
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  let poke: NodeJS.Timeout | undefined;
  // Once settled, later lines change nothing: a "ready" after the timeout must not start pokes no finally clears.
  let settled = false;
  let lineReader: ReturnType<typeof createInterface> | undefined;
  let onAbort: (() => void) | undefined;
  let failure: unknown;
  try {
    return await new Promise<PidView>((resolveView, rejectView) => {
      // Whichever settles first ends the wait: the timer too.
      const resolve = (v: PidView): void => {
        settled = true;
        clearTimeout(timer);
        resolveView(v);
      };
      const reject = (err: Error): void => {
        settled = true;
        clearTimeout(timer);
        failure = err;
        rejectView(err);
      };
      const timer = setTimeout(() => reject(new NoAnswerError(`no answer within ${timeoutMs} ms`)), timeoutMs);
      onAbort = () => reject(new AbortedError("stopped while the pid probe ran"));
      signal?.addEventListener("abort", onAbort, { once: true });
      child.on("error", (err) => reject(new Error(`cannot start ${bpftrace}: ${err.message}`)));
      // "close", not "exit": only then has all of its stderr been read, which says why.
      child.on("close", (code) => reject(new Error(`bpftrace exited (code ${code}): ${stderr.split("\n").filter((l) => l && !/RLIMIT_MEMLOCK/.test(l)).slice(-2).join(" | ")}`)));
      const hostAnswer = (): void => {
        const found = hostPidsFrom(lines, process.pid, [nsPid])?.get(nsPid);
        if (found !== undefined) resolve({ mode: "host", tracePid: found });
      };
      lineReader = createInterface({ input: child.stdout! });
      lineReader.on("line", (line) => {
        if (settled) return;
        if (line.includes("hookpoint-pid-ready")) {
          const send = (): void => {
            // fs opens run on libuv's thread pool: a thread other than the main one.
            void open(marker, "r").then(
              (fh) => fh.close(),
              () => undefined,
            );
            try {
              process.kill(process.pid, "SIGCONT");
              process.kill(nsPid, "SIGCONT");
            } catch (err) {
              reject(new Error(`pid ${nsPid}: ${(err as Error).message}`));
            }
          };
          send();
          poke = setInterval(send, 100);
          return;
        }
        const ids = /hookpoint-ids (\d+) (\d+)/.exec(line);
        if (ids && mode === null) {
          mode = pidModeFrom({ pid: Number(ids[1]), tid: Number(ids[2]) }, process.pid);
          if (mode !== "host") return resolve({ mode, tracePid: nsPid });
          return hostAnswer();
        }
        const l = parsePidLine(line);
        if (!l) return;
        lines.push(l);
        if (mode === "host") hostAnswer();
      });
    });
  } finally {
    settled = true;
    if (poke) clearInterval(poke);
    if (onAbort) signal?.removeEventListener("abort", onAbort);
    lineReader?.close();
    child.removeAllListeners("close");
    const exited = stop(child, graceMs);
    if (failure instanceof NoAnswerError) failure.exited = exited;
    // Stopped because the agent is ending: the probe ends first, so none of it outlives the agent.
    else if (failure instanceof AbortedError) await exited;
  }
}

/**
 * SIGINT, and SIGKILL if it has not exited after `graceMs`: a bpftrace stuck attaching, or
 * deaf to SIGINT, is not left running. Resolves once it has exited.
 */
function stop(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill("SIGKILL"), graceMs);
    child.once("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill("SIGINT");
  });
}
