// `hookpoint agent`: the proxy container's entrypoint. Starts the command first (the proxy
// never waits for tracing), then, independently: preflight, find Envoy among the command's
// descendants, read its symbols, start one bpftrace per selected script, and turn their
// output into NDJSON files, summary log lines and Prometheus series. Any tracing failure is
// logged and retried; only the command's exit ends the agent, with the command's code.
import { constants } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "pino";
import type { FastifyInstance } from "fastify";
import { Backoff } from "../backoff.js";
import { eventBufferPages, forBpftrace, swapPidTid, versionAtLeast, withAttachedMarker } from "./bpftrace/program.js";
import { bpftraceGuard, type BpftraceGuard } from "./bpftrace/guard.js";
import { BpftraceRunner } from "./bpftrace/runner.js";
import { readSymbolTable, type SymbolTable } from "../elf/symbols.js";
import { IntervalDeltas } from "./output/deltas.js";
import { MapMetrics, metricName } from "./output/map-metrics.js";
import { WrittenOrder } from "./output/disorder.js";
import { RotatingFile, type WriteResult } from "./output/ndjson.js";
import { toRecords, type BpftraceEvent, type MapRecord } from "./output/records.js";
import { summarize } from "./output/summary.js";
import { LOST_UPDATE_WHY, lostUpdateOf, programSites, type SiteFinder } from "./output/update-site.js";
import { AbortedError, inInitPidNamespace, resolvePidViewPatiently, type PidView } from "./pidns.js";
import { envoyAccess, liveChecks, preflight, readCapabilities, type PreflightResult } from "./preflight.js";
import { exePath, findEnvoy, type ProcInfo } from "./proc/envoy.js";
import { readProc, readSubtree } from "./proc/scan.js";
import { DEFAULT_SCRIPT_NAMES, REQUEST_TRACE_SCRIPT } from "../defaults.js";
import { PROGRAMS_DIR } from "../records/names.js";
import { loadCatalog, type BundledScript as Script } from "../catalog/catalog.js";
import { HOOKPOINT_SYMBOL_PATTERN, PAIRS_SCRIPT_NAME } from "../catalog/pairs.js";
import { checkScript, generatePairsScript, renderScript, symbolPatternsOf } from "../catalog/render.js";
import { drainPlan, finalDumpGraceMs } from "./final-dump.js";
import { nextState, type ScriptEvent } from "./script-state.js";
import { SETTINGS, fileBytesOf, outputFiles, type AgentSettings } from "./settings.js";
import { recordsMetrics } from "./records/metrics.js";
import { agentRegistry } from "./status/agent-metrics.js";
import { buildStatusApp } from "./status/server.js";
import type { AgentStatus, ScriptStatus } from "./status/types.js";
import { Supervisor } from "./supervisor.js";
import { blankTraceStatus, RequestTrace, requestRecordsName } from "./trace/request-trace.js";

export interface AgentDeps {
  settings: AgentSettings;
  command: string;
  args: string[];
  log: Logger;
  version: string;
  uid: number;
  /** Path of tini when the command should run under it (decided by the CLI edge). */
  reaper: string | null;
  /** Path of setpriv, which ties each bpftrace to the agent (bpftrace/guard.ts); null or absent: none. */
  setpriv?: string | null;
  procRoot?: string;
  tracefs?: string;
  btf?: string;
  /** Called once the status server listens (tests read the port). */
  onListening?: (port: number) => void;
  /** "namespace/name" of the pod, for request records (null outside Kubernetes). */
  pod?: string | null;
  /** The agent's environment plus `extra`, for a bpftrace that needs a variable more (the CLI edge reads the environment). */
  envWith?: (extra: Readonly<Record<string, string>>) => Record<string, string | undefined>;
}

interface Session {
  envoy: ProcInfo;
  /** `deltas`: the script's running totals turned into per-interval records. */
  runners: Map<string, { runner: BpftraceRunner; script: Script; sites: SiteFinder; file: RotatingFile; deltas: IntervalDeltas; trace?: { trace: RequestTrace; file: RotatingFile } }>;
  number: number;
}

const POLL_FAST_MS = 100;
/** A rendered program is written afresh, never through a symbolic link. */
const NO_FOLLOW_WRITE = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW;
/** A records download whose client reads nothing for this long is cut off. */
const RECORDS_IDLE_TIMEOUT_MS = 30_000;
const POLL_SLOW_MS = 500;

export class Agent {
  private readonly log: Logger;
  private readonly settings: AgentSettings;
  private stopping = false;
  /** When the kubelet will SIGKILL the pod (performance.now() ms, less the margin), from the first SIGTERM; null before one. */
  private killAt: number | null = null;
  private session: Session | null = null;
  private sessions = 0;
  private readonly metrics = new MapMetrics();
  private readonly lastDump = new Map<string, MapRecord[]>();
  private catalog: Script[] = [];
  private pre: PreflightResult | null = null;
  private server: FastifyInstance | null = null;
  private readonly wakers = new Set<() => void>();
  private tracing: Promise<void> = Promise.resolve();
  /** The proxy's configured uid when it differs from the agent's (capabilities matter then). */
  private proxyUid: number | null = null;
  private envoyAccessLogged = false;
  /** An Envoy found by name whose /proc/<pid>/exe the agent may not read. */
  private unreadableEnvoy: number | null = null;
  /** When each script's failing output, and its recovery, were last logged. */
  private readonly writeErrorLoggedAt = new Map<string, number>();
  private readonly recoveryLoggedAt = new Map<string, number>();
  /** Restarts and lost events of each script's runners of Envoys gone: /status counts over the agent's life. */
  private readonly pastRunners = new Map<string, { restarts: number; lostEvents: number }>();
  /** How far out of time order each records file was written, and its late records (its records endpoints read the files with it). */
  private readonly order = new WrittenOrder();
  readonly state: AgentStatus;

  constructor(private readonly deps: AgentDeps) {
    this.log = deps.log;
    this.settings = deps.settings;
    this.state = {
      version: deps.version,
      profile: deps.settings.profile,
      startedAt: new Date().toISOString(),
      command: { pid: null, argv: [deps.command, ...deps.args], uid: null, gid: null, exitCode: null },
      system: null,
      preflight: [],
      bpftraceVersion: null,
      envoy: null,
      // Listed from the first answer, in the state machine's first state: a client waiting
      // for "every script running" must not pass on an empty list while preflight runs.
      scripts: this.selectedNames().map((name) => blankStatus(name)),
      outputDir: deps.settings.outputDir,
    };
  }

  /** Runs until the command exits; resolves with its exit code. */
  async run(): Promise<number> {
    const { settings, log } = this;
    const ids = await this.proxyIds();
    let draining: NodeJS.Timeout | null = null;
    const sup = new Supervisor({
      command: this.deps.command,
      args: this.deps.args,
      uid: ids.uid,
      gid: ids.gid,
      reaper: this.deps.reaper,
      log,
      onSignal: (sig) => {
        if (sig !== "SIGTERM" || draining || this.stopping) return;
        const plan = drainPlan(settings.terminationGraceSeconds, settings.stopGraceMs);
        this.killAt = performance.now() + plan.killInMs;
        // The proxy drains (pilot-agent: --drain-time-s); tracing goes on meanwhile, and
        // stops in time for its final dump to be written before the kubelet's SIGKILL.
        const ms = plan.tracingStopsInMs;
        log.info({ tracingStopsInMs: ms }, "SIGTERM: the proxy drains, tracing goes on until it exits");
        draining = setTimeout(() => {
          log.warn({ terminationGraceSeconds: settings.terminationGraceSeconds }, "the proxy is still draining near the end of the grace period: stopping tracing now (final dump)");
          void this.stopTracing();
        }, ms);
        draining.unref();
      },
    });
    // The output directory is made, as the agent's (root's), before the proxy runs: in a
    // pod's world-writable /tmp the proxy's user could otherwise make it first, as its own,
    // and link the agent's files to anywhere root may write.
    await mkdir(join(settings.outputDir, PROGRAMS_DIR), { recursive: true, mode: 0o755 }).catch((err: unknown) => {
      log.warn({ dir: settings.outputDir, err: (err as Error).message }, "cannot create the output directory");
    });
    const rootPid = sup.start();
    this.state.command.pid = rootPid;
    this.state.command.uid = sup.runsAs.uid ?? this.deps.uid;
    this.state.command.gid = sup.runsAs.gid;
    // The uid the proxy should run as, when that differs from the agent's: the preflight
    // then checks the capabilities that takes (and says so if the proxy had to run as root).
    this.proxyUid = this.deps.uid === 0 && settings.proxyUid !== 0 ? settings.proxyUid : null;

    void this.serve();
    const summary = setInterval(() => this.logSummary(), settings.intervalSeconds * 1000);
    summary.unref();
    this.tracing = rootPid === null ? Promise.resolve() : this.traceLoop(rootPid).catch((err: unknown) => log.error({ err: String(err) }, "tracing loop failed"));

    const exit = await sup.exited;
    if (draining) clearTimeout(draining);
    this.state.command.exitCode = exit.code;
    await this.stopTracing();
    clearInterval(summary);
    this.logSummary();
    await this.server?.close().catch(() => undefined);
    sup.release();
    log.info({ exitCode: exit.code }, "agent exiting with the command's exit code");
    return exit.code;
  }

  /**
   * The uid/gid to start the command as: the proxy's when the agent is root and may switch
   * to it (SETUID, SETGID) and signal it afterwards (KILL); else the agent's own, so that
   * the proxy runs and SIGTERM reaches it.
   */
  private async proxyIds(): Promise<{ uid: number | null; gid: number | null }> {
    const { settings, log } = this;
    if (this.deps.uid !== 0) {
      log.warn({ uid: this.deps.uid, proxyUid: settings.proxyUid }, "not root: the command runs as the current user");
      return { uid: null, gid: null };
    }
    const caps = await readCapabilities(this.deps.procRoot);
    const needs = [...(settings.proxyUid !== 0 ? ["SETUID", "KILL"] : []), ...(settings.proxyGid !== 0 ? ["SETGID"] : [])];
    const missing = caps === null ? [] : needs.filter((c) => !caps.includes(c));
    if (missing.length > 0) {
      log.error(
        { missing, proxyUid: settings.proxyUid, proxyGid: settings.proxyGid, fix: `add ${missing.join(", ")} to the profile's capabilities` },
        missing.includes("KILL") && !missing.some((c) => c.startsWith("SET"))
          ? "cannot run the proxy as its own user: without CAP_KILL the agent could not forward SIGTERM to it; starting it as the agent's user"
          : "cannot run the proxy as its own user: CAP_SETUID/CAP_SETGID missing; starting it as the agent's user",
      );
      return { uid: null, gid: null };
    }
    return { uid: settings.proxyUid, gid: settings.proxyGid };
  }

  /** Stops tracing (final dumps written); the proxy and the status server go on. */
  private async stopTracing(): Promise<void> {
    this.stopping = true;
    for (const w of [...this.wakers]) w();
    await this.tracing;
    await this.stopSession();
  }

  private async serve(): Promise<void> {
    const registry = agentRegistry(() => this.snapshot());
    const { settings } = this;
    const app = buildStatusApp({
      metrics: async () => {
        await this.refreshLiveChecks();
        return (await registry.metrics()) + this.metrics.render();
      },
      status: async () => {
        await this.refreshLiveChecks();
        return this.snapshot();
      },
      ...(settings.recordsEndpoint
        ? { records: { dir: settings.outputDir, maxResponseBytes: settings.recordsMaxBytes, concurrency: settings.recordsConcurrency, idleTimeoutMs: RECORDS_IDLE_TIMEOUT_MS, writtenOrder: (ino) => this.order.known(ino), ...recordsMetrics(registry) } }
        : {}),
    });
    const backoff = new Backoff({ initialMs: 1000, maxMs: 30_000, jitter: false });
    while (!this.stopping) {
      try {
        await app.listen({ host: this.settings.metricsHost, port: this.settings.metricsPort });
        const addr = app.server.address();
        const port = typeof addr === "object" && addr ? addr.port : this.settings.metricsPort;
        this.server = app;
        this.log.info({ host: this.settings.metricsHost, port }, "status server listening");
        this.deps.onListening?.(port);
        return;
      } catch (err) {
        const delay = backoff.next();
        this.log.error({ port: this.settings.metricsPort, err: (err as Error).message, retryInMs: delay }, "status server cannot listen");
        await this.sleep(delay);
      }
    }
  }

  private async traceLoop(rootPid: number): Promise<void> {
    const backoff = new Backoff({ initialMs: 5000, maxMs: 300_000, jitter: false });
    // Preflight and catalog: retried until they pass, while the proxy runs.
    for (;;) {
      if (this.stopping) return;
      this.pre = await preflight({
        bpftrace: this.settings.bpftrace,
        tracefs: this.deps.tracefs ?? "/sys/kernel/tracing",
        btf: this.deps.btf ?? "/sys/kernel/btf/vmlinux",
        uid: this.deps.uid,
        proxyUid: this.proxyUid,
        log: this.log,
        ...(this.deps.procRoot ? { procRoot: this.deps.procRoot } : {}),
      });
      this.state.preflight = this.pre.checks;
      this.state.system = this.pre.system;
      this.state.bpftraceVersion = this.pre.bpftraceVersion?.join(".") ?? null;
      if (this.pre.ok && (await this.loadScripts())) break;
      const delay = backoff.next();
      this.log.warn({ retryInMs: delay }, this.pre.ok ? "tracing disabled until the scripts load; the proxy is unaffected" : "tracing disabled until preflight passes; the proxy is unaffected");
      await this.sleep(delay);
    }
    // Found out once, after the proxy started (it runs a program), and before any bpftrace:
    // the one-shot pid probe (tracePidOf) runs under it as well as the scripts.
    const guard = await bpftraceGuard(this.deps.setpriv ?? null);
    this.log.info({ wrapper: guard.wrapper, detached: guard.detached }, guard.note);

    while (!this.stopping) {
      const envoy = await this.waitForEnvoy(rootPid);
      if (!envoy) return;
      await this.startSession(envoy, guard).catch((err: unknown) => {
        this.log.error({ pid: envoy.pid, err: (err as Error).message }, "cannot trace this Envoy");
      });
      await this.waitUntilGone(envoy);
      if (!this.stopping) this.log.info({ pid: envoy.pid }, "envoy exited, waiting for its successor");
      await this.stopSession();
    }
  }

  /**
   * Loads the catalog: the bundled scripts come compiled; a directory of one's own is read
   * and linted now, and its outcome is the preflight check `scripts` (in /status, and so
   * in `hookpoint status`), since nothing else there would say why nothing is traced.
   */
  private async loadScripts(): Promise<boolean> {
    const dir = this.settings.scriptsDir;
    try {
      this.catalog = await loadCatalog(dir ?? undefined);
      if (dir) this.state.preflight = [...this.state.preflight, { name: "scripts", ok: true, detail: `${this.catalog.length} scripts read from ${dir}` }];
      return true;
    } catch (err) {
      const problem = (err as Error).message;
      if (!dir) {
        this.log.error({ err: problem }, "cannot load the bundled scripts");
        return false;
      }
      const fix = `correct the script, or unset ${SETTINGS.scriptsDir.env} (${SETTINGS.scriptsDir.flag}) to use the bundled scripts`;
      this.state.preflight = [...this.state.preflight, { name: "scripts", ok: false, detail: problem, fix }];
      this.log.error({ check: "scripts", problem, fix }, "preflight check failed");
      return false;
    }
  }

  private selectedNames(): string[] {
    return [...(this.settings.scripts ?? DEFAULT_SCRIPT_NAMES)];
  }

  private async waitForEnvoy(rootPid: number): Promise<ProcInfo | null> {
    let logged = false;
    const started = Date.now();
    while (!this.stopping) {
      const procs = await readSubtree(rootPid, this.deps.procRoot);
      if (procs.length === 0) return null;
      const envoy = findEnvoy(procs, rootPid, this.settings.envoyNames);
      if (envoy && envoy.exe) {
        this.log.info({ pid: envoy.pid, exe: envoy.exe, waitedMs: Date.now() - started }, "envoy found");
        this.unreadableEnvoy = null;
        return envoy;
      }
      if (envoy && !this.envoyAccessLogged) {
        // Found by its name, but its /proc/<pid>/exe cannot be read: say why, once.
        const access = await envoyAccess(envoy.pid, `${this.deps.procRoot ?? "/proc"}/${envoy.pid}/exe`, this.deps.procRoot);
        if (!access.ok && access.fix) {
          this.envoyAccessLogged = true;
          this.unreadableEnvoy = envoy.pid;
          this.log.error({ pid: envoy.pid, problem: access.detail, fix: access.fix }, "envoy found but its binary cannot be read; tracing waits");
        }
      }
      if (!logged && Date.now() - started > 10_000) {
        logged = true;
        this.log.warn({ rootPid, names: this.settings.envoyNames }, "no Envoy among the command's processes yet, still looking");
      }
      await this.sleep(Date.now() - started < 30_000 ? POLL_FAST_MS : POLL_SLOW_MS);
    }
    return null;
  }

  private async waitUntilGone(envoy: ProcInfo): Promise<void> {
    while (!this.stopping) {
      const now = await readProc(envoy.pid, this.deps.procRoot);
      if (!now || now.startTime !== envoy.startTime || now.state === "Z") return;
      await this.sleep(POLL_SLOW_MS);
    }
  }

  private async startSession(envoy: ProcInfo, guard: BpftraceGuard): Promise<void> {
    const binary = exePath(envoy.pid, envoy.exe!, this.deps.procRoot);
    // Only what the selected scripts probe is kept of the table, never all of it.
    const names = this.selectedNames();
    const patterns = symbolPatternsOf(this.catalog.filter((s) => names.includes(s.header.name)));
    // hookpoint-pairs is generated from the bundled template when the catalog has none.
    if (names.includes(PAIRS_SCRIPT_NAME)) patterns.push(HOOKPOINT_SYMBOL_PATTERN);
    const [table, pidView] = await Promise.all([readSymbolTable(binary, patterns), this.tracePidOf(envoy.pid, guard)]);
    // Stopped meanwhile (the pid probe returns at once then): start no script only to stop it.
    if (this.stopping) return;
    const tracePid = pidView.tracePid;
    const number = ++this.sessions;
    const session: Session = { envoy, runners: new Map(), number };
    this.session = session;
    this.state.envoy = {
      pid: envoy.pid,
      tracePid,
      pidMode: pidView.mode,
      binary,
      buildId: table.buildId,
      stripped: table.stripped,
      symbols: table.functions,
      since: new Date().toISOString(),
    };
    this.log.info({ pid: envoy.pid, tracePid, pidMode: pidView.mode, binary, buildId: table.buildId, stripped: table.stripped, symbols: table.functions, kept: table.symbols.size }, "envoy symbols read");
    if (table.stripped) {
      this.log.error({ binary }, "envoy binary is stripped: no symbols to probe; uprobe scripts cannot run (use an Envoy build with symbols)");
    }

    const programs = join(this.settings.outputDir, PROGRAMS_DIR);
    await mkdir(programs, { recursive: true }).catch(() => undefined);
    // All files of all scripts stay under the output budget (and so inside the emptyDir);
    // the settings refuse a budget too small for that.
    const { keepFiles, maxOutputBytes } = this.settings;
    const fileBytes = fileBytesOf(this.settings);
    this.log.info({ scripts: names.length, files: outputFiles(names), fileBytes, keepFiles, maxOutputBytes }, "output files capped");
    for (const name of this.selectedNames()) {
      const st = this.scriptStatus(name);
      Object.assign(st, { reason: null, message: null, missing: [], attachMs: null, bpftracePid: null, probes: null });
      const script = this.scriptFor(name, table);
      if (!script) continue;
      const check = checkScript(script, table);
      if (!check.ok) {
        this.move(name, "cannot-run", { reason: check.reason, message: check.message, missing: check.missing });
        this.log.error({ script: name, reason: check.reason, missing: check.missing, binary }, check.reason === "stripped" ? "script not started: binary is stripped" : "script not started: required symbols missing");
        continue;
      }
      const min = script.header.minBpftrace;
      if (this.pre?.bpftraceVersion && min && !versionAtLeast(this.pre.bpftraceVersion, min)) {
        this.move(name, "cannot-run", { reason: "bpftrace-version", message: `needs bpftrace ${min}, found ${this.state.bpftraceVersion}` });
        this.log.error({ script: name, needs: min, found: this.state.bpftraceVersion }, "script not started: bpftrace too old");
        continue;
      }
      let program: string;
      try {
        program = renderScript(script, {
          binary,
          pid: tracePid,
          table,
          byAddress: !table.stripped,
          intervalSeconds: this.settings.intervalSeconds,
          traceSample: this.settings.traceSample,
          traceRate: this.settings.traceRate,
          companions: names.filter((n) => n !== name),
        });
      } catch (err) {
        this.move(name, "cannot-run", { reason: "render", message: (err as Error).message });
        this.log.error({ script: name, err: (err as Error).message }, "script not started: cannot render it");
        continue;
      }
      let trace: { trace: RequestTrace; file: RotatingFile } | undefined;
      if (name === REQUEST_TRACE_SCRIPT) {
        try {
          trace = this.requestTrace(name, script, envoy, table, fileBytes);
        } catch (err) {
          // A script of one's own (--scripts-dir) whose header lacks what request records
          // are built from: this script cannot run; the others still do.
          this.move(name, "cannot-run", { reason: "events", message: (err as Error).message });
          this.log.error({ script: name, err: (err as Error).message }, "script not started: its events cannot make request records");
          continue;
        }
      }
      // The program file is for reference; when it cannot be written (a full /tmp) bpftrace gets the text itself.
      const text = forBpftrace(withAttachedMarker(pidView.mode === "swapped" ? swapPidTid(program) : program), this.pre?.bpftraceVersion ?? null);
      let programFile: string | null = join(programs, `${name}.bt`);
      try {
        await writeFile(programFile, text, { flag: NO_FOLLOW_WRITE });
      } catch (err) {
        this.log.warn({ script: name, file: programFile, err: (err as Error).message }, "cannot write the program file; bpftrace gets the program on its command line");
        programFile = null;
      }
      const file = new RotatingFile({ dir: this.settings.outputDir, name, maxBytes: fileBytes, keep: keepFiles, order: this.order });
      const runner = new BpftraceRunner({
        name,
        bpftrace: this.settings.bpftrace,
        program: programFile ?? { text },
        log: this.log,
        graceMs: this.settings.stopGraceMs,
        guard,
        onEvent: (ev, gen) => this.onEvent(session, name, ev, gen),
        ...(script.header.events && this.deps.envWith ? { env: this.deps.envWith({ BPFTRACE_PERF_RB_PAGES: eventBufferPages(this.pre?.bpftraceVersion ?? null) }) } : {}),
        onSpawned: (pid) => this.move(name, "spawned", { bpftracePid: pid, attachMs: null, probes: null }),
        onAttached: (ms) => {
          this.move(name, "attached", { attachMs: ms, message: null, reason: null });
          this.log.info({ script: name, attachMs: ms, pid: envoy.pid }, "probes attached");
        },
        onExited: (why) => this.move(name, "exited", { reason: "bpftrace", message: why, bpftracePid: null }),
      });
      Object.assign(st, { programFile, output: file.path });
      this.metrics.register(name, script.header.maps);
      session.runners.set(name, { runner, script, sites: programSites(text), file, deltas: new IntervalDeltas(), ...(trace ? { trace } : {}) });
      runner.start();
    }
    this.refreshRunnerStatus();
  }

  /** Request records from envoy-request-trace's events, in their own file. */
  private requestTrace(name: string, script: Script, envoy: ProcInfo, table: SymbolTable, maxBytes: number): { trace: RequestTrace; file: RotatingFile } {
    const file = new RotatingFile({ dir: this.settings.outputDir, name: requestRecordsName(name), maxBytes, keep: this.settings.keepFiles, order: this.order });
    const { traceSample, traceRate } = this.settings;
    // Counters outlive one Envoy: a restarted proxy adds to them.
    const status = this.state.trace?.script === name ? this.state.trace : blankTraceStatus(name, file.path, traceSample, traceRate);
    const trace = new RequestTrace({
      header: script.header,
      pid: envoy.pid,
      pod: this.deps.pod ?? null,
      rate: traceRate,
      table,
      status,
      log: this.log,
      write: (records) => this.written(name, file, file.write(records)),
    });
    this.state.trace = status;
    trace.start();
    return { trace, file };
  }

  private scriptFor(name: string, table: SymbolTable): Script | null {
    if (name === PAIRS_SCRIPT_NAME) {
      // Generated from the template in the catalog loaded at start (the bundled one if it has none).
      const generated = generatePairsScript(table, this.catalog.find((s) => s.header.name === name));
      if (!generated && table.stripped) {
        this.move(name, "cannot-run", { reason: "stripped", message: `${name}: ${table.path} is stripped (no symbol table), and the script probes ${HOOKPOINT_SYMBOL_PATTERN}` });
        this.log.error({ script: name, binary: table.path }, "script not started: binary is stripped");
      } else if (!generated) {
        // A stock Envoy: the script has nothing to trace, which is no failure (it is a default).
        this.move(name, "skip", { reason: "no-hookpoint-functions", message: `${name}: ${table.path} has no hookpoint<Name> functions (only a modified Envoy has them)` });
        this.log.info({ script: name, binary: table.path }, "script skipped: no hookpoint functions in the binary");
      }
      return generated;
    }
    const script = this.catalog.find((s) => s.header.name === name);
    if (!script) {
      const known = this.catalog.map((s) => s.header.name).join(", ");
      this.move(name, "cannot-run", { reason: "unknown-script", message: `no bundled script "${name}" (bundled: ${known})` });
      this.log.error({ script: name, bundled: known }, "unknown script name");
    }
    return script ?? null;
  }

  /** How bpftrace reports Envoy's pid: what its scripts filter on, and whether `pid`/`tid` are swapped. */
  private async tracePidOf(pid: number, guard: BpftraceGuard): Promise<PidView> {
    if ((await inInitPidNamespace(this.deps.procRoot)) !== false) return { mode: "host", tracePid: pid };
    // Stopping ends the probe at once: its tries can take a minute, past the pod's grace period.
    const abort = new AbortController();
    const wake = (): void => abort.abort();
    this.wakers.add(wake);
    if (this.stopping) abort.abort();
    const v = this.pre?.bpftraceVersion;
    const guess: PidView = v && versionAtLeast(v, "0.23") ? { mode: "namespace", tracePid: pid } : { mode: "host", tracePid: pid };
    try {
      return await resolvePidViewPatiently(this.settings.bpftrace, pid, {
        guard,
        graceMs: this.settings.stopGraceMs,
        signal: abort.signal,
        onRetry: (err, nextTimeoutMs) => this.log.warn({ pid, err: err.message, nextTimeoutMs }, "bpftrace did not say how it reports Envoy's pid in time; asking again, waiting longer"),
      });
    } catch (err) {
      // Stopping: no script will start, so the guess is never used.
      if (err instanceof AbortedError) return guess;
      this.log.error({ pid, err: (err as Error).message, assumed: guess.mode }, "cannot tell how bpftrace reports Envoy's pid; scripts may see no events");
      return guess;
    } finally {
      this.wakers.delete(wake);
    }
  }

  private onEvent(session: Session, name: string, ev: BpftraceEvent, generation: number): void {
    const entry = session.runners.get(name);
    if (ev.type === "printf") {
      if (entry?.trace) entry.trace.trace.line(ev.text, generation);
      else this.log.debug({ script: name, text: ev.text.trimEnd() }, "bpftrace printf");
      return;
    }
    if (ev.type === "lost") {
      entry?.trace?.trace.lost();
      return;
    }
    if (ev.type === "attached") {
      this.scriptStatus(name).probes = ev.probes;
      return;
    }
    if (ev.type === "helperError") {
      if (entry) this.helperError(name, entry, ev);
      return;
    }
    if (ev.type !== "maps" || !entry) return;
    // The scripts print running totals; everything downstream sees each interval's share.
    const totals = toRecords(ev, entry.script.header, new Date().toISOString(), session.envoy.pid);
    const records = entry.deltas.delta(totals, session.number * 1_000_000 + generation);
    if (records.length === 0) return;
    this.written(name, entry.file, entry.file.write(records));
    // Metrics and the summary go on whether or not the disk took the records.
    this.metrics.add(records);
    // The summary shows each map's latest dump: this one replaces the maps it holds.
    const dump = new Map<string, MapRecord[]>();
    for (const r of records) {
      const key = `${name}${r.map}`;
      const list = dump.get(key);
      if (list) list.push(r);
      else dump.set(key, [r]);
    }
    for (const [key, list] of dump) this.lastDump.set(key, list);
  }

  /**
   * A failed helper call in a script's program. A failed map update is an update missing
   * from that map: counted against the map and key of its statement. The first one of a
   * script is a warning, the first of each further statement an info line; other failed
   * helpers are warned about (the first 5, then every 1,000th).
   */
  private helperError(name: string, { sites, script }: { sites: SiteFinder; script: Script }, ev: Extract<BpftraceEvent, { type: "helperError" }>): void {
    const st = this.scriptStatus(name);
    st.helperErrors++;
    const lost = lostUpdateOf(sites, ev);
    if (!lost) {
      const others = st.helperErrors - st.lostUpdates.reduce((n, u) => n + u.count, 0);
      if (others <= 5 || others % 1000 === 0) {
        this.log.warn({ script: name, helper: ev.helper, retcode: ev.retcode, problem: ev.message, line: ev.line, count: others }, "bpftrace helper call failed");
      }
      return;
    }
    const known = st.lostUpdates.find((u) => u.map === lost.map && u.key === lost.key && u.line === lost.line && u.reason === lost.reason);
    if (known) {
      known.count++;
      return;
    }
    const first = st.lostUpdates.length === 0;
    const declared = script.header.maps.find((m) => m.name === lost.map);
    const metric = declared ? metricName(declared.metric, declared.kind, declared.unit) : null;
    st.lostUpdates.push({ ...lost, metric, count: 1 });
    const fields = { script: name, map: lost.map, key: lost.key, metric, line: lost.line, reason: lost.reason, retcode: ev.retcode, bpftrace: this.state.bpftraceVersion, why: LOST_UPDATE_WHY[lost.reason] ?? ev.message };
    if (first) this.log.warn(fields, "bpftrace lost a map update");
    else this.log.info(fields, "bpftrace lost a map update");
  }

  /** Counts what a write did; a failing output is logged at most once a minute per script. */
  private written(name: string, file: RotatingFile, r: WriteResult): void {
    const st = this.scriptStatus(name);
    st.records += r.written;
    st.recordsOutOfOrder += r.outOfOrder;
    const now = Date.now();
    if (!r.error) {
      if (st.lastWriteError !== null) {
        st.lastWriteError = null;
        // A nearly full disk can fail and succeed in turns: say so at most once a minute too.
        const said = this.recoveryLoggedAt.get(name);
        if (said === undefined || now - said >= 60_000) {
          this.recoveryLoggedAt.set(name, now);
          this.log.info({ script: name, file: file.path, dropped: st.recordsDropped, writeErrors: st.writeErrors }, "writing records again");
        }
      }
      return;
    }
    st.recordsDropped += r.dropped;
    st.writeErrors++;
    st.lastWriteError = `${r.error.code ?? "error"}: ${r.error.message}`;
    st.lastWriteErrorAt = new Date(now).toISOString();
    const last = this.writeErrorLoggedAt.get(name);
    if (last === undefined || now - last >= 60_000) {
      this.writeErrorLoggedAt.set(name, now);
      this.log.error(
        { script: name, file: file.path, code: r.error.code, err: r.error.message, dropped: st.recordsDropped, writeErrors: st.writeErrors, ...(r.error.code === "ENOSPC" ? { fix: "free space in the output directory (the hookpoint-tmp volume), or lower HOOKPOINT_MAX_OUTPUT_BYTES" } : {}) },
        "cannot write records (logged at most once a minute; dropped records are counted in /metrics)",
      );
    }
  }

  /**
   * Ends tracing of the current Envoy (final dumps written). Every script then waits,
   * pending, for its successor, or is stopped for good when the agent stops tracing.
   */
  private async stopSession(): Promise<void> {
    const s = this.session;
    this.session = null;
    const event: ScriptEvent = this.stopping ? "stop" : "envoy-gone";
    const graceMs = this.finalDumpGraceMs();
    if (s && s.runners.size > 0) this.log.info({ graceMs, scripts: s.runners.size }, "stopping bpftrace (SIGINT): final dumps");
    await Promise.all(
      [...(s?.runners.entries() ?? [])].map(async ([name, { runner, file, trace }]) => {
        await runner.stop(graceMs);
        file.close();
        if (trace) {
          // After bpftrace's last line: what can be completed is written.
          trace.trace.stop();
          trace.file.close();
        }
        const past = this.pastOf(name);
        past.restarts += runner.status.restarts;
        past.lostEvents += runner.status.lostEvents;
        Object.assign(this.scriptStatus(name), past);
      }),
    );
    // Stopping tracing ends the trace loop's session and then this again: once is enough.
    for (const st of this.state.scripts) if (event !== "stop" || st.state !== "stopped") this.move(st.name, event, { bpftracePid: null });
    if (!s) return;
    this.log.info({ pid: s.envoy.pid }, "tracing stopped for this Envoy");
    this.state.envoy = null;
  }

  private finalDumpGraceMs(): number {
    // After a SIGTERM, whether Envoy's exit or the command's was noticed first.
    return finalDumpGraceMs(this.settings.stopGraceMs, this.killAt !== null ? this.killAt - performance.now() : null);
  }

  private refreshRunnerStatus(): void {
    const s = this.session;
    if (!s) return;
    for (const [name, { runner }] of s.runners) {
      const r = runner.status;
      const st = this.scriptStatus(name);
      const past = this.pastOf(name);
      st.restarts = past.restarts + r.restarts;
      st.lostEvents = past.lostEvents + r.lostEvents;
    }
  }

  private pastOf(name: string): { restarts: number; lostEvents: number } {
    let past = this.pastRunners.get(name);
    if (!past) {
      past = { restarts: 0, lostEvents: 0 };
      this.pastRunners.set(name, past);
    }
    return past;
  }

  /**
   * One step of a script's state machine (script-state.ts), with the fields that go with
   * it. An event its state does not take is a bug: logged, and the state stays.
   */
  private move(name: string, event: ScriptEvent, fields: Partial<ScriptStatus> = {}): void {
    const st = this.scriptStatus(name);
    const next = nextState(st.state, event);
    if (next === null) {
      this.log.warn({ script: name, state: st.state, event }, "script state: event ignored in this state");
      return;
    }
    if (next !== st.state) {
      st.since = new Date().toISOString();
      this.log.info({ script: name, from: st.state, event, to: next }, "script state");
    }
    Object.assign(st, fields, { state: next });
  }

  private scriptStatus(name: string): ScriptStatus {
    let st = this.state.scripts.find((s) => s.name === name);
    if (!st) {
      st = blankStatus(name);
      this.state.scripts.push(st);
    }
    return st;
  }

  private logSummary(): void {
    this.refreshRunnerStatus();
    const scripts: Record<string, string> = {};
    for (const s of this.state.scripts) scripts[s.name] = s.state + (s.reason ? ` (${s.reason})` : "");
    const records = [...this.lastDump.values()].flat();
    this.lastDump.clear();
    this.log.info({ envoyPid: this.state.envoy?.pid ?? null, scripts, maps: summarize(records) }, "summary");
  }

  /** A sleep that ends early when the agent starts stopping. */
  private sleep(ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        this.wakers.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.wakers.add(done);
    });
  }

  /** Evaluates again the checks that can change (tracefs mounted, Envoy readable). */
  private async refreshLiveChecks(): Promise<void> {
    if (this.state.preflight.length === 0) return;
    const procRoot = this.deps.procRoot ?? "/proc";
    const e = this.state.envoy;
    const envoy = e ? { pid: e.pid, binary: e.binary } : this.unreadableEnvoy !== null ? { pid: this.unreadableEnvoy, binary: `${procRoot}/${this.unreadableEnvoy}/exe` } : null;
    const fresh = await liveChecks({ tracefs: this.deps.tracefs ?? "/sys/kernel/tracing", envoy, procRoot });
    const checks = [...this.state.preflight];
    for (const c of fresh) {
      const i = checks.findIndex((x) => x.name === c.name);
      if (i >= 0) checks[i] = c;
      else checks.push(c);
      if (c.name === "tracefs" && this.state.system) this.state.system = { ...this.state.system, tracefs: { ...this.state.system.tracefs, mounted: c.ok } };
    }
    this.state.preflight = checks;
  }

  /** For tests and /status: refresh the runner-derived fields now. */
  snapshot(): AgentStatus {
    this.refreshRunnerStatus();
    return this.state;
  }
}

function blankStatus(name: string): ScriptStatus {
  return { name, state: "pending", since: new Date().toISOString(), reason: null, message: null, missing: [], bpftracePid: null, restarts: 0, attachMs: null, records: 0, recordsOutOfOrder: 0, recordsDropped: 0, writeErrors: 0, lastWriteError: null, lastWriteErrorAt: null, lostEvents: 0, helperErrors: 0, lostUpdates: [], probes: null, programFile: null, output: null };
}
