// How bpftrace is tied to the agent. bpftrace should hear only the agent: in the agent's
// process group a terminal's Ctrl-C (SIGINT to the whole group) reaches it directly, it
// prints its maps and exits on its own, and the agent counts a restart. In a session of
// its own it hears only the agent's SIGINT; but then nothing would end it when the agent
// dies without stopping it (SIGKILL, an out-of-memory kill): `setpriv --pdeathsig KILL`
// (util-linux) has the kernel kill it then. Without a setpriv that can, bpftrace stays
// in the agent's process group, as before.
import { execFile } from "node:child_process";

/** The program bpftrace is started through, and whether it gets a session of its own. */
export interface BpftraceGuard {
  /** Put before bpftrace's own argv (empty: none). */
  wrapper: string[];
  detached: boolean;
  /** Why, for the log. */
  note: string;
}

export const UNGUARDED: BpftraceGuard = { wrapper: [], detached: false, note: "bpftrace runs in the agent's process group" };

/** The wrapper for the setpriv at `setpriv` (null: none found), once it proved it takes --pdeathsig. */
export async function bpftraceGuard(setpriv: string | null, timeoutMs = 10_000): Promise<BpftraceGuard> {
  if (!setpriv) return { ...UNGUARDED, note: "setpriv (util-linux) not found: bpftrace runs in the agent's process group, where a terminal's Ctrl-C reaches it too" };
  const wrapper = [setpriv, "--pdeathsig", "KILL", "--"];
  const problem = await new Promise<string | null>((resolve) => {
    execFile(setpriv, [...wrapper.slice(1), "true"], { timeout: timeoutMs }, (err, _stdout, stderr) => {
      resolve(err ? (String(stderr).trim().split("\n")[0] ?? "") || err.message : null);
    });
  });
  if (problem !== null) return { ...UNGUARDED, note: `${setpriv} --pdeathsig KILL does not work here (${problem}): bpftrace runs in the agent's process group, where a terminal's Ctrl-C reaches it too` };
  return { wrapper, detached: true, note: "bpftrace runs in a session of its own and the kernel ends it with the agent (setpriv --pdeathsig KILL)" };
}
