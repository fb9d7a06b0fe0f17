// An agent's status server that serves one folder's records on loopback, and the
// transport collect reaches it through: what the collect tests run against.
import type { IncomingHttpHeaders } from "node:http";
import type { FastifyInstance } from "fastify";
import { Registry } from "prom-client";
import { recordsMetrics } from "../../src/agent/records/metrics.js";
import { buildStatusApp } from "../../src/agent/status/server.js";
import { send } from "../../src/collect/pod-proxy.js";
import type { AgentTransport } from "../../src/collect/transport.js";

export interface RecordsAgent {
  agent: FastifyInstance;
  transport: AgentTransport;
}

export async function serveRecords(dir: string): Promise<RecordsAgent> {
  const registry = new Registry();
  const agent = buildStatusApp({ metrics: () => registry.metrics(), status: () => ({}), records: { dir, maxResponseBytes: 1 << 20, concurrency: 2, idleTimeoutMs: 5000, ...recordsMetrics(registry) } });
  await agent.listen({ host: "127.0.0.1", port: 0 });
  const port = (agent.server.address() as { port: number }).port;
  const transport: AgentTransport = {
    get: (t, path, headers: Record<string, string> = {}) => send(false, { host: "127.0.0.1", port, path, headers: headers as IncomingHttpHeaders, agent: false }, 5000, t.pod),
    close: () => undefined,
  };
  return { agent, transport };
}
