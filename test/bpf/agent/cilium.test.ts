// The agent in front of Cilium's Envoy entrypoint, with the command and args of the
// cilium-envoy container exactly as Cilium's chart renders them (test/fixtures/cilium).
// There is no pilot-agent: /usr/bin/cilium-envoy-starter execs /usr/bin/cilium-envoy in
// its own process, so the agent's command *is* Envoy after the exec, and Envoy runs as
// root (the chart sets no runAsUser) on the host network. Stand-ins here: a starter that
// execs the same way (a shell script) and the fixture copied as cilium-envoy, which reads
// Cilium's one-word args ("-c FILE") and takes its own flags from HOOKPOINT_FIXTURE_ARGS.
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { fixtureUrl } from "../../support/pods.js";
import { FIXTURE, bpfSkipReason, load, pairsRecords, pairsSum, scriptRunning, startAgent, waitFor, type AgentProcess } from "./support.js";

interface Container {
  name: string;
  command: string[];
  args: string[];
  securityContext?: { runAsUser?: number };
}
const daemonSet = parse(readFileSync(fixtureUrl("cilium/cilium-envoy-daemonset.yaml"), "utf8")) as { spec: { template: { spec: { containers: Container[] } } } };
const ciliumEnvoy = daemonSet.spec.template.spec.containers.find((c) => c.name === "cilium-envoy")!;

const skip = bpfSkipReason();

describe("hookpoint agent in front of cilium-envoy-starter", () => {
  let dir = "";
  let agent: AgentProcess | undefined;
  afterAll(() => {
    agent?.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("finds the Envoy the starter execs (the command itself), running as root, and traces it", async (ctx) => {
    if (skip) return ctx.skip(skip);
    dir = mkdtempSync(join(tmpdir(), "hookpoint-cilium-"));
    chmodSync(dir, 0o755);
    mkdirSync(join(dir, "usr/bin"), { recursive: true });
    const envoy = join(dir, "usr/bin/cilium-envoy");
    copyFileSync(FIXTURE.envoy, envoy);
    chmodSync(envoy, 0o755);
    const starter = join(dir, ciliumEnvoy.command[0]!);
    writeFileSync(starter, `#!/bin/sh\n# stand-in for cilium-envoy-starter: drop the "--", exec Envoy in this process\n[ "$1" = "--" ] && shift\nexec "$(dirname "$0")/cilium-envoy" "$@"\n`);
    chmodSync(starter, 0o755);
    expect(ciliumEnvoy.securityContext?.runAsUser).toBeUndefined();
    const portFile = join(dir, "port");
    const a = (agent = startAgent(
      ["--output", join(dir, "out"), "--interval", "3600", "--scripts", "hookpoint-pairs", "--proxy-uid", "0", "--proxy-gid", "0"],
      [starter, ...ciliumEnvoy.args],
      { HOOKPOINT_FIXTURE_ARGS: `--port-file ${portFile}` },
    ));
    const s = await scriptRunning(a, "hookpoint-pairs", "hookpoint-pairs running on cilium-envoy");
    expect(s.envoy?.binary).toBe(envoy);
    expect(s.envoy?.pid).toBe(s.command.pid);
    expect(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${s.envoy!.pid}/status`, "utf8"))?.[1]).toBe("0");
    expect(readFileSync(`/proc/${s.envoy!.pid}/cmdline`, "utf8").split("\0").filter(Boolean).slice(1)).toEqual(ciliumEnvoy.args.slice(1));
    const port = await waitFor("the fixture's port", 10_000, () => {
      try {
        return Number(readFileSync(portFile, "utf8")) || undefined;
      } catch {
        return undefined;
      }
    });
    expect(await load(port, 30, 2)).toBe(30);
    a.child.kill("SIGTERM");
    const exit = await Promise.race([a.exited, new Promise<null>((r) => setTimeout(() => r(null), 30_000))]);
    // With no pilot-agent in between, the agent's SIGTERM reaches Envoy itself.
    expect(exit).toEqual({ code: 0, signal: null });
    expect(a.stderr).toContain("envoy: served 30 requests");
    expect(pairsSum(pairsRecords(join(dir, "out"), a), "@hookpoint_latency_ns", "Filters")).toBe(30);
  });
});
