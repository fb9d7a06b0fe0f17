// The one-shot bpftrace that finds how bpftrace reports Envoy's pid (resolvePidView), with
// a stand-in `bpftrace` (a shell script that records its pid and sleeps): whether it dies
// with the agent, and that its timeout path ends it, checked on real processes.
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { findExecutable } from "../../../src/agent/reaper.js";
import { resolvePidView, resolvePidViewPatiently } from "../../../src/agent/pidns.js";
import { executableSearchPath } from "../../../src/config.js";
import { statFields } from "../../../bench/common.js";
import { ROOT, waitFor } from "../../bpf/agent/support.js";

const dir = mkdtempSync(join(tmpdir(), "hookpoint-pidns-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const setpriv = findExecutable("setpriv", executableSearchPath());
const tini = findExecutable("tini", executableSearchPath());

/** A bpftrace that writes its pid to `<name>.pid` and sleeps without ever answering; `trapInt`: SIGINT is ignored. */
function standIn(name: string, trapInt = false): { bin: string; pidFile: string } {
  const bin = join(dir, name);
  const pidFile = `${bin}.pid`;
  // exec: the pid written is the sleeping process's, and no shell is left to orphan a child.
  writeFileSync(bin, `#!/bin/sh\n${trapInt ? "trap '' INT\n" : ""}echo $$ > ${pidFile}\nexec sleep 60\n`, { mode: 0o755 });
  chmodSync(bin, 0o755);
  return { bin, pidFile };
}

/** The process's state letter from /proc (S, R, Z...), or null once its pid no longer exists. */
function stateOf(pid: number): string | null {
  try {
    return statFields(pid)[0]!;
  } catch {
    return null;
  }
}

/** Parent pid, process group and session, from /proc/PID/stat. */
function idsOf(pid: number): { ppid: number; pgrp: number; session: number } {
  const [ppid, pgrp, session] = statFields(pid).slice(1, 4).map(Number);
  return { ppid: ppid!, pgrp: pgrp!, session: session! };
}

/** What a pid probe came to, as one string: the view it found, or its error's message. */
function outcomeOf(probe: Promise<unknown>): Promise<string> {
  return probe.then(
    (view) => JSON.stringify(view),
    (err: Error) => err.message,
  );
}

function kill(pid: number | null | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(pid, signal);
  } catch {
    // gone already
  }
}

/**
 * A small agent: a Node process that runs resolvePidView on the stand-in, with the setpriv
 * guard or without. It runs under `tini -s` (a subreaper that stays, since its child shell
 * goes on to sleep), so that what its death orphans is reaped, and a pid that is gone is
 * gone (this machine's PID 1 reaps nothing).
 */
function agentTree(bin: string, guarded: boolean): { tree: ChildProcess; parent: () => number | undefined } {
  const script = `
    import { resolvePidView } from ${JSON.stringify(join(ROOT, "src/agent/pidns.ts"))};
    import { UNGUARDED, bpftraceGuard } from ${JSON.stringify(join(ROOT, "src/agent/bpftrace/guard.ts"))};
    const guard = ${guarded} ? await bpftraceGuard(${JSON.stringify(setpriv)}) : UNGUARDED;
    console.log(JSON.stringify({ parent: process.pid, wrapper: guard.wrapper }));
    await resolvePidView(${JSON.stringify(bin)}, process.pid, { guard, timeoutMs: 60_000 });
  `;
  const tree = spawn(tini!, ["-s", "--", "sh", "-c", '"$@"; exec sleep 60', "sh", process.execPath, "--import", "tsx", "--input-type=module", "-e", script], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  tree.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  tree.stderr!.on("data", () => undefined);
  const parent = (): number | undefined => {
    const line = out.split("\n").find((l) => l.startsWith("{"));
    return line ? (JSON.parse(line) as { parent: number }).parent : undefined;
  };
  return { tree, parent };
}

async function pidIn(file: string): Promise<number> {
  return waitFor(`the stand-in's pid in ${file}`, 30_000, () => {
    try {
      return Number(readFileSync(file, "utf8").trim()) || undefined;
    } catch {
      return undefined;
    }
  });
}

describe("the one-shot bpftrace of resolvePidView", () => {
  it("under the guard, runs in a session of its own and is gone within 5 s of its parent's SIGKILL", async (ctx) => {
    if (!setpriv) return ctx.skip("setpriv (util-linux) is not installed");
    if (!tini) return ctx.skip("tini is not installed");
    const { bin, pidFile } = standIn("guarded");
    const { tree, parent } = agentTree(bin, true);
    let pid: number | undefined;
    try {
      const parentPid = await waitFor("the parent's pid", 30_000, parent);
      pid = await pidIn(pidFile);
      // setpriv execs bpftrace: the parent's child is bpftrace itself, leading its own session.
      expect(idsOf(pid)).toEqual({ ppid: parentPid, pgrp: pid, session: pid });
      process.kill(parentPid, "SIGKILL");
      await waitFor("the stand-in gone", 5_000, () => stateOf(pid!) === null);
      expect(stateOf(pid)).toBe(null);
    } finally {
      kill(parent(), "SIGKILL");
      kill(pid, "SIGKILL");
      tree.kill("SIGTERM");
    }
  });

  it("without the guard, outlives its parent's SIGKILL (what the guard is for)", async (ctx) => {
    if (!tini) return ctx.skip("tini is not installed");
    const { bin, pidFile } = standIn("unguarded");
    const { tree, parent } = agentTree(bin, false);
    let pid: number | undefined;
    try {
      const parentPid = await waitFor("the parent's pid", 30_000, parent);
      pid = await pidIn(pidFile);
      expect(idsOf(pid)).toMatchObject({ ppid: parentPid, pgrp: idsOf(parentPid).pgrp });
      process.kill(parentPid, "SIGKILL");
      await waitFor("the parent gone", 5_000, () => stateOf(parentPid) === null);
      await new Promise((r) => setTimeout(r, 1000));
      // Still sleeping, now a child of tini, the subreaper.
      expect(stateOf(pid)).toBe("S");
      expect(idsOf(pid).ppid).toBe(tree.pid);
    } finally {
      kill(parent(), "SIGKILL");
      kill(pid, "SIGKILL");
      tree.kill("SIGTERM");
    }
  });

  it("on timeout, ends a bpftrace that ignores SIGINT with SIGKILL after the grace period", async () => {
    const { bin, pidFile } = standIn("deaf", true);
    const outcome = outcomeOf(resolvePidView(bin, process.pid, { timeoutMs: 300, graceMs: 200 }));
    const pid = await pidIn(pidFile);
    try {
      expect(await outcome).toBe("no answer within 300 ms");
      // SIGINT did nothing; the SIGKILL after 200 ms does (this process reaps it: the pid goes).
      await waitFor("the stand-in gone", 5_000, () => stateOf(pid) === null);
      expect(stateOf(pid)).toBe(null);
    } finally {
      kill(pid, "SIGKILL");
    }
  });

  /** A bpftrace that counts its runs in `<name>.runs`, answers "namespace" from run `answerOn` on (never with 0), and fails at once with `exitCode`. */
  function counting(name: string, answerOn: number, exitCode?: number): { bin: string; runs: () => number } {
    const bin = join(dir, name);
    const runs = `${bin}.runs`;
    const answer = `echo hookpoint-pid-ready; echo "hookpoint-ids $PPID $PPID"`;
    writeFileSync(
      bin,
      `#!/bin/sh\nn=$(( $(cat ${runs} 2>/dev/null || echo 0) + 1 )); echo $n > ${runs}\n${exitCode === undefined ? "" : `echo "ERROR: stand-in failed" >&2; exit ${exitCode}\n`}[ ${answerOn} -gt 0 ] && [ $n -ge ${answerOn} ] && { ${answer}; }\nexec sleep 60\n`,
      { mode: 0o755 },
    );
    return { bin, runs: () => Number(readFileSync(runs, "utf8").trim()) };
  }

  it("asks again, waiting longer, while bpftrace only has no answer yet: the second try's answer is used", async () => {
    const { bin, runs } = counting("slow-first", 2);
    const retries: [string, number][] = [];
    const view = await resolvePidViewPatiently(bin, process.pid, { timeoutMs: 300, graceMs: 200, onRetry: (err, next) => retries.push([err.message, next]) });
    expect(view).toEqual({ mode: "namespace", tracePid: process.pid });
    expect(retries).toEqual([["no answer within 300 ms", 600]]);
    expect(runs()).toBe(2);
  });

  it("gives up after three tries that had no answer (300, 600, 900 ms), with the last one's error", async () => {
    const { bin, runs } = counting("never", 0);
    const retries: number[] = [];
    const outcome = await outcomeOf(resolvePidViewPatiently(bin, process.pid, { timeoutMs: 300, graceMs: 200, onRetry: (_, next) => retries.push(next) }));
    expect(outcome).toBe("no answer within 900 ms");
    expect(retries).toEqual([600, 900]);
    expect(runs()).toBe(3);
  });

  it("does not ask again when bpftrace fails", async () => {
    const { bin, runs } = counting("failing", 1, 1);
    const retries: number[] = [];
    const outcome = await outcomeOf(resolvePidViewPatiently(bin, process.pid, { timeoutMs: 5_000, graceMs: 200, onRetry: (_, next) => retries.push(next) }));
    expect(outcome).toBe("bpftrace exited (code 1): ERROR: stand-in failed");
    expect(retries).toEqual([]);
    expect(runs()).toBe(1);
  });

  it("ends the wait at once when told to stop (AbortSignal), without another try, and ends the bpftrace", async () => {
    const { bin, pidFile } = standIn("stopped");
    const stop = new AbortController();
    const retries: number[] = [];
    const outcome = resolvePidViewPatiently(bin, process.pid, { timeoutMs: 60_000, graceMs: 200, signal: stop.signal, onRetry: (_, next) => retries.push(next) }).then(
      (view) => JSON.stringify(view),
      (err: Error) => `${err.constructor.name}: ${err.message}`,
    );
    const pid = await pidIn(pidFile);
    stop.abort();
    expect(await outcome).toBe("AbortedError: stopped while the pid probe ran");
    expect(retries).toEqual([]);
    await waitFor("the stand-in gone", 5_000, () => stateOf(pid) === null);
  });

  it("ignores a bpftrace's ready line that comes after its wait ended: nothing signals this process afterwards", async () => {
    // Deaf to SIGINT, it lives on through the 1.5 s grace and says "ready" at 0.5 s, after the 200 ms wait.
    const bin = join(dir, "late-ready");
    writeFileSync(bin, "#!/bin/sh\ntrap '' INT\nsleep 0.5\necho hookpoint-pid-ready\nexec sleep 60\n", { mode: 0o755 });
    let conts = 0;
    const onCont = (): void => void conts++;
    process.on("SIGCONT", onCont);
    try {
      const outcome = await outcomeOf(resolvePidView(bin, process.pid, { timeoutMs: 200, graceMs: 1500 }));
      expect(outcome).toBe("no answer within 200 ms");
      // Past the late line and the SIGKILL after the grace.
      await new Promise((r) => setTimeout(r, 2000));
      expect(conts).toBe(0);
    } finally {
      process.off("SIGCONT", onCont);
    }
  });
});
