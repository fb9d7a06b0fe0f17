// Zombie reaping as a container's PID 1. Node can wait only for its own children, so the
// agent cannot reap orphans itself. The image's launcher makes tini PID 1 in front of the
// agent; when the agent is PID 1 all the same, it runs the command under tini in subreaper
// mode (`tini -s --`, no group signalling), which reaps every orphan of the proxy's tree.
import { accessSync, constants } from "node:fs";
import { join } from "node:path";

export interface ReaperDecision {
  /** Path of tini to run the command under, or null. */
  path: string | null;
  /** Why, for the log. */
  note: string;
  warn: boolean;
}

export function findExecutable(name: string, dirs: readonly string[]): string | null {
  for (const d of dirs) {
    const p = join(d, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return null;
}

/** `auto`: use tini when the agent is PID 1 and tini is installed; `tini`: always; `none`: never. */
export function decideReaper(mode: "auto" | "tini" | "none", pid: number, tini: string | null): ReaperDecision {
  if (mode === "none") return { path: null, note: "reaper disabled", warn: pid === 1 };
  if (mode === "tini") {
    return tini ? { path: tini, note: "command runs under tini (subreaper)", warn: false } : { path: null, note: "reaper tini requested but not found on PATH; orphaned processes stay zombies", warn: true };
  }
  if (pid !== 1) return { path: null, note: "not PID 1: the container's init reaps orphans", warn: false };
  return tini
    ? { path: tini, note: "PID 1: command runs under tini (subreaper)", warn: false }
    : { path: null, note: "PID 1 without tini: orphaned processes stay zombies (install tini, or set shareProcessNamespace)", warn: true };
}
