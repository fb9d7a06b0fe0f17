// The agent in front of the real pilot-agent (built from istio.io/istio by
// scripts/istio/build.sh), with the fixture standing where pilot-agent starts Envoy.
// pilot-agent runs offline, as the test sets it up in a temporary directory laid out like
// the proxyv2 image (its working directory there is /):
//   var/lib/istio/envoy/envoy_bootstrap_tmpl.json  Istio's bootstrap template, from the module
//   var/run/secrets/istio/root-cert.pem            a test CA (pilot-agent refuses to start without one)
//   etc/istio/proxy/                               where it renders envoy-rev.json
// and PROXY_CONFIG sets binaryPath (the fixture), the admin and status ports (free ones),
// drainDuration and terminationDrainDuration, and a discoveryAddress nothing listens on:
// no xDS and no certificates (pilot-agent logs its failed CA requests and carries on;
// Envoy never asks for either). The fixture takes its own flags from
// HOOKPOINT_FIXTURE_ARGS, which pilot-agent passes on with its environment, and listens on
// the admin port, so pilot-agent's POST /drain_listeners reaches it.
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../../scripts/cluster/processes.js";
import { createCertificateAuthority } from "../../../src/certs/generate.js";
import { istioBinaries, IstioUnavailableError, type IstioBinaries } from "../../e2e/support/istio-binaries.js";
import { FIXTURE, bpfSkipReason, load, pairsRecords, pairsSum, scriptRunning, startAgent, waitFor, type AgentProcess } from "./support.js";

const DRAIN_DURATION_S = 2; // Envoy's --drain-time-s, from ProxyConfig.drainDuration
const TERMINATION_DRAIN_S = 3; // how long pilot-agent lets Envoy drain after SIGTERM

let skip: string | null = bpfSkipReason();
let istio: IstioBinaries | undefined;
beforeAll(async () => {
  if (skip) return;
  try {
    istio = await istioBinaries();
  } catch (e) {
    if (!(e instanceof IstioUnavailableError)) throw e;
    skip = `Istio's pilot-agent cannot be built on this machine: ${e.message}`;
  }
}, 30 * 60_000);

interface Layout {
  dir: string;
  pilotAgent: string;
  portFile: string;
  out: string;
  env: Record<string, string>;
}

/** The image's layout for pilot-agent, owned by uid 1337 (it writes there), and its environment. */
async function podLayout(bin: IstioBinaries, opts: { rootCert: boolean }): Promise<Layout> {
  const dir = mkdtempSync(join(tmpdir(), "hookpoint-pilot-agent-"));
  for (const d of ["var/lib/istio/envoy", "var/run/secrets/istio", "etc/istio/proxy", "bin", "out"]) mkdirSync(join(dir, d), { recursive: true });
  copyFileSync(bin.envoyBootstrap, join(dir, "var/lib/istio/envoy/envoy_bootstrap_tmpl.json"));
  // Copied: the cache under root's home is not readable by uid 1337.
  const pilotAgent = join(dir, "bin", "pilot-agent");
  copyFileSync(bin.pilotAgent, pilotAgent);
  chmodSync(pilotAgent, 0o755);
  if (opts.rootCert) writeFileSync(join(dir, "var/run/secrets/istio/root-cert.pem"), createCertificateAuthority({ commonName: "hookpoint test mesh CA" }).certPem);
  for (const d of ["", "var", "var/lib", "var/lib/istio", "var/lib/istio/envoy", "var/run", "var/run/secrets", "var/run/secrets/istio", "etc", "etc/istio", "etc/istio/proxy", "bin"]) chownSync(join(dir, d), 1337, 1337);
  const admin = await freePort();
  const portFile = join(dir, "envoy.port");
  const proxyConfig = {
    binaryPath: FIXTURE.envoy,
    configPath: join(dir, "etc/istio/proxy"),
    proxyAdminPort: admin,
    statusPort: await freePort(),
    drainDuration: `${DRAIN_DURATION_S}s`,
    terminationDrainDuration: `${TERMINATION_DRAIN_S}s`,
    discoveryAddress: `127.0.0.1:${await freePort()}`,
  };
  return {
    dir,
    pilotAgent,
    portFile,
    out: join(dir, "out"),
    env: {
      PROXY_CONFIG: JSON.stringify(proxyConfig),
      POD_NAME: "reviews-v1-7598cc9867-x2k8p",
      POD_NAMESPACE: "bookinfo",
      INSTANCE_IP: "127.0.0.1",
      SERVICE_ACCOUNT: "bookinfo-reviews",
      HOOKPOINT_FIXTURE_ARGS: `--listen 127.0.0.1:${admin} --port-file ${portFile} --concurrency 2`,
    },
  };
}

/** `cd <layout> && exec pilot-agent proxy sidecar ...`: the image's working directory, then pilot-agent itself. */
function podCommand(l: Layout): string[] {
  return ["/bin/sh", "-c", 'cd "$1" && shift && exec "$@"', "sh", l.dir, l.pilotAgent, "proxy", "sidecar", "--domain", "bookinfo.svc.cluster.local", "--meshConfig", join(l.dir, "no-mesh-config")];
}

/** argv[0] of a running process; null once it is gone (a zombie has no command line left). */
const processExe = (pid: number): string | null => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0] || null;
  } catch {
    return null;
  }
};
const parentOf = (pid: number): number => Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);

describe("hookpoint agent in front of the real pilot-agent", () => {
  let layout: Layout | undefined;
  let agent: AgentProcess | undefined;
  afterAll(() => {
    agent?.kill();
    if (layout) rmSync(layout.dir, { recursive: true, force: true });
  });

  it("pilot-agent starts the Envoy the agent traces; on SIGTERM pilot-agent drains it and the agent exits with pilot-agent's code", async (ctx) => {
    if (skip || !istio) return ctx.skip(skip ?? "no Istio binaries");
    const l = (layout = await podLayout(istio, { rootCert: true }));
    const a = (agent = startAgent(["--output", l.out, "--interval", "3600", "--scripts", "hookpoint-pairs"], podCommand(l), l.env));
    const s = await scriptRunning(a, "hookpoint-pairs", "hookpoint-pairs running on the Envoy pilot-agent started");
    const envoyPid = s.envoy!.pid;
    const pilotAgentPid = s.command.pid!;
    // The command is pilot-agent (the shell exec'd it), running as 1337, and Envoy is its child.
    expect(processExe(pilotAgentPid)).toBe(l.pilotAgent);
    expect(parentOf(envoyPid)).toBe(pilotAgentPid);
    expect(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pilotAgentPid}/status`, "utf8"))?.[1]).toBe("1337");
    expect(s.envoy!.binary).toBe(FIXTURE.envoy);
    // What pilot-agent passed to Envoy (the fixture accepts and ignores it).
    const envoyArgs = readFileSync(`/proc/${envoyPid}/cmdline`, "utf8").split("\0").filter(Boolean).slice(1);
    expect(envoyArgs.slice(0, 4)).toEqual(["-c", join(l.dir, "etc/istio/proxy/envoy-rev.json"), "--drain-time-s", String(DRAIN_DURATION_S)]);
    expect(existsSync(join(l.dir, "etc/istio/proxy/envoy-rev.json"))).toBe(true);

    const port = await waitFor("the fixture's port", 10_000, () => (existsSync(l.portFile) ? Number(readFileSync(l.portFile, "utf8")) : undefined));
    expect(await load(port, 40, 2)).toBe(40);

    const t0 = performance.now();
    a.child.kill("SIGTERM");
    // pilot-agent drains: Envoy keeps running (no signal from the agent reaches it) ...
    await new Promise((r) => setTimeout(r, (TERMINATION_DRAIN_S - 1) * 1000));
    expect(processExe(envoyPid)).toBe(FIXTURE.envoy);
    const exit = await Promise.race([a.exited, new Promise<null>((r) => setTimeout(() => r(null), 30_000))]);
    const drainMs = performance.now() - t0;
    console.log(`pilot-agent drain: SIGTERM -> agent exit ${drainMs.toFixed(0)} ms; pilot-agent terminationDrainDuration ${TERMINATION_DRAIN_S} s; Envoy --drain-time-s ${DRAIN_DURATION_S}`);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(processExe(envoyPid)).toBeNull();
    const lines = a.stderr.join("\n");
    // ... then pilot-agent ends it itself (SIGKILL): the fixture never got the SIGTERM/SIGINT it would log on.
    expect(lines).toContain("Graceful termination period complete, terminating remaining proxies.");
    expect(lines).toContain("Envoy aborted normally");
    expect(a.stderr.filter((x) => x.startsWith("envoy: served"))).toEqual([]);
    expect(a.logs.filter((x) => x.msg === "forwarding signal to the command").map((x) => [x.signal, x.pid])).toEqual([["SIGTERM", pilotAgentPid]]);
    // The final dump, written when Envoy went: the 40 requests, plus pilot-agent's POST /drain_listeners.
    expect(pairsSum(pairsRecords(l.out, a), "@hookpoint_latency_ns", "Filters")).toBe(41);
  });

  it("a pilot-agent that cannot start (no root CA in the image) exits 255, and so does the agent", async (ctx) => {
    if (skip || !istio) return ctx.skip(skip ?? "no Istio binaries");
    const l = await podLayout(istio, { rootCert: false });
    const a = startAgent(["--output", l.out, "--scripts", "hookpoint-pairs"], podCommand(l), l.env);
    try {
      const exit = await Promise.race([a.exited, new Promise<null>((r) => setTimeout(() => r(null), 30_000))]);
      expect(exit).toEqual({ code: 255, signal: null });
      expect(a.stderr.join("\n")).toContain("root CA file for CA does not exist var/run/secrets/istio/root-cert.pem");
    } finally {
      a.kill();
      rmSync(l.dir, { recursive: true, force: true });
    }
  });
});
