import { describe, expect, it } from "vitest";
import { FINAL_DUMP_MAX_MS, finalDumpGraceMs } from "../../../src/agent/final-dump.js";

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
