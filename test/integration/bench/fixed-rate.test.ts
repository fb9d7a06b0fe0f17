// The benchmarks' open-loop driver (bench/fixed-rate.ts) against real HTTPS servers on
// loopback whose behaviour is known: it sends every scheduled request, counts failures
// by kind, and charges a slow server for the requests queued behind it (latency from
// the due time). Only lower bounds that follow from the servers' configured delays are
// asserted: a loaded machine can make answers later, never earlier.
import { readdirSync, readFileSync } from "node:fs";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { statFields } from "../../../bench/common.js";
import { formatFixedRate, pooled, runFixedRate, runFixedRateInChild, startFixedRateDriver } from "../../../bench/fixed-rate.js";
import { createCertificateAuthority, createServingCertificate } from "../../../src/certs/generate.js";

const ca = createCertificateAuthority();
const pair = createServingCertificate({ ca, commonName: "localhost", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] });
const servers: https.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** An HTTPS server on 127.0.0.1 answering every POST after `delayMs` with `status`, one request at a time per connection. */
async function server(delayMs: number, status: number): Promise<{ url: string; bodies: string[] }> {
  const bodies: string[] = [];
  const s = https.createServer({ cert: pair.certPem, key: pair.keyPem }, (req, res) => {
    let body = "";
    req.setEncoding("utf8").on("data", (c: string) => (body += c));
    req.on("end", () => {
      bodies.push(body);
      setTimeout(() => res.writeHead(status, { "content-type": "application/json" }).end("{}"), delayMs);
    });
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  return { url: `https://127.0.0.1:${(s.address() as AddressInfo).port}/mutate`, bodies };
}

/** The pid of this process's driver child (the driver does not expose it: a test alone needs it). */
function driverPid(): number {
  const pids = readdirSync("/proc").filter((d) => /^\d+$/.test(d)).map(Number);
  const ours = pids.filter((pid) => {
    try {
      return Number(statFields(pid)[1]) === process.pid && readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("fixed-rate.ts");
    } catch {
      return false; // gone meanwhile
    }
  });
  if (ours.length !== 1) throw new Error(`expected one fixed-rate driver child, found ${ours.length}`);
  return ours[0] as number;
}

describe("bench/fixed-rate.ts", () => {
  it("sends rate × (warm-up + duration) requests round-robin and counts only those after the warm-up", async () => {
    const s = await server(0, 200);
    const r = await runFixedRateInChild({ url: s.url, ca: ca.certPem, servername: "localhost", bodies: ["a", "b", "c"], rate: 50, durationSec: 1, warmupSec: 0.4 });
    expect([s.bodies.length, r.measured, r.errors, r.errorKinds]).toEqual([70, 50, 0, {}]);
    // Round-robin: each body a third of the 70, the first one the extra. Counted, not read in
    // order: requests held 200 ms spread over new connections, whose handshakes may finish
    // out of order (a full run once saw a, b, a, c arrive).
    const count = (b: string): number => s.bodies.filter((x) => x === b).length;
    expect([count("a"), count("b"), count("c")]).toEqual([24, 23, 23]);
  });

  it("keeps one driver process for several runs, in the order asked, and a failed run does not end it", async () => {
    const s = await server(0, 200);
    const driver = startFixedRateDriver();
    try {
      const [a, b] = await Promise.all([
        driver.run({ url: s.url, ca: ca.certPem, servername: "localhost", bodies: ["a"], rate: 40, durationSec: 0.5, warmupSec: 0 }),
        driver.run({ url: s.url, ca: ca.certPem, servername: "localhost", bodies: ["b"], rate: 40, durationSec: 0.25, warmupSec: 0 }),
      ]);
      expect([a.measured, a.errors, b.measured, b.errors]).toEqual([20, 0, 10, 0]);
      expect(s.bodies.join("")).toBe("a".repeat(20) + "b".repeat(10));
      await expect(driver.run({ url: "not a url", bodies: ["c"], rate: 40, durationSec: 0.25 })).rejects.toThrow("fixed-rate driver: Invalid URL");
      await expect(driver.run({ url: s.url, bodies: ["c"], rate: 0, durationSec: 0.25 })).rejects.toThrow("rate must be between 0 and 20,000 per second, got 0");
      const c = await driver.run({ url: s.url, ca: ca.certPem, servername: "localhost", bodies: ["c"], rate: 40, durationSec: 0.25, warmupSec: 0 });
      expect([c.measured, c.errors, s.bodies.length]).toEqual([10, 0, 40]);
      // The driver's own GC pauses are measured, not guessed: a number of ms, 0 or more.
      expect(Number.isFinite(c.driverGcMs) && c.driverGcMs >= 0).toBe(true);
    } finally {
      await driver.close();
    }
    await expect(driver.run({ url: s.url, bodies: ["d"], rate: 40, durationSec: 0.25 })).rejects.toThrow("fixed-rate driver has ended");
  });

  it("refuses runs once the driver is closing or has died, with an error the benchmark can catch", async () => {
    const options = { url: "https://127.0.0.1:1/", bodies: ["a"], rate: 40, durationSec: 0.25 };
    const closing = startFixedRateDriver();
    const closed = closing.close();
    await expect(closing.run(options)).rejects.toThrow("fixed-rate driver has ended");
    await closed;

    const dying = startFixedRateDriver();
    const pid = driverPid();
    process.kill(pid, "SIGKILL");
    // Held synchronously until the driver is a zombie, so this process has not yet seen it
    // exit and writes the next run into a pipe nobody reads (EPIPE).
    const deadline = Date.now() + 10_000;
    while (statFields(pid)[0] !== "Z" && Date.now() < deadline) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    await expect(dying.run(options)).rejects.toThrow("fixed-rate driver exited with SIGKILL");
    await dying.close();
  });

  it("counts unexpected statuses as errors, by kind", async () => {
    const s = await server(0, 500);
    const r = await runFixedRate({ url: s.url, ca: ca.certPem, bodies: ["{}"], rate: 20, durationSec: 1, warmupSec: 0 });
    expect([r.measured, r.errors, r.errorKinds]).toEqual([20, 20, { "HTTP 500": 20 }]);
  });

  it("gives a run of failures through the driver process the same figures as in this one: no latency, no rate", async () => {
    const s = await server(0, 500);
    const r = await runFixedRateInChild({ url: s.url, ca: ca.certPem, servername: "localhost", bodies: ["{}"], rate: 20, durationSec: 0.5, warmupSec: 0 });
    expect([r.measured, r.errors, r.p50, r.p99, r.max, r.achievedRate]).toEqual([10, 10, NaN, NaN, NaN, NaN]);
    expect(formatFixedRate("istiod", r)).toMatch(/^istiod {2}p50 - {2}p90 - {2}p99 - {2}max - ms {2}errors 10 \(HTTP 500 ×10\) {2}\(10 measured at -\/s over /);
  });

  it("is open loop: a server slower than the rate is charged for the queue behind it, from each request's due time", async () => {
    // One connection, 50 ms per answer, a request due every 25 ms: request k cannot end
    // before (k + 1) × 50 ms after the start and was due at k × 25 ms, so its latency is
    // at least 25 k + 50 ms. A closed-loop driver would report about 50 ms for all.
    const s = await server(50, 200);
    const r = await runFixedRate({ url: s.url, ca: ca.certPem, bodies: ["{}"], rate: 40, durationSec: 1, warmupSec: 0, connections: 1 });
    expect([r.measured, r.errors]).toEqual([40, 0]);
    expect(r.max).toBeGreaterThanOrEqual(25 * 39 + 50);
    expect(r.p50).toBeGreaterThanOrEqual(25 * 19 + 50);
  });

  it("pools runs at one rate: counts and errors added, percentiles over every latency of every run", async () => {
    const good = await server(0, 200);
    const bad = await server(0, 503);
    const a = await runFixedRate({ url: good.url, ca: ca.certPem, bodies: ["{}"], rate: 40, durationSec: 1, warmupSec: 0 });
    const b = await runFixedRate({ url: bad.url, ca: ca.certPem, bodies: ["{}"], rate: 40, durationSec: 0.5, warmupSec: 0 });
    const c = await runFixedRate({ url: good.url, ca: ca.certPem, bodies: ["{}"], rate: 40, durationSec: 0.5, warmupSec: 0 });
    expect([a.latencies.length, b.latencies.length, c.latencies.length]).toEqual([40, 0, 20]);
    const all = [...a.latencies, ...c.latencies].sort((x, y) => x - y);
    const p = pooled([a, b, c]);
    expect([p.rate, p.measured, p.errors, p.errorKinds, p.latencies]).toEqual([40, 80, 20, { "HTTP 503": 20 }, all]);
    // The k-th smallest of the 60 answered: p50 the 30th, p90 the 54th, p99 the 60th.
    expect([p.p50, p.p90, p.p99, p.max]).toEqual([all[29], all[53], all[59], all[59]]);
    expect(p.sendLate).toHaveLength(80);
    expect(p.connectionsOpened).toBe(a.connectionsOpened + b.connectionsOpened + c.connectionsOpened);
    expect(p.driverGcMs).toBe(a.driverGcMs + b.driverGcMs + c.driverGcMs);
    // A run of failures has no achieved rate; the others are weighted by their requests.
    expect(b.achievedRate).toBeNaN();
    expect(p.achievedRate).toBe((a.achievedRate * 40 + c.achievedRate * 20) / 60);
    expect(() => pooled([])).toThrow("pooled() needs at least one run");
    expect(() => pooled([a, { ...c, rate: 50 }])).toThrow("pooled() needs runs at one rate, got 40, 50");
  });

  it("refuses options beyond its bounds, saying which", async () => {
    await expect(runFixedRate({ url: "https://127.0.0.1:1/", ca: ca.certPem, bodies: ["{}"], rate: 50_000, durationSec: 1 })).rejects.toThrow("rate must be between 0 and 20,000 per second, got 50000");
    await expect(runFixedRate({ url: "https://127.0.0.1:1/", ca: ca.certPem, bodies: [], rate: 10, durationSec: 1 })).rejects.toThrow("bodies must not be empty");
  });
});
