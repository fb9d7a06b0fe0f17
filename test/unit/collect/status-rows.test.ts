import { describe, expect, it } from "vitest";
import { statusRow } from "../../../src/collect/status-rows.js";
import { agentStatus } from "../../support/agent-status.js";

const iso = (s: number) => new Date(Date.UTC(2026, 11, 6, 12, 0, 0) + s * 1000).toISOString();
const pod = { namespace: "shop", name: "web-1", phase: "Running", node: "node-a", podIP: "10.0.0.5" };
const row = (envoyPid: number | null, scripts: Parameters<typeof agentStatus>[1]) => statusRow(pod, { status: agentStatus(envoyPid, scripts, iso), listing: null });
const skippedPairs = { name: "hookpoint-pairs", state: "skipped" as const, reason: "no-hookpoint-functions", message: "Envoy has no hookpoint* functions" };

describe("statusRow tracing", () => {
  it("is ok when every script runs", () => {
    const r = row(4242, [{ name: "envoy-event-loop" }, { name: "envoy-request-trace" }]);
    expect([r.tracing, r.problems]).toEqual(["ok", []]);
  });

  it("is ok on a stock Envoy: a script skipped as not meant for it does not hold the pod at starting", () => {
    const r = row(4242, [{ name: "envoy-event-loop" }, skippedPairs]);
    expect([r.tracing, r.problems]).toEqual(["ok", []]);
  });

  it("is failing when every script is skipped: nothing traces that Envoy", () => {
    const r = row(4242, [skippedPairs]);
    expect([r.tracing, r.problems]).toEqual(["failing", ["no script runs: hookpoint-pairs skipped (no-hookpoint-functions)"]]);
  });

  it("is starting while a script attaches or Envoy is not found yet", () => {
    expect(row(4242, [{ name: "envoy-event-loop", state: "attaching" }, skippedPairs]).tracing).toBe("starting");
    expect(row(null, [{ name: "envoy-event-loop", state: "pending" }]).tracing).toBe("starting");
    expect(row(4242, []).tracing).toBe("starting");
  });

  it("is failing with the script's reason when one failed", () => {
    const r = row(4242, [{ name: "envoy-event-loop" }, { name: "envoy-flow", state: "failed", reason: "missing-symbol", message: "no symbol Envoy::Network::ConnectionImpl::onRead" }]);
    expect([r.tracing, r.problems]).toEqual(["failing", ["script envoy-flow failed (missing-symbol): no symbol Envoy::Network::ConnectionImpl::onRead"]]);
  });
});
