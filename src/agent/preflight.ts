// Preflight: what tracing needs from the node and from the container, and what the agent
// found: kernel, effective capabilities, bpftrace and its features, BTF, tracefs. Each
// failed check is one log line and one /status entry naming the fix; none of them stops
// the proxy. Checks that can change while the agent runs (tracefs mounted, Envoy's binary
// readable) are evaluated again on every /status and /metrics request (see live()).
import { execFile } from "node:child_process";
import { access, open, readFile, readdir, stat } from "node:fs/promises";
import { release } from "node:os";
import type { Logger } from "pino";
import { AGENT_CAPABILITY_USES, FIXED_KERNELS_TEXT, effectiveCapabilities, formatKernel, parseKernelVersion, uprobeCapabilityChoices, uprobesNeedSysAdmin } from "../privilege.js";
import { parseBpftraceVersion, versionAtLeast } from "./bpftrace/program.js";
import { errnoText } from "../errno-text.js";

export type CheckName = "kernel" | "root" | "capabilities" | "proxy-user" | "envoy-access" | "tracefs" | "bpftrace" | "btf" | "scripts";

export interface CheckResult {
  name: CheckName;
  ok: boolean;
  detail: string;
  /** What to do about a failed check (capability, volume, package). */
  fix?: string;
}

export interface SystemInfo {
  /** `uname -r`. */
  kernel: string;
  /** Whether uprobes take CAP_SYS_ADMIN on this kernel (CVE-2025-38466 fix, or before 5.8); null when the version is unreadable. */
  uprobesNeedSysAdmin: boolean | null;
  /** Effective capabilities of the agent; null when /proc/self/status has none. */
  capabilities: string[] | null;
  bpftrace: { path: string; version: string | null; features: Record<string, boolean> };
  btf: boolean;
  tracefs: { path: string; mounted: boolean };
}

export interface PreflightResult {
  /** Tracing can start (BTF is not required). */
  ok: boolean;
  checks: CheckResult[];
  bpftraceVersion: [number, number, number] | null;
  system: SystemInfo;
}

export interface PreflightOptions {
  bpftrace: string;
  tracefs: string;
  btf: string;
  uid: number;
  /** The uid the proxy runs as, when it differs from the agent's (capabilities then matter). */
  proxyUid: number | null;
  log: Logger;
  procRoot?: string;
  kernelRelease?: string;
  /** Runs a command; injectable for tests. */
  run?: (file: string, args: string[]) => Promise<{ stdout: string; stderr: string }>;
}

const defaultRun = (file: string, args: string[]): Promise<{ stdout: string; stderr: string }> =>
  new Promise((resolve, reject) => {
    execFile(file, args, { timeout: 20_000 }, (err, stdout, stderr) => {
      if (err) reject(Object.assign(err, { stderr }));
      else resolve({ stdout, stderr });
    });
  });

const BPFTRACE_PATH_FIX = "give the path of the bpftrace program (--bpftrace, or HOOKPOINT_BPFTRACE for the agent)";

/** How a run of a program failed, in one line: its exit code or signal and the first line it wrote on stderr. */
function runFailure(err: unknown): string {
  const e = err as { code?: unknown; signal?: unknown; killed?: boolean; stderr?: unknown; message: string };
  const said = typeof e.stderr === "string" ? (e.stderr.trim().split("\n")[0] ?? "") : "";
  const how = e.killed && typeof e.signal === "string" ? `timed out (killed with ${e.signal})` : typeof e.signal === "string" ? `killed by ${e.signal}` : typeof e.code === "number" ? `exit code ${e.code}` : errnoText(err);
  return said ? `${how}: ${said}` : how;
}

/** Why exec refused `path` (EACCES) in words: a directory, a file without execute permission, or neither. */
async function whyNotRunnable(path: string): Promise<string> {
  // A bare name was looked up in PATH: which entry refused is not known here.
  const info = path.includes("/") ? await stat(path).catch(() => undefined) : undefined;
  if (info?.isDirectory()) return `${path} is a directory, not the bpftrace program`;
  if (info && (info.mode & 0o111) === 0) return `${path} is not executable (mode ${(info.mode & 0o7777).toString(8).padStart(4, "0")})`;
  return `${path} cannot be run: permission denied (a directory on its path that cannot be searched, or a file system mounted noexec)`;
}

/** The agent's effective capabilities, or null where /proc says nothing. */
export async function readCapabilities(procRoot = "/proc"): Promise<string[] | null> {
  try {
    return effectiveCapabilities(await readFile(`${procRoot}/self/status`, "latin1"));
  } catch {
    return null;
  }
}

export async function preflight(o: PreflightOptions): Promise<PreflightResult> {
  const run = o.run ?? defaultRun;
  const checks: CheckResult[] = [];
  const kernel = o.kernelRelease ?? release();
  const version = parseKernelVersion(kernel);
  const needSysAdmin = version ? uprobesNeedSysAdmin(version) : null;
  checks.push(
    version
      ? { name: "kernel", ok: true, detail: `${kernel}: ${needSysAdmin ? `uprobes need CAP_SYS_ADMIN (${version[0] < 5 || (version[0] === 5 && version[1] < 8) ? "no CAP_BPF/CAP_PERFMON before 5.8" : `the CVE-2025-38466 fix, in ${FIXED_KERNELS_TEXT}`})` : "uprobes attach with CAP_SYS_ADMIN, or CAP_BPF and CAP_PERFMON"}` }
      : { name: "kernel", ok: false, detail: `cannot read a version from the kernel release "${kernel}"; assuming uprobes need CAP_SYS_ADMIN`, fix: "none needed if SYS_ADMIN is granted" },
  );

  const root = o.uid === 0;
  checks.push(root ? { name: "root", ok: true, detail: "running as uid 0" } : { name: "root", ok: false, detail: `running as uid ${o.uid}; bpftrace runs only as root`, fix: "runAsUser: 0 in the proxy container's securityContext (the webhook sets it)" });

  const caps = await readCapabilities(o.procRoot);
  checks.push(capabilityCheck(caps, version));
  if (o.proxyUid !== null) checks.push(...proxyChecks(caps, o.proxyUid));

  const tracefs = await tracefsCheck(o.tracefs, caps, run);
  checks.push(tracefs);

  let bpftraceVersion: [number, number, number] | null = null;
  let features: Record<string, boolean> = {};
  try {
    const { stdout } = await run(o.bpftrace, ["--version"]);
    // bpftrace prints "bpftrace v0.23.5"; another program's version must not pass for it.
    const said = stdout.trim().split("\n")[0] ?? "";
    const isBpftrace = /^bpftrace\b/.test(said);
    bpftraceVersion = isBpftrace ? parseBpftraceVersion(said) : null;
    if (!isBpftrace) {
      checks.push({ name: "bpftrace", ok: false, detail: `${o.bpftrace} is not bpftrace: its --version printed ${JSON.stringify(said)}`, fix: BPFTRACE_PATH_FIX });
    } else if (bpftraceVersion) {
      features = await run(o.bpftrace, ["--info"]).then((r) => parseBpftraceFeatures(`${r.stdout}\n${r.stderr}`), () => ({}));
      checks.push({ name: "bpftrace", ok: true, detail: `${stdout.trim()}${versionAtLeast(bpftraceVersion, "0.23") ? " (reports pids of its own pid namespace)" : " (reports host pids)"}` });
    } else {
      checks.push({ name: "bpftrace", ok: false, detail: `cannot read a version from "${stdout.trim()}"`, fix: "install bpftrace 0.17 or newer in the image" });
    }
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    checks.push(
      e.code === "ENOENT"
        ? { name: "bpftrace", ok: false, detail: `${o.bpftrace} not found (install bpftrace in the image)`, fix: "apt-get install bpftrace in the tracing image, or set HOOKPOINT_BPFTRACE" }
        : e.code === "EACCES"
          ? { name: "bpftrace", ok: false, detail: await whyNotRunnable(o.bpftrace), fix: BPFTRACE_PATH_FIX }
          : { name: "bpftrace", ok: false, detail: `${o.bpftrace} --version failed: ${runFailure(err)}`, fix: "check the bpftrace installation in the image" },
    );
  }

  const btf = await exists(o.btf);
  checks.push(btf ? { name: "btf", ok: true, detail: `${o.btf} present` } : { name: "btf", ok: false, detail: `${o.btf} missing: the kernel has no BTF (CONFIG_DEBUG_INFO_BTF); scripts using kernel types will fail`, fix: "a kernel built with CONFIG_DEBUG_INFO_BTF=y (the bundled scripts do not need it)" });

  const system: SystemInfo = {
    kernel,
    uprobesNeedSysAdmin: needSysAdmin,
    capabilities: caps,
    bpftrace: { path: o.bpftrace, version: bpftraceVersion?.join(".") ?? null, features },
    btf,
    tracefs: { path: o.tracefs, mounted: tracefs.ok },
  };
  o.log.info({ ...system, bpftrace: system.bpftrace.version, bpftraceFeatures: features }, "preflight");
  for (const c of checks) {
    if (c.ok) o.log.info({ check: c.name, detail: c.detail }, "preflight check passed");
    else o.log.error({ check: c.name, problem: c.detail, fix: c.fix }, "preflight check failed");
  }
  // BTF only matters for scripts that use kernel types; a proxy running as another user
  // only changes how Envoy is found (checked again then).
  const blocking: CheckName[] = ["root", "capabilities", "tracefs", "bpftrace"];
  return { ok: checks.every((c) => c.ok || !blocking.includes(c.name)), checks, bpftraceVersion, system };
}

/** The checks that can change while the agent runs, evaluated now. */
export async function liveChecks(o: { tracefs: string; envoy: { pid: number; binary: string } | null; procRoot?: string }): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  out.push(
    (await hasTracefs(o.tracefs))
      ? { name: "tracefs", ok: true, detail: `${o.tracefs} mounted` }
      : { name: "tracefs", ok: false, detail: `${o.tracefs} is not mounted (bpftrace cannot attach probes)`, fix: "mount the hookpoint-tracefs volume (hostPath /sys/kernel/tracing), or mount -t tracefs nodev /sys/kernel/tracing" },
  );
  if (o.envoy) out.push(await envoyAccess(o.envoy.pid, o.envoy.binary, o.procRoot ?? "/proc"));
  return out;
}

/** Whether the agent can see Envoy's binary: /proc/<pid>/exe and the file itself. */
export async function envoyAccess(pid: number, binary: string, procRoot = "/proc"): Promise<CheckResult> {
  try {
    // Opening it is the check (following /proc/<pid>/exe is a ptrace access check).
    await (await open(`${procRoot}/${pid}/exe`, "r")).close();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EACCES" || code === "EPERM") {
      return { name: "envoy-access", ok: false, detail: `${procRoot}/${pid}/exe of Envoy (pid ${pid}) is not readable (${code}): it runs as another user and the agent lacks CAP_SYS_PTRACE`, fix: "add SYS_PTRACE to the profile's capabilities" };
    }
    return { name: "envoy-access", ok: false, detail: `Envoy (pid ${pid}) is gone (${code})` };
  }
  return (await exists(binary)) ? { name: "envoy-access", ok: true, detail: `Envoy (pid ${pid}) and ${binary} readable` } : { name: "envoy-access", ok: false, detail: `${binary} is not readable`, fix: "check the proxy image's Envoy binary" };
}

/** `bpftrace --info`'s yes/no lines as feature → boolean (keys in snake_case). */
export function parseBpftraceFeatures(text: string): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const m of text.matchAll(/([A-Za-z_][\w:. -]*?)(?:\s*\([^)]*\))?:\s+(yes|no)\b/g)) {
    out[m[1]!.trim().toLowerCase().replace(/[^a-z0-9]+/g, "_")] = m[2] === "yes";
  }
  return out;
}

function capabilityCheck(caps: string[] | null, version: ReturnType<typeof parseKernelVersion>): CheckResult {
  if (caps === null) return { name: "capabilities", ok: true, detail: "effective capabilities unknown (no CapEff in /proc/self/status)" };
  const choices = version ? uprobeCapabilityChoices(version) : [["SYS_ADMIN"]];
  const have = `effective capabilities: ${caps.join(", ") || "none"}`;
  if (choices.some((c) => c.every((x) => caps.includes(x)))) return { name: "capabilities", ok: true, detail: have };
  const missing = choices[0]!.filter((c) => !caps.includes(c));
  const alt = choices[1] ? ` (or ${choices[1].join(" and ")} on this kernel)` : "";
  return {
    name: "capabilities",
    ok: false,
    detail: `${have}; uprobes on ${version ? formatKernel(version) : "this kernel"} need ${choices[0]!.join(" and ")}${alt}: missing ${missing.join(", ")}`,
    fix: `add ${missing.join(", ")} to the profile's capabilities (or privileged: true)`,
  };
}

function proxyChecks(caps: string[] | null, proxyUid: number): CheckResult[] {
  if (caps === null) return [];
  const missing = ["SETUID", "SETGID", "KILL"].filter((c) => !caps.includes(c));
  const user: CheckResult =
    missing.length === 0
      ? { name: "proxy-user", ok: true, detail: `SETUID, SETGID and KILL present: the proxy runs as uid ${proxyUid} and receives forwarded signals` }
      : {
          name: "proxy-user",
          ok: false,
          detail: `missing ${missing.join(", ")} (${missing.map((c) => `to ${AGENT_CAPABILITY_USES[c]}`).join("; ")}): the proxy runs as the agent's own user instead of ${proxyUid}`,
          fix: `add ${missing.join(", ")} to the profile's capabilities`,
        };
  const ptrace: CheckResult = caps.includes("SYS_PTRACE")
    ? { name: "envoy-access", ok: true, detail: `SYS_PTRACE present: Envoy's /proc/<pid>/exe is readable although it runs as uid ${proxyUid}` }
    : { name: "envoy-access", ok: missing.length > 0, detail: missing.length > 0 ? "SYS_PTRACE missing, not needed while the proxy runs as the agent's user" : `SYS_PTRACE missing: /proc/<pid>/exe of Envoy (uid ${proxyUid}) is unreadable, so Envoy cannot be found`, ...(missing.length > 0 ? {} : { fix: "add SYS_PTRACE to the profile's capabilities" }) };
  return [user, ptrace];
}

async function tracefsCheck(dir: string, caps: string[] | null, run: NonNullable<PreflightOptions["run"]>): Promise<CheckResult> {
  const fix = "mount the hookpoint-tracefs volume (hostPath /sys/kernel/tracing), or grant SYS_ADMIN so the agent mounts it";
  if (await hasTracefs(dir)) return { name: "tracefs", ok: true, detail: `${dir} mounted` };
  if (caps !== null && !caps.includes("SYS_ADMIN")) return { name: "tracefs", ok: false, detail: `${dir} is not mounted, and mounting it needs CAP_SYS_ADMIN`, fix };
  try {
    await run("mount", ["-t", "tracefs", "nodev", dir]);
  } catch (err) {
    const stderr = String((err as { stderr?: string }).stderr ?? "").trim();
    return { name: "tracefs", ok: false, detail: `${dir} is not mounted and mounting it failed: ${stderr || (err as Error).message}`, fix };
  }
  return (await hasTracefs(dir)) ? { name: "tracefs", ok: true, detail: `${dir} was not mounted; mounted it` } : { name: "tracefs", ok: false, detail: `${dir}: mount succeeded but no tracefs contents appeared`, fix };
}

async function hasTracefs(dir: string): Promise<boolean> {
  try {
    const entries = await readdir(dir);
    return entries.includes("events") || entries.includes("uprobe_events") || entries.includes("available_events");
  } catch {
    return false;
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
