// bench:webhook --keep-cpus-awake (bench/cpus-awake.ts): one busy loop per CPU that
// the scheduler runs only when nothing else wants the CPU, gone once stopped, and gone
// by itself when the benchmark that started it is killed.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { statFields } from "../../../bench/common.js";
import { keepCpusAwake } from "../../../bench/cpus-awake.js";
import { waitFor } from "../server/support.js";

/** Scheduling policy of a process (/proc/PID/stat field 41); SCHED_IDLE is 5. */
const policy = (pid: number): number => Number(statFields(pid)[41 - 3]);

/** Process state (field 3): R runs or waits for a CPU, S sleeps, Z has ended; undefined: gone. */
function state(pid: number): string | undefined {
  try {
    return statFields(pid)[0];
  } catch {
    return undefined;
  }
}

/** Whether a process still runs (a zombie has ended). */
const running = (pid: number): boolean => ![undefined, "Z"].includes(state(pid));

/** Whether pid is still one of keepCpusAwake's loops (and not a process that got its number since). */
function isLoop(pid: number): boolean {
  try {
    return running(pid) && readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").includes("hookpoint-awake");
  } catch {
    return false;
  }
}

describe("keepCpusAwake", () => {
  it("runs busy loops at SCHED_IDLE, one per CPU asked, and stop() ends them", async () => {
    const awake = await keepCpusAwake(2);
    try {
      expect(awake.count).toBe(2);
      expect(new Set(awake.pids).size).toBe(2);
      expect(awake.pids.map(policy)).toEqual([5, 5]);
      // A loop that slept (a `sleep` between checks, say) would be found in S; a busy one never is.
      for (let i = 0; i < 5; i++) {
        expect(awake.pids.map(state)).toEqual(["R", "R"]);
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      await awake.stop();
    }
    expect(awake.pids.some(running)).toBe(false);
    await expect(awake.stop()).resolves.toBeUndefined();
  });

  it("refuses a number of loops that is not a whole number of at least 1", async () => {
    await expect(keepCpusAwake(0)).rejects.toThrow("keep CPUs awake: the number of loops must be a whole number of at least 1, got 0");
    await expect(keepCpusAwake(1.5)).rejects.toThrow("got 1.5");
  });

  it("leaves no loop behind when the benchmark is killed", async () => {
    const script = `import { keepCpusAwake } from ${JSON.stringify(new URL("../../../bench/cpus-awake.ts", import.meta.url).pathname)};
const a = await keepCpusAwake(1);
process.stdout.write(a.pids.join(",") + "\\n");
setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    let pids: number[] = [];
    try {
      pids = (await waitFor("the loop's pid", () => /^(\d+)\n/.exec(out)?.[1], 20_000)).split(",").map(Number);
      expect(pids.every(isLoop)).toBe(true);
      child.kill("SIGKILL");
      // A SIGKILLed loop still has to be given a CPU to end, which at SCHED_IDLE on a busy machine can take a while.
      await waitFor("the loop to end after its benchmark", () => !pids.some(running), 20_000);
    } finally {
      child.kill("SIGKILL");
      // Should the test fail: no loop left spinning on the machine.
      for (const pid of pids.filter(isLoop)) process.kill(pid, "SIGKILL");
    }
  });
});
