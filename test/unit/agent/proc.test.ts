import { describe, expect, it } from "vitest";
import { exePath, findEnvoy, isEnvoy, parseStat, type ProcInfo } from "../../../src/agent/proc/envoy.js";

describe("parseStat", () => {
  it("reads pid, comm (even with spaces and parentheses), state, ppid and start time", () => {
    const line = "4242 (wrk:worker_0) S 4200 4242 4200 0 -1 4194560 1000 0 0 0 12 3 0 0 20 0 9 0 987654 123456 789 18446744073709551615";
    expect(parseStat(line)).toEqual({ pid: 4242, ppid: 4200, comm: "wrk:worker_0", state: "S", startTime: 987654 });
    expect(parseStat("77 (a) b) (c) Z 1 77 77 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 555 0 0")).toEqual({ pid: 77, ppid: 1, comm: "a) b) (c", state: "Z", startTime: 555 });
    expect(parseStat("garbage")).toBeNull();
  });
});

const p = (pid: number, ppid: number, exe: string | null, startTime = pid, comm = exe?.split("/").pop() ?? "x", state = "S"): ProcInfo => ({ pid, ppid, comm, exe, startTime, state });

describe("findEnvoy", () => {
  const names = ["envoy", "cilium-envoy"];
  it("finds Envoy below the command, not elsewhere on the node", () => {
    const procs = [p(1, 0, "/usr/bin/node"), p(10, 1, "/usr/local/bin/pilot-agent"), p(11, 10, "/usr/local/bin/envoy"), p(50, 1, "/usr/local/bin/envoy")];
    expect(findEnvoy(procs, 10, names)?.pid).toBe(11);
    expect(findEnvoy(procs, 11, names)?.pid).toBe(11);
    expect(findEnvoy([p(10, 1, "/usr/local/bin/pilot-agent")], 10, names)).toBeNull();
  });
  it("prefers the newest Envoy (hot restart) and ignores zombies", () => {
    const procs = [p(10, 1, "/usr/local/bin/pilot-agent"), p(11, 10, "/usr/local/bin/envoy", 100), p(12, 10, "/usr/local/bin/envoy", 200), p(13, 10, "/usr/local/bin/envoy", 300, "envoy", "Z")];
    expect(findEnvoy(procs, 10, names)?.pid).toBe(12);
  });
  it("recognises Cilium's envoy, a replaced binary, a full path, and falls back to comm", () => {
    expect(isEnvoy({ exe: "/usr/bin/cilium-envoy", comm: "cilium-envoy" }, names)).toBe(true);
    expect(isEnvoy({ exe: "/usr/local/bin/envoy (deleted)", comm: "envoy" }, names)).toBe(true);
    expect(isEnvoy({ exe: "/opt/proxy/bin/proxy", comm: "proxy" }, ["/opt/proxy/bin/proxy"])).toBe(true);
    expect(isEnvoy({ exe: "/usr/local/bin/pilot-agent", comm: "envoy" }, names)).toBe(false);
    expect(isEnvoy({ exe: null, comm: "envoy" }, names)).toBe(true);
  });
  it("opens a deleted binary through /proc/PID/exe", () => {
    expect(exePath(11, "/usr/local/bin/envoy (deleted)")).toBe("/proc/11/exe");
    expect(exePath(11, "/usr/local/bin/envoy")).toBe("/usr/local/bin/envoy");
  });
});
