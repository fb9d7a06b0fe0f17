// Keeps every CPU from halting while a latency benchmark runs (bench:webhook
// --keep-cpus-awake 1). On a virtual machine a halted vCPU is woken through the
// hypervisor, and on the 2-core microVM these figures come from that took 130–170 µs
// for most wake-ups of a server idle between requests at 1,000/s, against about 10 µs
// for a CPU that was not halted (perf sched timehist; docs/benchmarks.md). That delay
// lands in every request's latency, and how often it hits differs between servers.
//
// One busy loop per CPU at SCHED_IDLE: the scheduler runs it only when nothing else
// wants that CPU and preempts it at once for anything that does, so no CPU halts and a
// woken server runs immediately. The servers' CPU is measured per process, so the
// loops do not enter it.
import { spawn, type ChildProcess } from "node:child_process";
import { availableParallelism } from "node:os";

/** About 0.1 s of counting (dash, this machine) per check of the parent. */
const AWAKE_LOOP = 'while kill -0 "$1" 2>/dev/null; do i=0; while [ "$i" -lt 100000 ]; do i=$((i + 1)); done; done';

export interface AwakeCpus {
  readonly count: number;
  readonly pids: readonly number[];
  stop(): Promise<void>;
}

export async function keepCpusAwake(count = availableParallelism()): Promise<AwakeCpus> {
  const loops: ChildProcess[] = [];
  const stop = () =>
    Promise.all(
      loops.map(
        (l) =>
          new Promise<void>((resolve) => {
            if (l.exitCode !== null || l.signalCode !== null || l.pid === undefined) return resolve();
            l.once("exit", () => resolve());
            l.kill("SIGKILL");
          }),
      ),
    ).then(() => undefined);
  try {
    for (let i = 0; i < count; i++) {
      // Between checks that this process still exists (so that a benchmark that is killed
      // leaves no loop behind), the loop only counts: no system call, which would run
      // kernel code on the CPU a server is about to be woken on.
      const loop = spawn("chrt", ["--idle", "0", "sh", "-c", AWAKE_LOOP, "hookpoint-awake", String(process.pid)], { stdio: ["ignore", "ignore", "pipe"] });
      loops.push(loop);
      let stderr = "";
      loop.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
      await new Promise<void>((resolve, reject) => {
        loop.once("spawn", resolve);
        loop.once("error", (err) => reject(new Error(`keep CPUs awake: cannot run chrt (util-linux): ${err.message}`)));
      });
      // chrt refusing SCHED_IDLE exits at once; a loop that runs is still there a moment later.
      await new Promise((r) => setTimeout(r, 100));
      if (loop.exitCode !== null) throw new Error(`keep CPUs awake: chrt --idle exited with ${loop.exitCode}: ${stderr.trim() || "no message"}`);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { count, pids: loops.map((l) => l.pid as number), stop };
}
