// The manifest's `first`/`last` of each copy are the earliest and latest `ts` of its
// records, also when the agent wrote a request record more than 5 s out of time order (a
// request held until its own events stopped): collect reads its local copy through, once,
// and on later runs only the bytes added to it since.
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { collect, type CollectPod } from "../../../src/collect/collect.js";
import type { AgentTransport } from "../../../src/collect/transport.js";
import { serveRecords } from "../../support/records-agent.js";

const T0 = Date.parse("2026-03-01T10:00:00.000Z");
const ts = (s: number) => new Date(T0 + s * 1000).toISOString();
const req = (s: number) => `${JSON.stringify({ kind: "request", ts: ts(s), id: `r${s}` })}\n`;
const NAME = "envoy-request-trace.ndjson";

let root: string;
let agentDir: string;
let agent: FastifyInstance;
let transport: AgentTransport;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "hookpoint-manifest-times-"));
  agentDir = join(root, "agent");
  mkdirSync(agentDir);
  ({ agent, transport } = await serveRecords(agentDir));
});

afterAll(async () => {
  await agent?.close();
  rmSync(root, { recursive: true, force: true });
});

const pod: CollectPod = { namespace: "shop", name: "web-0", workload: null, node: "node-a", podIP: "127.0.0.1", port: 15099, skip: null };
const times = async (out: string) => {
  const done = await collect({ dir: out, pods: [pod], transport, since: null, parallel: 1, cluster: { server: "https://127.0.0.1", context: "test" } });
  expect(done.failed).toBe(0);
  return done.manifest.pods[0]?.files.map((f) => [f.name, f.first, f.last]);
};

describe("collect's manifest times of a request records file written out of order", () => {
  it("names the earliest record written 25 s late and the latest one followed by 20 s of late records", async () => {
    // 10:00:10 .. 10:00:30 in order, then 10:00:05 (25 s late), 10:00:31, 10:00:50, then
    // 10:00:32 and 10:00:40 (late by 18 and 10 s): the window reads from either end stop at
    // 10:00:10 and 10:00:40.
    const seconds = [...Array.from({ length: 21 }, (_v, i) => 10 + i), 5, 31, 50, 32, 40];
    writeFileSync(join(agentDir, NAME), seconds.map(req).join(""));
    const out = join(root, "late");
    expect(await times(out)).toEqual([[NAME, ts(5), ts(50)]]);

    // A later run reads what was added: another record, 49.5 s late, is the new first.
    appendFileSync(join(agentDir, NAME), `${req(41)}${req(0.5)}${req(42)}`);
    expect(await times(out)).toEqual([[NAME, ts(0.5), ts(50)]]);

    // And only that: the copy's earlier bytes were read once (a line rewritten in place
    // under the last run's times, same length, is not read again).
    const copy = join(out, "shop/web-0", NAME);
    const text = readFileSync(copy, "utf8");
    writeFileSync(copy, text.replace(req(10), req(60)));
    expect(readFileSync(copy).length).toBe(Buffer.byteLength(text));
    expect(await times(out)).toEqual([[NAME, ts(0.5), ts(50)]]);
  });
});
