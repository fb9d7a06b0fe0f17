// As a container's PID 1 (here: PID 1 of a new pid namespace), orphans of the proxy's
// process tree must not pile up as zombies: the agent runs the command under tini.
import { spawn } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { findExecutable } from "../../../src/agent/reaper.js";
import { ROOT, waitFor } from "../../bpf/agent/support.js";

function children(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((t) =>
      readFileSync(`/proc/${pid}/task/${t}/children`, "utf8").split(" ").filter(Boolean).map(Number),
    );
  } catch {
    return [];
  }
}

function state(pid: number): { comm: string; state: string } | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    return { comm: s.slice(s.indexOf("(") + 1, s.lastIndexOf(")")), state: s.slice(s.lastIndexOf(")") + 2, s.lastIndexOf(")") + 3) };
  } catch {
    return null;
  }
}

function skipReason(): string | null {
  if (process.getuid?.() !== 0) return "not root: a new pid namespace needs root";
  if (!findExecutable("unshare", ["/usr/bin", "/bin"])) return "unshare (util-linux) not installed";
  if (!findExecutable("tini", ["/usr/bin", "/usr/local/bin", "/sbin", "/bin"])) return "tini not installed (scripts/setup/20-bpftrace.sh installs it)";
  return null;
}

/** Runs the agent as PID 1 of a new pid namespace; returns the zombies its process had after the orphan exited. */
async function zombiesUnderAgent(reaper: "auto" | "none"): Promise<{ zombies: string[]; children: string[]; code: number | null }> {
  // `sleep 1` is orphaned at once (its parent subshell exits) and exits a second later.
  const cmd = ["sh", "-c", "(sleep 1 &); echo started; sleep 4"];
  const child = spawn("unshare", ["--pid", "--fork", "--mount-proc", process.execPath, "--import", "tsx", "src/cli/main.ts", "agent", "--reaper", reaper, "--bpftrace", "/nonexistent/bpftrace", "--metrics-port", "0", "--metrics-host", "127.0.0.1", "--output", join(tmpdir(), "hookpoint-reaper-test"), "--", ...cmd], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  try {
    await waitFor("the command started", 30_000, () => out.includes("started"), () => out);
    // The agent is the only child of unshare; wait past the orphan's exit.
    const agentPid = await waitFor("the agent in its namespace", 10_000, () => children(child.pid!)[0]);
    await new Promise((r) => setTimeout(r, 2000));
    const kids = children(agentPid).map((p) => state(p)).filter((s): s is { comm: string; state: string } => s !== null);
    return { zombies: kids.filter((k) => k.state === "Z").map((k) => k.comm), children: kids.map((k) => k.comm), code: await exited };
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
  }
}

describe("zombie reaping as PID 1", () => {
  const skip = skipReason();
  it("runs the command under tini, which reaps the orphan", async (ctx) => {
    if (skip) return ctx.skip(skip);
    const r = await zombiesUnderAgent("auto");
    expect(r.zombies).toEqual([]);
    expect(r.children).toContain("tini");
    expect(r.code).toBe(0);
  });
  it("without a reaper the orphan stays a zombie of the agent (why tini is used)", async (ctx) => {
    if (skip) return ctx.skip(skip);
    const r = await zombiesUnderAgent("none");
    expect(r.zombies).toEqual(["sleep"]);
    expect(r.code).toBe(0);
  });
});
