// The least-privilege profile's capability set, proven: the agent runs as root with exactly
// SETUID, SETGID, KILL, SYS_PTRACE and SYS_ADMIN (as a pod with privileged: false and
// capabilities.drop [ALL] gets them), starts the fixture proxy as 1337:1337 and attaches
// the default scripts. Without any one of them the preflight names the missing capability
// and the proxy still runs and still receives SIGTERM.
import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LEAST_PRIVILEGE_CAPABILITIES, parseKernelVersion, uprobesNeedSysAdmin } from "../../../src/privilege.js";
import { AgentProcess, FIXTURE, ROOT, bpfSkipReason, descendantsOf, load, waitFor, type AgentStatusJson } from "./support.js";

const kernel = parseKernelVersion(readFileSync("/proc/sys/kernel/osrelease", "utf8"));
const skip = bpfSkipReason() ?? (kernel && uprobesNeedSysAdmin(kernel) ? null : "this kernel does not carry the CVE-2025-38466 fix; the set proven here is the one for kernels that do");

/** `hookpoint agent` as root with exactly `caps` (bounding, inheritable and ambient sets). */
function startWithCapabilities(caps: readonly string[], agentArgs: string[], command: string[]): AgentProcess {
  const set = ["-all", ...caps.map((c) => `+${c.toLowerCase()}`)].join(",");
  const child = spawn(
    "setpriv",
    [`--inh-caps=${set}`, `--ambient-caps=${set}`, `--bounding-set=${set}`, "--", process.execPath, "--import", "tsx", join(ROOT, "src/cli/main.ts"), "agent", "--metrics-host", "127.0.0.1", "--metrics-port", "0", ...agentArgs, "--", ...command],
    { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
  );
  return new AgentProcess(child);
}

function procStatus(pid: number): { uid: string; gid: string; capEff: string } {
  const s = readFileSync(`/proc/${pid}/status`, "utf8");
  return { uid: /^Uid:\s+(\d+)/m.exec(s)![1]!, gid: /^Gid:\s+(\d+)/m.exec(s)![1]!, capEff: /^CapEff:\s+(\w+)/m.exec(s)![1]! };
}

/** The fixture Envoy below the agent (found from the host, whatever the agent could see). */
function envoyBelow(pid: number): number | undefined {
  return descendantsOf(pid).find((k) => {
    try {
      return readFileSync(`/proc/${k}/comm`, "utf8").trim() === "envoy";
    } catch {
      return false; // gone
    }
  });
}

function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(d, 0o777);
  return d;
}

const DEFAULTS = ["envoy-event-loop", "envoy-request-flow", "hookpoint-pairs"];

/** Runs the fixture under `caps`; `check` sees the agent once the proxy serves; then SIGTERM must end it with the proxy's code. */
async function withCapabilities(caps: readonly string[], ready: (s: AgentStatusJson) => boolean, check: (a: AgentProcess, s: AgentStatusJson, envoy: number) => Promise<void> | void): Promise<void> {
  const dir = tempDir("hookpoint-caps-");
  const portFile = join(dir, "port");
  const a = startWithCapabilities(caps, ["--output", join(dir, "out")], [FIXTURE.pilotAgent, "--", "--port-file", portFile, "--exit-code", "5"]);
  try {
    const port = await waitFor("the fixture's port", 60_000, () => Number(readFileSync(portFile, "utf8").trim()) || undefined, () => a.logText());
    expect(await load(port, 5, 1)).toBe(5);
    const s = await waitFor("the agent's status", 90_000, async () => {
      const st = a.port !== null ? await a.status() : null;
      return st && st.preflight.length > 0 && ready(st) ? st : undefined;
    }, () => a.logText());
    const envoy = envoyBelow(a.child.pid!)!;
    await check(a, s, envoy);
    // SIGTERM in a steady state: once the agent has looked at Envoy (traced it, or said why not).
    await waitFor("the agent done with Envoy", 60_000, async () => {
      const st = await a.status();
      return st.envoy !== null || failed(st, "capabilities") !== undefined || a.logs.some((l) => l.msg === "envoy found but its binary cannot be read; tracing waits");
    }, () => a.logText());
    a.child.kill("SIGTERM");
    const exit = await Promise.race([a.exited, new Promise<null>((r) => setTimeout(() => r(null), 30_000))]);
    expect(exit, a.logText()).toEqual({ code: 5, signal: null });
    expect(a.stderr).toContain(`envoy: stopped by signal 15 from pid ${s.command.pid}`);
  } finally {
    a.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

const failed = (s: AgentStatusJson, name: string) => s.preflight.find((c) => c.name === name && !c.ok);

describe("the least-privilege capability set, under setpriv", () => {
  it("is SETUID, SETGID, KILL, SYS_PTRACE and SYS_ADMIN", () => {
    expect(LEAST_PRIVILEGE_CAPABILITIES).toEqual(["SETUID", "SETGID", "KILL", "SYS_PTRACE", "SYS_ADMIN"]);
  });

  it("starts the proxy as 1337:1337 without capabilities and attaches the default scripts", async (ctx) => {
    if (skip) return ctx.skip(skip);
    await withCapabilities(LEAST_PRIVILEGE_CAPABILITIES, (s) => DEFAULTS.every((n) => s.scripts.find((x) => x.name === n)?.state === "running"), (_a, s, envoy) => {
      expect(procStatus(envoy)).toEqual({ uid: "1337", gid: "1337", capEff: "0000000000000000" });
      // In capability-number order, as /proc/self/status has them.
      expect(s.system?.capabilities).toEqual(["KILL", "SETGID", "SETUID", "SYS_PTRACE", "SYS_ADMIN"]);
      expect(s.preflight.filter((c) => !c.ok)).toEqual([]);
      expect(s.envoy?.pid).toBe(envoy);
    });
  });

  it("without SYS_ADMIN: the preflight names it, tracing waits, the proxy runs as 1337", async (ctx) => {
    if (skip) return ctx.skip(skip);
    await withCapabilities(LEAST_PRIVILEGE_CAPABILITIES.filter((c) => c !== "SYS_ADMIN"), (s) => failed(s, "capabilities") !== undefined, (a, s, envoy) => {
      const c = failed(s, "capabilities")!;
      expect(c.detail).toMatch(/uprobes on \d+\.\d+\.\d+ need SYS_ADMIN: missing SYS_ADMIN$/);
      expect(c.fix).toBe("add SYS_ADMIN to the profile's capabilities (or privileged: true)");
      expect(procStatus(envoy)).toMatchObject({ uid: "1337", gid: "1337" });
      expect(a.logs.some((l) => l.msg === "preflight check failed" && l.check === "capabilities" && l.fix === c.fix)).toBe(true);
    });
  });

  it("without SYS_PTRACE: Envoy's binary is unreadable, and the log and the preflight say why", async (ctx) => {
    if (skip) return ctx.skip(skip);
    await withCapabilities(LEAST_PRIVILEGE_CAPABILITIES.filter((c) => c !== "SYS_PTRACE"), (s) => failed(s, "envoy-access")?.fix !== undefined, async (a, s, envoy) => {
      expect(failed(s, "envoy-access")?.fix).toBe("add SYS_PTRACE to the profile's capabilities");
      expect(procStatus(envoy)).toMatchObject({ uid: "1337", gid: "1337" });
      const line = await waitFor("the log line", 20_000, () => a.logs.find((l) => l.msg === "envoy found but its binary cannot be read; tracing waits"));
      expect(line).toMatchObject({ pid: envoy, fix: "add SYS_PTRACE to the profile's capabilities" });
      expect(String(line.problem)).toContain("the agent lacks CAP_SYS_PTRACE");
    });
  });

  for (const cap of ["KILL", "SETUID", "SETGID"]) {
    it(`without ${cap}: the preflight names it and the proxy runs as the agent's user, so SIGTERM still reaches it`, async (ctx) => {
      if (skip) return ctx.skip(skip);
      await withCapabilities(LEAST_PRIVILEGE_CAPABILITIES.filter((c) => c !== cap), (s) => failed(s, "proxy-user") !== undefined, (a, s, envoy) => {
        const c = failed(s, "proxy-user")!;
        expect(c.detail).toMatch(new RegExp(`^missing ${cap} \\(`));
        expect(c.fix).toBe(`add ${cap} to the profile's capabilities`);
        expect(procStatus(envoy).uid).toBe("0");
        expect(s.command).toMatchObject({ uid: 0, gid: null });
        expect(a.logs.find((l) => l.msg?.startsWith("cannot run the proxy as its own user"))).toMatchObject({ missing: [cap], fix: `add ${cap} to the profile's capabilities` });
      });
    });
  }
});
