import { describe, expect, it } from "vitest";
import { fileBytesOf, resolveAgentSettings } from "../../../src/agent/settings.js";

describe("resolveAgentSettings", () => {
  it("has the documented defaults", () => {
    expect(resolveAgentSettings({}, {})).toEqual({
      scripts: null,
      outputDir: "/tmp/hookpoint",
      metricsHost: "",
      metricsPort: 15099,
      proxyUid: 1337,
      proxyGid: 1337,
      profile: null,
      intervalSeconds: 10,
      envoyNames: ["envoy", "cilium-envoy"],
      bpftrace: "bpftrace",
      scriptsDir: null,
      // (512 MiB emptyDir − 64 MiB headroom) / (8 scripts × 4 files)
      maxFileBytes: 14680064,
      keepFiles: 3,
      maxOutputBytes: 469762048,
      stopGraceMs: 5000,
      terminationGraceSeconds: 30,
      reaper: "auto",
      logLevel: "info",
      recordsEndpoint: true,
      recordsMaxBytes: 8388608,
      recordsConcurrency: 2,
      traceSample: 100,
      traceRate: 1000,
    });
  });

  it("takes request tracing's sample and rate from flags over the environment, and refuses 0", () => {
    const s = resolveAgentSettings({ traceSample: "1" }, { HOOKPOINT_TRACE_SAMPLE: "10", HOOKPOINT_TRACE_RATE: "50" });
    expect([s.traceSample, s.traceRate]).toEqual([1, 50]);
    expect(() => resolveAgentSettings({ traceSample: "0" }, {})).toThrow('--trace-sample: expected an integer from 1 to 1000000000, got "0"');
    expect(() => resolveAgentSettings({}, { HOOKPOINT_TRACE_RATE: "fast" })).toThrow('HOOKPOINT_TRACE_RATE: expected an integer from 1 to 1000000000, got "fast"');
  });

  it("turns the records endpoints off and bounds them", () => {
    const s = resolveAgentSettings({ recordsMaxBytes: "1048576" }, { HOOKPOINT_RECORDS_ENDPOINT: "off", HOOKPOINT_RECORDS_CONCURRENCY: "4" });
    expect([s.recordsEndpoint, s.recordsMaxBytes, s.recordsConcurrency]).toEqual([false, 1048576, 4]);
    expect(() => resolveAgentSettings({}, { HOOKPOINT_RECORDS_ENDPOINT: "no" })).toThrow('HOOKPOINT_RECORDS_ENDPOINT: expected on or off, got "no"');
    expect(() => resolveAgentSettings({ recordsConcurrency: "0" }, {})).toThrow('--records-concurrency: expected an integer from 1 to 64, got "0"');
  });

  it("reads the HOOKPOINT_* variables the webhook sets, and flags win over them", () => {
    const env = { HOOKPOINT_SCRIPTS: "envoy-event-loop, hookpoint-pairs", HOOKPOINT_OUTPUT_DIR: "/data/hp", HOOKPOINT_METRICS_PORT: "16000", HOOKPOINT_PROXY_UID: "0", HOOKPOINT_PROXY_GID: "1337", HOOKPOINT_PROFILE: "deep" };
    const s = resolveAgentSettings({}, env);
    expect([s.scripts, s.outputDir, s.metricsPort, s.proxyUid, s.proxyGid, s.profile]).toEqual([["envoy-event-loop", "hookpoint-pairs"], "/data/hp", 16000, 0, 1337, "deep"]);
    const f = resolveAgentSettings({ scripts: "envoy-request-flow", metricsPort: "0", outputDir: "/x" }, env);
    expect([f.scripts, f.metricsPort, f.outputDir]).toEqual([["envoy-request-flow"], 0, "/x"]);
  });

  it("shares the output budget among the files, and refuses a budget that would leave a file under 4096 bytes, naming the least that works", () => {
    expect(fileBytesOf(resolveAgentSettings({}, {}))).toBe(14680064);
    // 3 default scripts with 3 rotated files each: 12 files.
    expect(fileBytesOf(resolveAgentSettings({}, { HOOKPOINT_MAX_OUTPUT_BYTES: "1048576" }))).toBe(87381);
    expect(fileBytesOf(resolveAgentSettings({}, { HOOKPOINT_MAX_OUTPUT_BYTES: "49152" }))).toBe(4096);
    expect(() => resolveAgentSettings({}, { HOOKPOINT_MAX_OUTPUT_BYTES: "49151" })).toThrow(
      "HOOKPOINT_MAX_OUTPUT_BYTES: 49151 is too small: 3 output files with 3 rotated ones each need at least 49152 (12 files of 4096 bytes)",
    );
    // envoy-request-trace writes two files (its maps, its request records).
    expect(() => resolveAgentSettings({ scripts: "envoy-request-trace,hookpoint-pairs", keepFiles: "1", maxOutputBytes: "20000" }, {})).toThrow(
      "--max-output-bytes: 20000 is too small: 3 output files with 1 rotated one each need at least 24576 (6 files of 4096 bytes)",
    );
    expect(fileBytesOf(resolveAgentSettings({ scripts: "hookpoint-pairs" }, { HOOKPOINT_KEEP_FILES: "0", HOOKPOINT_MAX_OUTPUT_BYTES: "4096" }))).toBe(4096);
  });

  it("runs a script named twice once, in the order first named", () => {
    expect(resolveAgentSettings({}, { HOOKPOINT_SCRIPTS: "hookpoint-pairs,envoy-event-loop, hookpoint-pairs" }).scripts).toEqual(["hookpoint-pairs", "envoy-event-loop"]);
    expect(resolveAgentSettings({ scripts: "envoy-event-loop,envoy-event-loop" }, {}).scripts).toEqual(["envoy-event-loop"]);
  });

  it("names the flag or variable and the bad value", () => {
    expect(() => resolveAgentSettings({}, { HOOKPOINT_METRICS_PORT: "http" })).toThrow('HOOKPOINT_METRICS_PORT: expected an integer from 0 to 65535, got "http"');
    expect(() => resolveAgentSettings({ metricsPort: "70000" }, {})).toThrow('--metrics-port: expected an integer from 0 to 65535, got "70000"');
    expect(() => resolveAgentSettings({}, { HOOKPOINT_PROXY_UID: "-1" })).toThrow('HOOKPOINT_PROXY_UID: expected an integer from 0 to 2147483647, got "-1"');
    expect(() => resolveAgentSettings({}, { HOOKPOINT_SCRIPTS: "ok,Bad Name" })).toThrow('HOOKPOINT_SCRIPTS: "Bad Name" is not a script name (lowercase letters, digits and dashes)');
    expect(() => resolveAgentSettings({ outputDir: "out" }, {})).toThrow('--output: expected an absolute path, got "out"');
    expect(() => resolveAgentSettings({}, { HOOKPOINT_REAPER: "dumb-init" })).toThrow('HOOKPOINT_REAPER: expected auto, tini or none, got "dumb-init"');
  });
});
