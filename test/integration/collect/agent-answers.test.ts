// `collect` and `status` against agents answering what no agent sends (another program on
// the port, a broken proxy): each pod's error names the request and the field, and a real
// agent's answers pass the same checks.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordsMetrics } from "../../../src/agent/records/metrics.js";
import { buildStatusApp } from "../../../src/agent/status/server.js";
import { getChecked } from "../../../src/collect/agent-http.js";
import { collect, type CollectPod } from "../../../src/collect/collect.js";
import { send } from "../../../src/collect/pod-proxy.js";
import { statusRow, toAgentStatus } from "../../../src/collect/status-rows.js";
import type { AgentTransport } from "../../../src/collect/transport.js";
import { podRow } from "../../../src/cli/status-run.js";
import { toRecordsListing } from "../../../src/records/listing.js";
import { writeRecords } from "../../support/records.js";

const T0 = Date.parse("2026-03-01T10:00:00.000Z");
/** What the stand-in answers, by pod name: the /records body and the /status body. */
const GARBAGE: Record<string, { records: unknown; status: unknown }> = {
  "no-files": { records: { version: 1, maxResponseBytes: 1000, since: null }, status: { envoy: null, preflight: [] } },
  "string-bytes": { records: { version: 1, maxResponseBytes: 1000, since: null, files: [{ name: "x.ndjson", bytes: "12", first: null, last: null, etag: '"n-1-a"' }] }, status: null },
  "zero-max": { records: { version: 1, maxResponseBytes: 0, since: null, files: [] }, status: { envoy: null, preflight: [], scripts: [{ name: "a", state: "running", reason: null, message: null, records: "7", lostEvents: 0 }] } },
  "a-list": { records: [1, 2], status: [1, 2] },
  "last-yesterday": {
    records: { version: 1, maxResponseBytes: 1000, since: null, files: [{ name: "x.ndjson", bytes: 12, first: "2026-03-01T10:00:00.000Z", last: "yesterday", etag: '"n-1-a"' }] },
    status: { envoy: { pid: 7 }, preflight: [], scripts: [{ name: "a", state: "running", reason: null, message: null, records: 1, lostEvents: 0 }] },
  },
};

let root: string;
let stand: Server;
let standPort: number;
let agent: FastifyInstance;
let agentPort: number;

function transportTo(port: (pod: string) => number): AgentTransport {
  return {
    get: (t, path, headers: Record<string, string> = {}) => send(false, { host: "127.0.0.1", port: port(t.pod), path, headers: headers as IncomingHttpHeaders, agent: false }, 5000, t.pod),
    close: () => undefined,
  };
}

const pod = (name: string): CollectPod => ({ namespace: "shop", name, workload: null, node: null, podIP: "127.0.0.1", port: 15099, skip: null });

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "hookpoint-agent-answers-"));
  stand = createServer((req, res) => {
    const [, name, what] = /^\/(\w[\w-]*)(\/.*)$/.exec(req.url ?? "") ?? [];
    const answer = GARBAGE[name ?? ""];
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(what === "/status" ? answer?.status : answer?.records));
  });
  await new Promise<void>((resolve) => stand.listen(0, "127.0.0.1", resolve));
  standPort = (stand.address() as { port: number }).port;

  const dir = join(root, "agent");
  mkdirSync(join(dir, "programs"), { recursive: true });
  writeRecords(dir, "envoy-event-loop", 0, 50, { t0Ms: T0, stepMs: 1000 });
  writeFileSync(join(dir, "programs", "envoy-event-loop.bt"), "interval:s:1 { print(@x); }\n");
  const registry = new Registry();
  const status = {
    version: "0.1.0",
    preflight: [{ name: "root", ok: true, detail: "running as uid 0" }],
    envoy: { pid: 4242 },
    scripts: [{ name: "envoy-event-loop", state: "running", reason: null, message: null, records: 50, lostEvents: 2, lostUpdates: [{ map: "@x", key: null, metric: null, line: 3, reason: "map-full", count: 3 }] }],
  };
  agent = buildStatusApp({ metrics: () => registry.metrics(), status: () => status, records: { dir, maxResponseBytes: 64 * 1024, concurrency: 2, idleTimeoutMs: 5000, ...recordsMetrics(registry) } });
  await agent.listen({ host: "127.0.0.1", port: 0 });
  agentPort = (agent.server.address() as { port: number }).port;
});

afterAll(async () => {
  await agent?.close();
  await new Promise((resolve) => stand?.close(resolve));
  rmSync(root, { recursive: true, force: true });
});

describe("an agent answering what no agent sends", () => {
  it("collect names the request and the field for each pod, and collects the others", async () => {
    // The stand-in serves every path under /<pod>/…; the real agent serves the pod "real".
    const base = transportTo((p) => (p === "real" ? agentPort : standPort));
    const transport: AgentTransport = { ...base, get: (t, path, h) => base.get(t, t.pod === "real" ? path : `/${t.pod}${path}`, h) };
    const out = await collect({ dir: join(root, "out"), pods: [...Object.keys(GARBAGE), "real"].map(pod), transport, since: null, parallel: 2, cluster: { server: "https://127.0.0.1", context: "test" } });
    const byName = Object.fromEntries(out.manifest.pods.map((p) => [p.name, p]));
    const bad = (field: string) => ({ reachable: false, error: `GET /records: unexpected answer: ${field}` });
    expect(byName["no-files"]!.agent).toEqual(bad("files: expected a list, got undefined"));
    expect(byName["string-bytes"]!.agent).toEqual(bad('files[0].bytes: expected a whole number ≥ 0, got "12"'));
    expect(byName["zero-max"]!.agent).toEqual(bad("maxResponseBytes: must be > 0"));
    expect(byName["a-list"]!.agent).toEqual(bad("body: expected an object, got [1,2]"));
    expect(byName["last-yesterday"]!.agent).toEqual(bad('files[0].last: expected an ISO 8601 time such as 2025-01-31T12:00:00.000Z, got "yesterday"'));
    expect(byName["zero-max"]!.errors).toEqual(["GET /records: unexpected answer: maxResponseBytes: must be > 0"]);
    expect(byName["real"]!.agent).toEqual({ reachable: true });
    expect(byName["real"]!.errors).toEqual([]);
    expect(byName["real"]!.files.map((f) => f.name)).toEqual(["envoy-event-loop.ndjson", "programs/envoy-event-loop.bt"]);
    expect(out.failed).toBe(5);
  });

  it("status names the request and the field instead of reading garbage as zeros or failing on it", async () => {
    const facts = { namespace: "shop", name: "x", phase: "Running", node: "node-a", podIP: "127.0.0.1" };
    const errorOf = (name: string) =>
      getChecked(transportTo(() => standPort), { namespace: "shop", pod: name, port: 15099 }, `/${name}/status`, toAgentStatus).then(
        () => "no error",
        (err: Error) => err.message,
      );
    expect(await errorOf("no-files")).toBe("GET /no-files/status: unexpected answer: scripts: expected a list, got undefined");
    expect(await errorOf("string-bytes")).toBe("GET /string-bytes/status: unexpected answer: body: expected an object, got null");
    expect(await errorOf("zero-max")).toBe('GET /zero-max/status: unexpected answer: scripts[0].records: expected a whole number ≥ 0, got "7"');
    // A listing with a record time that is not one: the row shows no last record rather than "yesterday".
    const standPod = (name: string) => ({ metadata: { namespace: "shop", name }, spec: { nodeName: "node-a", containers: [] }, status: { phase: "Running", podIP: "127.0.0.1" } });
    const perPod = transportTo(() => standPort);
    const standIn: AgentTransport = { ...perPod, get: (t, path, h) => perPod.get(t, `/${t.pod}${path}`, h) };
    expect(await podRow(standPod("last-yesterday"), standIn, 5000)).toMatchObject({ agent: { reachable: true }, tracing: "ok", envoyPid: 7, records: 1, lastRecord: null, problems: [] });
    const message = await errorOf("a-list");
    expect(statusRow(facts, { error: message })).toMatchObject({ agent: { reachable: false, error: message }, tracing: "failing", problems: [`agent unreachable: ${message}`] });

    // A real agent's answers pass the same checks unchanged.
    const real = transportTo(() => agentPort);
    const target = { namespace: "shop", pod: "real", port: 15099 };
    const status = await getChecked(real, target, "/status", toAgentStatus);
    const listing = await getChecked(real, target, "/records", toRecordsListing);
    expect(listing.files.map((f) => [f.name, f.last])).toEqual([
      ["envoy-event-loop.ndjson", "2026-03-01T10:00:49.000Z"],
      ["programs/envoy-event-loop.bt", null],
    ]);
    expect(statusRow(facts, { status, listing })).toMatchObject({ agent: { reachable: true }, tracing: "ok", envoyPid: 4242, records: 50, drops: 5, lastRecord: "2026-03-01T10:00:49.000Z", problems: [] });
  });
});

describe("an agent that goes away in the middle of an answer", () => {
  const ndjson = mapLines(3);
  const program = "interval:s:1 { print(@x); }\n".repeat(40);
  const listing = {
    version: 1,
    maxResponseBytes: 1 << 20,
    since: null,
    files: [
      { name: "envoy-event-loop.ndjson", bytes: ndjson.length, first: null, last: null, etag: '"n-1-aa"' },
      { name: "programs/envoy-event-loop.bt", bytes: program.length, first: null, last: null, etag: '"p-1-bb"' },
    ],
  };

  /** An agent whose connection drops after half of the answer for `dies` (the pod was deleted meanwhile). */
  async function collectFromDying(dies: "ndjson" | "program", name: string) {
    const server = createServer((req, res) => {
      if (req.url === "/records") return res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(listing));
      if (req.url === "/status") return res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ envoy: null, preflight: [], scripts: [] }));
      const isProgram = req.url === "/records/programs/envoy-event-loop.bt";
      const body = isProgram ? program : ndjson;
      if (isProgram) res.writeHead(200, { etag: '"p-1-bb"', "content-length": body.length });
      else res.writeHead(206, { etag: '"n-1-aa"', "content-range": `bytes 0-${body.length - 1}/${body.length}`, "content-length": body.length });
      if ((dies === "program") !== isProgram) return res.end(body);
      res.write(body.slice(0, body.length / 2), () => setTimeout(() => res.socket?.destroy(), 20));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const port = (server.address() as { port: number }).port;
      const out = await collect({ dir: join(root, "dying"), pods: [pod(name)], transport: transportTo(() => port), since: null, parallel: 1, cluster: { server: "https://127.0.0.1", context: "test" } });
      return { pod: out.manifest.pods[0]!, fetched: out.fetched, dir: join(root, "dying", "shop", name) };
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  }

  it("leaves no half-written program behind, and says how far the answer got", async () => {
    const { pod: p, fetched, dir } = await collectFromDying("program", "web-0");
    // Only what the folder gained counts as fetched (the progress line's "new").
    expect(fetched).toBe(ndjson.length);
    expect(p.agent).toEqual({ reachable: true });
    expect(p.errors).toEqual([`programs/envoy-event-loop.bt: the answer broke off after ${program.length / 2} of ${program.length} bytes (aborted)`]);
    expect(p.files.map((f) => [f.name, f.bytes])).toEqual([["envoy-event-loop.ndjson", ndjson.length]]);
    expect(readdirSync(join(dir, "programs"))).toEqual([]);
    expect(readFileSync(join(dir, "envoy-event-loop.ndjson"), "utf8")).toBe(ndjson);
  });

  it("keeps no part of a broken NDJSON answer, and says how far it got", async () => {
    const { pod: p, fetched, dir } = await collectFromDying("ndjson", "web-1");
    expect(fetched).toBe(program.length);
    expect(p.errors).toEqual([`envoy-event-loop.ndjson: bytes 0-${ndjson.length - 1}: the answer broke off after ${ndjson.length / 2} bytes (aborted)`]);
    expect(p.files.map((f) => [f.name, f.bytes])).toEqual([
      ["envoy-event-loop.ndjson", 0],
      ["programs/envoy-event-loop.bt", program.length],
    ]);
    expect(readFileSync(join(dir, "envoy-event-loop.ndjson"), "utf8")).toBe("");
  });
});

function mapLines(n: number): string {
  return Array.from({ length: n }, (_, i) => JSON.stringify({ ts: new Date(T0 + i * 1000).toISOString(), script: "envoy-event-loop", map: "@x", keys: [], kind: "count", unit: "count", pid: 4242, value: i + 1 }) + "\n").join("");
}

describe("status while the agent's records endpoint is busy", () => {
  it("shows the pod's tracing from /status, without the last record time, instead of calling the agent unreachable", async () => {
    const dir = join(root, "busy");
    mkdirSync(dir);
    writeRecords(dir, "envoy-event-loop", 0, 20_000, { t0Ms: T0, stepMs: 1000 });
    const registry = new Registry();
    const status = { version: "0.1.0", preflight: [], envoy: { pid: 4242 }, scripts: [{ name: "envoy-event-loop", state: "running", reason: null, message: null, records: 20_000, lostEvents: 0, lostUpdates: [] }] };
    // One records request at a time (the agent's default is 2), taken by a collect that reads slowly.
    const answered: number[] = [];
    const busy = buildStatusApp({ metrics: () => registry.metrics(), status: () => status, records: { dir, maxResponseBytes: 8 << 20, concurrency: 1, idleTimeoutMs: 30_000, ...recordsMetrics(registry), onAnswered: (code) => answered.push(code) } });
    await busy.listen({ host: "127.0.0.1", port: 0 });
    const port = (busy.server.address() as { port: number }).port;
    const transport = transportTo(() => port);
    const target = { namespace: "shop", pod: "web-0", port: 15099 };
    const download = await transport.get(target, "/records/envoy-event-loop.ndjson", { range: "bytes=0-" });
    try {
      expect(download.status).toBe(206);
      const pod = { metadata: { namespace: "shop", name: "web-0" }, spec: { nodeName: "node-a", containers: [] }, status: { phase: "Running", podIP: "127.0.0.1" } };
      // The slot stays taken past the deadline: /records answers only 429s.
      const row = await podRow(pod, transport, 1500);
      expect(row).toMatchObject({ agent: { reachable: true }, tracing: "ok", envoyPid: 4242, records: 20_000, lastRecord: null, problems: [] });
      expect(answered.length).toBeGreaterThan(0);
      expect(new Set(answered)).toEqual(new Set([429]));
      // Nothing keeps asking behind the finished row (the agent says "retry after 1 s").
      const asked = answered.length;
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(answered.length).toBe(asked);
    } finally {
      download.body.destroy();
      await busy.close();
    }
  });
});
