// Runs one bpftrace program for as long as it is wanted: parses its `-f json` output as a
// stream, restarts it with backoff when it dies, and stops it with SIGINT (bpftrace then
// prints its maps: the final dump) and SIGKILL after a grace period. Through its guard
// (guard.ts) it hears no signal but the agent's, and ends with the agent.
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import type { Logger } from "pino";
import { ParseError, parseLine, type BpftraceEvent } from "../output/records.js";
import { UNGUARDED, type BpftraceGuard } from "./guard.js";
import { ATTACHED_MARKER } from "./program.js";
import { Backoff } from "../../backoff.js";

export type RunnerState = "starting" | "attached" | "backoff" | "stopping" | "stopped";

export interface RunnerOptions {
  name: string;
  bpftrace: string;
  /** The program's file, or its text when it could not be written. */
  program: string | { text: string };
  log: Logger;
  /** Each parsed event, with the generation (1, 2, ... one per bpftrace process). */
  onEvent: (event: BpftraceEvent, generation: number) => void;
  /** A bpftrace process was started (generation 1, 2, ...). */
  onSpawned?: (pid: number | null, generation: number) => void;
  /** All probes are attached (BEGIN ran); ms since this process was spawned. */
  onAttached?: (ms: number, generation: number) => void;
  /** bpftrace exited while still wanted: why, and when it starts again. */
  onExited?: (why: string, retryInMs: number) => void;
  graceMs: number;
  backoff?: Backoff;
  /** bpftrace's environment (default: the agent's own). */
  env?: Record<string, string | undefined>;
  /** How bpftrace is started: in a session of its own, ended with the agent (default: neither). */
  guard?: BpftraceGuard;
}

export interface RunnerStatus {
  state: RunnerState;
  pid: number | null;
  generation: number;
  restarts: number;
  attachMs: number | null;
  lastError: string | null;
  parseErrors: number;
  lostEvents: number;
}

const STDERR_KEEP = 20;
// bpftrace 0.17 prints this on every start even when it works.
const HARMLESS_STDERR = /RLIMIT_MEMLOCK|^\s*$/;

export class BpftraceRunner {
  private child: ChildProcess | null = null;
  private wanted = false;
  private timer: NodeJS.Timeout | null = null;
  private exited: Promise<void> = Promise.resolve();
  private readonly backoff: Backoff;
  private readonly st: RunnerStatus = { state: "stopped", pid: null, generation: 0, restarts: 0, attachMs: null, lastError: null, parseErrors: 0, lostEvents: 0 };

  constructor(private readonly opts: RunnerOptions) {
    this.backoff = opts.backoff ?? new Backoff({ initialMs: 1000, maxMs: 30_000, resetAfterMs: 60_000, jitter: false });
  }

  get status(): RunnerStatus {
    return { ...this.st };
  }

  start(): void {
    if (this.wanted) return;
    this.wanted = true;
    this.spawnOnce();
  }

  /**
   * SIGINT, then SIGKILL after the grace period (`graceMs`, else the runner's own);
   * resolves once bpftrace has exited and its output is read: true when it exited on its
   * own (its final dump is in the output), false when it had to be killed.
   */
  async stop(graceMs = this.opts.graceMs): Promise<boolean> {
    this.wanted = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const child = this.child;
    if (!child) {
      this.st.state = "stopped";
      return true;
    }
    this.st.state = "stopping";
    child.kill("SIGINT");
    const killer = setTimeout(() => {
      this.opts.log.warn({ script: this.opts.name, graceMs }, "bpftrace did not stop in time, killing it");
      child.kill("SIGKILL");
    }, graceMs);
    await this.exited;
    clearTimeout(killer);
    this.st.state = "stopped";
    return child.signalCode !== "SIGKILL";
  }

  private spawnOnce(): void {
    const generation = ++this.st.generation;
    const started = Date.now();
    const stderr: string[] = [];
    let child: ChildProcess;
    this.st.state = "starting";
    this.st.attachMs = null;
    try {
      const program = typeof this.opts.program === "string" ? [this.opts.program] : ["-e", this.opts.program.text];
      const guard = this.opts.guard ?? UNGUARDED;
      const [file, ...argv] = [...guard.wrapper, this.opts.bpftrace, "-f", "json", ...program];
      child = spawn(file!, argv, { stdio: ["ignore", "pipe", "pipe"], detached: guard.detached, ...(this.opts.env ? { env: this.opts.env } : {}) });
    } catch (err) {
      // A start that failed at once is still a start (and an exit) of this generation.
      this.opts.onSpawned?.(null, generation);
      this.onExit(generation, started, null, null, `cannot start bpftrace: ${(err as Error).message}`);
      return;
    }
    this.child = child;
    this.st.pid = child.pid ?? null;
    this.opts.onSpawned?.(this.st.pid, generation);

    let outClosed = false;
    let exitInfo: { code: number | null; signal: NodeJS.Signals | null; spawnError: string | null } | null = null;
    let resolveExited!: () => void;
    this.exited = new Promise((r) => (resolveExited = r));
    const finish = (): void => {
      if (!outClosed || !exitInfo) return;
      this.child = null;
      this.st.pid = null;
      resolveExited();
      const why = exitInfo.spawnError ?? (stderr.filter((l) => !HARMLESS_STDERR.test(l)).slice(-3).join(" | ") || null);
      this.onExit(generation, started, exitInfo.code, exitInfo.signal, why);
    };

    const lines = createInterface({ input: child.stdout!, crlfDelay: Infinity });
    lines.on("line", (line) => this.onLine(line, generation, started));
    lines.on("close", () => {
      outClosed = true;
      finish();
    });
    createInterface({ input: child.stderr!, crlfDelay: Infinity }).on("line", (line) => {
      stderr.push(line);
      if (stderr.length > STDERR_KEEP) stderr.shift();
    });
    child.on("error", (err) => {
      // spawn failure (ENOENT, EACCES): no exit event follows for a process that never ran.
      if (child.pid === undefined) {
        outClosed = true;
        exitInfo = { code: null, signal: null, spawnError: `cannot start ${this.opts.bpftrace}: ${err.message}` };
        finish();
      }
    });
    child.on("exit", (code, signal) => {
      exitInfo = { code, signal, spawnError: null };
      finish();
    });
  }

  private onLine(line: string, generation: number, started: number): void {
    let event: BpftraceEvent | null;
    try {
      event = parseLine(line);
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
      this.st.parseErrors++;
      if (this.st.parseErrors <= 5 || this.st.parseErrors % 1000 === 0) {
        this.opts.log.warn({ script: this.opts.name, problem: err.message, count: this.st.parseErrors }, "unparsable bpftrace output");
      }
      return;
    }
    if (!event) return;
    if (event.type === "printf" && event.text.trim() === ATTACHED_MARKER) {
      this.st.state = "attached";
      this.st.attachMs = Date.now() - started;
      this.st.lastError = null;
      this.opts.onAttached?.(this.st.attachMs, generation);
      return;
    }
    if (event.type === "lost") this.st.lostEvents += event.events;
    try {
      this.opts.onEvent(event, generation);
    } catch (err) {
      // A bug in handling one dump must not take the agent (and so the proxy) down.
      this.opts.log.error({ script: this.opts.name, err: (err as Error).message }, "cannot handle bpftrace output");
    }
  }

  private onExit(generation: number, started: number, code: number | null, signal: NodeJS.Signals | null, why: string | null): void {
    if (!this.wanted) {
      this.st.state = "stopped";
      this.opts.log.info({ script: this.opts.name, code, signal }, "bpftrace stopped");
      return;
    }
    const ranMs = Date.now() - started;
    const delay = this.backoff.next(ranMs);
    this.st.restarts++;
    this.st.state = "backoff";
    this.st.lastError = `bpftrace exited (${signal ? `signal ${signal}` : `code ${code}`})${why ? `: ${why}` : ""}`;
    this.opts.log.error({ script: this.opts.name, generation, code, signal, stderr: why, ranMs, retryInMs: delay }, "bpftrace exited, restarting after backoff");
    this.opts.onExited?.(this.st.lastError, delay);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.wanted) this.spawnOnce();
    }, delay);
  }
}
