// Request records written more than MAX_DISORDER_MS (5 s) out of time order, through the
// whole agent (the CLI as a real process, on the fixture Envoy) with a stand-in `bpftrace`
// printing envoy-request-trace's event lines: requests whose response's end comes late are
// held until it does, and are written after requests that ended up to 13 s later. /status
// counts them; `/records?since=` and each file's first/last are still a full scan's answer.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { toRecordsListing } from "../../../src/records/listing.js";
import { isoTimeNs } from "../../../src/records/times.js";
import { FIXTURE, fixtureSkipReason, get, startAgent, waitFor } from "../../bpf/agent/support.js";
import { STAND_IN_ATTACHED, STAND_IN_PROLOGUE } from "../../support/stand-in-bpftrace.js";

const dir = mkdtempSync(join(tmpdir(), "hookpoint-held-"));
chmodSync(dir, 0o777);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const skip = fixtureSkipReason() ?? (process.getuid?.() === 0 ? null : "not root: the agent's preflight needs root before it starts bpftrace");

// 127.0.0.1:8080 (client side 127.0.0.1:40000) and the upstream 127.0.0.1:9090 (from :50000), as the script prints them.
const addr = (port: number): string => ((2n << 48n) | (BigInt(((port & 0xff) << 8) | (port >> 8)) << 32n) | 0x0100007fn).toString(16);

/**
 * The events of one pooled HTTP/1.1 request on thread `tid` (downstream fd `down`, upstream
 * fd `down + 1`) whose response ends 1,400 ns after `base`: all but its end (`head`), and its
 * end (`end`: the end of stream and the write that sends it).
 */
function request(tid: number, seq: number, down: number, base: number): { head: string[]; end: string[] } {
  const up = down + 1;
  return {
    head: [
      `Q ${tid} ${seq} ${base + 30} wrk:worker_0 ${down} 1 ${base} ${base + 10} ${base + 20} 1 0 ${addr(40000)} 0 0 ${addr(8080)} 0 0 0`,
      `R ${tid} ${seq} ${base + 40} 1`,
      `P ${tid} ${seq} ${base + 50} ${up} 1 1 0 ${addr(9090)} 0 0 ${addr(50000)} 0 0`,
      `T ${tid} ${up} ${base + 60} ${base + 70} 63 63 1`,
      `U ${tid} ${seq} ${base + 1000} ${up} 2`,
      `H ${tid} ${seq} ${base + 1100} ${down} 2 0 0`,
    ],
    end: [`O ${tid} ${seq} ${base + 1200} ${down} 2 1 0`, `T ${tid} ${down} ${base + 1300} ${base + 1400} 126 126 2`],
  };
}

const whole = (r: { head: string[]; end: string[] }): string[] => [...r.head, ...r.end];
const printf = (lines: string[]): string => lines.map((l) => `${JSON.stringify({ type: "printf", data: `${l}\n` })}\n`).join("");

interface Line {
  id: string;
  ts: string;
  ms: number;
  ns: bigint;
  offset: number;
}

/** Every record of the file with its byte offset: the full scan the agent's answers must equal. */
function scan(path: string): Line[] {
  const out: Line[] = [];
  let offset = 0;
  for (const text of readFileSync(path, "utf8").split("\n").slice(0, -1)) {
    const v = JSON.parse(text) as { id: string; ts: string };
    out.push({ id: v.id, ts: v.ts, ms: Date.parse(v.ts), ns: isoTimeNs(v.ts)!, offset });
    offset += Buffer.byteLength(text) + 1;
  }
  return out;
}

describe("request records written more than 5 s out of order by the agent", () => {
  it("are counted in /status, and /records gives a full scan's first, last and ?since= offsets", async (ctx) => {
    if (skip) return ctx.skip(skip);
    const out = join(dir, "out");
    const file = join(out, "envoy-request-trace-requests.ndjson");
    // CLOCK_MONOTONIC now, as bpftrace's nsecs: record times near the wall clock's.
    const x = Number(process.hrtime.bigint() / 1000n) * 1000;
    const s = 1_000_000_000;
    const ms = 1_000_000;
    // a: 300 requests ending 10 to 15.98 s after x. h: 200 ending 3 to 3.199 s, their ends
    // printed only once a's records are in the file (12.8 s and more late). b: 100 ending 17
    // to 18.98 s, printed with h's ends. Last, once those are in: y (12 s, 6.98 s late) and
    // z (17.5 s, 1.48 s late), in one sweep.
    const a = Array.from({ length: 300 }, (_v, i) => request(100, i + 1, 9, x + 10 * s + i * 20 * ms));
    const h = Array.from({ length: 200 }, (_v, i) => request(200, i + 1, 20, x + 3 * s + i * ms));
    const b = Array.from({ length: 100 }, (_v, i) => request(100, 301 + i, 9, x + 17 * s + i * 20 * ms));
    const [y, z] = [request(300, 1, 30, x + 12 * s), request(301, 1, 40, x + 17 * s + 500 * ms)];
    const phase = (n: number, lines: string[]): string => {
      const p = join(dir, `phase${n}`);
      writeFileSync(p, printf(lines));
      return p;
    };
    const phases = [phase(1, [...a.flatMap(whole), ...h.flatMap((r) => r.head)]), phase(2, [...h.flatMap((r) => r.end), ...b.flatMap(whole)]), phase(3, [...whole(y), ...whole(z)])];
    // Each phase once the records of the one before are in the file.
    const lines = (n: number): string => `while [ "$(cat "${file}" 2>/dev/null | wc -l)" -lt ${n} ]; do sleep 0.05; done`;
    const bpftrace = join(dir, "bpftrace");
    writeFileSync(
      bpftrace,
      `${STAND_IN_PROLOGUE}trap 'exit 0' INT
${STAND_IN_ATTACHED}cat "${phases[0]}"
${lines(300)}
cat "${phases[1]}"
${lines(600)}
cat "${phases[2]}"
while :; do sleep 0.05; done
`,
    );
    chmodSync(bpftrace, 0o755);
    const agent = startAgent(["--output", out, "--scripts", "envoy-request-trace", "--bpftrace", bpftrace], [FIXTURE.pilotAgent, "--", "--port-file", join(dir, "port")]);
    try {
      const status = await waitFor("602 request records written", 60_000, async () => {
        if (agent.exit) throw new Error(`agent exited ${JSON.stringify(agent.exit)}`);
        const st = agent.port !== null ? await agent.status() : null;
        const script = st?.scripts.find((x) => x.name === "envoy-request-trace");
        return script && script.records === 602 ? script : undefined;
      }, () => agent.logText());
      // Every record of h (behind a's latest, 15.98 s, by 12.8 s and more) and y; not z.
      expect(status.recordsOutOfOrder).toBe(201);

      const all = scan(file);
      expect(all.map((l) => l.id)).toHaveLength(602);
      const sorted = [...all].sort((p, q) => (p.ns < q.ns ? -1 : p.ns > q.ns ? 1 : 0));
      const listing = async (since?: string) => toRecordsListing(JSON.parse(await get(agent.port!, `/records${since ? `?since=${encodeURIComponent(since)}` : ""}`)));
      const entry = (await listing()).files.find((f) => f.name === "envoy-request-trace-requests.ndjson")!;
      expect([entry.bytes, entry.first, entry.last]).toEqual([readFileSync(file).length, sorted[0]!.ts, sorted.at(-1)!.ts]);
      // The first record at or after each time in file order (the file's size when none), as a full scan finds it.
      const full = (sinceMs: number): number => all.find((l) => l.ms >= sinceMs)?.offset ?? readFileSync(file).length;
      const xMs = Date.parse(sorted[0]!.ts) - 3000;
      const sinces = [2, 3.1, 5, 9, 10, 11, 12.5, 14, 15, 15.9, 16.5, 17, 17.6, 18.5, 19, 20].map((sec) => new Date(Math.floor(xMs + sec * 1000)).toISOString());
      const offsets: [string, number | undefined][] = [];
      for (const since of sinces) offsets.push([since, (await listing(since)).files.find((f) => f.name === entry.name)!.offset]);
      expect(offsets).toEqual(sinces.map((since) => [since, full(Date.parse(since))]));
      // 12.5 s: a's record 125, before h's in the file (a 5 s window would start after them, at b's).
      expect(all.findIndex((l) => l.offset === offsets[6]![1])).toBe(125);
    } finally {
      agent.kill();
    }
  }, 120_000);
});
