// bench:webhook --keep-cpus-awake (bench/cpus-awake.ts): one busy loop per CPU that
// the scheduler runs only when nothing else wants the CPU, gone once stopped, and gone
// by itself when the benchmark that started it is killed.
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { keepCpusAwake } from "../../../bench/cpus-awake.js";
import { waitFor } from "../server/support.js";

/** Scheduling policy of a process (/proc/PID/stat field 41); SCHED_IDLE is 5. */
function policy(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name, which is in parentheses and may hold spaces.
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(rest[41 - 3]);
}

/** Whether a process still runs (a zombie has ended). */
function running(pid: number): boolean {
  if (!existsSync(`/proc/${pid}/stat`)) return false;
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
}

describe("keepCpusAwake", () => {
  it("runs the loops at SCHED_IDLE, one per CPU asked, and stop() ends them", async () => {
    const awake = await keepCpusAwake(2);
    try {
      expect(awake.count).toBe(2);
      expect(awake.pids.map(policy)).toEqual([5, 5]);
      expect(awake.pids.every(running)).toBe(true);
    } finally {
      await awake.stop();
    }
    expect(awake.pids.some(running)).toBe(false);
  });

  it("leaves no loop behind when the benchmark is killed", async () => {
    const script = `import { keepCpusAwake } from ${JSON.stringify(new URL("../../../bench/cpus-awake.ts", import.meta.url).pathname)};
const a = await keepCpusAwake(1);
process.stdout.write(a.pids.join(",") + "\\n");
setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    const pids = (await waitFor("the loop's pid", () => /^(\d+)\n/.exec(out)?.[1], 20_000)).split(",").map(Number);
    expect(pids.every(running)).toBe(true);
    child.kill("SIGKILL");
    await waitFor("the loop to end after its benchmark", () => !pids.some(running), 5_000);
  });
});
