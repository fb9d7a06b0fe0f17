// What bpftrace's `pid` builtin means in a container's pid namespace depends on its
// version: host pids before 0.23, the namespace's from 0.23 (with `pid` and `tid` swapped
// until bpftrace PR #4813). The agent finds out with a one-shot bpftrace, checked here
// running in a new pid namespace on each bpftrace the tests have, under the agent's guard
// (setpriv --pdeathsig KILL, when installed) as the agent runs it.
import { execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { findExecutable } from "../../../src/agent/reaper.js";
import { executableSearchPath } from "../../../src/config.js";
import { BPFTRACES, ROOT, bpfSkipReason, waitFor, type BpftraceUnderTest } from "./support.js";

describe.each(BPFTRACES)("pid of a process in a container's pid namespace, on $label", (bt: BpftraceUnderTest) => {
  it("is found with a one-shot bpftrace: the host pid (matching the kernel's NSpid) or the namespace's", async (ctx) => {
    const skip = bpfSkipReason(bt.path);
    if (skip) return ctx.skip(skip);
    const script = `
      import { spawn } from "node:child_process";
      import { inInitPidNamespace, resolvePidView } from ${JSON.stringify(join(ROOT, "src/agent/pidns.ts"))};
      import { bpftraceGuard } from ${JSON.stringify(join(ROOT, "src/agent/bpftrace/guard.ts"))};
      const sleeper = spawn("sleep", ["30"], { stdio: "ignore" });
      const guard = await bpftraceGuard(${JSON.stringify(findExecutable("setpriv", executableSearchPath()))});
      const view = await resolvePidView(${JSON.stringify(bt.path)}, sleeper.pid, { guard });
      console.log(JSON.stringify({ init: await inInitPidNamespace(), ns: sleeper.pid, ...view }));
      // Stay alive (the sleeper too) until the test has looked.
      setTimeout(() => { sleeper.kill(); process.exit(0); }, 5000);
    `;
    const child = spawn("unshare", ["--pid", "--fork", "--mount-proc", "--kill-child", process.execPath, "--import", "tsx", "--input-type=module", "-e", script], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    try {
      const line = await waitFor("the resolver's answer", 60_000, () => out.split("\n").find((l) => l.startsWith("{")), () => err);
      const { init, ns, mode, tracePid } = JSON.parse(line) as { init: boolean; ns: number; mode: string; tracePid: number };
      expect(init).toBe(false);
      const version = Number(/v0\.(\d+)/.exec(execFileSync(bt.path, ["--version"], { encoding: "utf8" }))?.[1]);
      if (version < 23) {
        expect(mode).toBe("host");
        expect(tracePid).not.toBe(ns);
        const status = readFileSync(`/proc/${tracePid}/status`, "utf8");
        // NSpid lists the pid in each namespace, outermost first: host pid, then the namespace's.
        expect(/^NSpid:\s+(.*)$/m.exec(status)?.[1]?.split(/\s+/).map(Number)).toEqual([tracePid, ns]);
        expect(/^Name:\s+(.*)$/m.exec(status)?.[1]).toBe("sleep");
      } else {
        // 0.23 filters on the namespace's pid; Debian trixie's 0.23.2 still swaps pid and tid.
        expect(["namespace", "swapped"]).toContain(mode);
        expect(tracePid).toBe(ns);
      }
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});
