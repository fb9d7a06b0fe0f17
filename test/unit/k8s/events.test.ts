// The recorder that shows warnings on a pod's owner as Events: off the admission
// path (warn() never calls the API), one Event per owner and message with its
// count, bounded and rate-limited, and failures counted, not thrown.
import type { CoreV1Event } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { EventRecorder, type EventApi, type EventResult, type OwnerWarning } from "../../../src/k8s/events.js";

const RS = { apiVersion: "apps/v1", kind: "ReplicaSet", name: "reviews-v1-7598cc9867", uid: "2f1e0c6a-6f52-4d1b-9a43-7c1f6e2d9b10" };
const JOB = { apiVersion: "batch/v1", kind: "Job", name: "nightly", uid: "9c1d" };
const warning = (message: string, owner = RS): OwnerWarning => ({ namespace: "shop", owner, message });

interface Call {
  op: "create" | "update";
  name: string;
  count: number;
  event?: CoreV1Event;
}

function fakeApi(opts: { failUpdatesWith?: number; failCreatesWith?: number } = {}) {
  const calls: Call[] = [];
  const api: EventApi = {
    async create(event) {
      if (opts.failCreatesWith) throw Object.assign(new Error("refused"), { code: opts.failCreatesWith, body: JSON.stringify({ message: "events is forbidden" }) });
      calls.push({ op: "create", name: event.metadata.name ?? "", count: event.count ?? 0, event });
    },
    async update(_namespace, name, count) {
      if (opts.failUpdatesWith) throw Object.assign(new Error("gone"), { code: opts.failUpdatesWith });
      calls.push({ op: "update", name, count });
    },
  };
  return { api, calls };
}

function recorder(api: EventApi, over: { now?: () => number; maxPending?: number; ratePerSecond?: number; burst?: number } = {}) {
  const results: EventResult[] = [];
  const logs: Array<{ obj: object; msg: string }> = [];
  const r = new EventRecorder({
    api,
    log: { warn: (obj, msg) => void logs.push({ obj, msg }) },
    metrics: { event: (result) => void results.push(result) },
    instance: "hookpoint-webhook-5d8f-abcde",
    ...over,
  });
  return { r, results, logs };
}

describe("EventRecorder", () => {
  it("records at once and writes later: warn() makes no API call itself", async () => {
    const { api, calls } = fakeApi();
    const { r } = recorder(api);
    r.warn(warning("hookpoint: profile \"deep\" is not defined"));
    expect(calls).toEqual([]);
    await r.flushed();
    expect(calls.map((c) => c.op)).toEqual(["create"]);
    r.stop();
  });

  it("writes a Warning Event on the owner, named after it, with what kubectl describe shows", async () => {
    const { api, calls } = fakeApi();
    const now = Date.parse("2026-12-06T10:00:00Z");
    const { r, results } = recorder(api, { now: () => now });
    r.warn(warning("hookpoint: profile \"deep\" is not defined"));
    await r.flushed();
    const event = calls[0]?.event as CoreV1Event;
    expect(event.metadata.name).toMatch(/^reviews-v1-7598cc9867\.[0-9a-f]{16}$/);
    expect({ ...event, metadata: { ...event.metadata, name: "X" } }).toEqual({
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: "X", namespace: "shop" },
      involvedObject: { ...RS, namespace: "shop" },
      reason: "HookpointWarning",
      message: 'hookpoint: profile "deep" is not defined',
      type: "Warning",
      source: { component: "hookpoint-webhook" },
      reportingComponent: "hookpoint-webhook",
      reportingInstance: "hookpoint-webhook-5d8f-abcde",
      firstTimestamp: new Date(now),
      lastTimestamp: new Date(now),
      count: 1,
    });
    expect(results).toEqual(["created"]);
    r.stop();
  });

  it("deduplicates: repeats before the write are one Event with their count, later repeats update its count", async () => {
    const { api, calls } = fakeApi();
    const { r, results } = recorder(api);
    for (let i = 0; i < 3; i++) r.warn(warning("w1"));
    await r.flushed();
    r.warn(warning("w1"));
    await r.flushed();
    r.warn(warning("w1"));
    r.warn(warning("w1"));
    await r.flushed();
    const name = calls[0]?.name;
    expect(calls.map((c) => [c.op, c.name, c.count])).toEqual([
      ["create", name, 3],
      ["update", name, 4],
      ["update", name, 6],
    ]);
    expect(results).toEqual(["created", "updated", "updated"]);
    r.stop();
  });

  it("keeps different messages and different owners apart", async () => {
    const { api, calls } = fakeApi();
    const { r } = recorder(api);
    r.warn(warning("w1"));
    r.warn(warning("w2"));
    r.warn(warning("w1", JOB));
    await r.flushed();
    expect(calls.map((c) => [c.op, c.event?.involvedObject.name, c.event?.message])).toEqual([
      ["create", "reviews-v1-7598cc9867", "w1"],
      ["create", "reviews-v1-7598cc9867", "w2"],
      ["create", "nightly", "w1"],
    ]);
    r.stop();
  });

  it("starts a new Event after the deduplication window, and when the old one is gone (404)", async () => {
    let now = Date.parse("2026-12-06T10:00:00Z");
    const { api, calls } = fakeApi();
    const { r } = recorder(api, { now: () => now });
    r.warn(warning("w1"));
    await r.flushed();
    now += 11 * 60_000;
    r.warn(warning("w1"));
    await r.flushed();
    expect(calls.map((c) => c.op)).toEqual(["create", "create"]);
    expect(calls[0]?.name).not.toBe(calls[1]?.name);

    const gone = fakeApi({ failUpdatesWith: 404 });
    const second = recorder(gone.api);
    second.r.warn(warning("w1"));
    await second.r.flushed();
    second.r.warn(warning("w1"));
    await second.r.flushed();
    expect(gone.calls.map((c) => [c.op, c.count])).toEqual([["create", 1], ["create", 1]]);
    r.stop();
    second.r.stop();
  });

  it("bounds what waits: distinct warnings beyond maxPending are dropped and counted", async () => {
    const { api, calls } = fakeApi();
    const { r, results } = recorder(api, { maxPending: 2 });
    for (const m of ["a", "b", "c", "d"]) r.warn(warning(m));
    r.warn(warning("a")); // a repeat of a waiting one still counts
    await r.flushed();
    expect(calls.map((c) => [c.event?.message, c.count])).toEqual([["a", 2], ["b", 1]]);
    expect(results.sort()).toEqual(["created", "created", "dropped", "dropped"]);
    r.stop();
  });

  it("writes at most a burst at once, then at the sustained rate", async () => {
    const { api, calls } = fakeApi();
    const { r } = recorder(api, { burst: 2, ratePerSecond: 20 });
    for (const m of ["a", "b", "c", "d", "e"]) r.warn(warning(m));
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(calls.map((c) => c.event?.message)).toEqual(["a", "b"]);
    expect(await r.flushed()).toBe(true);
    expect(calls.map((c) => c.event?.message)).toEqual(["a", "b", "c", "d", "e"]);
    r.stop();
  });

  it("counts and logs a refused write, and goes on", async () => {
    const { api } = fakeApi({ failCreatesWith: 403 });
    const { r, results, logs } = recorder(api);
    r.warn(warning("w1"));
    await r.flushed();
    expect(results).toEqual(["failed"]);
    expect(logs).toEqual([
      { msg: "cannot write the warning as an Event on the pod's owner", obj: { namespace: "shop", owner: "ReplicaSet/reviews-v1-7598cc9867", error: "HTTP 403: events is forbidden" } },
    ]);
    r.stop();
  });
});
