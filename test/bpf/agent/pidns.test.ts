// bpftrace 0.17 reports host pids; an agent in a pod's pid namespace must filter scripts on
// Envoy's host pid. Checked here with the agent's resolver running in a new pid namespace.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, bpfSkipReason, waitFor } from "./support.js";

describe("host pid of a process in a container's pid namespace", () => {
  it("is found with a one-shot bpftrace and matches the kernel's NSpid", async (ctx) => {
    const skip = bpfSkipReason();
    if (skip) return ctx.skip(skip);
    const script = `
      import { spawn } from "node:child_process";
      import { inInitPidNamespace, resolveHostPid } from ${JSON.stringify(join(ROOT, "src/agent/pidns.ts"))};
      const sleeper = spawn("sleep", ["30"], { stdio: "ignore" });
      const host = await resolveHostPid("bpftrace", sleeper.pid);
      console.log(JSON.stringify({ init: await inInitPidNamespace(), ns: sleeper.pid, host }));
      // Stay alive (the sleeper too) until the test has looked.
      setTimeout(() => { sleeper.kill(); process.exit(0); }, 5000);
    `;
    const child = spawn("unshare", ["--pid", "--fork", "--mount-proc", process.execPath, "--import", "tsx", "--input-type=module", "-e", script], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    try {
      const line = await waitFor("the resolver's answer", 60_000, () => out.split("\n").find((l) => l.startsWith("{")), () => err);
      const { init, ns, host } = JSON.parse(line) as { init: boolean; ns: number; host: number };
      expect(init).toBe(false);
      expect(host).not.toBe(ns);
      const status = readFileSync(`/proc/${host}/status`, "utf8");
      // NSpid lists the pid in each namespace, outermost first: host pid, then the namespace's.
      expect(/^NSpid:\s+(.*)$/m.exec(status)?.[1]?.split(/\s+/).map(Number)).toEqual([host, ns]);
      expect(/^Name:\s+(.*)$/m.exec(status)?.[1]).toBe("sleep");
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});
