// An agent's status server that serves one folder's records on loopback, and the
// transport collect reaches it through: what the collect tests run against.
import type { IncomingHttpHeaders } from "node:http";
import type { FastifyInstance } from "fastify";
import { Registry } from "prom-client";
import { recordsMetrics } from "../../src/agent/records/metrics.js";
import { buildStatusApp } from "../../src/agent/status/server.js";
import { send } from "../../src/collect/pod-proxy.js";
import type { AgentTransport } from "../../src/collect/transport.js";
import { agentStatus } from "./agent-status.js";

export interface RecordsAgent {
  agent: FastifyInstance;
  transport: AgentTransport;
}

/** `status`: the agent's /status answer (default: one running script, no request trace); a throw answers 500. */
export async function serveRecords(dir: string, status: () => unknown = () => agentStatus(4242, [{ name: "envoy-event-loop" }], (s) => new Date(Date.UTC(2026, 2, 1, 10) + s * 1000).toISOString())): Promise<RecordsAgent> {
  const registry = new Registry();
  const agent = buildStatusApp({ metrics: () => registry.metrics(), status, records: { dir, maxResponseBytes: 1 << 20, concurrency: 2, idleTimeoutMs: 5000, ...recordsMetrics(registry) } });
  await agent.listen({ host: "127.0.0.1", port: 0 });
  const port = (agent.server.address() as { port: number }).port;
  const transport: AgentTransport = {
    get: (t, path, headers: Record<string, string> = {}) => send(false, { host: "127.0.0.1", port, path, headers: headers as IncomingHttpHeaders, agent: false }, 5000, t.pod),
    close: () => undefined,
  };
  return { agent, transport };
}
