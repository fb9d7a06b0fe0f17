// The pid that bpftrace's `pid` builtin reports for Envoy. In a pod the agent sees pids of
// the container's pid namespace, but bpftrace < 0.23 reports host pids, so a script's
// `/pid == N/` filter needs Envoy's host pid. The agent finds it by sending SIGCONT (no
// effect on a running process that does not handle it, which Envoy does not) to itself and
// to Envoy while a one-shot bpftrace watches kill(2) (the pid as the agent names it) meet
// the kernel's signal_generate tracepoint (the host pid). Tracepoints only: kprobes and
// fentry are often unavailable.
import { spawn } from "node:child_process";
import { readlink } from "node:fs/promises";
import { createInterface } from "node:readline";

/** /proc/self/ns/pid of the initial pid namespace is always this inode (PROC_PID_INIT_INO). */
const INIT_PID_NS = "pid:[4026531836]";

export const PID_PROGRAM = `
tracepoint:syscalls:sys_enter_kill /args->sig == 18/ { @hookpoint_want[tid] = args->pid + 1; }
tracepoint:signal:signal_generate /args->sig == 18 && @hookpoint_want[tid] != 0/ {
  printf("hookpoint-pid %d %d %d\\n", pid, @hookpoint_want[tid] - 1, args->pid);
  delete(@hookpoint_want[tid]);
}
tracepoint:syscalls:sys_exit_kill /@hookpoint_want[tid] != 0/ { delete(@hookpoint_want[tid]); }
BEGIN { printf("hookpoint-pid-ready\\n"); }
END { clear(@hookpoint_want); }
`;

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

/** Host pid of `nsPid`, or an Error saying why it could not be found. */
export async function resolveHostPid(bpftrace: string, nsPid: number, timeoutMs = 10_000): Promise<number> {
  const child = spawn(bpftrace, ["-e", PID_PROGRAM], { stdio: ["ignore", "pipe", "pipe"] });
  const lines: PidLine[] = [];
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  let poke: NodeJS.Timeout | undefined;
  try {
    return await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      child.on("error", (err) => reject(new Error(`cannot start ${bpftrace}: ${err.message}`)));
      child.on("exit", (code) => reject(new Error(`bpftrace exited (code ${code}): ${stderr.split("\n").filter((l) => l && !/RLIMIT_MEMLOCK/.test(l)).slice(-2).join(" | ")}`)));
      createInterface({ input: child.stdout! }).on("line", (line) => {
        if (line.includes("hookpoint-pid-ready")) {
          const send = (): void => {
            try {
              process.kill(process.pid, "SIGCONT");
              process.kill(nsPid, "SIGCONT");
            } catch (err) {
              clearTimeout(timer);
              reject(new Error(`pid ${nsPid}: ${(err as Error).message}`));
            }
          };
          send();
          poke = setInterval(send, 100);
          return;
        }
        const l = parsePidLine(line);
        if (!l) return;
        lines.push(l);
        const found = hostPidsFrom(lines, process.pid, [nsPid])?.get(nsPid);
        if (found !== undefined) {
          clearTimeout(timer);
          resolve(found);
        }
      });
    });
  } finally {
    if (poke) clearInterval(poke);
    child.removeAllListeners("exit");
    child.kill("SIGINT");
  }
}
