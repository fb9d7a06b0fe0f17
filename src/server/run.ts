// `hookpoint webhook` assembled: certificate files, policy source, app,
// HTTPS listener and certificate poller, with one close() for shutdown.
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { Settings } from "../policy/effective.js";
import type { SnapshotSource } from "../policy/source.js";
import { buildApp, type WebhookApp } from "./app.js";
import { createServerMetrics } from "./metrics.js";
import { TlsFileReloader } from "./tls-reload.js";
import { TlsState } from "./tls-state.js";

export interface WebhookRunOptions {
  host: string;
  port: number;
  certFile: string;
  keyFile: string;
  certPollMs?: number;
  source: SnapshotSource;
  settings: Settings;
  logger: Logger;
  registry: Registry;
}

export interface RunningWebhook {
  app: WebhookApp;
  /** e.g. https://127.0.0.1:8443 */
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startWebhook(o: WebhookRunOptions): Promise<RunningWebhook> {
  const metrics = createServerMetrics(o.registry);
  const tls = new TlsState();
  const reloader = new TlsFileReloader({
    certPath: o.certFile,
    keyPath: o.keyFile,
    state: tls,
    metrics,
    log: o.logger,
    ...(o.certPollMs ? { intervalMs: o.certPollMs } : {}),
  });
  // Both fail before anything listens, with a message naming the file.
  await o.source.start();
  try {
    await reloader.load();
  } catch (err) {
    await o.source.stop();
    throw err;
  }

  o.logger.info({ source: o.source.describe(), synced: o.source.synced() }, "policy source started");
  const app = buildApp({ source: o.source, settings: o.settings, logger: o.logger, metrics, tls });
  try {
    await app.listen({ host: o.host, port: o.port });
  } catch (err) {
    await o.source.stop();
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`cannot listen on ${o.host}:${o.port}: ${code === "EADDRINUSE" ? "address already in use" : (err as Error).message}`);
  }
  reloader.start();
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : o.port;
  const host = o.host.includes(":") ? `[${o.host}]` : o.host;
  return {
    app,
    url: `https://${host}:${port}`,
    port,
    async close() {
      reloader.stop();
      await app.close();
      await o.source.stop();
    },
  };
}
