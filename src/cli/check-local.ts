// `hookpoint check --local`: the agent's preflight on this node, as it would run
// in the tracing container (as root, SYS_ADMIN), except that it never mounts tracefs.
import { execFile } from "node:child_process";
import { pino } from "pino";
import { preflight, type PreflightOptions } from "../agent/preflight.js";
import { localChecks, TRACEFS_NOT_MOUNTED_BY_CHECK } from "../check/local.js";
import type { CheckLine } from "../check/lines.js";
import { UsageError } from "./errors.js";

export type LocalCheckOptions = Partial<Omit<PreflightOptions, "log" | "proxyUid">>;

const run = (file: string, args: string[]): Promise<{ stdout: string; stderr: string }> =>
  new Promise((resolve, reject) => {
    // A diagnostic changes nothing: where the agent would mount tracefs, say so instead.
    if (file === "mount") return reject(Object.assign(new Error(TRACEFS_NOT_MOUNTED_BY_CHECK), { stderr: TRACEFS_NOT_MOUNTED_BY_CHECK }));
    execFile(file, args, { timeout: 20_000 }, (err, stdout, stderr) => (err ? reject(Object.assign(err, { stderr })) : resolve({ stdout, stderr })));
  });

export async function localCheckLines(o: LocalCheckOptions = {}): Promise<CheckLine[]> {
  if (o.bpftrace === "") throw new UsageError('--bpftrace must name the bpftrace program (a path, or a name looked up in PATH), got ""');
  const result = await preflight({
    bpftrace: o.bpftrace ?? "bpftrace",
    tracefs: o.tracefs ?? "/sys/kernel/tracing",
    btf: o.btf ?? "/sys/kernel/btf/vmlinux",
    uid: o.uid ?? process.getuid?.() ?? 0,
    proxyUid: null,
    log: pino({ level: "silent" }),
    run: o.run ?? run,
    ...(o.procRoot ? { procRoot: o.procRoot } : {}),
    ...(o.kernelRelease ? { kernelRelease: o.kernelRelease } : {}),
  });
  return localChecks(result.checks);
}
