// The agent reports the map updates bpftrace says it lost (bpftrace 0.23 drops one when two
// CPUs create the same map entry at once: test/bpf/scripts/lost-updates.test.ts makes that
// happen for real). The race cannot be made to hit one chosen statement, so here the real
// bpftrace runs behind a wrapper that also prints, twice, the line bpftrace 0.23 prints for
// a lost update of envoy-request-flow's router_to_upstream histogram, pointing at that
// statement in the program file the agent wrote. Skipped, with the reason, where uprobes
// cannot attach.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FIXTURE, bpfSkipReason, load, metricSum, startAgent, waitFor } from "./support.js";

const STATEMENT = '@request_phase_ns["router_to_upstream"] = ';

describe("hookpoint agent, when bpftrace reports a lost map update", () => {
  const skip = bpfSkipReason();

  it("counts it against the statement's map and key in /status and /metrics, and logs it once per statement", async (ctx) => {
    if (skip) return ctx.skip(skip);
    const dir = mkdtempSync(join(tmpdir(), "hookpoint-lost-"));
    // The proxy runs as uid 1337 and writes its port file here.
    chmodSync(dir, 0o777);
    const wrapper = join(dir, "bpftrace");
    // The program file is bpftrace's last argument; `hist(` is where bpftrace's column points.
    writeFileSync(
      wrapper,
      `#!/bin/sh
for program; do :; done
if [ -f "$program" ] && grep -q 'router_to_upstream"\\] = hist(' "$program"; then
  line=$(grep -n 'router_to_upstream"\\] = hist(' "$program" | head -1 | cut -d: -f1)
  col=$(sed -n "\${line}p" "$program" | awk '{ print index($0, "hist(") }')
  (sleep 2; for i in 1 2; do printf '{"type": "helper_error", "msg": "File exists", "helper": "map_update_elem", "retcode": -17, "line": %s, "col": %s}\\n' "$line" "$col"; done) &
fi
exec bpftrace "$@"
`,
      { mode: 0o755 },
    );
    const portFile = join(dir, "port");
    const agent = startAgent(["--output", join(dir, "out"), "--interval", "1", "--scripts", "envoy-request-flow", "--bpftrace", wrapper], [FIXTURE.pilotAgent, "--", "--port-file", portFile]);
    try {
      const status = await waitFor("two lost updates in /status", 90_000, async () => {
        const st = agent.port !== null ? await agent.status() : null;
        const flow = st?.scripts.find((s) => s.name === "envoy-request-flow");
        return flow && flow.helperErrors >= 2 ? flow : undefined;
      }, () => agent.logText());
      const program = readFileSync(status.programFile!, "utf8");
      const line = program.slice(0, program.indexOf(STATEMENT)).split("\n").length;
      expect(status.helperErrors).toBe(2);
      expect(status.lostUpdates).toEqual([{ map: "@request_phase_ns", key: "router_to_upstream", metric: "hookpoint_request_phase_duration_seconds", line, reason: "concurrent-create", count: 2 }]);
      const metrics = await agent.metrics();
      expect(metrics).toContain(
        'hookpoint_agent_script_lost_map_updates_total{script="envoy-request-flow",map="@request_phase_ns",key="router_to_upstream",metric="hookpoint_request_phase_duration_seconds",reason="concurrent-create"} 2\n',
      );
      expect(metrics).toContain('hookpoint_agent_script_helper_errors_total{script="envoy-request-flow"} 2\n');
      const said = agent.logs.filter((l) => l.msg === "bpftrace lost a map update");
      expect(said).toHaveLength(1);
      expect(said[0]).toMatchObject({ level: 40, script: "envoy-request-flow", map: "@request_phase_ns", key: "router_to_upstream", metric: "hookpoint_request_phase_duration_seconds", line, reason: "concurrent-create", retcode: -17, bpftrace: "0.17.0" });
      expect(String(said[0]?.why)).toContain("two CPUs created the same map entry at the same moment");
      // Tracing goes on: requests are still counted.
      const port = await waitFor("the fixture's port", 10_000, () => Number(readFileSync(portFile, "utf8").trim()) || undefined);
      expect(await load(port, 20, 2)).toBe(20);
      const upstream = async (): Promise<number> => metricSum(await agent.metrics(), "hookpoint_request_phase_duration_seconds_count", { phase: "router_to_upstream" });
      await waitFor("20 requests in router_to_upstream", 20_000, async () => (await upstream()) >= 20 || undefined, () => agent.logText());
    } finally {
      agent.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
