// The agent's status server (src/agent/status/server.ts, records endpoints included) with
// a fixed /status read from a file, for e2e tests that need an agent in a chosen state:
//   node --import tsx test/e2e/support/agent-server.ts HOST PORT OUTPUT_DIR STATUS_JSON
// Prints "listening" once it serves; stops on SIGTERM.
import { readFileSync } from "node:fs";
import { Registry } from "prom-client";
import { recordsMetrics } from "../../../src/agent/records/metrics.js";
import { buildStatusApp } from "../../../src/agent/status/server.js";

const [host, port, dir, statusFile] = process.argv.slice(2);
if (!host || !port || !dir || !statusFile) {
  process.stderr.write("usage: agent-server.ts HOST PORT OUTPUT_DIR STATUS_JSON\n");
  process.exit(2);
}
const registry = new Registry();
const app = buildStatusApp({
  metrics: () => registry.metrics(),
  status: () => JSON.parse(readFileSync(statusFile, "utf8")) as unknown,
  records: { dir, maxResponseBytes: 64 * 1024, concurrency: 2, idleTimeoutMs: 30_000, ...recordsMetrics(registry) },
});
await app.listen({ host, port: Number(port) });
process.stdout.write("listening\n");
process.on("SIGTERM", () => void app.close().then(() => process.exit(0)));
