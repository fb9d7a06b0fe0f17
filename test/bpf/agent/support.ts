// Shared by the agent's integration and bpf tests: the fixture's paths, running the agent
// CLI as a real process, reading its /status and /metrics, and a bounded HTTP client.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import http from "node:http";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { AgentStatus } from "../../../src/agent/status/types.js";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
export const BUILD = join(ROOT, "test/fixtures/build");

/**
 * Where the fixture binaries are run from. The fixture proxy runs as uid 1337, which may
 * not be allowed into the clone (a checkout under root's home); then the built binaries
 * are copied once to a world-readable temporary directory.
 */
function fixtureBase(): string {
  const probe = join(BUILD, "usr/local/bin/envoy");
  if (process.getuid?.() !== 0 || !existsSync(probe)) return BUILD;
  const ok = spawnSync(probe, ["--help"], { uid: 1337, gid: 1337, stdio: "ignore" });
  if (!ok.error && ok.status === 0) return BUILD;
  const keyOf = (f: string): string => (existsSync(f) ? readFileSync(f, "utf8").trim() : "none");
  // The huge fixture is built by a later step: its key is part of the staged copy's.
  const key = `${keyOf(join(BUILD, ".key"))}-${keyOf(join(BUILD, "huge/.key"))}`;
  const staged = join(tmpdir(), `hookpoint-fixture-${key}`);
  if (!existsSync(join(staged, ".key"))) {
    rmSync(staged, { recursive: true, force: true });
    cpSync(BUILD, staged, { recursive: true });
    spawnSync("chmod", ["-R", "a+rX", staged]);
    chmodSync(staged, 0o755);
  }
  return staged;
}

const BASE = fixtureBase();
export const FIXTURE = {
  envoy: join(BASE, "usr/local/bin/envoy"),
  pilotAgent: join(BASE, "usr/local/bin/pilot-agent"),
  stripped: join(BASE, "stripped/bin/envoy"),
  big: join(BASE, "big/bin/envoy"),
  /** The fixture Envoy with 3,000,000 extra symbols (scripts/setup/31-fixture-huge.sh). */
  huge: join(BASE, "huge/bin/envoy"),
};

/** Why the fixture cannot be used here, or null. */
export function fixtureSkipReason(): string | null {
  for (const p of [FIXTURE.envoy, FIXTURE.pilotAgent, FIXTURE.stripped, FIXTURE.big]) {
    if (!existsSync(p)) return `fixture not built (${p} missing): run scripts/setup/30-fixture.sh`;
  }
  return null;
}

/** Why the 3,000,000-symbol fixture cannot be used here, or null. */
export function hugeFixtureSkipReason(): string | null {
  return fixtureSkipReason() ?? (existsSync(FIXTURE.huge) ? null : `huge fixture not built (${FIXTURE.huge} missing): run scripts/setup/31-fixture-huge.sh`);
}

/** A bpftrace the bpf tests run on: Debian 12's and, where set up, Debian trixie's. */
export interface BpftraceUnderTest {
  label: string;
  path: string;
}

/** scripts/setup/25-bpftrace-trixie.sh's wrapper. */
export const TRIXIE_BPFTRACE = join(process.env.HOOKPOINT_CACHE ?? join(homedir(), ".cache/hookpoint"), "bpftrace-trixie/bin/bpftrace");

export const BPFTRACES: readonly BpftraceUnderTest[] = [
  { label: "bpftrace 0.17 (Debian 12)", path: "bpftrace" },
  { label: "bpftrace 0.23 (Debian trixie)", path: TRIXIE_BPFTRACE },
];

const bpfReasons = new Map<string, string | null>();
/** Why real uprobes cannot be attached here with `bpftrace` (not root, not installed, attach fails), or null. */
export function bpfSkipReason(bpftrace = "bpftrace"): string | null {
  const known = bpfReasons.get(bpftrace);
  if (known !== undefined) return known;
  const reason = ((): string | null => {
    const fixture = fixtureSkipReason();
    if (fixture) return fixture;
    if (process.getuid?.() !== 0) return "not root: bpftrace needs root to attach uprobes";
    const v = spawnSync(bpftrace, ["--version"], { encoding: "utf8" });
    if (v.error || v.status !== 0) {
      return bpftrace === TRIXIE_BPFTRACE ? `bpftrace 0.23 not set up at ${bpftrace} (scripts/setup/25-bpftrace-trixie.sh fetches it)` : "bpftrace not installed (scripts/setup/20-bpftrace.sh installs it)";
    }
    const probe = spawnSync(bpftrace, ["-e", `uprobe:${FIXTURE.envoy}:hookpointRequestSeen { @c = count(); } BEGIN { exit(); }`], { encoding: "utf8", timeout: 60_000 });
    if (probe.status !== 0) {
      const why = (probe.stderr ?? "").split("\n").filter((l) => l.trim() && !l.includes("RLIMIT_MEMLOCK")).slice(-2).join(" | ");
      return `uprobes cannot attach on this machine with ${v.stdout.trim()}: ${why || `bpftrace exited ${probe.status}`}`;
    }
    return null;
  })();
  bpfReasons.set(bpftrace, reason);
  return reason;
}

/**
 * Whether this bpftrace drops an aggregation's update when two CPUs create one map entry at
 * once (0.23 creates per-CPU entries with BPF_NOEXIST and reports each loss; docs/agent.md).
 */
export function dropsConcurrentCreates(bpftrace: string): boolean {
  return /v0\.23\./.test(spawnSync(bpftrace, ["--version"], { encoding: "utf8" }).stdout);
}

/**
 * The sum of the samples of `name` in Prometheus text whose labels include `labels` (any
 * other labels allowed); 0 when there is none. Label values are compared as text, never
 * as patterns.
 */
export function metricSum(metrics: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of metrics.split("\n")) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = new Map([...(m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) total += Number(m[3]);
  }
  return total;
}

export interface LogLine {
  msg?: string;
  [k: string]: unknown;
}

export class AgentProcess {
  readonly logs: LogLine[] = [];
  readonly stderr: string[] = [];
  port: number | null = null;
  exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(readonly child: ChildProcess) {
    let buf = "";
    child.stderr!.on("data", (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        this.stderr.push(line);
        if (line.startsWith("{")) {
          try {
            const obj = JSON.parse(line) as LogLine;
            this.logs.push(obj);
            if (obj.msg === "status server listening" && typeof obj.port === "number") this.port = obj.port;
          } catch {
            // not a log line
          }
        }
      }
    });
    child.stdout!.on("data", (d: Buffer) => this.stderr.push(...d.toString().split("\n").filter(Boolean)));
    this.exited = new Promise((r) =>
      child.on("exit", (code, signal) => {
        this.exit = { code, signal };
        r(this.exit);
      }),
    );
  }

  async status(): Promise<AgentStatusJson> {
    return JSON.parse(await get(this.port!, "/status")) as AgentStatusJson;
  }

  metrics(): Promise<string> {
    return get(this.port!, "/metrics");
  }

  /**
   * Ends the agent if a test left it running, and the proxy below it: the command runs in
   * a session of its own, so it would outlive the agent (by their pids only).
   */
  kill(): void {
    if (this.exit || !this.child.pid) return;
    const below = descendantsOf(this.child.pid);
    this.child.kill("SIGKILL");
    for (const pid of below) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone already
      }
    }
  }

  logText(): string {
    return this.stderr.slice(-60).join("\n");
  }
}

/** One line of hookpoint-pairs' output: a map's key with its count or histogram. */
export interface PairsRecord {
  map: string;
  keys: string[];
  value?: number;
  buckets?: { count: number }[];
}

/**
 * hookpoint-pairs' records in `out`. Without `agent`, none yet is an empty list (for polling);
 * with it, a missing file fails with the agent's last log lines, which say what became of
 * bpftrace's final dump.
 */
export function pairsRecords(out: string, agent?: AgentProcess): PairsRecord[] {
  const p = join(out, "hookpoint-pairs.ndjson");
  if (!existsSync(p)) {
    if (!agent) return [];
    throw new Error(`hookpoint-pairs wrote no records (${p} is missing); the agent's last log lines:\n${agent.logText()}`);
  }
  return readFileSync(p, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as PairsRecord);
}

/** What one key of a hookpoint-pairs map adds up to: a histogram's samples, or a count's calls. */
export function pairsSum(records: readonly PairsRecord[], map: string, key: string): number {
  return records.filter((r) => r.map === map && r.keys[0] === key).reduce((n, r) => n + (r.buckets ? r.buckets.reduce((x, b) => x + b.count, 0) : (r.value ?? 0)), 0);
}

/** `/status` as JSON: the agent's own status type. */
export type AgentStatusJson = AgentStatus;

/**
 * The agent's flags for a test: unless the test sets its own, bpftrace gets 20 s (not the
 * default 5 s) to print its final maps after SIGINT, because on a loaded 2-core CI machine
 * bpftrace 0.17 has needed more than 5 s and was then killed before its final dump.
 */
const testAgentArgs = (agentArgs: string[]): string[] => (agentArgs.includes("--stop-grace-ms") ? agentArgs : ["--stop-grace-ms", "20000", ...agentArgs]);

/**
 * Starts `hookpoint agent` (the CLI, through tsx) with the given agent args and command.
 * `group`: the agent leads a process group of its own, as a shell's job does (a terminal's
 * Ctrl-C goes to the whole group).
 */
export function startAgent(agentArgs: string[], command: string[], env: Record<string, string> = {}, { group = false } = {}): AgentProcess {
  const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "src/cli/main.ts"), "agent", "--metrics-host", "127.0.0.1", "--metrics-port", "0", ...testAgentArgs(agentArgs), "--", ...command], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: group,
  });
  return new AgentProcess(child);
}

/**
 * Runs `hookpoint agent` as a container runs it: PID 1 of a new pid namespace through the
 * image's launcher (deploy/images/hookpoint-launcher.sh), which makes tini PID 1 and the
 * agent its child. The launcher runs a shim of the image layout that loads src/ through
 * tsx. `init()` is tini's pid as the host sees it (where a runtime sends SIGTERM).
 */
export function startAgentAsInit(agentArgs: string[], command: string[], env: Record<string, string> = {}): AgentProcess & { init(): number | undefined } {
  const home = mkdtempSync(join(tmpdir(), "hookpoint-image-"));
  mkdirSync(join(home, "dist/cli"), { recursive: true });
  writeFileSync(join(home, "dist/cli/main.js"), `import ${JSON.stringify(pathToFileURL(join(ROOT, "src/cli/main.ts")).href)};\n`);
  writeFileSync(join(home, "node"), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} --import tsx "$@"\n`, { mode: 0o755 });
  const child = spawn(
    "unshare",
    ["--pid", "--fork", "--mount-proc", "--kill-child", "sh", join(ROOT, "deploy/images/hookpoint-launcher.sh"), "agent", "--metrics-host", "127.0.0.1", "--metrics-port", "0", ...testAgentArgs(agentArgs), "--", ...command],
    { cwd: ROOT, env: { ...process.env, HOOKPOINT_HOME: home, HOOKPOINT_NODE: join(home, "node"), ...env }, stdio: ["ignore", "pipe", "pipe"] },
  );
  child.on("exit", () => rmSync(home, { recursive: true, force: true }));
  return Object.assign(new AgentProcess(child), { init: () => childrenOf(child.pid!)[0] });
}

/** Child pids of a process (from /proc). */
export function childrenOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((t) => readFileSync(`/proc/${pid}/task/${t}/children`, "utf8").split(" ").filter(Boolean).map(Number));
  } catch {
    return [];
  }
}

/** Every process below `pid`, nearest first (from /proc). */
export function descendantsOf(pid: number): number[] {
  const out: number[] = [];
  const queue = [pid];
  while (queue.length) {
    for (const k of childrenOf(queue.shift()!)) {
      out.push(k);
      queue.push(k);
    }
  }
  return out;
}

/** Polls `check` every 100 ms until it returns a value other than undefined/false, or fails after `ms`. */
export async function waitFor<T>(what: string, ms: number, check: () => Promise<T | undefined | false> | T | undefined | false, context?: () => string): Promise<T> {
  const deadline = Date.now() + ms;
  let lastErr: unknown = null;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${ms} ms waiting for ${what}${lastErr ? ` (last error: ${String(lastErr)})` : ""}${context ? `\n${context()}` : ""}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function get(port: number, path: string, host = "127.0.0.1"): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port, path, timeout: 5000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`GET ${path}: ${res.statusCode} ${body}`))));
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${path}: timeout`)));
    req.on("error", reject);
  });
}

/**
 * Sends `count` GET requests over `connections` keep-alive connections to the fixture on
 * 127.0.0.1; stops early after `maxMs`. Returns how many got "200 ok".
 */
export async function load(port: number, count: number, connections = 4, maxMs = 30_000): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const deadline = Date.now() + maxMs;
  let sent = 0;
  let ok = 0;
  const worker = async (): Promise<void> => {
    while (sent < count && Date.now() < deadline) {
      sent++;
      const body = await new Promise<string>((resolve, reject) => {
        const req = http.get({ host: "127.0.0.1", port, path: "/", agent, timeout: 5000 }, (res) => {
          let b = "";
          res.on("data", (c: Buffer) => (b += c.toString()));
          res.on("end", () => resolve(`${res.statusCode} ${b}`));
        });
        req.on("timeout", () => req.destroy(new Error("timeout")));
        req.on("error", reject);
      }).catch((err: Error) => `error ${err.message}`);
      if (body === "200 ok\n") ok++;
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  agent.destroy();
  return ok;
}

/** The agent's /status once it found Envoy and each of `scripts` runs (the agent's log tail in the error otherwise). */
export function probesAttached(agent: AgentProcess, scripts: readonly string[], what: string, ms: number): Promise<AgentStatusJson> {
  return waitFor(
    what,
    ms,
    async () => {
      if (agent.exit) throw new Error(`agent exited ${JSON.stringify(agent.exit)}`);
      if (agent.port === null) return undefined;
      const s = await agent.status();
      return s.envoy && scripts.every((w) => s.scripts.find((x) => x.name === w)?.state === "running") ? s : undefined;
    },
    () => agent.logText(),
  );
}

/** The port the fixture proxy wrote to `file` (--port-file). */
export function portFromFile(file: string, what: string, ms: number): Promise<number> {
  return waitFor(what, ms, () => (existsSync(file) ? Number(readFileSync(file, "utf8")) || undefined : undefined));
}

/** The agent's /status once `script` runs (the agent's log tail in the error otherwise). */
export function scriptRunning(agent: AgentProcess, script: string, what: string, ms = 90_000): Promise<AgentStatusJson> {
  return waitFor(
    what,
    ms,
    async () => {
      if (agent.port === null) return undefined;
      const st = await agent.status();
      return st.scripts.find((x) => x.name === script)?.state === "running" ? st : undefined;
    },
    () => agent.logText(),
  );
}
