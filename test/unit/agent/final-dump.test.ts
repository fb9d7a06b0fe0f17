import { describe, expect, it } from "vitest";
import { FINAL_DUMP_MAX_MS, drainPlan, finalDumpGraceMs } from "../../../src/agent/final-dump.js";

describe("finalDumpGraceMs", () => {
  it("is --stop-grace-ms without a SIGTERM, or when less is left of the grace period", () => {
    expect(finalDumpGraceMs(5000, null)).toBe(5000);
    expect(finalDumpGraceMs(5000, 4999.5)).toBe(5000);
    expect(finalDumpGraceMs(5000, -2000)).toBe(5000);
  });

  it("is what is left before the kubelet's SIGKILL when that is longer, whole ms, up to a minute", () => {
    expect(finalDumpGraceMs(5000, 23_999.9)).toBe(23_999);
    expect(finalDumpGraceMs(5000, 86_398_000)).toBe(60_000);
    expect(FINAL_DUMP_MAX_MS).toBe(60_000);
    // A --stop-grace-ms above the minute is the user's own choice and stays.
    expect(finalDumpGraceMs(90_000, 86_398_000)).toBe(90_000);
  });
});

describe("drainPlan", () => {
  it("plans with the grace period less 1 s: tracing stops --stop-grace-ms before that, or at SIGTERM", () => {
    expect(drainPlan(30, 5000)).toEqual({ killInMs: 29_000, tracingStopsInMs: 24_000 });
    expect(drainPlan(8, 4000)).toEqual({ killInMs: 7000, tracingStopsInMs: 3000 });
    expect(drainPlan(3, 5000)).toEqual({ killInMs: 2000, tracingStopsInMs: 0 });
    expect(drainPlan(86_400, 5000)).toEqual({ killInMs: 86_399_000, tracingStopsInMs: 86_394_000 });
  });

  it("plans a grace period of 0 or 1 s as the 2 s the kubelet gives every container between SIGTERM and SIGKILL", () => {
    for (const grace of [0, 1, 2]) {
      expect(drainPlan(grace, 300), `grace ${grace}`).toEqual({ killInMs: 1000, tracingStopsInMs: 700 });
      expect(drainPlan(grace, 5000), `grace ${grace}`).toEqual({ killInMs: 1000, tracingStopsInMs: 0 });
    }
    // bpftrace then gets what is left before 1 s ahead of that SIGKILL when it is more than --stop-grace-ms.
    expect(finalDumpGraceMs(0, drainPlan(0, 0).killInMs)).toBe(1000);
  });
});
