// An open-loop, fixed-rate HTTPS POST driver for the webhook benches: request i is due
// at start + i/rate whatever happened to earlier ones, and its latency counts from that
// due time (so a stall shows in the latency of everything queued behind it instead of
// slowing the sender down). Keep-alive connections, at most `connections` at once
// (requests beyond wait in the agent's queue, their wait counted). The first
// `warmupS` seconds are sent but not measured. Bounded: rate × (warmup + duration)
// requests, and a deadline of the run's length plus `timeoutMs`.
import https from "node:https";

export interface FixedRateOptions {
  url: string;
  /** PEM of the CA that signed the server's certificate. */
  ca: string;
  /** Request bodies, sent round-robin. */
  bodies: readonly Buffer[];
  rate: number;
  durationS: number;
  warmupS: number;
  connections: number;
  timeoutMs?: number;
}

export interface FixedRateResult {
  rate: number;
  /** Measured requests (after the warm-up) and how many of them failed (non-2xx, error, timeout). */
  measured: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Completed measured requests per second of measured time. */
  achievedRate: number;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export async function fixedRate(o: FixedRateOptions): Promise<FixedRateResult> {
  const url = new URL(o.url);
  const agent = new https.Agent({ keepAlive: true, maxSockets: o.connections, ca: o.ca });
  const total = Math.round(o.rate * (o.warmupS + o.durationS));
  const warmup = Math.round(o.rate * o.warmupS);
  const timeoutMs = o.timeoutMs ?? 10_000;
  const latencies: number[] = [];
  let errors = 0;
  let pending = 0;
  let firstMeasured = Infinity;
  let lastMeasured = 0;
  const start = performance.now() + 50;

  const send = (i: number, due: number) => {
    const body = o.bodies[i % o.bodies.length]!;
    pending++;
    const done = (ok: boolean) => {
      pending--;
      if (i < warmup) return;
      const end = performance.now();
      firstMeasured = Math.min(firstMeasured, due);
      lastMeasured = Math.max(lastMeasured, end);
      if (ok) latencies.push(end - due);
      else errors++;
    };
    const req = https.request(
      { agent, host: url.hostname, port: url.port, path: url.pathname, method: "POST", headers: { "content-type": "application/json", "content-length": body.length }, timeout: timeoutMs },
      (res) => {
        res.on("data", () => undefined);
        res.on("end", () => done((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300));
        res.on("error", () => done(false));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", () => done(false));
    req.end(body);
  };

  await new Promise<void>((resolve) => {
    let next = 0;
    const deadline = start + ((o.warmupS + o.durationS) * 1000) + timeoutMs;
    const tick = () => {
      const now = performance.now();
      while (next < total) {
        const due = start + (next * 1000) / o.rate;
        if (due > now) break;
        send(next, due);
        next++;
      }
      if ((next >= total && pending === 0) || now > deadline) return resolve();
      // Sleep through long gaps; spin (setImmediate) only in the last 1.5 ms before a send.
      const wait = next < total ? start + (next * 1000) / o.rate - now : 5;
      if (wait > 1.5) setTimeout(tick, wait - 1);
      else setImmediate(tick);
    };
    setTimeout(tick, 50);
  });
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const measuredS = Math.max(1e-9, (lastMeasured - firstMeasured) / 1000);
  return {
    rate: o.rate,
    measured: total - warmup,
    errors: errors + (total - warmup - latencies.length - errors),
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: latencies.at(-1) ?? NaN,
    achievedRate: latencies.length / measuredS,
  };
}
