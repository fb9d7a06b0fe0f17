// The agent as a container runs it (PID 1 of its own pid namespace, tini in front) on each
// bpftrace the bpf tests have: 0.17 reports host pids, so the agent finds Envoy's host pid
// and filters on that; 0.23 reports pids of its own namespace, so the agent filters on the
// pid it sees. Either way every request is counted, exactly (or, on 0.23, reported lost).
import { chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BPFTRACES, FIXTURE, bpfSkipReason, load, metricSum, pairsRecords, pairsSum, startAgentAsInit, waitFor, type BpftraceUnderTest } from "./support.js";

const DEFAULTS = ["envoy-event-loop", "envoy-request-flow", "hookpoint-pairs"];

function requestSeen(out: string): number {
  return pairsSum(pairsRecords(out), "@hookpoint_calls", "RequestSeen");
}

/** Updates the agent reports bpftrace lost from one key of a script's map, summed over reasons. */
function lost(metrics: string, script: string, map: string, key: string): number {
  return metricSum(metrics, "hookpoint_agent_script_lost_map_updates_total", { script, map, key });
}

describe.each(BPFTRACES)("the agent in a pod's pid namespace on $label", (bt: BpftraceUnderTest) => {
  const skip = bpfSkipReason(bt.path);

  it("filters on the pid this bpftrace reports, attaches the default scripts and counts every request", async (ctx) => {
    if (skip) return ctx.skip(skip);
    const dir = mkdtempSync(join(tmpdir(), "hookpoint-version-"));
    chmodSync(dir, 0o777);
    const out = join(dir, "out");
    const portFile = join(dir, "port");
    const a = startAgentAsInit(["--output", out, "--interval", "1", "--bpftrace", bt.path], [FIXTURE.pilotAgent, "--", "--port-file", portFile]);
    try {
      const s = await waitFor("the default scripts running", 120_000, async () => {
        const st = a.port !== null ? await a.status() : null;
        return st && st.envoy && DEFAULTS.every((n) => st.scripts.find((x) => x.name === n)?.state === "running") ? st : undefined;
      }, () => a.logText());
      const v = s.system!.bpftrace.version!;
      const pidNamespaceAware = Number(v.split(".")[1]) >= 23;
      // The agent sees namespace pids; bpftrace before 0.23 sees host pids.
      const pidMode = s.envoy!.pidMode;
      if (pidNamespaceAware) {
        // Debian trixie's 0.23.2 swaps pid and tid in a namespace: the agent swaps them back in the programs.
        expect(["namespace", "swapped"]).toContain(pidMode);
        expect(s.envoy!.tracePid).toBe(s.envoy!.pid);
      } else {
        expect(pidMode).toBe("host");
        expect(s.envoy!.tracePid).not.toBe(s.envoy!.pid);
        // The host pid it found is Envoy's, as the host sees it.
        expect(readFileSync(`/proc/${s.envoy!.tracePid}/comm`, "utf8").trim()).toBe("envoy");
      }
      expect(s.preflight.find((c) => c.name === "bpftrace")?.detail).toContain(pidNamespaceAware ? "reports pids of its own pid namespace" : "reports host pids");
      const port = await waitFor("the fixture's port", 10_000, () => Number(readFileSync(portFile, "utf8").trim()) || undefined);
      expect(await load(port, 120, 3)).toBe(120);
      // bpftrace 0.23 can drop an update when two CPUs create one map entry at once, and says
      // so; the agent counts those (docs/agent.md, lost map updates): counted plus lost is every request.
      const seenLost = async (): Promise<number> => lost(await a.metrics(), "hookpoint-pairs", "@hookpoint_calls", "RequestSeen");
      await waitFor("120 RequestSeen calls in the NDJSON", 20_000, async () => requestSeen(out) + (await seenLost()) >= 120 || undefined, () => a.logText());
      // Each script is its own bpftrace with its own interval: envoy-request-flow's last
      // dump can come later than hookpoint-pairs' on a loaded machine, so wait for it too.
      const upstream = (metrics: string): number =>
        metricSum(metrics, "hookpoint_request_phase_duration_seconds_count", { phase: "router_to_upstream" }) + lost(metrics, "envoy-request-flow", "@request_phase_ns", "router_to_upstream");
      await waitFor("120 requests in envoy-request-flow's router_to_upstream", 20_000, async () => upstream(await a.metrics()) >= 120 || undefined, () => a.logText());
      await new Promise((r) => setTimeout(r, 2100));
      const metrics = await a.metrics();
      const seen = metricSum(metrics, "hookpoint_calls_total", { function: "RequestSeen" });
      const seenLostNow = lost(metrics, "hookpoint-pairs", "@hookpoint_calls", "RequestSeen");
      expect(seen + seenLostNow).toBe(120);
      expect(requestSeen(out) + seenLostNow).toBe(120);
      expect(upstream(metrics)).toBe(120);
      const scripts = (await a.status()).scripts;
      if (pidNamespaceAware) {
        for (const st of scripts) for (const u of st.lostUpdates) expect(u.reason, `${st.name} ${u.map}[${String(u.key)}]`).toBe("concurrent-create");
      } else {
        // bpftrace 0.17 updates map entries in place: nothing is lost.
        expect(scripts.map((st) => [st.name, st.helperErrors, st.lostUpdates])).toEqual(scripts.map((st) => [st.name, 0, []]));
      }
      process.kill(a.init()!, "SIGTERM");
      expect(await a.exited).toEqual({ code: 0, signal: null });
    } finally {
      a.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
