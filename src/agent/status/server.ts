// The agent's HTTP endpoint on the metrics port: Prometheus `/metrics` and JSON `/status`.
import Fastify, { type FastifyInstance } from "fastify";

export interface StatusSources {
  /** Prometheus text exposition. */
  metrics: () => Promise<string>;
  status: () => unknown;
}

export function buildStatusApp(src: StatusSources): FastifyInstance {
  const app = Fastify({ logger: false });
  app.get("/metrics", async (_req, reply) => {
    reply.type("text/plain; version=0.0.4; charset=utf-8");
    return src.metrics();
  });
  app.get("/status", async () => src.status());
  return app;
}
