// The agent's first /status answer already lists the configured scripts, in the state
// machine's first state: a client waiting for "every script running" must not pass on an
// empty list while preflight is still on its way (here it never passes: no bpftrace).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { Agent } from "../../../src/agent/agent.js";
import { resolveAgentSettings } from "../../../src/agent/settings.js";
import type { AgentStatus } from "../../../src/agent/status/types.js";
import { statusRow, toAgentStatus } from "../../../src/collect/status-rows.js";
import { get } from "../../bpf/agent/support.js";

const dir = mkdtempSync(join(tmpdir(), "hookpoint-first-status-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the agent's first /status", () => {
  it("lists every configured script as pending, and hookpoint status reads the pod as starting", async () => {
    const settings = resolveAgentSettings({ bpftrace: join(dir, "no-bpftrace"), outputDir: join(dir, "out"), metricsHost: "127.0.0.1", metricsPort: "0", scripts: "envoy-request-trace,envoy-event-loop" }, {});
    let first: Promise<string> | undefined;
    // Asked the moment the server listens, before preflight has run.
    const agent = new Agent({ settings, command: "sleep", args: ["60"], log: pino({ level: "silent" }), version: "test", uid: 1, reaper: null, onListening: (port) => (first = get(port, "/status")) });
    const running = agent.run();
    try {
      await expect.poll(() => first !== undefined, { timeout: 20_000 }).toBe(true);
      const status = JSON.parse(await first!) as AgentStatus;
      expect(status.scripts.map((s) => [s.name, s.state, s.reason])).toEqual([
        ["envoy-request-trace", "pending", null],
        ["envoy-event-loop", "pending", null],
      ]);
      const row = statusRow({ namespace: "shop", name: "web-0", phase: "Running", node: "node-a", podIP: "10.0.0.1" }, { status: toAgentStatus(status), listing: null });
      expect([row.tracing, row.scripts.map((s) => s.state)]).toEqual(["starting", ["pending", "pending"]]);
    } finally {
      process.kill(agent.state.command.pid!, "SIGTERM");
      await running;
    }
  });
});
