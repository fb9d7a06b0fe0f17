// Keeps every CPU from halting while a latency benchmark runs (bench:webhook
// --keep-cpus-awake 1). On a virtual machine a halted vCPU is woken through the
// hypervisor, and on the 2-core microVM these figures come from that took 130–170 µs
// for many wake-ups of a server idle between requests at 1,000/s (28–58 % of them,
// depending on the server), against about 10 µs for a CPU that was not halted (perf
// sched timehist; docs/benchmarks.md). That delay lands in those requests' latency.
//
// One busy loop per CPU at SCHED_IDLE: the scheduler runs it only when nothing else
// wants that CPU and preempts it at once for anything that does, so no CPU halts and a
// woken server runs immediately. The servers' CPU is measured per process, so the
// loops do not enter it.
import { spawn, type ChildProcess } from "node:child_process";
import { availableParallelism } from "node:os";

/**
 * Says once that it runs (chrt has set SCHED_IDLE by then), then only loops: `:` is a
 * builtin, so no system call, which would run kernel code on the CPU a server is about
 * to be woken on. Its end comes from outside: stop(), or the kernel's SIGKILL when the
 * process that started it dies (setpriv --pdeathsig), so a benchmark that is killed
 * leaves no loop behind, however little CPU the loop itself gets.
 */
const AWAKE_LOOP = "echo; while :; do :; done";

export interface AwakeCpus {
  readonly count: number;
  readonly pids: readonly number[];
  /** Ends every loop; safe to call again. */
  stop(): Promise<void>;
}

export async function keepCpusAwake(count = availableParallelism()): Promise<AwakeCpus> {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`keep CPUs awake: the number of loops must be a whole number of at least 1, got ${count}`);
  const loops: ChildProcess[] = [];
  const stop = () => Promise.all(loops.map(end)).then(() => undefined);
  try {
    for (let i = 0; i < count; i++) {
      const loop = spawn("setpriv", ["--pdeathsig", "KILL", "chrt", "--idle", "0", "sh", "-c", AWAKE_LOOP, "hookpoint-awake"], { stdio: ["ignore", "pipe", "pipe"] });
      loops.push(loop);
      await started(loop);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { count, pids: loops.map((l) => l.pid as number), stop };
}

/** Resolves once the loop's shell runs; rejects, with what setpriv or chrt said, when it ends first. */
function started(loop: ChildProcess): Promise<void> {
  let stderr = "";
  loop.stderr?.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  return new Promise<void>((resolve, reject) => {
    loop.stdout?.once("data", () => resolve());
    loop.once("error", (err) => reject(new Error(`keep CPUs awake: cannot run setpriv (util-linux): ${err.message}`)));
    // "close", not "exit": by then its message has been read.
    loop.once("close", (code, signal) => reject(new Error(`keep CPUs awake: setpriv/chrt --idle exited with ${code ?? signal}: ${stderr.trim() || "no message"}`)));
  });
}

function end(loop: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    if (loop.exitCode !== null || loop.signalCode !== null || loop.pid === undefined) return resolve();
    loop.once("exit", () => resolve());
    loop.kill("SIGKILL");
  });
}
