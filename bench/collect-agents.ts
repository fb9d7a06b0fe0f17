// The agents' side of bench:collect, in its own process: N status servers of the agent's
// code (records endpoints with the agent's default limits) on 127.0.0.1, one per output
// directory given. Prints the ports as one JSON line; stops on SIGTERM.
import type { FastifyInstance } from "fastify";
import { Registry } from "prom-client";
import { recordsMetrics } from "../src/agent/records/metrics.js";
import { buildStatusApp } from "../src/agent/status/server.js";
import { resolveAgentSettings } from "../src/agent/settings.js";

const defaults = resolveAgentSettings({}, {});
const ports: number[] = [];
const apps: FastifyInstance[] = [];
for (const dir of process.argv.slice(2)) {
  const registry = new Registry();
  const app = buildStatusApp({
    metrics: () => registry.metrics(),
    status: () => ({}),
    records: { dir, maxResponseBytes: defaults.recordsMaxBytes, concurrency: defaults.recordsConcurrency, idleTimeoutMs: 30_000, ...recordsMetrics(registry) },
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  ports.push((app.server.address() as { port: number }).port);
  apps.push(app);
}
process.stdout.write(JSON.stringify(ports) + "\n");
process.on("SIGTERM", () => void Promise.all(apps.map((a) => a.close())).then(() => process.exit(0)));
