import { describe, expect, it } from "vitest";
import { statusRow, toAgentStatus, traceRequestsOf } from "../../../src/collect/status-rows.js";
import { FieldError } from "../../../src/records/fields.js";
import type { RecordsListing } from "../../../src/records/listing.js";
import { agentStatus, traceStatus } from "../../support/agent-status.js";

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

describe("statusRow last record", () => {
  const listing = (...last: (string | null)[]): RecordsListing => ({
    version: 1,
    maxResponseBytes: 1 << 20,
    since: null,
    files: last.map((l, i) => ({ name: `f${i}.ndjson`, bytes: 10, first: null, last: l, etag: `"n-${i}-aa"` })),
  });
  const lastOf = (...last: (string | null)[]) => statusRow(pod, { status: agentStatus(4242, [], iso), listing: listing(...last) }).lastRecord;

  it("is the latest moment, whatever the number of fraction digits", () => {
    // A map record file (ms) and envoy-request-trace's (µs): the request ended 400 µs later.
    expect(lastOf("2026-03-01T10:00:05.123Z", "2026-03-01T10:00:05.123400Z", null)).toBe("2026-03-01T10:00:05.123400Z");
    expect(lastOf("2026-03-01T10:00:05.123400Z", "2026-03-01T10:00:05.123Z")).toBe("2026-03-01T10:00:05.123400Z");
    expect(lastOf("2026-03-01T10:00:05Z", "2026-03-01T10:00:05.100Z")).toBe("2026-03-01T10:00:05.100Z");
    expect(lastOf("2026-03-01T10:00:05Z", "2026-03-01T10:00:04.900Z")).toBe("2026-03-01T10:00:05Z");
    expect(lastOf("2026-03-01T11:00:05.000+01:00", "2026-03-01T10:00:05.001Z")).toBe("2026-03-01T10:00:05.001Z");
  });

  it("tells times apart to the ns, in either order", () => {
    expect(lastOf("2026-03-01T10:00:05.123400Z", "2026-03-01T10:00:05.123400001Z")).toBe("2026-03-01T10:00:05.123400001Z");
    expect(lastOf("2026-03-01T10:00:05.123400001Z", "2026-03-01T10:00:05.123400Z")).toBe("2026-03-01T10:00:05.123400001Z");
  });

  it("is never a time it cannot read, even when that comes first", () => {
    expect(lastOf("yesterday", "2026-03-01T10:00:05.123Z")).toBe("2026-03-01T10:00:05.123Z");
    expect(lastOf("2026-03-01T10:00:05.123Z", "yesterday")).toBe("2026-03-01T10:00:05.123Z");
    expect(lastOf("yesterday")).toBe(null);
  });
});

describe("an agent's /status answer", () => {
  // trace.requests as this version cannot read it (say a newer agent's, mid-upgrade).
  const unreadable = { ...agentStatus(4242, [{ name: "envoy-request-trace" }], iso), trace: { ...traceStatus({ recorded: 3 }), requests: { recorded: 3, aborted: "1" } } };

  it("gives hookpoint status its row whatever trace.requests holds, since no row reads it", () => {
    const r = statusRow(pod, { status: toAgentStatus(unreadable), listing: null });
    expect([r.agent, r.tracing, r.problems]).toEqual([{ reachable: true }, "ok", []]);
  });

  it("gives collect trace.requests, naming the field it cannot read, and only that", () => {
    expect(traceRequestsOf({ ...agentStatus(4242, [], iso), trace: traceStatus({ recorded: 26, aborted: 1 }) })).toEqual({ recorded: 26, aborted: 1, timeout: 0, incomplete: 0, invalid: 0, overflow: 0, rate_capped: 0, unfinished: 0, lost: 0 });
    expect(traceRequestsOf({ scripts: "not read by collect" })).toBeNull();
    expect(() => traceRequestsOf(unreadable)).toThrow(new FieldError("trace.requests.aborted", 'expected a whole number ≥ 0, got "1"'));
    expect(() => traceRequestsOf([])).toThrow(FieldError);
  });
});
