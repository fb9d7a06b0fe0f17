// The agent's HTTP endpoint on the metrics port: Prometheus `/metrics`, JSON `/status`
// and, unless turned off, the records endpoints (`/records`).
import Fastify, { type FastifyInstance } from "fastify";
import { registerRecordsRoutes, type RecordsOptions } from "../records/routes.js";

export interface StatusSources {
  /** Prometheus text exposition. */
  metrics: () => Promise<string>;
  status: () => unknown;
  /** Serve the output directory's records; absent = turned off (404). */
  records?: RecordsOptions;
}

export function buildStatusApp(src: StatusSources): FastifyInstance {
  const app = Fastify({ logger: false });
  app.get("/metrics", async (_req, reply) => {
    reply.type("text/plain; version=0.0.4; charset=utf-8");
    return src.metrics();
  });
  app.get("/status", async () => src.status());
  if (src.records) registerRecordsRoutes(app, src.records);
  return app;
}
