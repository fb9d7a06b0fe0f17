// Daemons of the local cluster: started detached (they outlive `npm run cluster:up`
// and the test run that started them), recognised by their command line so that a
// recycled pid is never signalled, and stopped with SIGTERM then SIGKILL.
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

export function startDaemon(binary: string, args: readonly string[], logPath: string, opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): ChildProcess {
  const fd = openSync(logPath, "w");
  try {
    const child = spawn(binary, args, { detached: true, stdio: ["ignore", fd, fd], ...opts });
    child.on("error", () => undefined); // reported through exitCode/pid checks by the caller
    return child;
  } finally {
    closeSync(fd);
  }
}

/** The command line `pid` runs (argv[0] first), or undefined when it is gone. */
export function commandLine(pid: number): string[] | undefined {
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return undefined;
  }
  // Each argument ends with a NUL.
  return cmdline.replace(/\0$/, "").split("\0");
}

/** True while `pid` runs `binary` with an argument mentioning `marker` (the cluster directory). */
export function isOurProcess(pid: number, binary: string, marker: string): boolean {
  const argv = commandLine(pid);
  return argv !== undefined && argv[0] === binary && argv.some((a) => a.includes(marker));
}

/** SIGTERM, then SIGKILL after `graceMs`; returns once the process is gone. */
export async function stopProcess(pid: number, binary: string, marker: string, graceMs = 10_000): Promise<void> {
  if (!isOurProcess(pid, binary, marker)) return;
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isOurProcess(pid, binary, marker)) return;
    await sleep(100);
  }
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    return;
  }
  for (let i = 0; i < 50 && isOurProcess(pid, binary, marker); i++) await sleep(100);
}

/** A port that was free on 127.0.0.1 a moment ago (the kernel picks it). */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const srv = createServer();
    srv.once("error", fail);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? done(addr.port) : fail(new Error("no port"))));
    });
  });
}

/** Whether something already listens on 127.0.0.1:port. */
export function portTaken(port: number): Promise<boolean> {
  return new Promise((done) => {
    const srv = createServer();
    srv.once("error", () => done(true));
    srv.listen(port, "127.0.0.1", () => srv.close(() => done(false)));
  });
}

/** The last `lines` lines of a log file ("" when it cannot be read). */
export function logTail(path: string, lines = 20): string {
  try {
    const text = readFileSync(path, "utf8").trimEnd();
    return text.split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}
