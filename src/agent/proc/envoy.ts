// Which process is "the Envoy": pure decisions over a snapshot of /proc.

export interface ProcInfo {
  pid: number;
  ppid: number;
  comm: string;
  /** One-letter state from /proc/PID/stat ("Z" = zombie: exited, not yet reaped). */
  state: string;
  /** Target of /proc/PID/exe, or null when unreadable (kernel threads, races). */
  exe: string | null;
  /** Start time in clock ticks since boot (field 22 of /proc/PID/stat): tells a reused pid apart. */
  startTime: number;
}

/** Parses /proc/PID/stat. The comm is in parentheses and may itself contain ") ". */
export function parseStat(text: string): Omit<ProcInfo, "exe"> | null {
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open < 0 || close < open) return null;
  const pid = Number(text.slice(0, open).trim());
  const rest = text.slice(close + 2).split(" ");
  // rest[0] is field 3 (state); ppid is field 4, starttime field 22.
  const ppid = Number(rest[1]);
  const startTime = Number(rest[19]);
  if (!Number.isInteger(pid) || !Number.isInteger(ppid) || !Number.isFinite(startTime)) return null;
  return { pid, ppid, comm: text.slice(open + 1, close), state: rest[0] ?? "", startTime };
}

/** The binary's path as the agent can open it: a replaced binary reads "PATH (deleted)". */
export function exePath(pid: number, exe: string, procRoot = "/proc"): string {
  return exe.endsWith(" (deleted)") ? `${procRoot}/${pid}/exe` : exe;
}

/** True when the process runs one of the Envoy binaries (by basename of its exe, else by comm). */
export function isEnvoy(p: Pick<ProcInfo, "exe" | "comm">, names: readonly string[]): boolean {
  if (p.exe) {
    const clean = p.exe.replace(/ \(deleted\)$/, "");
    const base = clean.slice(clean.lastIndexOf("/") + 1);
    return names.includes(base) || names.includes(clean);
  }
  return names.includes(p.comm);
}

/**
 * The Envoy among the descendants of `rootPid` (the root included): the most recently
 * started one, so during a hot restart the new Envoy wins.
 */
export function findEnvoy(procs: readonly ProcInfo[], rootPid: number, names: readonly string[]): ProcInfo | null {
  const children = new Map<number, ProcInfo[]>();
  for (const p of procs) {
    const list = children.get(p.ppid);
    if (list) list.push(p);
    else children.set(p.ppid, [p]);
  }
  const root = procs.find((p) => p.pid === rootPid);
  const queue: ProcInfo[] = root ? [root] : [...(children.get(rootPid) ?? [])];
  let best: ProcInfo | null = null;
  const seen = new Set<number>();
  while (queue.length) {
    const p = queue.shift()!;
    if (seen.has(p.pid)) continue;
    seen.add(p.pid);
    if (p.state !== "Z" && isEnvoy(p, names) && (!best || p.startTime > best.startTime || (p.startTime === best.startTime && p.pid > best.pid))) best = p;
    queue.push(...(children.get(p.pid) ?? []));
  }
  return best;
}
