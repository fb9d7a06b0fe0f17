// The files `collect` keeps in its folder (manifest.json, each pod's .collect-state.json and
// programs): replaced whole through the shared writer, keeping their mode, and a file that
// cannot be written is named in words with nothing left behind.
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import type { IncomingHttpHeaders } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordsMetrics } from "../../../src/agent/records/metrics.js";
import { buildStatusApp } from "../../../src/agent/status/server.js";
import { collect, type CollectPod } from "../../../src/collect/collect.js";
import { send } from "../../../src/collect/pod-proxy.js";
import type { AgentTransport } from "../../../src/collect/transport.js";
import { writeRecords } from "../../support/records.js";

const T0 = Date.parse("2026-03-01T10:00:00.000Z");
let root: string;
let agent: FastifyInstance;
let transport: AgentTransport;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "hookpoint-collect-files-"));
  const dir = join(root, "agent");
  mkdirSync(join(dir, "programs"), { recursive: true });
  writeRecords(dir, "envoy-event-loop", 0, 20, { t0Ms: T0, stepMs: 1000 });
  writeFileSync(join(dir, "programs", "envoy-event-loop.bt"), "interval:s:1 { print(@x); }\n");
  const registry = new Registry();
  agent = buildStatusApp({ metrics: () => registry.metrics(), status: () => ({}), records: { dir, maxResponseBytes: 1 << 20, concurrency: 2, idleTimeoutMs: 5000, ...recordsMetrics(registry) } });
  await agent.listen({ host: "127.0.0.1", port: 0 });
  const port = (agent.server.address() as { port: number }).port;
  transport = { get: (t, path, headers: Record<string, string> = {}) => send(false, { host: "127.0.0.1", port, path, headers: headers as IncomingHttpHeaders, agent: false }, 5000, t.pod), close: () => undefined };
});

afterAll(async () => {
  await agent?.close();
  rmSync(root, { recursive: true, force: true });
});

const pod: CollectPod = { namespace: "shop", name: "web-0", workload: null, node: "node-a", podIP: "127.0.0.1", port: 15099, skip: null };
const run = (dir: string) => collect({ dir, pods: [pod], transport, since: null, parallel: 1, cluster: { server: "https://127.0.0.1", context: "test" } });

describe("collect's own files", () => {
  it("keep the mode they were given when a later run replaces them", async () => {
    const out = join(root, "modes");
    await run(out);
    chmodSync(join(out, "manifest.json"), 0o600);
    chmodSync(join(out, "shop/web-0/.collect-state.json"), 0o640);
    await run(out);
    expect([statSync(join(out, "manifest.json")).mode & 0o777, statSync(join(out, "shop/web-0/.collect-state.json")).mode & 0o777]).toEqual([0o600, 0o640]);
  });

  it("that cannot be written are named in words, and leave no temporary file behind", async () => {
    const out = join(root, "blocked");
    mkdirSync(join(out, "manifest.json"), { recursive: true });
    mkdirSync(join(out, "shop/web-0/programs/envoy-event-loop.bt"), { recursive: true });
    const err = await run(out).then(() => null, (e: Error) => e.message);
    expect(err).toBe(`cannot write ${out}/manifest.json: is a directory`);
    expect(readdirSync(out)).toEqual(["manifest.json", "shop"]);

    rmSync(join(out, "manifest.json"), { recursive: true });
    const done = await run(out);
    expect(done.manifest.pods[0]!.errors).toEqual([`programs/envoy-event-loop.bt: cannot write ${out}/shop/web-0/programs/envoy-event-loop.bt: is a directory`]);
    expect(readdirSync(join(out, "shop/web-0/programs"))).toEqual(["envoy-event-loop.bt"]);
  });
});
