// An open-loop, fixed-rate HTTP(S) load driver (for bench:webhook, bench:injector and
// any other benchmark that asks "what latency at N requests per second?").
//
// Open loop: request i is due at start + i / rate whatever the server does, and
// its latency is counted from that due time, not from when it could be sent, so a
// server that stalls is charged for the requests that queued behind the stall
// (no coordinated omission). The first `warmupSec` seconds are sent but not
// counted. Keep-alive connections (at most `connections`, reused most recently
// used first, as Go's HTTP client does) carry the requests.
//
// The driver must not add its own lateness to the figures: it sleeps with a
// timer while the next due time is far, and polls the event loop (setImmediate,
// which still serves the responses) for the last stretch, so sends leave within
// tens of microseconds of their due time. How late they left is reported
// (`sendLateMs`), so a driver that could not keep up shows itself. Polling costs
// CPU: run the driver in its own process (startFixedRateDriver), never in the
// server's.
//
// That process must not disturb the server either. On the 2-core machine two
// things in the driver made most of the servers' p99 at 1,000/s (measured, see
// docs/benchmarks.md): V8's parallel garbage collection, whose helper threads took
// the server's core, and a driver process started cold for every run, whose first
// seconds of compiling stalled it at the same request counts run after run. So the
// driver collects garbage on its own thread only (--single-threaded-gc), and one
// driver process serves every run of a benchmark (startFixedRateDriver), warm
// after the first. Its own GC pauses are reported (`driverGcMs`).
//
// Usage from a benchmark:
//   const driver = startFixedRateDriver();
//   const r = await driver.run({ url: "https://127.0.0.1:8443/mutate", ca, bodies, rate: 1000, durationSec: 5 });
//   console.log(formatFixedRate("hookpoint", r));
//   await driver.close();
// (runFixedRateInChild(options) does the three for a single run.)
// As a child process: node --single-threaded-gc --import tsx bench/fixed-rate.ts, options
// as one JSON line per run on stdin, one result (or {"error": …}) per line on stdout.
import { spawn } from "node:child_process";
import http from "node:http";
import https from "node:https";
import { PerformanceObserver } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export interface FixedRateOptions {
  /** e.g. https://127.0.0.1:8443/mutate (or an http: URL, for plain-HTTP servers such as the fixture proxy) */
  url: string;
  /** https: PEM of the CA that signed the server's certificate; the connection is verified against it. */
  ca?: string;
  /** TLS server name to verify (default: the URL's host). */
  servername?: string;
  method?: string;
  /** Default: content-type application/json. */
  headers?: Record<string, string>;
  /** Request bodies, sent round-robin. */
  bodies: readonly string[];
  /** Statuses that count as success (default [200]). */
  okStatus?: readonly number[];
  /** Requests per second. */
  rate: number;
  /** Seconds measured, after the warm-up. */
  durationSec: number;
  /** Seconds sent first and not counted (default 1). */
  warmupSec?: number;
  /** Keep-alive connections at most (default 32). */
  connections?: number;
  /** A request without an answer after this long is an error (default 5000: the API server's webhook timeout here). */
  timeoutMs?: number;
}

export interface FixedRateResult {
  rate: number;
  /** Requests counted (sent after the warm-up). */
  measured: number;
  /** Of those, how many failed (error, timeout or unexpected status), and why. */
  errors: number;
  errorKinds: Record<string, number>;
  /** Latency from each request's due time to its complete answer, in ms, over successful counted requests. */
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** How late the driver sent, in ms: its own error. */
  sendLateMs: { p99: number; max: number };
  /** Answers per second over the counted window. */
  achievedRate: number;
  /** Keep-alive connections that were opened. */
  connectionsOpened: number;
  /** The driver's own CPU per request, in µs. */
  driverCpuUs: number;
  /** The driver's own garbage-collection pauses over the run, in ms: time in which it read no answer. */
  driverGcMs: number;
  /** Every counted successful latency, ascending, in ms (for pooling runs: pooled()). */
  latencies: number[];
  /** How late each counted request was sent, ascending, in ms. */
  sendLate: number[];
}

/** Bounded whatever is asked: at most 60 s measured, 10 s warm-up, 20,000 requests/s. */
function checked(o: FixedRateOptions): Required<Omit<FixedRateOptions, "servername" | "ca">> & { servername: string | undefined; ca: string | undefined } {
  if (!(o.rate > 0 && o.rate <= 20_000)) throw new Error(`rate must be between 0 and 20,000 per second, got ${o.rate}`);
  if (!(o.durationSec > 0 && o.durationSec <= 60)) throw new Error(`durationSec must be between 0 and 60, got ${o.durationSec}`);
  if (o.bodies.length === 0) throw new Error("bodies must not be empty");
  const warmupSec = o.warmupSec ?? 1;
  if (!(warmupSec >= 0 && warmupSec <= 10)) throw new Error(`warmupSec must be between 0 and 10, got ${warmupSec}`);
  return {
    url: o.url,
    ca: o.ca,
    servername: o.servername,
    method: o.method ?? "POST",
    headers: o.headers ?? { "content-type": "application/json" },
    bodies: o.bodies,
    okStatus: o.okStatus ?? [200],
    rate: o.rate,
    durationSec: o.durationSec,
    warmupSec,
    connections: o.connections ?? 32,
    timeoutMs: o.timeoutMs ?? 5000,
  };
}

function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

/** Runs the load in this process; see the file's comment for why that process should be a dedicated one. */
export async function runFixedRate(options: FixedRateOptions): Promise<FixedRateResult> {
  const o = checked(options);
  const url = new URL(o.url);
  const client = url.protocol === "http:" ? http : https;
  const agent = new client.Agent({ keepAlive: true, maxSockets: o.connections, scheduling: "lifo" });
  let connectionsOpened = 0;
  const bodies = o.bodies.map((b) => Buffer.from(b));
  const total = Math.round(o.rate * (o.warmupSec + o.durationSec));
  const warm = Math.round(o.rate * o.warmupSec);
  const latency = new Float64Array(total);
  const late = new Float64Array(total);
  const failed = new Uint8Array(total);
  const errorKinds: Record<string, number> = {};
  const intervalMs = 1000 / o.rate;
  let done = 0;
  let firstCountedAnswer = Infinity;
  let lastCountedAnswer = 0;

  const fail = (i: number, kind: string) => {
    failed[i] = 1;
    if (i >= warm) errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
  };

  const send = (i: number, due: number) => {
    const body = bodies[i % bodies.length] as Buffer;
    late[i] = performance.now() - due;
    const req = client.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method: o.method,
        ca: o.ca,
        // Without a name, Node verifies the URL's host (an IP address gets no SNI).
        ...(o.servername ? { servername: o.servername } : {}),
        agent,
        headers: { ...o.headers, "content-length": body.length },
        timeout: o.timeoutMs,
      },
      (res) => {
        res.on("data", () => {});
        res.on("end", () => {
          const now = performance.now();
          latency[i] = now - due;
          if (!o.okStatus.includes(res.statusCode ?? 0)) fail(i, `HTTP ${res.statusCode}`);
          if (i >= warm) {
            firstCountedAnswer = Math.min(firstCountedAnswer, now);
            lastCountedAnswer = Math.max(lastCountedAnswer, now);
          }
          done++;
        });
        res.on("error", (err: NodeJS.ErrnoException) => {
          fail(i, err.code ?? err.message);
          done++;
        });
      },
    );
    req.on("socket", (s) => {
      if (!(s as { hookpointSeen?: boolean }).hookpointSeen) {
        (s as { hookpointSeen?: boolean }).hookpointSeen = true;
        connectionsOpened++;
      }
    });
    req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { code: "TIMEOUT" })));
    req.on("error", (err: NodeJS.ErrnoException) => {
      fail(i, err.code ?? err.message);
      done++;
    });
    req.end(body);
  };

  let gcMs = 0;
  const gc = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcMs += e.duration;
  });
  gc.observe({ entryTypes: ["gc"] });
  const cpuBefore = process.cpuUsage();
  const start = performance.now() + 20;
  let next = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (next < total && start + next * intervalMs <= now) {
        send(next, start + next * intervalMs);
        next++;
      }
      if (next >= total) return resolve();
      const wait = start + next * intervalMs - performance.now();
      // Far from the next due time: sleep (timers are only ms-precise); close to it: poll.
      if (wait > 2) setTimeout(tick, Math.floor(wait - 1.5));
      else setImmediate(tick);
    };
    tick();
  });
  const deadline = performance.now() + o.timeoutMs + 1000;
  while (done < total && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  const cpu = process.cpuUsage(cpuBefore);
  gc.disconnect();
  agent.destroy();

  const ok: number[] = [];
  const lateCounted: number[] = [];
  let errors = 0;
  for (let i = warm; i < total; i++) {
    lateCounted.push(late[i] as number);
    if (failed[i]) errors++;
    else if ((latency[i] as number) > 0) ok.push(latency[i] as number);
    else {
      errors++;
      errorKinds["no answer in time"] = (errorKinds["no answer in time"] ?? 0) + 1;
    }
  }
  return {
    rate: o.rate,
    measured: total - warm,
    errors,
    errorKinds,
    ...spread(Array.from(Float64Array.from(ok).sort()), Array.from(Float64Array.from(lateCounted).sort())),
    // Successful answers only: a run of failures has no achieved rate.
    achievedRate: ok.length >= 2 && lastCountedAnswer > firstCountedAnswer ? ((ok.length - 1) * 1000) / (lastCountedAnswer - firstCountedAnswer) : NaN,
    connectionsOpened,
    driverCpuUs: (cpu.user + cpu.system) / total,
    driverGcMs: gcMs,
  };
}

/** Percentiles and max of ascending latencies and send delays, and the arrays themselves. */
function spread(latencies: number[], sendLate: number[]): Pick<FixedRateResult, "p50" | "p90" | "p99" | "max" | "sendLateMs" | "latencies" | "sendLate"> {
  const last = (xs: number[]): number => (xs.length ? (xs[xs.length - 1] as number) : NaN);
  return {
    p50: percentile(latencies, 50),
    p90: percentile(latencies, 90),
    p99: percentile(latencies, 99),
    max: last(latencies),
    sendLateMs: { p99: percentile(sendLate, 99), max: last(sendLate) },
    latencies,
    sendLate,
  };
}

/**
 * Several runs at one rate as one: counts and errors added up, percentiles over every
 * latency of every run, rates and driver CPU averaged by requests. Runs of two servers
 * interleaved this way share the machine's disturbances instead of one slot taking them all.
 */
export function pooled(runs: readonly FixedRateResult[]): FixedRateResult {
  const first = runs[0];
  if (!first) throw new Error("pooled() needs at least one run");
  if (runs.some((r) => r.rate !== first.rate)) throw new Error(`pooled() needs runs at one rate, got ${runs.map((r) => r.rate).join(", ")}`);
  const errorKinds: Record<string, number> = {};
  for (const r of runs) for (const [k, n] of Object.entries(r.errorKinds)) errorKinds[k] = (errorKinds[k] ?? 0) + n;
  // Weighted by requests, over the runs where the figure exists (a run with fewer than two
  // answers has no achieved rate).
  const total = (pick: (r: FixedRateResult) => number): number => runs.reduce((n, r) => n + pick(r), 0);
  const byRequests = (pick: (r: FixedRateResult) => number): number => {
    const known = runs.filter((r) => Number.isFinite(pick(r)));
    const n = known.reduce((sum, r) => sum + r.measured, 0);
    return n > 0 ? known.reduce((sum, r) => sum + pick(r) * r.measured, 0) / n : NaN;
  };
  return {
    rate: first.rate,
    measured: total((r) => r.measured),
    errors: total((r) => r.errors),
    errorKinds,
    ...spread(
      runs.flatMap((r) => r.latencies).sort((a, b) => a - b),
      runs.flatMap((r) => r.sendLate).sort((a, b) => a - b),
    ),
    achievedRate: byRequests((r) => r.achievedRate),
    connectionsOpened: total((r) => r.connectionsOpened),
    driverCpuUs: byRequests((r) => r.driverCpuUs),
    driverGcMs: total((r) => r.driverGcMs),
  };
}

export interface FixedRateDriver {
  /** One run in the driver's process; runs asked for at once are made one after the other. */
  run(options: FixedRateOptions): Promise<FixedRateResult>;
  /** Ends the driver's process once its runs are done. */
  close(): Promise<void>;
}

/**
 * Node flags of the driver's process: garbage collection on the driver's own thread. With
 * V8's parallel scavenges its helper threads took the server's core for a few ms several
 * times a second, and the server measured paid for it.
 */
const DRIVER_NODE_FLAGS = ["--single-threaded-gc"] as const;

/** A driver in a child process of its own, kept for every run of a benchmark so that only its first run meets it cold. */
export function startFixedRateDriver(): FixedRateDriver {
  const child = spawn(process.execPath, [...DRIVER_NODE_FLAGS, "--import", "tsx", fileURLToPath(import.meta.url)], { stdio: ["pipe", "pipe", "inherit"] });
  const waiting: Array<{ resolve: (r: FixedRateResult) => void; reject: (err: Error) => void }> = [];
  let ended: Error | undefined;
  const exited = new Promise<void>((resolve) => {
    const fail = (err: Error) => {
      ended ??= err;
      for (const w of waiting.splice(0)) w.reject(err);
      resolve();
    };
    child.on("error", fail);
    // "close", not "exit": it comes after the last result line has been read from stdout.
    child.on("close", (code, signal) => fail(new Error(code === 0 ? "fixed-rate driver has ended" : `fixed-rate driver exited with ${code ?? signal}`)));
  });
  // A write to a driver that has died fails with EPIPE; "close" above reports the death to
  // every waiting run, and an unhandled stream error would kill the benchmark before its cleanup.
  child.stdin!.on("error", () => {});
  createInterface({ input: child.stdout! }).on("line", (line) => {
    const w = waiting.shift();
    if (!w) return;
    let answer: FixedRateResult & { error?: string };
    try {
      // JSON has no NaN: a figure the run does not have (no answers, so no latency or rate)
      // comes back as null, and is NaN again as runFixedRate() gave it.
      answer = JSON.parse(line, (_key, value: unknown) => (value === null ? NaN : value)) as FixedRateResult & { error?: string };
    } catch (err) {
      return w.reject(new Error(`fixed-rate driver printed no result: ${String(err)}`));
    }
    if (answer.error !== undefined) w.reject(new Error(`fixed-rate driver: ${answer.error}`));
    else w.resolve(answer);
  });
  return {
    run(options) {
      try {
        checked(options);
      } catch (err) {
        return Promise.reject(err as Error);
      }
      if (ended) return Promise.reject(ended);
      return new Promise((resolve, reject) => {
        waiting.push({ resolve, reject });
        child.stdin!.write(`${JSON.stringify(options)}\n`);
      });
    },
    async close() {
      // Runs asked for from now on are refused (writing after end() would throw); queued ones finish.
      ended ??= new Error("fixed-rate driver has ended");
      child.stdin!.end();
      await exited;
    },
  };
}

/** One run in a driver process of its own (a benchmark of several runs keeps one driver: startFixedRateDriver). */
export async function runFixedRateInChild(options: FixedRateOptions): Promise<FixedRateResult> {
  const driver = startFixedRateDriver();
  try {
    return await driver.run(options);
  } finally {
    await driver.close();
  }
}

const ms = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : "-");

/** One line: "label  p50 … p90 … p99 … max … ms, errors N (M measured; driver late p99 … ms, GC … ms)". */
export function formatFixedRate(label: string, r: FixedRateResult): string {
  const kinds = Object.entries(r.errorKinds).map(([k, n]) => `${k} ×${n}`).join(", ");
  return (
    `${label}  p50 ${ms(r.p50)}  p90 ${ms(r.p90)}  p99 ${ms(r.p99)}  max ${ms(r.max)} ms  errors ${r.errors}${kinds ? ` (${kinds})` : ""}` +
    `  (${r.measured.toLocaleString("en-US")} measured at ${Number.isFinite(r.achievedRate) ? Math.round(r.achievedRate).toLocaleString("en-US") : "-"}/s over ${r.connectionsOpened} connections; driver late p99 ${ms(r.sendLateMs.p99)} ms, GC ${ms(r.driverGcMs)} ms)`
  );
}

// As a child process: one run per line of options on stdin, one line of result on stdout, in order.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const lines = createInterface({ input: process.stdin });
  let queue = Promise.resolve();
  lines.on("line", (line) => {
    queue = queue.then(async () => {
      let answer: string;
      try {
        answer = JSON.stringify(await runFixedRate(JSON.parse(line) as FixedRateOptions));
      } catch (err) {
        answer = JSON.stringify({ error: err instanceof Error ? err.message : String(err) });
      }
      process.stdout.write(`${answer}\n`);
    });
  });
}
