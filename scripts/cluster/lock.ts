// One `up`/`down` at a time per cluster directory (a terminal and a test run may
// both try). The lock file holds the owner's pid; a dead owner's lock is taken over.
import { openSync, closeSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { ClusterError } from "./layout.js";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function tryAcquire(path: string): boolean {
  try {
    const fd = openSync(path, "wx", 0o600);
    writeSync(fd, String(process.pid));
    closeSync(fd);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  }
  let owner = NaN;
  try {
    owner = Number(readFileSync(path, "utf8").trim());
  } catch {
    return false; // released meanwhile; try again
  }
  if (Number.isInteger(owner) && owner > 0 && alive(owner)) return false;
  try {
    unlinkSync(path);
  } catch {
    // someone else took it over first
  }
  return false;
}

/** Runs `fn` holding the lock; waits up to `waitMs` (a cold build under the lock takes minutes). */
export async function withLock<T>(path: string, fn: () => Promise<T>, onWait: (ownerPid: string) => void, waitMs = 45 * 60_000): Promise<T> {
  const deadline = Date.now() + waitMs;
  let told = false;
  while (!tryAcquire(path)) {
    if (Date.now() > deadline) throw new ClusterError(`another cluster:up/down still holds ${path} after ${Math.round(waitMs / 60_000)} min`);
    if (!told) {
      let owner = "?";
      try {
        owner = readFileSync(path, "utf8").trim();
      } catch {
        // gone already
      }
      onWait(owner);
      told = true;
    }
    await sleep(250);
  }
  try {
    return await fn();
  } finally {
    try {
      unlinkSync(path);
    } catch {
      // already gone: nothing to release
    }
  }
}
