// `hookpoint webhook` assembled: certificate files, policy source, app,
// HTTPS listener and certificate poller, with one close() for shutdown.
import type { Server as HttpsServer } from "node:https";
import type { TLSSocket } from "node:tls";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { Settings } from "../policy/effective.js";
import type { SnapshotSource } from "../policy/source.js";
import { buildApp, type WebhookApp } from "./app.js";
import { newLifecycle } from "./lifecycle.js";
import { createServerMetrics } from "./metrics.js";
import type { WarningSink } from "./review-log.js";
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
  maxConnections?: number;
  /** Where warnings about owned pods go (Kubernetes Events); none without a cluster. */
  events?: WarningSink;
  /** For tests: shorter limits than the production ones. */
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
}

export interface CloseOptions {
  /**
   * How long to go on answering, not ready, before closing: the API server keeps
   * sending to a replica until its endpoint is removed everywhere, which lags.
   */
  delayMs?: number;
  /** Called when the delay is over and the server starts closing. */
  onClosing?: () => void;
}

export interface RunningWebhook {
  app: WebhookApp;
  /** e.g. https://127.0.0.1:8443 */
  url: string;
  port: number;
  close(options?: CloseOptions): Promise<void>;
}

/** How often connections that became idle during the close are closed (Node stops its own checks then). */
const IDLE_SWEEP_MS = 100;

/**
 * Closes, on each call, the TLS connections that have not received a byte since their
 * handshake: a client's spare connection (Go's HTTP transport, the API server's, pools
 * the connections it dialed and then did not need). Node does not count them idle, ends
 * them only by its headers timeout and stops that check once the server closes, so the
 * close would wait for them until the grace period forced the exit.
 */
function unusedConnectionCloser(server: HttpsServer): () => void {
  const open = new Set<TLSSocket>();
  server.on("secureConnection", (socket: TLSSocket) => {
    open.add(socket);
    socket.once("close", () => open.delete(socket));
  });
  return () => {
    for (const socket of open) if (socket.bytesRead === 0) socket.destroy();
  };
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
  const lifecycle = newLifecycle();
  const app = buildApp({
    source: o.source,
    settings: o.settings,
    logger: o.logger,
    metrics,
    tls,
    lifecycle,
    ...(o.events ? { events: o.events } : {}),
    ...(o.maxConnections !== undefined ? { maxConnections: o.maxConnections } : {}),
    ...(o.headersTimeoutMs !== undefined ? { headersTimeoutMs: o.headersTimeoutMs } : {}),
    ...(o.requestTimeoutMs !== undefined ? { requestTimeoutMs: o.requestTimeoutMs } : {}),
  });
  try {
    await app.listen({ host: o.host, port: o.port });
  } catch (err) {
    await o.source.stop();
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`cannot listen on ${o.host}:${o.port}: ${code === "EADDRINUSE" ? "address already in use" : (err as Error).message}`);
  }
  reloader.start();
  const closeUnused = unusedConnectionCloser(app.server);
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : o.port;
  const host = o.host.includes(":") ? `[${o.host}]` : o.host;
  return {
    app,
    url: `https://${host}:${port}`,
    port,
    async close(options = {}) {
      lifecycle.stopping = true;
      if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
      options.onClosing?.();
      reloader.stop();
      // Node closes the connections idle when the close starts; these are the ones that
      // become idle later, and those that never carried a request.
      const sweep = setInterval(() => {
        app.server.closeIdleConnections();
        closeUnused();
      }, IDLE_SWEEP_MS);
      closeUnused();
      try {
        await app.close();
      } finally {
        clearInterval(sweep);
      }
      await o.source.stop();
    },
  };
}
