// Real bpftrace on the fixture Envoy for the bundled scripts' tests: start the fixture,
// run a rendered script through the agent's bpftrace runner, drive a bounded keep-alive
// HTTP/1.1 load with exact byte counts, and keep each map's latest dump (running totals).
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { BpftraceRunner } from "../../../src/agent/bpftrace/runner.js";
import { withAttachedMarker } from "../../../src/agent/bpftrace/program.js";
import type { BpftraceEvent } from "../../../src/agent/output/records.js";
import { lostUpdateOf, programSites, type SiteFinder } from "../../../src/agent/output/update-site.js";
import { waitFor } from "../agent/support.js";

export interface Fixture {
  pid: number;
  port: number;
  stop(): Promise<void>;
}

/** Starts the fixture Envoy on 127.0.0.1 with the given flags; resolves once it listens. */
export async function startFixture(binary: string, flags: string[]): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), "hookpoint-scripts-"));
  const portFile = join(dir, "port");
  const child: ChildProcess = spawn(binary, ["--listen", "127.0.0.1:0", "--port-file", portFile, ...flags], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((r) => child.on("exit", () => r()));
  const port = await waitFor("the fixture's port file", 10_000, () => {
    if (child.exitCode !== null) throw new Error(`fixture exited ${child.exitCode}: ${stderr}`);
    try {
      const n = Number(readFileSync(portFile, "utf8").trim());
      return n > 0 ? n : undefined;
    } catch {
      return undefined;
    }
  });
  return {
    pid: child.pid ?? 0,
    port,
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface LoadResult {
  /** Responses that were complete and "200 OK". */
  ok: number;
  bytesSent: number;
  bytesReceived: number;
}

const RESPONSE = "HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nok\n";

/**
 * `count` GET requests, one at a time, on one keep-alive connection (so the fixture's
 * wake-ups and reads map one-to-one onto requests), then a clean close. Bounded by `maxMs`.
 */
export function sequentialLoad(port: number, count: number, maxMs = 20_000): Promise<LoadResult> {
  const request = "GET /hookpoint HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: "127.0.0.1", port });
    const deadline = setTimeout(() => sock.destroy(new Error(`load did not finish in ${maxMs} ms`)), maxMs);
    const result: LoadResult = { ok: 0, bytesSent: 0, bytesReceived: 0 };
    let pending = "";
    let sent = 0;
    const next = (): void => {
      if (sent === count) {
        sock.end();
        return;
      }
      sent++;
      result.bytesSent += Buffer.byteLength(request);
      sock.write(request);
    };
    sock.setNoDelay(true);
    sock.on("connect", next);
    sock.on("data", (d: Buffer) => {
      result.bytesReceived += d.length;
      pending += d.toString("latin1");
      while (pending.length >= RESPONSE.length) {
        if (!pending.startsWith(RESPONSE)) {
          sock.destroy(new Error(`unexpected response: ${JSON.stringify(pending.slice(0, 80))}`));
          return;
        }
        pending = pending.slice(RESPONSE.length);
        result.ok++;
        next();
      }
    });
    sock.on("error", (err) => {
      clearTimeout(deadline);
      reject(err);
    });
    sock.on("close", () => {
      clearTimeout(deadline);
      resolve(result);
    });
  });
}

/**
 * The latest dump of each map entry: the scripts print running totals, so that is the total.
 * With the failed map updates bpftrace reported, counted against their statement's map and
 * key as the agent counts them (`program`: the text bpftrace ran, for their line and column).
 */
export class MapTotals {
  readonly hists = new Map<string, Map<string, Map<number, number>>>();
  readonly values = new Map<string, Map<string, number>>();
  readonly seen = new Set<string>();
  /** Dumps seen per map (interval prints and the final one). */
  readonly dumps = new Map<string, number>();
  /** Failed map updates by `map` + NUL + key (empty when not a literal), and by reason. */
  readonly lostUpdates = new Map<string, number>();
  readonly lostReasons = new Set<string>();
  helperErrors = 0;
  /** Output bpftrace could not print (its buffer was full): helper_error lines may be among it. */
  lostEvents = 0;
  private readonly sites: SiteFinder;

  constructor(program = "") {
    this.sites = programSites(program);
  }

  add(event: BpftraceEvent): void {
    if (event.type === "lost") this.lostEvents += event.events;
    if (event.type === "helperError") {
      this.helperErrors++;
      const lost = lostUpdateOf(this.sites, event);
      if (!lost) return;
      const id = `${lost.map}\0${lost.key ?? ""}`;
      this.lostUpdates.set(id, (this.lostUpdates.get(id) ?? 0) + 1);
      this.lostReasons.add(lost.reason);
      return;
    }
    if (event.type !== "maps") return;
    for (const { map, entries } of event.maps) {
      this.seen.add(map);
      this.dumps.set(map, (this.dumps.get(map) ?? 0) + 1);
      for (const e of entries) {
        const key = e.key ?? "";
        if ("buckets" in e.data) {
          const byKey = getOr(this.hists, map, () => new Map<string, Map<number, number>>());
          byKey.set(key, new Map(e.data.buckets.map((b) => [b.min ?? -1, b.count])));
        } else if ("value" in e.data && typeof e.data.value === "number") {
          getOr(this.values, map, () => new Map<string, number>()).set(key, e.data.value);
        }
      }
    }
  }

  /** Buckets (lower bound → samples) of one histogram key; empty when never filled. */
  hist(map: string, key = ""): Map<number, number> {
    return this.hists.get(map)?.get(key) ?? new Map();
  }

  value(map: string, key = ""): number {
    return this.values.get(map)?.get(key) ?? 0;
  }

  /** Samples bpftrace reported lost from one key of a map (its update failed). */
  lost(map: string, key = ""): number {
    return this.lostUpdates.get(`${map}\0${key}`) ?? 0;
  }

  /** Every lost sample, of any map. */
  get lostTotal(): number {
    return [...this.lostUpdates.values()].reduce((a, b) => a + b, 0);
  }

  keys(map: string): string[] {
    return [...(this.hists.get(map)?.keys() ?? this.values.get(map)?.keys() ?? [])].sort();
  }
}

export interface TraceRun {
  /** Probes bpftrace reported attached. */
  probes: number;
  totals: MapTotals;
  /** Stops bpftrace with SIGINT (final dump) and resolves when its output is read. */
  stop(): Promise<void>;
}

const STOP_GRACE_MS = 30_000;

/** Runs a rendered program through the agent's runner; resolves once every probe is attached. */
export async function runProgram(name: string, program: string, bpftrace = "bpftrace"): Promise<TraceRun> {
  const dir = mkdtempSync(join(tmpdir(), "hookpoint-bt-"));
  const file = join(dir, `${name}.bt`);
  const text = withAttachedMarker(program);
  writeFileSync(file, text);
  const totals = new MapTotals(text);
  let probes = 0;
  let attached = false;
  const runner = new BpftraceRunner({
    name,
    bpftrace,
    program: file,
    log: pino({ level: "silent" }),
    // bpftrace can take many seconds to detach under a loaded CI run; killing it would lose
    // the final dump the tests count on.
    graceMs: STOP_GRACE_MS,
    onEvent: (event) => {
      if (event.type === "attached") probes = event.probes;
      totals.add(event);
    },
    onAttached: () => (attached = true),
  });
  runner.start();
  const stop = async (): Promise<void> => {
    const clean = await runner.stop();
    rmSync(dir, { recursive: true, force: true });
    // Without its final dump the totals stop at the last interval print: say so, rather than let a count come out short.
    if (!clean) throw new Error(`bpftrace (${name}) did not exit within ${STOP_GRACE_MS / 1000} s of SIGINT and was killed: its final dump is lost`);
  };
  const deadline = Date.now() + 60_000;
  while (!attached) {
    const st = runner.status;
    const failure = st.restarts > 0 ? `bpftrace failed on ${name}: ${st.lastError ?? "unknown"}` : Date.now() > deadline ? `bpftrace did not attach ${name} in 60 s` : null;
    if (failure) {
      await stop();
      throw new Error(failure);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { get probes() { return probes; }, totals, stop };
}

function getOr<K, V>(m: Map<K, V>, k: K, make: () => V): V {
  let v = m.get(k);
  if (v === undefined) {
    v = make();
    m.set(k, v);
  }
  return v;
}

/** bpftrace's log2 histogram bucket holding `ns`: its lower bound. */
export function bucketOf(ns: number): number {
  return ns < 1 ? 0 : 2 ** Math.floor(Math.log2(ns));
}

export function sum(buckets: Map<number, number>): number {
  return [...buckets.values()].reduce((a, b) => a + b, 0);
}
