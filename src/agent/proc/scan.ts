// Reads the process tree under a pid from /proc (the edge of envoy.ts).
import { readFile, readdir, readlink } from "node:fs/promises";
import { parseStat, type ProcInfo } from "./envoy.js";

/** One process, or null when it is gone. */
export async function readProc(pid: number, procRoot = "/proc"): Promise<ProcInfo | null> {
  let stat: string;
  try {
    stat = await readFile(`${procRoot}/${pid}/stat`, "latin1");
  } catch {
    return null;
  }
  const parsed = parseStat(stat);
  if (!parsed) return null;
  const exe = await readlink(`${procRoot}/${pid}/exe`).catch(() => null);
  return { ...parsed, exe };
}

/**
 * `rootPid` and all its descendants. Walks /proc/PID/task/TID/children when the kernel
 * has it (cheap: only the subtree is read), else scans every process.
 */
export async function readSubtree(rootPid: number, procRoot = "/proc"): Promise<ProcInfo[]> {
  const root = await readProc(rootPid, procRoot);
  if (!root) return [];
  const out: ProcInfo[] = [root];
  const queue = [rootPid];
  while (queue.length) {
    const pid = queue.shift()!;
    const kids = await childrenOf(pid, procRoot);
    if (kids === null) return scanAll(procRoot);
    for (const k of kids) {
      const p = await readProc(k, procRoot);
      if (p) {
        out.push(p);
        queue.push(k);
      }
    }
  }
  return out;
}

async function childrenOf(pid: number, procRoot: string): Promise<number[] | null> {
  let tids: string[];
  try {
    tids = await readdir(`${procRoot}/${pid}/task`);
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const tid of tids) {
    try {
      const text = await readFile(`${procRoot}/${pid}/task/${tid}/children`, "latin1");
      for (const s of text.split(" ")) if (s.trim()) out.push(Number(s));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT" && tid === String(pid)) {
        // No children file on this kernel (CONFIG_PROC_CHILDREN off) — or the process
        // just exited; a full scan answers both.
        return null;
      }
    }
  }
  return out;
}

async function scanAll(procRoot: string): Promise<ProcInfo[]> {
  const out: ProcInfo[] = [];
  for (const name of await readdir(procRoot)) {
    if (!/^\d+$/.test(name)) continue;
    const p = await readProc(Number(name), procRoot);
    if (p) out.push(p);
  }
  return out;
}
