// `hookpoint check --local`: the agent's own preflight (kernel, root,
// capabilities, tracefs, bpftrace, BTF) run on this node, one line per check.
// The preflight's results are mapped here, purely; src/cli/check-local.ts runs it.
import { fail, pass, type CheckLine } from "./lines.js";

/** A preflight check as the agent reports it (src/agent/preflight.ts). */
export interface PreflightCheck {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

/** What `check` says instead of mounting tracefs (the agent would mount it; a diagnostic changes nothing). */
export const TRACEFS_NOT_MOUNTED_BY_CHECK = "hookpoint check does not mount it";

/** BTF is not needed by the bundled scripts: a missing one passes with a note, as the agent treats it. */
const ADVISORY = new Set(["btf"]);

export function localChecks(checks: readonly PreflightCheck[]): CheckLine[] {
  return checks.map((c) => {
    if (c.ok) return pass(c.name, c.detail);
    if (c.name === "tracefs" && c.detail.includes(TRACEFS_NOT_MOUNTED_BY_CHECK)) {
      return pass(c.name, `${c.detail.split(" is not mounted")[0]} is not mounted here; the agent mounts it (it has CAP_SYS_ADMIN), or mount it: mount -t tracefs nodev /sys/kernel/tracing`);
    }
    if (ADVISORY.has(c.name)) return pass(c.name, `${c.detail} (not needed by the bundled scripts)`);
    return fail(c.name, c.detail, c.fix ?? "see the README's troubleshooting table");
  });
}
