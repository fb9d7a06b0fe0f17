// As a container's PID 1 (here: PID 1 of a new pid namespace), orphans of the proxy's
// process tree must not pile up as zombies. The image's launcher makes tini PID 1 in front
// of the agent; an agent that is PID 1 itself runs the command under `tini -s`.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { findExecutable } from "../../../src/agent/reaper.js";
import { ROOT, descendantsOf, startAgentAsInit, waitFor } from "../../bpf/agent/support.js";

function state(pid: number): { pid: number; comm: string; state: string } | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    return { pid, comm: s.slice(s.indexOf("(") + 1, s.lastIndexOf(")")), state: s.slice(s.lastIndexOf(")") + 2, s.lastIndexOf(")") + 3) };
  } catch {
    return null;
  }
}

/** Every process below `pid`, as the host sees them. */
function tree(pid: number): { pid: number; comm: string; state: string }[] {
  return descendantsOf(pid).flatMap((k) => state(k) ?? []);
}

function skipReason(): string | null {
  if (process.getuid?.() !== 0) return "not root: a new pid namespace needs root";
  if (!findExecutable("unshare", ["/usr/bin", "/bin"])) return "unshare (util-linux) not installed";
  if (!findExecutable("tini", ["/usr/bin", "/usr/local/bin", "/sbin", "/bin"])) return "tini not installed (scripts/setup/20-bpftrace.sh installs it)";
  return null;
}

const NO_TRACING = ["--bpftrace", "/nonexistent/bpftrace", "--output", join(tmpdir(), "hookpoint-reaper-test")];
// `sleep 1` is orphaned at once (its parent subshell exits) and exits a second later.
const ORPHAN = ["sh", "-c", "(sleep 1 &); echo started; sleep 4"];

/** The agent itself as PID 1 of a new pid namespace; the namespace's processes 2 s after the orphan exited. */
async function underAgentAsPid1(reaper: "auto" | "none"): Promise<{ procs: { comm: string; state: string }[]; code: number | null }> {
  const child = spawn("unshare", ["--pid", "--fork", "--mount-proc", "--kill-child", process.execPath, "--import", "tsx", "src/cli/main.ts", "agent", "--reaper", reaper, ...NO_TRACING, "--metrics-port", "0", "--metrics-host", "127.0.0.1", "--", ...ORPHAN], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  try {
    await waitFor("the command started", 30_000, () => out.includes("started"), () => out);
    await new Promise((r) => setTimeout(r, 2000));
    return { procs: tree(child.pid!), code: await exited };
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
  }
}

describe("zombie reaping as PID 1", () => {
  const skip = skipReason();

  it("through the image's launcher: tini is PID 1, the agent its child, and tini reaps the orphan", async (ctx) => {
    if (skip) return ctx.skip(skip);
    const a = startAgentAsInit(NO_TRACING, ORPHAN);
    try {
      await waitFor("the command started", 30_000, () => a.stderr.includes("started"), () => a.logText());
      const init = a.init()!;
      expect(state(init)?.comm).toBe("tini");
      await new Promise((r) => setTimeout(r, 2000));
      const procs = tree(init);
      expect(procs.filter((p) => p.state === "Z")).toEqual([]);
      // tini → node (the agent) → sh (the command, in a session of its own) → sleep 4
      // (and tsx's esbuild service, which only this test setup has).
      expect(procs.map((p) => p.comm).filter((c) => c !== "esbuild")).toEqual(["node", "sh", "sleep"]);
      expect((await a.exited).code).toBe(0);
      expect(a.logs.find((l) => l.msg === "command started")).toMatchObject({ reaper: null });
    } finally {
      a.kill();
    }
  });

  it("an agent that is PID 1 itself runs the command under tini, which reaps the orphan", async (ctx) => {
    if (skip) return ctx.skip(skip);
    const r = await underAgentAsPid1("auto");
    expect(r.procs.filter((p) => p.state === "Z")).toEqual([]);
    expect(r.procs.map((p) => p.comm)).toContain("tini");
    expect(r.code).toBe(0);
  });

  it("without a reaper the orphan stays a zombie of the agent (why tini is used)", async (ctx) => {
    if (skip) return ctx.skip(skip);
    const r = await underAgentAsPid1("none");
    expect(r.procs.filter((p) => p.state === "Z").map((p) => p.comm)).toEqual(["sleep"]);
    expect(r.code).toBe(0);
  });
});
