// Preflight: what tracing needs from the node. Each failed check is one log line and one
// /status entry; none of them stops the proxy.
import { execFile } from "node:child_process";
import { access, readdir } from "node:fs/promises";
import type { Logger } from "pino";
import { parseBpftraceVersion } from "./bpftrace/program.js";

export interface CheckResult {
  name: "root" | "tracefs" | "bpftrace" | "btf";
  ok: boolean;
  detail: string;
}

export interface PreflightResult {
  ok: boolean;
  checks: CheckResult[];
  bpftraceVersion: [number, number, number] | null;
}

export interface PreflightOptions {
  bpftrace: string;
  tracefs: string;
  btf: string;
  uid: number;
  log: Logger;
  /** Runs a command; injectable for tests. */
  run?: (file: string, args: string[]) => Promise<{ stdout: string; stderr: string }>;
}

const defaultRun = (file: string, args: string[]): Promise<{ stdout: string; stderr: string }> =>
  new Promise((resolve, reject) => {
    execFile(file, args, { timeout: 10_000 }, (err, stdout, stderr) => {
      if (err) reject(Object.assign(err, { stderr }));
      else resolve({ stdout, stderr });
    });
  });

export async function preflight(o: PreflightOptions): Promise<PreflightResult> {
  const run = o.run ?? defaultRun;
  const checks: CheckResult[] = [];
  const root = o.uid === 0;
  checks.push({ name: "root", ok: root, detail: root ? "running as uid 0" : `running as uid ${o.uid}; bpftrace needs root (runAsUser: 0 and privileged)` });

  checks.push(await checkTracefs(o.tracefs, root, run));

  let version: [number, number, number] | null = null;
  try {
    const { stdout } = await run(o.bpftrace, ["--version"]);
    version = parseBpftraceVersion(stdout);
    checks.push(version ? { name: "bpftrace", ok: true, detail: stdout.trim() } : { name: "bpftrace", ok: false, detail: `cannot read a version from "${stdout.trim()}"` });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    checks.push({ name: "bpftrace", ok: false, detail: e.code === "ENOENT" ? `${o.bpftrace} not found (install bpftrace in the image)` : `${o.bpftrace} --version failed: ${e.message}` });
  }

  const btf = await access(o.btf).then(
    () => true,
    () => false,
  );
  checks.push({ name: "btf", ok: btf, detail: btf ? `${o.btf} present` : `${o.btf} missing: the kernel has no BTF (CONFIG_DEBUG_INFO_BTF); scripts using kernel types will fail` });

  for (const c of checks) {
    if (c.ok) o.log.info({ check: c.name, detail: c.detail }, "preflight check passed");
    else o.log.error({ check: c.name, problem: c.detail }, "preflight check failed");
  }
  // BTF only matters for scripts that use kernel types: tracing goes on without it.
  return { ok: checks.every((c) => c.ok || c.name === "btf"), checks, bpftraceVersion: version };
}

async function checkTracefs(dir: string, root: boolean, run: NonNullable<PreflightOptions["run"]>): Promise<CheckResult> {
  if (await hasTracefs(dir)) return { name: "tracefs", ok: true, detail: `${dir} mounted` };
  if (!root) return { name: "tracefs", ok: false, detail: `${dir} is not mounted, and only root can mount it` };
  try {
    await run("mount", ["-t", "tracefs", "nodev", dir]);
  } catch (err) {
    const stderr = String((err as { stderr?: string }).stderr ?? "").trim();
    return { name: "tracefs", ok: false, detail: `${dir} is not mounted and mounting it failed: ${stderr || (err as Error).message} (mount the hookpoint-tracefs hostPath volume, or run privileged)` };
  }
  return (await hasTracefs(dir))
    ? { name: "tracefs", ok: true, detail: `${dir} was not mounted; mounted it` }
    : { name: "tracefs", ok: false, detail: `${dir}: mount succeeded but no tracefs contents appeared` };
}

async function hasTracefs(dir: string): Promise<boolean> {
  try {
    const entries = await readdir(dir);
    return entries.includes("events") || entries.includes("uprobe_events") || entries.includes("available_events");
  } catch {
    return false;
  }
}
