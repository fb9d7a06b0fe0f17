// The bpftrace runner with a stand-in `bpftrace` (a shell script) so its process handling
// can be checked exactly: streamed parsing, the attached marker, restart with backoff after
// a crash, the final dump on SIGINT, and SIGKILL after the grace period.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { Backoff } from "../../../src/backoff.js";
import { bpftraceGuard } from "../../../src/agent/bpftrace/guard.js";
import { BpftraceRunner } from "../../../src/agent/bpftrace/runner.js";
import { findExecutable } from "../../../src/agent/reaper.js";
import { executableSearchPath } from "../../../src/config.js";
import type { BpftraceEvent } from "../../../src/agent/output/records.js";
import { waitFor } from "../../bpf/agent/support.js";

const dir = mkdtempSync(join(tmpdir(), "hookpoint-runner-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fakeBpftrace(name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/sh\n# args: -f json PROGRAM\n${body}\n`);
  chmodSync(p, 0o755);
  return p;
}

function collect(): { log: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: "info" }, { write: (s: string) => lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { log, lines };
}

describe("BpftraceRunner", () => {
  it("parses the stream, reports attachment, and keeps the final dump printed on SIGINT", async () => {
    const bin = fakeBpftrace("ok", `
echo "ERROR: Unknown error -1: couldn't set RLIMIT_MEMLOCK for bpftrace." >&2
echo '{"type": "attached_probes", "data": {"probes": 2}}'
printf '%s\\n' '{"type": "printf", "data": "hookpoint:attached\\n"}'
trap 'echo "{\\"type\\": \\"map\\", \\"data\\": {\\"@final\\": 9}}"; exit 0' INT
echo '{"type": "map", "data": {"@c": 1}}'
echo 'not json at all'
while :; do sleep 0.05; done`);
    const events: [BpftraceEvent, number][] = [];
    const attached: number[] = [];
    const { log, lines } = collect();
    const r = new BpftraceRunner({ name: "demo", bpftrace: bin, program: "/dev/null", log, graceMs: 5000, onEvent: (e, g) => events.push([e, g]), onAttached: (_ms, g) => attached.push(g) });
    r.start();
    await waitFor("the first map", 10_000, () => events.some(([e]) => e.type === "maps"));
    expect(r.status.state).toBe("attached");
    expect(attached).toEqual([1]);
    // It exited on SIGINT by itself, so its final dump is in the output.
    expect(await r.stop()).toBe(true);
    expect(events).toEqual([
      [{ type: "attached", probes: 2 }, 1],
      [{ type: "maps", maps: [{ map: "@c", entries: [{ key: null, data: { value: 1 } }] }] }, 1],
      [{ type: "maps", maps: [{ map: "@final", entries: [{ key: null, data: { value: 9 } }] }] }, 1],
    ]);
    expect(r.status).toMatchObject({ state: "stopped", restarts: 0, parseErrors: 1, pid: null });
    expect(lines.find((l) => l.msg === "unparsable bpftrace output")).toMatchObject({ script: "demo", problem: "not JSON: not json at all" });
  });

  it("restarts a crashed bpftrace with backoff and says why it died", async () => {
    const bin = fakeBpftrace("crash", `echo "ERROR: Could not resolve symbol: /x:nope" >&2; exit 1`);
    const { log, lines } = collect();
    const r = new BpftraceRunner({ name: "crashy", bpftrace: bin, program: "/dev/null", log, graceMs: 1000, onEvent: () => undefined, backoff: new Backoff({ initialMs: 50, maxMs: 200, resetAfterMs: 60_000, jitter: false }) });
    r.start();
    await waitFor("three restarts", 10_000, () => r.status.restarts >= 3);
    await r.stop();
    const crashes = lines.filter((l) => l.msg === "bpftrace exited, restarting after backoff");
    expect(crashes.slice(0, 3).map((l) => [l.code, l.stderr, l.retryInMs])).toEqual([
      [1, "ERROR: Could not resolve symbol: /x:nope", 50],
      [1, "ERROR: Could not resolve symbol: /x:nope", 100],
      [1, "ERROR: Could not resolve symbol: /x:nope", 200],
    ]);
    expect(r.status.generation).toBeGreaterThanOrEqual(3);
    expect(r.status.state).toBe("stopped");
  });

  it("kills a bpftrace that ignores SIGINT after the grace period", async () => {
    const bin = fakeBpftrace("stubborn", `trap '' INT\nprintf '%s\\n' '{"type": "printf", "data": "hookpoint:attached\\n"}'\nwhile :; do sleep 0.05; done`);
    const { log, lines } = collect();
    const r = new BpftraceRunner({ name: "stubborn", bpftrace: bin, program: "/dev/null", log, graceMs: 300, onEvent: () => undefined });
    r.start();
    await waitFor("attached", 10_000, () => r.status.state === "attached");
    expect(await r.stop()).toBe(false);
    expect(lines.some((l) => l.msg === "bpftrace did not stop in time, killing it" && l.graceMs === 300)).toBe(true);
    expect(lines.find((l) => l.msg === "bpftrace stopped")).toMatchObject({ script: "stubborn", signal: "SIGKILL" });
  });

  it("reports a bpftrace that cannot be started and keeps retrying", async () => {
    const { log, lines } = collect();
    const r = new BpftraceRunner({ name: "absent", bpftrace: join(dir, "no-such-bpftrace"), program: "/dev/null", log, graceMs: 100, onEvent: () => undefined, backoff: new Backoff({ initialMs: 20, maxMs: 20, resetAfterMs: 60_000, jitter: false }) });
    r.start();
    await waitFor("two attempts", 10_000, () => r.status.restarts >= 2);
    await r.stop();
    expect(String(lines.find((l) => l.msg === "bpftrace exited, restarting after backoff")?.stderr)).toContain(`cannot start ${join(dir, "no-such-bpftrace")}: spawn ${join(dir, "no-such-bpftrace")} ENOENT`);
  });
});

describe("bpftraceGuard", () => {
  it("starts bpftrace through setpriv --pdeathsig KILL, leading a session of its own, so that only the agent signals it", async (ctx) => {
    const setpriv = findExecutable("setpriv", executableSearchPath());
    if (!setpriv) return ctx.skip("setpriv (util-linux) is not installed");
    const guard = await bpftraceGuard(setpriv);
    expect(guard).toEqual({ wrapper: [setpriv, "--pdeathsig", "KILL", "--"], detached: true, note: "bpftrace runs in a session of its own and the kernel ends it with the agent (setpriv --pdeathsig KILL)" });
    const bin = fakeBpftrace("guarded", `trap 'exit 0' INT\nprintf '%s\\n' '{"type": "printf", "data": "hookpoint:attached\\n"}'\nwhile :; do sleep 0.05; done`);
    const { log } = collect();
    const r = new BpftraceRunner({ name: "guarded", bpftrace: bin, program: "/dev/null", log, graceMs: 5000, guard, onEvent: () => undefined });
    r.start();
    await waitFor("attached", 10_000, () => r.status.state === "attached");
    const pid = r.status.pid!;
    // setpriv execs bpftrace: the pid is bpftrace's; its process group and session are its own.
    const [pgrp, session] = readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /s, "").split(" ").slice(2, 4).map(Number);
    expect([pgrp, session]).toEqual([pid, pid]);
    expect(readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[1]).toBe(bin);
    expect(await r.stop()).toBe(true);
  });

  it("without a setpriv that takes --pdeathsig, bpftrace stays in the agent's process group, and the note says why", async () => {
    expect(await bpftraceGuard(null)).toEqual({ wrapper: [], detached: false, note: "setpriv (util-linux) not found: bpftrace runs in the agent's process group, where a terminal's Ctrl-C reaches it too" });
    const old = fakeBpftrace("old-setpriv", `echo "setpriv: unrecognized option '--pdeathsig'" >&2; exit 1`);
    expect(await bpftraceGuard(old)).toEqual({
      wrapper: [],
      detached: false,
      note: `${old} --pdeathsig KILL does not work here (setpriv: unrecognized option '--pdeathsig'): bpftrace runs in the agent's process group, where a terminal's Ctrl-C reaches it too`,
    });
  });
});
