// `hookpoint check --local` on this machine: its real kernel, capabilities,
// bpftrace and tracefs, through the agent's own preflight; then the same
// command with capabilities taken away (setpriv), as another user, and with a
// bpftrace that is not there: each failing line exact, exit code 1.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { formatKernel, parseKernelVersion, uprobesNeedSysAdmin } from "../../../src/privilege.js";
import { NOBODY, nobodySkipReason, runCli } from "../../support/cli.js";

const osrelease = readFileSync("/proc/sys/kernel/osrelease", "utf8").trim();
const version = spawnSync("bpftrace", ["--version"], { encoding: "utf8" });
const skip =
  process.getuid?.() !== 0
    ? "not root: the agent's preflight needs root"
    : version.error || version.status !== 0
      ? "bpftrace not installed (scripts/setup/20-bpftrace.sh installs it)"
      : spawnSync("setpriv", ["--version"]).status !== 0
        ? "setpriv (util-linux) is not installed"
        : null;
const tracefsMounted = (() => {
  try {
    return readdirSync("/sys/kernel/tracing").includes("events");
  } catch {
    return false;
  }
})();

describe.skipIf(skip !== null)(`hookpoint check --local on this machine${skip ? ` (skipped: ${skip})` : ""}`, () => {
  it("as root with every capability: every check passes, exit code 0", () => {
    const r = runCli(["check", "--local"]);
    expect(r.stderr).toBe("");
    const lines = r.stdout.trimEnd().split("\n");
    const [major = 0, minor = 0] = /v(\d+)\.(\d+)/.exec(version.stdout)?.slice(1).map(Number) ?? [];
    const pids = major > 0 || minor >= 23 ? "reports pids of its own pid namespace" : "reports host pids";
    expect(lines[0]).toMatch(new RegExp(`^✔ kernel: ${osrelease.replace(/[.+]/g, "\\$&")}: uprobes `));
    expect(lines.slice(1)).toEqual([
      "✔ root: running as uid 0",
      expect.stringMatching(/^✔ capabilities: effective capabilities: .*\bSYS_ADMIN\b/),
      tracefsMounted
        ? "✔ tracefs: /sys/kernel/tracing mounted"
        : "✔ tracefs: /sys/kernel/tracing is not mounted here; the agent mounts it (it has CAP_SYS_ADMIN), or mount it: mount -t tracefs nodev /sys/kernel/tracing",
      `✔ bpftrace: ${version.stdout.trim()} (${pids})`,
      expect.stringMatching(/^✔ btf: \/sys\/kernel\/btf\/vmlinux (present|missing: .* \(not needed by the bundled scripts\))$/),
      "all 6 checks passed",
    ]);
    expect(r.code).toBe(0);
  });

  it("without SYS_ADMIN (only KILL left): the capabilities line fails and names what is missing", () => {
    const caps = "-all,+kill";
    // Kernels without the CVE-2025-38466 fix also accept BPF and PERFMON.
    const kernelAlternative = uprobesNeedSysAdmin(parseKernelVersion(osrelease)!) ? "" : " (or BPF and PERFMON on this kernel)";
    const r = spawnSync("setpriv", [`--inh-caps=${caps}`, `--ambient-caps=${caps}`, `--bounding-set=${caps}`, "--", process.execPath, "--import", "tsx", "src/cli/main.ts", "check", "--local"], {
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1" },
      timeout: 60_000,
    });
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines.slice(2, 4)).toEqual([
      `✘ capabilities: effective capabilities: KILL; uprobes on ${formatKernel(parseKernelVersion(osrelease)!)} need SYS_ADMIN${kernelAlternative}: missing SYS_ADMIN`,
      "  fix: add SYS_ADMIN to the profile's capabilities (or privileged: true)",
    ]);
    expect(r.status).toBe(1);
  });

  it("as another user: not root", (ctx) => {
    const why = nobodySkipReason();
    if (why !== null) return ctx.skip(why);
    const r = runCli(["check", "--local"], NOBODY);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines.slice(1, 3)).toEqual(["✘ root: running as uid 65534; bpftrace runs only as root", "  fix: runAsUser: 0 in the proxy container's securityContext (the webhook sets it)"]);
    expect(r.code).toBe(1);
  });

  it("a bpftrace that is not there", () => {
    const r = runCli(["check", "--local", "--bpftrace", "/nonexistent/bpftrace"]);
    expect(r.stdout).toContain("✘ bpftrace: /nonexistent/bpftrace not found (install bpftrace in the image)\n  fix: apt-get install bpftrace in the tracing image, or set HOOKPOINT_BPFTRACE\n");
    expect(r.stdout.trimEnd().split("\n").pop()).toBe("1 of 6 checks failed");
    expect(r.code).toBe(1);
  });
});
