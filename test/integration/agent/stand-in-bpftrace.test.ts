// The whole agent (the CLI as a real process) on the fixture Envoy, with a stand-in
// `bpftrace` (a shell script): what the agent does with what bpftrace says and when it
// dies is then exact, and no uprobe is needed. The agent's preflight wants root.
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { afterAll, describe, expect, it } from "vitest";
import { statFields } from "../../../bench/common.js";
import { commandLine } from "../../../scripts/cluster/processes.js";
import { findExecutable } from "../../../src/agent/reaper.js";
import { executableSearchPath } from "../../../src/config.js";
import { AgentProcess, FIXTURE, ROOT, descendantsOf, fixtureSkipReason, metricSum, startAgent, waitFor, type AgentStatusJson } from "../../bpf/agent/support.js";
import { STAND_IN_ATTACHED, STAND_IN_PROLOGUE } from "../../support/stand-in-bpftrace.js";

const dir = mkdtempSync(join(tmpdir(), "hookpoint-standin-"));
chmodSync(dir, 0o777);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const skip = fixtureSkipReason() ?? (process.getuid?.() === 0 ? null : "not root: the agent's preflight needs root before it starts bpftrace");

/**
 * A bpftrace that passes the preflight and, run on a program, says its probes are attached,
 * reports 3 lost events and a malformed line, and on SIGINT prints its final dump after
 * `dumpDelay` seconds.
 */
function standIn(name: string, dumpDelay = 0): string {
  const p = join(dir, `${name}-bpftrace`);
  writeFileSync(
    p,
    `${STAND_IN_PROLOGUE}trap 'sleep ${dumpDelay}; echo "{\\"type\\": \\"map\\", \\"data\\": {\\"@hookpoint_calls\\": {\\"RequestSeen\\": 5}}}"; exit 0' INT
${STAND_IN_ATTACHED}echo '{"type": "lost_events", "data": {"events": 3}}'
echo 'Attaching 2 probes...'
while :; do sleep 0.05; done
`,
  );
  chmodSync(p, 0o755);
  return p;
}

/** A copy of the bundled scripts with `from` replaced by `to` in `script`'s file. */
function scriptsDirWith(name: string, script: string, from: string, to: string): { scripts: string; file: string; text: string } {
  const scripts = join(dir, `${name}-bpf`);
  cpSync(join(ROOT, "bpf"), scripts, { recursive: true });
  const file = join(scripts, `${script}.bt`);
  const text = readFileSync(file, "utf8");
  expect(text).toContain(from);
  writeFileSync(file, text.replace(from, to));
  return { scripts, file, text };
}

/** The agent on the fixture with a scripts directory of its own and the stand-in bpftrace. */
function startOwn(name: string, scriptsDir: string, scripts: string): AgentProcess {
  return startAgent(["--output", join(dir, name), "--scripts-dir", scriptsDir, "--scripts", scripts, "--bpftrace", standIn(name)], [
    FIXTURE.pilotAgent, "--", "--port-file", join(dir, `${name}-port`),
  ]);
}

/** SIGTERM to the agent: it passes it on and exits with the command's `code`. */
async function terminates(a: AgentProcess, code: number): Promise<void> {
  a.child.kill("SIGTERM");
  expect(await a.exited).toEqual({ code, signal: null });
}

/** Whether process `pid` has ended (gone, or a zombie nobody reaped yet). */
function ended(pid: number): boolean {
  try {
    return statFields(pid)[0] === "Z";
  } catch {
    return true;
  }
}

const pairs = (s: AgentStatusJson): AgentStatusJson["scripts"][number] => s.scripts.find((x) => x.name === "hookpoint-pairs")!;

interface PairRecord {
  keys: string[];
  value: number;
  pid: number;
}

/** hookpoint-pairs' records in `out`; none when no file was made (it is made at the first record). */
function pairRecords(out: string): PairRecord[] {
  const file = join(out, "hookpoint-pairs.ndjson");
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as PairRecord);
}

function running(a: AgentProcess, what: string, also: (s: AgentStatusJson) => boolean = () => true): Promise<AgentStatusJson> {
  return waitFor(what, 30_000, async () => {
    if (a.exit) throw new Error(`agent exited ${JSON.stringify(a.exit)}`);
    const s = a.port !== null ? await a.status() : null;
    return s && s.envoy && pairs(s).state === "running" && also(s) ? s : undefined;
  }, () => a.logText());
}

describe("hookpoint agent with a stand-in bpftrace", () => {
  it("counts restarts and lost events over the agent's life, across bpftrace and Envoy restarts", async (ctx) => {
    if (skip) return ctx.skip(skip);
    const out = join(dir, "life");
    const a = startAgent(["--output", out, "--interval", "1", "--scripts", "hookpoint-pairs", "--bpftrace", standIn("life")], [
      FIXTURE.pilotAgent, "--restart", "--restart-delay-ms", "300", "--", "--port-file", join(dir, "life-port"),
    ]);
    try {
      const first = await running(a, "hookpoint-pairs running", (s) => pairs(s).lostEvents === 3);
      expect([pairs(first).restarts, pairs(first).lostEvents]).toEqual([0, 3]);
      process.kill(pairs(first).bpftracePid!, "SIGKILL");
      const second = await running(a, "hookpoint-pairs restarted", (s) => pairs(s).restarts === 1 && pairs(s).lostEvents === 6);
      process.kill(second.envoy!.pid, "SIGKILL");
      const third = await running(a, "the successor Envoy traced", (s) => s.envoy!.pid !== second.envoy!.pid && pairs(s).lostEvents > 6);
      expect([pairs(third).restarts, pairs(third).lostEvents]).toEqual([1, 9]);
      const metrics = await a.metrics();
      expect(metricSum(metrics, "hookpoint_agent_script_restarts", { script: "hookpoint-pairs" })).toBe(1);
      expect(metricSum(metrics, "hookpoint_agent_script_lost_events", { script: "hookpoint-pairs" })).toBe(9);
      // pilot-agent forwards SIGTERM to Envoy, which exits 0 on it.
      await terminates(a, 0);
      // Each bpftrace's final dump, one per Envoy (the first Envoy's second bpftrace, and the successor's).
      const records = pairRecords(out);
      expect(records.map((r) => [r.keys, r.value, r.pid])).toEqual([[["RequestSeen"], 5, second.envoy!.pid], [["RequestSeen"], 5, third.envoy!.pid]]);
      // Warnings and errors are what happened (the malformed line of each bpftrace, the
      // killed one); a clean shutdown adds none.
      expect(a.logs.filter((l) => (l.level as number) >= 40).map((l) => l.msg)).toEqual([
        "unparsable bpftrace output", "bpftrace exited, restarting after backoff", "unparsable bpftrace output", "unparsable bpftrace output",
      ]);
    } finally {
      a.kill();
    }
  }, 120_000);

  it("a request trace of one's own whose header lacks an event field fails alone, naming it; the other scripts run", async (ctx) => {
    if (skip) return ctx.skip(skip);
    const { scripts } = scriptsDirWith("own", "envoy-request-trace", "  - tag: Z\n    fields: [tid, fd, ts]\n", "  - tag: Z\n    fields: [tid, fd, when]\n");
    const a = startOwn("own", scripts, "envoy-request-trace,hookpoint-pairs");
    try {
      const s = await running(a, "hookpoint-pairs running");
      expect(s.scripts.find((x) => x.name === "envoy-request-trace")).toMatchObject({ state: "failed", reason: "events", message: 'envoy-request-trace: event "Z" lacks field ts', bpftracePid: null });
      expect(s.trace ?? null).toBeNull();
      expect(a.logs.find((l) => l.msg === "script not started: its events cannot make request records")).toMatchObject({ script: "envoy-request-trace", err: 'envoy-request-trace: event "Z" lacks field ts' });
      await terminates(a, 0);
    } finally {
      a.kill();
    }
  }, 120_000);

  it("a scripts directory that does not load is the failed preflight check `scripts`, naming file and line, until it is corrected", async (ctx) => {
    if (skip) return ctx.skip(skip);
    const { scripts, file, text } = scriptsDirWith("broken", "envoy-socket-io", 'minBpftrace: "0.17"', "minBpftrace: 0.17x");
    const line = text.split("\n").indexOf('minBpftrace: "0.17"') + 1;
    const a = startOwn("broken", scripts, "hookpoint-pairs");
    try {
      const problem = `${file}:${line}: header: minBpftrace: "0.17x" is not a version like "0.17" or "0.20.1"`;
      const failed = await waitFor("the failed check in /status", 30_000, async () => {
        const s = a.port !== null ? await a.status() : null;
        return s?.preflight.find((c) => c.name === "scripts");
      }, () => a.logText());
      expect(failed).toEqual({ name: "scripts", ok: false, detail: problem, fix: "correct the script, or unset HOOKPOINT_SCRIPTS_DIR (--scripts-dir) to use the bundled scripts" });
      expect(metricSum(await a.metrics(), "hookpoint_agent_preflight_ok", { check: "scripts" })).toBe(0);
      expect(a.logs.find((l) => l.msg === "preflight check failed" && l.check === "scripts")).toMatchObject({ problem });
      expect(a.logs.some((l) => l.msg === "tracing disabled until the scripts load; the proxy is unaffected")).toBe(true);
      writeFileSync(file, text);
      // The next try (after 5 s) loads them.
      const s = await running(a, "hookpoint-pairs running once the script is corrected");
      expect(s.preflight.find((c) => c.name === "scripts")).toEqual({ name: "scripts", ok: true, detail: `7 scripts read from ${scripts}` });
      await terminates(a, 0);
    } finally {
      a.kill();
    }
  }, 120_000);

  it("the proxy's user cannot point the agent's files elsewhere: the output directory is the agent's before the proxy starts", async (ctx) => {
    if (skip) return ctx.skip(skip);
    const out = join(dir, "redirect-out");
    const victim = join(dir, "redirect-victim");
    writeFileSync(victim, "root's own\n", { mode: 0o644 });
    // The command runs as uid 1337 and tries to make the output directory its own, with the
    // records file a link to a file of root's (a compromised proxy could, in a pod's /tmp).
    const a = startAgent(["--output", out, "--interval", "3600", "--scripts", "hookpoint-pairs", "--bpftrace", standIn("redirect")], [
      "sh", "-c", `mkdir "${out}"; ln -s "${victim}" "${out}/hookpoint-pairs.ndjson"; stat -c "output dir: %u %a" "${out}"; exec "${FIXTURE.pilotAgent}" -- --port-file "${join(dir, "redirect-port")}"`,
    ]);
    try {
      await running(a, "hookpoint-pairs running");
      expect(a.stderr).toContain("output dir: 0 755");
      await terminates(a, 0);
      expect(readFileSync(victim, "utf8")).toBe("root's own\n");
      const records = pairRecords(out);
      expect(records.map((r) => [r.keys, r.value])).toEqual([[["RequestSeen"], 5]]);
    } finally {
      a.kill();
    }
  }, 120_000);

  it("hookpoint-pairs on a binary without hookpoint functions (a stock Envoy) is skipped, not failed; the other scripts run", async (ctx) => {
    if (skip) return ctx.skip(skip);
    // Node stands for a stock Envoy: a full symbol table, no hookpoint<Name> function.
    const a = startAgent(["--output", join(dir, "stock"), "--scripts", "envoy-event-loop,hookpoint-pairs", "--envoy-names", "node", "--bpftrace", standIn("stock")], [
      process.execPath, "-e", "setInterval(() => undefined, 1000)",
    ]);
    try {
      const s = await waitFor("envoy-event-loop running", 30_000, async () => {
        const st = a.port !== null ? await a.status() : null;
        return st?.scripts.find((x) => x.name === "envoy-event-loop")?.state === "running" ? st : undefined;
      }, () => a.logText());
      const node = realpathSync(process.execPath);
      expect(s.scripts.find((x) => x.name === "hookpoint-pairs")).toMatchObject({ state: "skipped", reason: "no-hookpoint-functions", message: `hookpoint-pairs: ${node} has no hookpoint<Name> functions (only a modified Envoy has them)`, bpftracePid: null });
      expect(a.logs.filter((l) => l.script === "hookpoint-pairs" && (l.level as number) >= 40)).toEqual([]);
      await terminates(a, 143);
    } finally {
      a.kill();
    }
  }, 120_000);

  it("a signal that comes after the proxy exited, during the final dump, neither ends the agent nor loses the dump", async (ctx) => {
    if (skip) return ctx.skip(skip);
    const out = join(dir, "late");
    const go = join(dir, "late-go");
    // The command starts Envoy and exits 5 on its own when told; Envoy outlives it.
    const a = startAgent(["--output", out, "--interval", "3600", "--scripts", "hookpoint-pairs", "--bpftrace", standIn("late", 2)], [
      "sh", "-c", `"${FIXTURE.envoy}" --port-file "${join(dir, "late-port")}" & while [ ! -e "${go}" ]; do sleep 0.05; done; exit 5`,
    ]);
    let envoyPid: number | null = null;
    try {
      envoyPid = (await running(a, "hookpoint-pairs running")).envoy!.pid;
      writeFileSync(go, "");
      // The stand-in takes 2 s to print its final dump after SIGINT; a SIGTERM comes meanwhile.
      await waitFor("the command's exit", 20_000, () => a.logs.some((l) => l.msg === "command exited"), () => a.logText());
      await terminates(a, 5);
      const records = pairRecords(out);
      expect(records.map((r) => [r.keys, r.value])).toEqual([[["RequestSeen"], 5]]);
      expect(a.logs.at(-1)).toMatchObject({ msg: "agent exiting with the command's exit code", exitCode: 5 });
    } finally {
      a.kill();
      if (envoyPid !== null) process.kill(envoyPid, "SIGKILL");
    }
  }, 120_000);

  it("after SIGTERM, bpftrace gets what is left of the grace period for its final dump, not only --stop-grace-ms; without one, --stop-grace-ms", async (ctx) => {
    if (skip) return ctx.skip(skip);
    const dumped = (out: string): [string[], number][] => pairRecords(out).map((r) => [r.keys, r.value]);
    // The stand-in takes 3 s over its final dump; --stop-grace-ms allows 1 s.
    const grace = ["--interval", "3600", "--scripts", "hookpoint-pairs", "--stop-grace-ms", "1000", "--termination-grace-seconds", "20"];
    const out = join(dir, "slow-dump");
    const a = startAgent(["--output", out, ...grace, "--bpftrace", standIn("slow-dump", 3)], [FIXTURE.pilotAgent, "--", "--port-file", join(dir, "slow-dump-port")]);
    try {
      await running(a, "hookpoint-pairs running");
      // pilot-agent forwards SIGTERM to Envoy, which exits 0 on it, within a second: some 18 s of the 20 are left.
      await terminates(a, 0);
      expect(dumped(out)).toEqual([[["RequestSeen"], 5]]);
      const stopping = a.logs.find((l) => l.msg === "stopping bpftrace (SIGINT): final dumps");
      // 20 s less the 1 s margin less the time since SIGTERM.
      expect(stopping?.graceMs, a.logText()).toBeGreaterThan(15_000);
      expect(stopping?.graceMs, a.logText()).toBeLessThan(19_000);
      expect(a.logs.find((l) => l.msg === "bpftrace stopped")).toMatchObject({ script: "hookpoint-pairs", code: 0, signal: null });
      expect(a.logs.filter((l) => (l.level as number) >= 40).map((l) => l.msg)).toEqual(["unparsable bpftrace output"]);
    } finally {
      a.kill();
    }
    // After SIGTERM, Envoy gone 2 s before the command exits: the agent sees Envoy's exit
    // first and stops its bpftrace then, which still gets the rest of the grace period.
    const first = join(dir, "slow-dump-first");
    const c = startAgent(["--output", first, ...grace, "--bpftrace", standIn("slow-dump-first", 3)], [
      "sh", "-c", `"${FIXTURE.envoy}" --port-file "${join(dir, "slow-dump-first-port")}" & envoy=$!; trap 'kill $envoy; wait $envoy; sleep 2; exit 3' TERM; wait $envoy`,
    ]);
    try {
      await running(c, "hookpoint-pairs running");
      await terminates(c, 3);
      expect(dumped(first)).toEqual([[["RequestSeen"], 5]]);
      const order = ["envoy exited, waiting for its successor", "stopping bpftrace (SIGINT): final dumps", "command exited"].map((m) => c.logs.findIndex((l) => l.msg === m));
      expect(order.every((i, k) => i >= 0 && (k === 0 || i > order[k - 1]!)), c.logText()).toBe(true);
      expect(c.logs.find((l) => l.msg === "stopping bpftrace (SIGINT): final dumps")?.graceMs, c.logText()).toBeGreaterThan(15_000);
    } finally {
      c.kill();
    }
    // The proxy exits on its own (no SIGTERM, so no kubelet's deadline): 1 s, then SIGKILL.
    const own = join(dir, "slow-dump-own");
    const go = join(dir, "slow-dump-go");
    const b = startAgent(["--output", own, ...grace, "--bpftrace", standIn("slow-dump-own", 3)], [
      "sh", "-c", `"${FIXTURE.envoy}" --port-file "${join(dir, "slow-dump-own-port")}" & envoy=$!; while [ ! -e "${go}" ]; do sleep 0.05; done; kill $envoy; wait $envoy; exit 7`,
    ]);
    try {
      await running(b, "hookpoint-pairs running");
      writeFileSync(go, "");
      expect(await b.exited).toEqual({ code: 7, signal: null });
      expect(b.logs.find((l) => l.msg === "stopping bpftrace (SIGINT): final dumps")).toMatchObject({ graceMs: 1000 });
      expect(b.logs.find((l) => l.msg === "bpftrace did not stop in time, killing it")).toMatchObject({ script: "hookpoint-pairs", graceMs: 1000 });
      expect(dumped(own)).toEqual([]);
    } finally {
      b.kill();
    }
  }, 120_000);

  it("a pod whose terminationGracePeriodSeconds is 0 is planned on the 2 s the kubelet still gives: tracing goes on 700 ms into the drain, and the final dump is on disk before that SIGKILL", async (ctx) => {
    if (skip) return ctx.skip(skip);
    const out = join(dir, "grace-zero");
    // bpftrace may take 300 ms over its final dump; the proxy drains for 5 s, past the kubelet's SIGKILL.
    const a = startAgent(["--output", out, "--interval", "3600", "--scripts", "hookpoint-pairs", "--termination-grace-seconds", "0", "--stop-grace-ms", "300", "--bpftrace", standIn("grace-zero")], [
      FIXTURE.pilotAgent, "--drain-ms", "5000", "--", "--port-file", join(dir, "grace-zero-port"),
    ]);
    try {
      await running(a, "hookpoint-pairs running");
      a.child.kill("SIGTERM");
      const sigterm = Date.now();
      // SIGTERM at 0; the kubelet's SIGKILL at 2 s; the final dump planned 1 s before it, with 300 ms for bpftrace.
      const planned = await waitFor("the SIGTERM plan", 5000, () => a.logs.find((l) => l.msg === "SIGTERM: the proxy drains, tracing goes on until it exits"), () => a.logText());
      expect(planned.tracingStopsInMs).toBe(700);
      await waitFor("the final dump", 5000, () => pairRecords(out).length > 0 || undefined, () => a.logText());
      const dumpedAfterMs = Date.now() - sigterm;
      const stopped = a.logs.find((l) => l.msg === "the proxy is still draining near the end of the grace period: stopping tracing now (final dump)");
      expect(stopped, a.logText()).toMatchObject({ terminationGraceSeconds: 0 });
      // Tracing went on after SIGTERM for the planned 700 ms (pino's time is in ms).
      expect((stopped!.time as number) - (planned.time as number)).toBeGreaterThanOrEqual(700);
      expect(a.logs.find((l) => l.msg === "stopping bpftrace (SIGINT): final dumps")).toMatchObject({ graceMs: 300, scripts: 1 });
      expect(pairRecords(out).map((r) => [r.keys, r.value])).toEqual([[["RequestSeen"], 5]]);
      // Before the kubelet's SIGKILL, the proxy still draining.
      expect(dumpedAfterMs, a.logText()).toBeLessThan(2000);
      expect(a.exit).toBeNull();
    } finally {
      a.kill();
    }
  }, 60_000);

  it("a terminal's Ctrl-C (SIGINT to the agent's whole process group) reaches bpftrace only from the agent: no restart, one final dump", async (ctx) => {
    if (skip) return ctx.skip(skip);
    const out = join(dir, "ctrl-c");
    // pilot-agent drains 2 s before it passes SIGINT on: a bpftrace that got the terminal's
    // SIGINT itself would have printed its maps, exited and been restarted meanwhile.
    const a = startAgent(["--output", out, "--interval", "3600", "--scripts", "hookpoint-pairs", "--bpftrace", standIn("ctrl-c")], [
      FIXTURE.pilotAgent, "--drain-ms", "2000", "--", "--port-file", join(dir, "ctrl-c-port"),
    ], {}, { group: true });
    try {
      const before = pairs(await running(a, "hookpoint-pairs running"));
      process.kill(-a.child.pid!, "SIGINT");
      await waitFor("pilot-agent draining", 10_000, () => a.stderr.includes("pilot-agent: draining for 2000 ms"), () => a.logText());
      await new Promise((r) => setTimeout(r, 1000));
      const during = pairs(await a.status());
      expect([during.state, during.bpftracePid, during.restarts]).toEqual(["running", before.bpftracePid, 0]);
      expect(await a.exited).toEqual({ code: 0, signal: null });
      const records = pairRecords(out);
      expect(records.map((r) => [r.keys, r.value])).toEqual([[["RequestSeen"], 5]]);
      expect(a.logs.filter((l) => (l.level as number) >= 40).map((l) => l.msg)).toEqual(["unparsable bpftrace output"]);
      expect(a.logs.find((l) => l.msg === "bpftrace stopped")).toMatchObject({ script: "hookpoint-pairs", code: 0, signal: null });
      const order = ["forwarding signal to the command", "command exited", "bpftrace stopped", "agent exiting with the command's exit code"].map((m) => a.logs.findIndex((l) => l.msg === m));
      expect(order.every((i, k) => i >= 0 && (k === 0 || i > order[k - 1]!)), a.logText()).toBe(true);
    } finally {
      a.kill();
    }
  }, 120_000);

  it("bpftrace ends with the agent even when the agent is killed (SIGKILL) and cannot stop it", async (ctx) => {
    if (skip) return ctx.skip(skip);
    // A one-hour interval: bpftrace writes nothing more, so no broken pipe would end it.
    const a = startAgent(["--output", join(dir, "killed"), "--interval", "3600", "--scripts", "hookpoint-pairs", "--bpftrace", standIn("killed")], [
      FIXTURE.pilotAgent, "--", "--port-file", join(dir, "killed-port"),
    ]);
    const below = new Set<number>();
    try {
      const bpftrace = pairs(await running(a, "hookpoint-pairs running")).bpftracePid!;
      for (const pid of descendantsOf(a.child.pid!)) below.add(pid);
      expect(below.has(bpftrace)).toBe(true);
      a.child.kill("SIGKILL");
      await a.exited;
      await waitFor(`bpftrace (pid ${bpftrace}) to end with the agent`, 5000, () => ended(bpftrace));
    } finally {
      a.kill();
      // The proxy runs in a session of its own: it outlives a killed agent (a container's end takes it).
      for (const pid of below) if (!ended(pid)) process.kill(pid, "SIGKILL");
    }
  }, 120_000);

  it("in a pod's pid namespace, the one-shot bpftrace that finds Envoy's pid ends with the agent when the agent is killed (SIGKILL)", async (ctx) => {
    if (skip) return ctx.skip(skip);
    if (!findExecutable("setpriv", executableSearchPath())) return ctx.skip("setpriv (util-linux) is not installed");
    const { a, probe } = await agentProbingInPidNamespace("probe");
    try {
      const [ppid, pgrp, session] = statFields(probe).slice(1, 4).map(Number);
      // The agent's own child (setpriv execs it), leading a session of its own: the guard.
      expect(commandLine(ppid!)?.slice(3, 5)).toEqual([join(ROOT, "src/cli/main.ts"), "agent"]);
      expect([pgrp, session]).toEqual([probe, probe]);
      process.kill(ppid!, "SIGKILL");
      await waitFor(`the pid probe's bpftrace (pid ${probe}) to end with the agent`, 5000, () => ended(probe));
    } finally {
      a.kill();
    }
  }, 120_000);

  it("in a pod's pid namespace, an agent told to stop (SIGTERM) while the one-shot bpftrace that finds Envoy's pid runs stops it at once and exits with the command", async (ctx) => {
    if (skip) return ctx.skip(skip);
    // The stand-in never answers, so the probe would wait 10, 20 and 30 s.
    const { a, probe } = await agentProbingInPidNamespace("probe-stop");
    try {
      const agentPid = Number(statFields(probe)[1]);
      process.kill(agentPid, "SIGTERM");
      // Well before the probe's first 10 s are up: the stop ends it.
      await waitFor("the agent to exit", 8000, () => ended(agentPid), () => a.logText());
      expect(ended(probe)).toBe(true);
      const messages = a.logs.map((l) => l.msg);
      expect(messages).toContain("agent exiting with the command's exit code");
      expect(messages).not.toContain("bpftrace did not say how it reports Envoy's pid in time; asking again, waiting longer");
      expect(messages).not.toContain("cannot tell how bpftrace reports Envoy's pid; scripts may see no events");
      expect(messages).not.toContain("probes attached");
    } finally {
      a.kill();
    }
  }, 120_000);
});

/**
 * The agent in a pid namespace of its own, not its PID 1 (the shell stays PID 1 after the
 * agent's death, exec sleep, so the namespace, and whatever the agent left, stays too), with
 * a stand-in bpftrace that never answers; resolves once its pid probe's bpftrace runs.
 */
async function agentProbingInPidNamespace(name: string): Promise<{ a: AgentProcess; probe: number }> {
  const agent = [process.execPath, "--import", "tsx", join(ROOT, "src/cli/main.ts"), "agent", "--metrics-host", "127.0.0.1", "--metrics-port", "0", "--output", join(dir, name), "--interval", "3600", "--scripts", "hookpoint-pairs", "--bpftrace", standIn(name)];
  const child = spawn("unshare", ["--pid", "--fork", "--mount-proc", "--kill-child", "sh", "-c", '"$@"; exec sleep 600', "sh", ...agent, "--", FIXTURE.pilotAgent, "--", "--port-file", join(dir, `${name}-port`)], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const a = new AgentProcess(child);
  try {
    const probe = await waitFor("the pid probe's bpftrace", 60_000, () => descendantsOf(child.pid!).find((pid) => commandLine(pid)?.some((arg) => arg.includes("hookpoint-pid-ready"))), () => a.logText());
    return { a, probe };
  } catch (err) {
    a.kill();
    throw err;
  }
}
