// Request tracing under test: the real agent (`hookpoint agent`) running the fixture proxy
// with envoy-request-trace, a local upstream, bounded clients for both protocols, and the
// comparison of the agent's request records with the fixture's --truth log.
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import http2 from "node:http2";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RequestRecord } from "../../../src/records/request-record.js";
import { parseRequestLine } from "../../support/records.js";
import { FIXTURE, portFromFile, probesAttached, startAgent, waitFor, type AgentProcess, type AgentStatusJson } from "../agent/support.js";
import net from "node:net";
import { expect } from "vitest";
import { WINDOW_SLACK_NS } from "../../support/trace-truth.js";
import { afterMonotonic, h2Connect, readTruth, replyBody, type Proto, type TruthLine } from "../../integration/fixture/support.js";

export type { Proto, TruthLine };

export interface TraceUpstream {
  port: number;
  close(): Promise<void>;
}

/**
 * The upstream the proxy forwards to: answers each request `delayMs` after its end with
 * "hello <path>", or N bytes for `/bytes/N`. HTTP/2 through Node's stream API (its
 * compatibility API refuses streams under this load, which the proxy rightly turns into
 * 503s; these tests want every request answered).
 */
export async function startTraceUpstream(proto: Proto, delayMs: number): Promise<TraceUpstream> {
  if (proto === "h1") {
    const server = http.createServer((req, res) => {
      req.resume();
      req.on("end", () =>
        afterMonotonic(delayMs, () => {
          const b = replyBody(req.url ?? "/");
          res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(b.length) });
          res.end(b);
        }),
      );
    });
    // Never close idle pooled connections under a test: a close racing a request is a 503.
    server.keepAliveTimeout = 120_000;
    server.headersTimeout = 120_000;
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    return {
      port: (server.address() as net.AddressInfo).port,
      close: () =>
        new Promise<void>((r) => {
          server.closeAllConnections();
          server.close(() => r());
        }),
    };
  }
  const server = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (s) => {
    sessions.add(s);
    s.on("close", () => sessions.delete(s));
    s.on("error", () => undefined);
  });
  server.on("stream", (stream, headers) => {
    stream.on("error", () => undefined);
    stream.resume();
    stream.on("end", () =>
      afterMonotonic(delayMs, () => {
        if (stream.destroyed) return;
        const b = replyBody(String(headers[":path"] ?? "/"));
        stream.respond({ ":status": 200, "content-type": "application/octet-stream", "content-length": String(b.length) });
        stream.end(b);
      }),
    );
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sessions) s.destroy();
        server.close(() => r());
      }),
  };
}

export interface TracedProxy {
  port: number;
  agent: AgentProcess;
  /** Whether the proxy's threads run SCHED_FIFO (see startTracedProxy). */
  realtime: boolean;
  /** Stops the proxy through the agent (SIGTERM) and returns what each side wrote. */
  stop(): Promise<{ records: RequestRecord[]; truth: TruthLine[]; status: AgentStatusJson; metrics: string; host: HostShare }>;
  truthSoFar(): TruthLine[];
  recordsSoFar(): RequestRecord[];
  status(): Promise<AgentStatusJson>;
}

export interface TracedProxyOptions {
  down: Proto;
  up: Proto;
  upstreamDelayMs?: number;
  /** Extra fixture flags. */
  flags?: string[];
  scripts?: string[];
  sample?: number;
  rate?: number;
  /** An upstream port to use instead of starting one (a closed port: connects are refused). */
  upstreamPort?: number;
  /** The bpftrace the agent runs (default: the one on PATH). */
  bpftrace?: string;
  /** Extra environment of the agent (and so of its bpftrace). */
  env?: Record<string, string>;
}

/**
 * The agent with envoy-request-trace in front of the fixture proxy (2 workers). The
 * proxy's threads are made SCHED_FIFO when the kernel allows it: on a machine shared with
 * other jobs, the worker is otherwise often preempted in the few microseconds between a
 * probe and the fixture's own clock reading next to it, which is a difference of the
 * scheduler, not of the trace (both sides read the same clock at the same event).
 */
export async function startTracedProxy(o: TracedProxyOptions): Promise<TracedProxy> {
  const dir = mkdtempSync(join(tmpdir(), "hookpoint-trace-"));
  // The proxy runs as uid 1337 and writes its truth log and port file here.
  chmodSync(dir, 0o777);
  const upstream = o.upstreamPort === undefined ? await startTraceUpstream(o.up, o.upstreamDelayMs ?? 0) : null;
  const upstreamPort = o.upstreamPort ?? upstream!.port;
  const truthFile = join(dir, "truth.ndjson");
  const out = join(dir, "out");
  const agent = startAgent(
    ["--scripts", (o.scripts ?? ["envoy-request-trace"]).join(","), "--trace-sample", String(o.sample ?? 1), "--trace-rate", String(o.rate ?? 1_000_000), "--output", out, "--interval", "1", "--stop-grace-ms", "20000", ...(o.bpftrace ? ["--bpftrace", o.bpftrace] : [])],
    [FIXTURE.envoy, "--listen", "127.0.0.1:0", "--port-file", join(dir, "port"), "--concurrency", "2", "--upstream", `127.0.0.1:${upstreamPort}`, "--downstream-protocol", o.down, "--upstream-protocol", o.up, "--truth", truthFile, ...(o.flags ?? [])],
    o.env,
  );
  const fail = async (err: unknown): Promise<never> => {
    agent.kill();
    await upstream?.close();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  };
  let status: AgentStatusJson;
  try {
    status = await probesAttached(agent, o.scripts ?? ["envoy-request-trace"], "the request trace's probes attached", 120_000);
  } catch (err) {
    return fail(err);
  }
  const port = await portFromFile(join(dir, "port"), "the proxy's port", 10_000);
  let realtime = false;
  try {
    execFileSync("chrt", ["-f", "-a", "-p", "20", String(status.envoy!.pid)], { stdio: "ignore" });
    realtime = true;
  } catch {
    // Not permitted here: the proxy runs at normal priority.
  }
  const stealAtStart = hostStealMs();
  const startedAt = Date.now();
  const recordsFile = join(out, "envoy-request-trace-requests.ndjson");
  const readRecords = (): RequestRecord[] =>
    existsSync(recordsFile)
      ? readFileSync(recordsFile, "utf8")
          .split("\n")
          .map((l, i) => parseRequestLine(l, recordsFile, i + 1))
          .filter((r): r is RequestRecord => r !== null)
      : [];
  return {
    port,
    agent,
    realtime,
    truthSoFar: () => (existsSync(truthFile) ? readTruth(truthFile) : []),
    recordsSoFar: readRecords,
    status: () => agent.status(),
    async stop() {
      const finalStatus = await agent.status();
      const metrics = await agent.metrics();
      const host = { stolenMs: hostStealMs() - stealAtStart, runMs: Date.now() - startedAt };
      agent.child.kill("SIGTERM");
      await agent.exited;
      await upstream?.close();
      const result = { records: readRecords(), truth: existsSync(truthFile) ? readTruth(truthFile) : [], status: finalStatus, metrics, host };
      rmSync(dir, { recursive: true, force: true });
      return result;
    },
  };
}

/** What the host took of this machine's CPUs while a traced proxy ran. */
export interface HostShare {
  /** CPU time of all CPUs the hypervisor gave to others (steal in /proc/stat), in ms. */
  stolenMs: number;
  /** Wall time from the probes' attach to the stop, in ms. */
  runMs: number;
}

/** Steal time of all CPUs so far, in ms (/proc/stat counts it in USER_HZ ticks, 100 a second on Linux); 0 where it is not counted. */
function hostStealMs(): number {
  try {
    const cpu = readFileSync("/proc/stat", "utf8").split("\n").find((l) => l.startsWith("cpu "));
    const steal = Number(cpu?.trim().split(/\s+/)[8] ?? 0);
    return Number.isFinite(steal) ? steal * 10 : 0;
  } catch {
    return 0;
  }
}

/**
 * Every one of `total` within WINDOW_SLACK_NS (1 µs) of the truth's windows. The windows hold each probe
 * however long the thread was held next to it (the host's steal included), so nothing is
 * excused; the message gives the steal of the run for whoever reads a failure.
 */
export function expectAllWithin(label: string, within: number, total: number, host: HostShare): void {
  expect(within, `${label}: ${within}/${total} within ${WINDOW_SLACK_NS / 1000} µs of the truth's windows; ${describeHost(host)}`).toBe(total);
}

/** The steal during a run, for the test output. */
export function describeHost(host: HostShare): string {
  return `host steal ${host.stolenMs} ms in ${host.runMs} ms`;
}

export interface Sent {
  id: string;
  status: number;
  stream?: number;
}

/**
 * `count` GET requests with x-request-id `${prefix}-i` over `conns` keep-alive client
 * connections (HTTP/2: `conns` sessions with `streams` requests in flight on each);
 * bounded by `maxMs`. Resolves with what came back.
 */
export async function sendRequests(port: number, proto: Proto, count: number, prefix: string, conns: number, maxMs: number, streams = 1, path = (id: string): string => `/${id}`): Promise<Sent[]> {
  const deadline = Date.now() + maxMs;
  const out: Sent[] = [];
  let next = 0;
  const more = (): boolean => next < count && Date.now() < deadline;
  if (proto === "h1") {
    const agent = new http.Agent({ keepAlive: true, maxSockets: conns });
    const worker = async (): Promise<void> => {
      while (more()) {
        const id = `${prefix}-${next++}`;
        const status = await new Promise<number>((resolve) => {
          const req = http.get({ host: "127.0.0.1", port, path: path(id), agent, headers: { "x-request-id": id }, timeout: 30_000 }, (res) => {
            res.resume();
            res.on("end", () => resolve(res.statusCode ?? 0));
          });
          req.on("timeout", () => req.destroy(new Error("timeout")));
          req.on("error", () => resolve(0));
        });
        out.push({ id, status });
      }
    };
    await Promise.all(Array.from({ length: conns }, worker));
    agent.destroy();
    return out;
  }
  const sessions = await Promise.all(Array.from({ length: conns }, () => h2Connect(port)));
  const worker = async (s: http2.ClientHttp2Session): Promise<void> => {
    while (more()) {
      const id = `${prefix}-${next++}`;
      const r = await new Promise<Sent>((resolve) => {
        const req = s.request({ ":path": path(id), "x-request-id": id });
        let status = 0;
        req.on("response", (h) => (status = Number(h[":status"])));
        req.on("data", () => undefined);
        req.on("end", () => resolve({ id, status, stream: req.id ?? -1 }));
        req.on("error", () => resolve({ id, status: 0 }));
        req.setTimeout(30_000, () => req.close(http2.constants.NGHTTP2_CANCEL));
        req.end();
      });
      out.push(r);
    }
  };
  await Promise.all(sessions.flatMap((s) => Array.from({ length: streams }, () => worker(s))));
  for (const s of sessions) s.close();
  return out;
}

/** Waits until the truth log has a line for every id and the records file caught up with it. */
export async function settle(p: TracedProxy, ids: readonly string[], expectedRecords: (truth: TruthLine[]) => number, maxMs = 30_000): Promise<void> {
  await waitFor(`truth lines for ${ids.length} requests`, maxMs, () => {
    const seen = new Set(p.truthSoFar().map((t) => t.id));
    return ids.every((id) => seen.has(id));
  });
  const want = expectedRecords(p.truthSoFar());
  // The agent writes a request once no event of it came for half a second.
  await waitFor(`${want} request records`, maxMs, () => p.recordsSoFar().length >= want || undefined).catch(() => undefined);
}

export { WINDOW_SLACK_NS, boundaryOffset, compareWithTruth, describeComparison, WindowTally, type Comparison } from "../../support/trace-truth.js";
