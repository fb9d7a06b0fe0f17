// The agent's process supervision without any tracing: the proxy's life never depends on
// bpftrace. bpftrace is pointed at a path that does not exist, so preflight fails.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { get, startAgent, waitFor } from "../../bpf/agent/support.js";

const dir = mkdtempSync(join(tmpdir(), "hookpoint-sup-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const NO_BPFTRACE = ["--bpftrace", "/nonexistent/bpftrace", "--output", join(dir, "out")];
const isRoot = process.getuid?.() === 0;

describe("hookpoint agent supervising its command", () => {
  it("exits with the command's exit code, and a failed preflight leaves the command alone", async () => {
    const a = startAgent(NO_BPFTRACE, ["sh", "-c", "sleep 1; echo done; exit 3"]);
    const exit = await a.exited;
    expect(exit).toEqual({ code: 3, signal: null });
    expect(a.stderr).toContain("done");
    const failed = a.logs.find((l) => l.msg === "preflight check failed" && l.check === "bpftrace");
    expect(failed?.problem).toBe("/nonexistent/bpftrace not found (install bpftrace in the image)");
    expect(a.logs.some((l) => l.msg === "tracing disabled until preflight passes; the proxy is unaffected")).toBe(true);
    expect(a.logs.at(-1)).toMatchObject({ msg: "agent exiting with the command's exit code", exitCode: 3 });
  });

  it("reports the failed check in /status while the command runs", async () => {
    const a = startAgent(NO_BPFTRACE, ["sleep", "30"]);
    try {
      const s = await waitFor("preflight in /status", 20_000, async () => {
        const st = a.port !== null ? await a.status() : null;
        return st && st.preflight.length > 0 ? st : undefined;
      }, () => a.logText());
      expect(s.preflight.find((c) => c.name === "bpftrace")).toEqual({
        name: "bpftrace",
        ok: false,
        detail: "/nonexistent/bpftrace not found (install bpftrace in the image)",
        fix: "apt-get install bpftrace in the tracing image, or set HOOKPOINT_BPFTRACE",
      });
      expect(s.envoy).toBeNull();
      expect(s.command.pid).toBeGreaterThan(0);
      const metrics = await a.metrics();
      expect(metrics).toMatch(/^hookpoint_agent_preflight_ok\{check="bpftrace"\} 0$/m);
      a.child.kill("SIGTERM");
      // sleep dies of the forwarded SIGTERM: 128 + 15.
      expect(await a.exited).toEqual({ code: 143, signal: null });
    } finally {
      a.kill();
    }
  });

  it("forwards SIGTERM, SIGINT and SIGHUP to the command", async () => {
    for (const [sig, code] of [["SIGTERM", 21], ["SIGINT", 22], ["SIGHUP", 23]] as const) {
      const short = sig.slice(3);
      const a = startAgent(NO_BPFTRACE, ["sh", "-c", `trap 'echo got-${short}; exit ${code}' ${short}; echo ready; while :; do sleep 0.05; done`]);
      try {
        await waitFor("the command ready", 20_000, () => a.stderr.includes("ready"));
        a.child.kill(sig);
        expect(await a.exited).toEqual({ code, signal: null });
        expect(a.stderr).toContain(`got-${short}`);
      } finally {
        a.kill();
      }
    }
  });

  it("runs the command as the proxy uid/gid", async (ctx) => {
    if (!isRoot) return ctx.skip("not root: the agent can only switch users as root");
    const a = startAgent([...NO_BPFTRACE, "--proxy-uid", "1337", "--proxy-gid", "1338"], ["sh", "-c", 'echo "ids $(id -u) $(id -g)"']);
    expect(await a.exited).toEqual({ code: 0, signal: null });
    expect(a.stderr).toContain("ids 1337 1338");
  });

  it("exits 127 when the command cannot be started", async () => {
    const a = startAgent(NO_BPFTRACE, ["/nonexistent/pilot-agent", "proxy"]);
    expect(await a.exited).toEqual({ code: 127, signal: null });
    expect(a.logs.find((l) => l.msg === "cannot start the command")).toMatchObject({ command: "/nonexistent/pilot-agent" });
  });

  it("serves /status on IPv6 and IPv4 by default, as an IPv6-only pod's IP needs", async () => {
    // An empty --metrics-host is the default (startAgent gives 127.0.0.1 otherwise).
    const a = startAgent([...NO_BPFTRACE, "--metrics-host", ""], ["sleep", "30"]);
    try {
      await waitFor("the status server", 20_000, () => a.port !== null, () => a.logText());
      expect(a.logs.find((l) => l.msg === "status server listening")?.host).toBe("::");
      for (const host of ["::1", "127.0.0.1"]) expect(JSON.parse(await get(a.port!, "/status", host)), host).toMatchObject({ command: { argv: ["sleep", "30"] } });
    } finally {
      a.kill();
    }
  });

  it("rejects a bad setting with a message naming the variable", async () => {
    const a = startAgent(NO_BPFTRACE, ["true"], { HOOKPOINT_INTERVAL_SECONDS: "soon" });
    expect(await a.exited).toEqual({ code: 2, signal: null });
    expect(a.stderr).toContain('hookpoint agent: HOOKPOINT_INTERVAL_SECONDS: expected an integer from 1 to 3600, got "soon"');
  });

  it("refuses an output budget too small for its files, before the command starts, naming the least that works", async () => {
    const a = startAgent(NO_BPFTRACE, ["sh", "-c", "echo command started"], { HOOKPOINT_MAX_OUTPUT_BYTES: "40000" });
    expect(await a.exited).toEqual({ code: 2, signal: null });
    expect(a.stderr).toEqual(["hookpoint agent: HOOKPOINT_MAX_OUTPUT_BYTES: 40000 is too small: 3 output files with 3 rotated ones each need at least 49152 (12 files of 4096 bytes)"]);
  });
});

