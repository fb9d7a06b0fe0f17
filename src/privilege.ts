// What tracing needs from the kernel and the process: Linux capabilities by name, kernel
// versions, and which capabilities attach uprobes on which kernel. Pure; shared by the
// agent's preflight and the policy's validation of least-privilege profiles.

/** Capability numbers (linux/capability.h), names without CAP_. */
const CAPABILITY_BITS: readonly string[] = [
  "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
  "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
  "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
  "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
  "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
  "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
];

/** The capability names of a `CapEff:`-style hex mask (unknown bits as `CAP_<n>`). */
export function capabilitiesOf(hexMask: string): string[] {
  const mask = BigInt(`0x${hexMask.trim() || "0"}`);
  const out: string[] = [];
  for (let bit = 0; bit < 64; bit++) {
    if ((mask >> BigInt(bit)) & 1n) out.push(CAPABILITY_BITS[bit] ?? `CAP_${bit}`);
  }
  return out;
}

/** The effective capabilities in a /proc/<pid>/status text, or null when it has no CapEff line. */
export function effectiveCapabilities(procStatus: string): string[] | null {
  const m = /^CapEff:\s*([0-9a-fA-F]+)\s*$/m.exec(procStatus);
  return m ? capabilitiesOf(m[1]!) : null;
}

export type KernelVersion = readonly [number, number, number];

/** `6.18.44-fc-v1252` → [6, 18, 44]; null when it does not start with a version. */
export function parseKernelVersion(text: string): KernelVersion | null {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(text.trim());
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : null;
}

export function compareKernel(a: KernelVersion, b: KernelVersion): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

export function formatKernel(v: KernelVersion): string {
  return v.join(".");
}

const LAST = 1e9;
/**
 * Kernels that carry the fix for CVE-2025-38466 ("perf: Revert to requiring CAP_SYS_ADMIN
 * for uprobes"): on them CAP_BPF and CAP_PERFMON no longer attach a uprobe. Inclusive
 * ranges; other stable branches were out of support when the fix landed.
 */
export const UPROBE_SYS_ADMIN_KERNELS: readonly (readonly [KernelVersion, KernelVersion])[] = [
  [[5, 10, 240], [5, 10, LAST]],
  [[5, 15, 189], [5, 15, LAST]],
  [[6, 1, 146], [6, 1, LAST]],
  [[6, 6, 99], [6, 6, LAST]],
  [[6, 12, 39], [6, 12, LAST]],
  [[6, 16, 0], [LAST, 0, 0]],
];
/** CAP_BPF and CAP_PERFMON exist from 5.8; before, only CAP_SYS_ADMIN allows BPF tracing. */
const SPLIT_CAPABILITIES: KernelVersion = [5, 8, 0];
/** From 5.11 BPF memory is charged to the cgroup, not to RLIMIT_MEMLOCK (which bpftrace raises). */
const MEMCG_BPF: KernelVersion = [5, 11, 0];

export const FIXED_KERNELS_TEXT = "5.10.240+, 5.15.189+, 6.1.146+, 6.6.99+, 6.12.39+ and 6.16+";

/** Whether attaching a uprobe on this kernel takes CAP_SYS_ADMIN (BPF+PERFMON are not enough). */
export function uprobesNeedSysAdmin(v: KernelVersion): boolean {
  return compareKernel(v, SPLIT_CAPABILITIES) < 0 || UPROBE_SYS_ADMIN_KERNELS.some(([a, b]) => compareKernel(v, a) >= 0 && compareKernel(v, b) <= 0);
}

/** What the agent uses each capability for (names and reasons for messages). */
export const AGENT_CAPABILITY_USES: Readonly<Record<string, string>> = {
  SETUID: "start the proxy as its own uid (1337)",
  SETGID: "start the proxy as its own gid (1337)",
  KILL: "forward SIGTERM and other signals to the proxy, which runs as another uid",
  SYS_PTRACE: "read /proc/<pid>/exe and maps of Envoy, which runs as another uid",
  SYS_ADMIN: "attach uprobes (and mount tracefs when it is not mounted)",
  BPF: "load BPF programs and maps",
  PERFMON: "open the perf events uprobes and tracepoints attach to",
  SYS_RESOURCE: "raise RLIMIT_MEMLOCK for BPF maps (kernels before 5.11)",
};

/** The least-privilege profile's default: works on every kernel from DEFAULT_MIN_KERNEL (SYS_ADMIN attaches uprobes everywhere). */
export const LEAST_PRIVILEGE_CAPABILITIES: readonly string[] = ["SETUID", "SETGID", "KILL", "SYS_PTRACE", "SYS_ADMIN"];

/** The capabilities that attach uprobes on one kernel: each inner list is one way. */
export function uprobeCapabilityChoices(v: KernelVersion): string[][] {
  const memlock = compareKernel(v, MEMCG_BPF) < 0 ? ["SYS_RESOURCE"] : [];
  return uprobesNeedSysAdmin(v) ? [["SYS_ADMIN", ...memlock]] : [["SYS_ADMIN", ...memlock], ["BPF", "PERFMON", ...memlock]];
}

export interface KernelRange {
  /** Inclusive; absent = DEFAULT_MIN_KERNEL. */
  min?: KernelVersion;
  /** Inclusive; absent = unbounded. */
  max?: KernelVersion;
}

/**
 * The oldest kernel a profile that declares no `kernels.min` is checked against: from 5.11
 * BPF memory is charged to the cgroup, so the default set needs no SYS_RESOURCE. Nodes on
 * older kernels declare `min` and add SYS_RESOURCE (and SYS_ADMIN before 5.8).
 */
export const DEFAULT_MIN_KERNEL: KernelVersion = [5, 11, 0];

/**
 * Why `capabilities` cannot run the agent on every kernel of `range`, or null when they
 * can: the proxy needs SETUID, SETGID and KILL; Envoy's binary SYS_PTRACE; uprobes
 * SYS_ADMIN where a kernel of the range carries the CVE-2025-38466 fix or predates 5.8,
 * else SYS_ADMIN or BPF+PERFMON; SYS_RESOURCE where the range reaches below 5.11.
 */
export function leastPrivilegeProblem(capabilities: readonly string[], range: KernelRange): string | null {
  const has = (c: string): boolean => capabilities.includes(c);
  const missing = ["SETUID", "SETGID", "KILL", "SYS_PTRACE"].filter((c) => !has(c));
  const lo: KernelVersion = range.min ?? DEFAULT_MIN_KERNEL;
  const hi: KernelVersion = range.max ?? [LAST, 0, 0];
  const where = `kernels ${formatKernel(lo)} to ${range.max ? formatKernel(range.max) : "any"}`;
  const problems = missing.map((c) => `${c} (to ${AGENT_CAPABILITY_USES[c]})`);
  const needsSysAdmin =
    compareKernel(lo, SPLIT_CAPABILITIES) < 0 || UPROBE_SYS_ADMIN_KERNELS.some(([a, b]) => compareKernel(lo, b) <= 0 && compareKernel(hi, a) >= 0);
  if (!has("SYS_ADMIN")) {
    if (needsSysAdmin) problems.push(`SYS_ADMIN (uprobes need it on kernels with the CVE-2025-38466 fix, ${FIXED_KERNELS_TEXT}, and before 5.8; declare a kernel range without them to use BPF and PERFMON instead)`);
    else for (const c of ["BPF", "PERFMON"]) if (!has(c)) problems.push(`${c} (without SYS_ADMIN, uprobes need BPF and PERFMON)`);
  }
  if (compareKernel(lo, MEMCG_BPF) < 0 && !has("SYS_RESOURCE")) problems.push(`SYS_RESOURCE (to ${AGENT_CAPABILITY_USES.SYS_RESOURCE}; declare kernels from 5.11 to leave it out)`);
  return problems.length === 0 ? null : `cannot trace on ${where}: add ${problems.join(", ")}`;
}
