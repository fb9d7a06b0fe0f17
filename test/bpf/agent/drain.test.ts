// SIGTERM as Kubernetes delivers it: to the container's PID 1. pilot-agent must drain
// Envoy (here the fixture pilot-agent keeps Envoy serving for --drain-ms, then passes
// SIGTERM on), tracing must go on during the drain, and only then end with its final dump.
import { chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FIXTURE, bpfSkipReason, pairsRecords, pairsSum, startAgent, startAgentAsInit, waitFor, type AgentProcess, type AgentStatusJson } from "./support.js";

const skip = bpfSkipReason();

function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(d, 0o777);
  return d;
}

/** Filters samples in hookpoint-pairs' records; with `agent`, a missing file fails with its log. */
function filtersSamples(out: string, agent?: AgentProcess): number {
  return pairsSum(pairsRecords(out, agent), "@hookpoint_latency_ns", "Filters");
}

/**
 * Keep-alive GET requests on `connections` sockets, back to back, until stop() (bounded
 * by `maxMs` and `maxRequests`). Resolves with what came back.
 */
function keepAliveClient(port: number, connections: number, maxMs: number, maxRequests: number): { stop(): void; done: Promise<{ ok: number; failed: string[] }> } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const deadline = Date.now() + maxMs;
  let stopped = false;
  let sent = 0;
  let ok = 0;
  const failed: string[] = [];
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const req = http.get({ host: "127.0.0.1", port, path: "/", agent, timeout: 5000 }, (res) => {
        let b = "";
        res.on("data", (c: Buffer) => (b += c.toString()));
        res.on("end", () => {
          if (res.statusCode === 200 && b === "ok\n") ok++;
          else failed.push(`${res.statusCode} ${b}`);
          resolve();
        });
      });
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.on("error", (err) => {
        failed.push(err.message);
        resolve();
      });
    });
  const worker = async (): Promise<void> => {
    while (!stopped && Date.now() < deadline && sent < maxRequests) {
      sent++;
      await one();
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  const done = Promise.all(Array.from({ length: connections }, worker)).then(() => {
    agent.destroy();
    return { ok, failed };
  });
  return { stop: () => (stopped = true), done };
}

async function running(a: AgentProcess): Promise<AgentStatusJson> {
  return waitFor("hookpoint-pairs running", 90_000, async () => {
    const s = a.port !== null ? await a.status() : null;
    return s && s.envoy && s.scripts.find((x) => x.name === "hookpoint-pairs")?.state === "running" ? s : undefined;
  }, () => a.logText());
}

describe("SIGTERM to the container's PID 1 while requests flow", () => {
  it("reaches Envoy from pilot-agent after its drain; in-flight requests complete; the final dump is written; the exit code is the proxy's", async (ctx) => {
    if (skip) return ctx.skip(skip);
    const dir = tempDir("hookpoint-drain-");
    const out = join(dir, "out");
    const portFile = join(dir, "port");
    // A one-hour interval: the only dump is the final one, after Envoy has exited.
    const a = startAgentAsInit(["--output", out, "--interval", "3600", "--scripts", "hookpoint-pairs"], [
      FIXTURE.pilotAgent, "--drain-ms", "2500", "--", "--port-file", portFile, "--exit-code", "7", "--delay-filters-us", "300",
    ]);
    try {
      const st = await running(a);
      const port = await waitFor("the fixture's port", 10_000, () => Number(readFileSync(portFile, "utf8").trim()) || undefined);
      const client = keepAliveClient(port, 4, 20_000, 2000);
      await new Promise((r) => setTimeout(r, 500));
      // As the container runtime does: SIGTERM to PID 1 (tini, which passes it to the agent).
      process.kill(a.init()!, "SIGTERM");
      // Requests go on well into the drain, then stop; every one must be answered.
      await new Promise((r) => setTimeout(r, 1500));
      client.stop();
      const load = await client.done;
      expect(load.failed).toEqual([]);
      expect(load.ok).toBeGreaterThan(40);
      const exit = await Promise.race([a.exited, new Promise<null>((r) => setTimeout(() => r(null), 30_000))]);
      // tini passes the agent's exit code on: the proxy's.
      expect(exit).toEqual({ code: 7, signal: null });
      expect(a.stderr).toContain("pilot-agent: draining for 2500 ms");
      // Envoy got SIGTERM from pilot-agent (the command), not from the agent or tini.
      expect(a.stderr).toContain(`envoy: stopped by signal 15 from pid ${st.command.pid}`);
      expect(a.logs.some((l) => l.msg === "SIGTERM: the proxy drains, tracing goes on until it exits")).toBe(true);
      // Tracing went on through the drain: the final dump holds every request, those sent after SIGTERM too.
      expect(filtersSamples(out, a)).toBe(load.ok);
      expect(a.stderr).toContain(`envoy: served ${load.ok} requests`);
      const order = ["SIGTERM: the proxy drains, tracing goes on until it exits", "command exited", "bpftrace stopped", "agent exiting with the command's exit code"].map((m) => a.logs.findIndex((l) => l.msg === m));
      expect(order.every((i, k) => i >= 0 && (k === 0 || i > order[k - 1]!)), JSON.stringify(order)).toBe(true);
    } finally {
      a.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("stops tracing (final dump) before the grace period ends while the proxy still drains", async (ctx) => {
    if (skip) return ctx.skip(skip);
    const dir = tempDir("hookpoint-grace-");
    const out = join(dir, "out");
    const portFile = join(dir, "port");
    // Grace 8 s, bpftrace's stop grace 4 s (bpftrace takes a while to detach on a busy
    // machine): tracing stops 3 s after SIGTERM; the drain lasts 10 s.
    const a = startAgent(["--output", out, "--interval", "3600", "--scripts", "hookpoint-pairs", "--termination-grace-seconds", "8", "--stop-grace-ms", "4000"], [
      FIXTURE.pilotAgent, "--drain-ms", "10000", "--", "--port-file", portFile, "--exit-code", "3",
    ]);
    try {
      await running(a);
      const port = await waitFor("the fixture's port", 10_000, () => Number(readFileSync(portFile, "utf8").trim()) || undefined);
      const client = keepAliveClient(port, 2, 10_000, 30);
      expect((await client.done).ok).toBe(30);
      a.child.kill("SIGTERM");
      await waitFor("the final dump", 15_000, () => filtersSamples(out) === 30 || undefined, () => a.logText());
      // 8 s less the 1 s margin less bpftrace's 4 s.
      expect(a.logs.find((l) => l.msg === "SIGTERM: the proxy drains, tracing goes on until it exits")).toMatchObject({ tracingStopsInMs: 3000 });
      // Dumped while the proxy still runs.
      expect(a.exit).toBeNull();
      expect(a.logs.some((l) => l.msg === "the proxy is still draining near the end of the grace period: stopping tracing now (final dump)")).toBe(true);
      expect(await a.exited).toEqual({ code: 3, signal: null });
    } finally {
      a.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
