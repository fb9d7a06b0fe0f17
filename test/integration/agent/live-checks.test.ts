// Preflight checks that can change while the agent runs are evaluated on every request:
// a tracefs unmounted after startup shows in /status at once, with the fix, and so does
// its return. The agent runs in-process with tracefs at a mount of its own (a second
// tracefs instance in a temporary directory), so the node's tracefs is never touched.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { Agent } from "../../../src/agent/agent.js";
import { resolveAgentSettings } from "../../../src/agent/settings.js";
import type { AgentStatus } from "../../../src/agent/status/types.js";
import { get, waitFor } from "../../bpf/agent/support.js";

const skip = process.getuid?.() !== 0 ? "not root: mounting tracefs needs root" : null;
const dir = mkdtempSync(join(tmpdir(), "hookpoint-live-"));
afterAll(() => {
  try {
    execFileSync("umount", [join(dir, "tracing")], { stdio: "ignore" });
  } catch {
    // not mounted
  }
  rmSync(dir, { recursive: true, force: true });
});

describe("live preflight checks", () => {
  it("report tracefs as it is now, not as it was at startup", async (ctx) => {
    if (skip) return ctx.skip(skip);
    const tracefs = join(dir, "tracing");
    execFileSync("mkdir", ["-p", tracefs]);
    execFileSync("mount", ["-t", "tracefs", "nodev", tracefs]);
    let port = 0;
    const settings = resolveAgentSettings({ bpftrace: "/nonexistent/bpftrace", outputDir: join(dir, "out"), metricsHost: "127.0.0.1", metricsPort: "0" }, {});
    const agent = new Agent({ settings, command: "sleep", args: ["60"], log: pino({ level: "silent" }), version: "test", uid: 1, reaper: null, tracefs, onListening: (p) => (port = p) });
    const running = agent.run();
    const status = async (): Promise<AgentStatus> => JSON.parse(await get(port, "/status")) as AgentStatus;
    const tracefsCheck = async () => (await status()).preflight.find((c) => c.name === "tracefs");
    try {
      await waitFor("preflight in /status", 20_000, async () => port > 0 && (await status()).preflight.length > 0);
      expect(await tracefsCheck()).toEqual({ name: "tracefs", ok: true, detail: `${tracefs} mounted` });
      execFileSync("umount", [tracefs]);
      expect(await tracefsCheck()).toEqual({
        name: "tracefs",
        ok: false,
        detail: `${tracefs} is not mounted (bpftrace cannot attach probes)`,
        fix: "mount the hookpoint-tracefs volume (hostPath /sys/kernel/tracing), or mount -t tracefs nodev /sys/kernel/tracing",
      });
      expect((await status()).system?.tracefs).toEqual({ path: tracefs, mounted: false });
      expect(await get(port, "/metrics")).toMatch(/^hookpoint_agent_preflight_ok\{check="tracefs"\} 0$/m);
      execFileSync("mount", ["-t", "tracefs", "nodev", tracefs]);
      expect((await tracefsCheck())?.ok).toBe(true);
    } finally {
      process.kill(agent.state.command.pid!, "SIGTERM");
      await running;
    }
  });
});
