// The webhook's Fastify app: routes, schema, parsers and error answers, built
// without listening so tests drive it with inject(). The HTTPS listener, the
// certificate poller and signal handling are edges around it (run.ts,
// tls-reload.ts, shutdown.ts).
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from "node:http";
import type { Server as HttpsServer } from "node:https";
import type { Socket } from "node:net";
import { DEFAULT_CIPHERS } from "node:tls";
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from "fastify";
import { WEBHOOK_PATH } from "../names.js";
import type { Settings } from "../policy/effective.js";
import type { SnapshotSource } from "../policy/source.js";
import { answerJson } from "./answer-json.js";
import { handleClientError } from "./client-errors.js";
import { newLifecycle, type Lifecycle } from "./lifecycle.js";
import { answerPod, classify, failedOpen, ignored, INVALID_LABELS } from "./answer.js";
import type { ServerMetrics } from "./metrics.js";
import { recordReview, reportWarnings, reviewSubject, type WarningSink } from "./review-log.js";
import { admissionReviewBodySchema, formatSchemaError, type SchemaError } from "./review-schema.js";
import type { AdmissionReview } from "./review-types.js";
import type { TlsState } from "./tls-state.js";

/** Explicit, so a change in Fastify's default cannot change what we accept. Pods are far smaller. */
export const BODY_LIMIT = 10 * 1024 * 1024;
/** The API server gives a webhook at most 30 s; a client that has not sent its whole request by then is gone. */
export const REQUEST_TIMEOUT_MS = 30_000;
/** The API server sends a request's head at once; a client trickling it (or sending nothing on a new connection) is cut off. */
export const HEADERS_TIMEOUT_MS = 10_000;
/**
 * Open connections accepted at most (more are refused at once and counted): the API
 * server keeps a few keep-alive connections per instance, and each idle TLS connection
 * costs about 30 KB, so this bounds memory well inside the Deployment's limit.
 */
export const DEFAULT_MAX_CONNECTIONS = 1000;
/**
 * Longer than the API server's idle-connection timeout (Go's 90 s), so the server is
 * never the side that closes an idle connection just as the client reuses it.
 */
export const KEEP_ALIVE_TIMEOUT_MS = 100_000;
export const MIN_TLS_VERSION = "TLSv1.2";
/**
 * Node's cipher list with AES-128-GCM first: the server's order decides, and Node's puts
 * AES-256-GCM first, which costs about a third more per byte than AES-128-GCM (what Go's
 * client, the API server's, prefers) with no gain that matters for a webhook.
 */
export const CIPHERS = ["TLS_AES_128_GCM_SHA256", ...DEFAULT_CIPHERS.split(":").filter((c) => c !== "TLS_AES_128_GCM_SHA256")].join(":");
/** What every secure context of the server gets (setSecureContext resets whatever it is not given). */
export const TLS_SETTINGS = { minVersion: MIN_TLS_VERSION, ciphers: CIPHERS } as const;
/** The API server completes a handshake in milliseconds; a client that stalls in one is cut off (Node's default: 120 s). */
export const HANDSHAKE_TIMEOUT_MS = 10_000;

export type WebhookApp = FastifyInstance<HttpsServer, IncomingMessage, ServerResponse, FastifyBaseLogger>;

export interface AppOptions {
  source: SnapshotSource;
  settings: Settings;
  logger: FastifyBaseLogger;
  metrics: ServerMetrics;
  /** The serving pair; later changes are swapped into the live server. */
  tls: TlsState;
  bodyLimit?: number;
  requestTimeoutMs?: number;
  headersTimeoutMs?: number;
  maxConnections?: number;
  /** Shared with whoever shuts the server down (run.ts). */
  lifecycle?: Lifecycle;
  /** Where warnings about pods with an owner go (Kubernetes Events on the owner); none without a cluster. */
  events?: WarningSink;
}

/**
 * How often Node checks the header and request timeouts: often enough that a timeout
 * holds within a second (Node's default, 30 s, let a 30 s timeout run to 60-90 s).
 */
export function timeoutCheckInterval(headersTimeoutMs: number, requestTimeoutMs: number): number {
  return Math.max(50, Math.min(1000, Math.floor(Math.min(headersTimeoutMs, requestTimeoutMs) / 4)));
}

const JSON_TYPE = "application/json; charset=utf-8";

export function buildApp(options: AppOptions): WebhookApp {
  const { source, settings, logger: log, metrics, tls, events } = options;
  const bodyLimit = options.bodyLimit ?? BODY_LIMIT;
  const requestTimeout = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
  const headersTimeout = Math.min(options.headersTimeoutMs ?? HEADERS_TIMEOUT_MS, requestTimeout);
  const lifecycle = options.lifecycle ?? newLifecycle();
  const initial = tls.current();

  const app = Fastify({
    https: {
      ...TLS_SETTINGS,
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
      // Given when the server is made: Node derives its checks from these then.
      headersTimeout,
      requestTimeout,
      connectionsCheckingInterval: timeoutCheckInterval(headersTimeout, requestTimeout),
      ...(initial ? { cert: initial.cert, key: initial.key } : {}),
    },
    loggerInstance: log,
    // Reviews log with the request uid; a child logger per request would be pure cost.
    childLoggerFactory: (logger) => logger,
    // Per-request logs would cost more than the review itself; reviews log what matters.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit,
    requestTimeout,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    // During shutdown, requests already on a connection are still answered (503 would fail the API server's call).
    return503OnClosing: false,
    ajv: { customOptions: { coerceTypes: false, verbose: true } },
    clientErrorHandler: handleClientError,
    schemaErrorFormatter: (errors, dataVar) => new Error(formatSchemaError(errors as unknown as SchemaError[], dataVar)),
  }) as unknown as WebhookApp;

  if (initial) metrics.certificateExpiry(initial.notAfter);
  const unsubscribe = tls.subscribe((pair) => {
    // The TLS settings must be repeated: setSecureContext resets whatever it is not given.
    app.server.setSecureContext({ cert: pair.cert, key: pair.key, ...TLS_SETTINGS });
    metrics.certificateExpiry(pair.notAfter);
  });
  const maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  app.server.maxConnections = maxConnections;
  metrics.connectionLimit(maxConnections);
  app.server.on("connection", (socket: Socket) => {
    metrics.connectionOpened();
    socket.once("close", () => metrics.connectionClosed());
  });
  app.server.on("drop", () => metrics.connectionRefused());

  app.addHook("preClose", async () => {
    // From here on no new connections; a keep-alive connection is told to close with
    // its next answer instead of being cut while the client may be reusing it.
    lifecycle.stopping = true;
    lifecycle.closing = true;
  });
  app.addHook("onSend", (_req, reply, payload, done) => {
    if (lifecycle.closing) reply.header("connection", "close");
    done(null, payload);
  });
  app.addHook("onClose", async () => {
    unsubscribe();
  });

  // AdmissionReviews are JSON; anything else is a 415, not a string for the schema to puzzle over.
  app.removeContentTypeParser("text/plain");
  installJsonParser(app);
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const { statusCode, message } = errorMessage(err, req.headers["content-type"], bodyLimit);
    const review = req.body as AdmissionReview | undefined;
    if (statusCode >= 500 && req.routeOptions.url === WEBHOOK_PATH && typeof review?.request?.uid === "string") {
      // Any failure once the review is valid (the review itself, logging, metrics): fail open, with a proper answer.
      const { request } = review;
      const answer = failedOpen(request.uid);
      const dryRun = request.dryRun === true;
      metrics.error();
      metrics.request(answer.labels, dryRun, reply.elapsedTime / 1000);
      const namespace = request.namespace || (request.object as { metadata?: { namespace?: string } } | null | undefined)?.metadata?.namespace;
      const { fields, owner } = reviewSubject(request, namespace);
      log.error({ err, ...fields, dryRun }, "admission review failed; pod allowed unchanged");
      reportWarnings(events, owner, namespace, answer, dryRun);
      reply.code(200).type(JSON_TYPE);
      return answerJson({ apiVersion: review.apiVersion, kind: review.kind, response: answer.response });
    }
    if (statusCode >= 500) log.error({ err }, "request failed");
    else if (req.routeOptions.url === WEBHOOK_PATH) metrics.request(INVALID_LABELS, false, reply.elapsedTime / 1000);
    reply.code(statusCode);
    return { statusCode, error: STATUS_CODES[statusCode] ?? "Error", message };
  });

  app.post(
    WEBHOOK_PATH,
    { schema: { body: admissionReviewBodySchema } },
    async (req, reply): Promise<string> => {
      const review = req.body as AdmissionReview;
      const { request } = review;
      const dryRun = request.dryRun === true;
      // A throw from here on reaches the error handler, which fails open (400 for an invalid pod).
      const c = classify(request);
      if (c.kind === "invalid") throw badRequest(c.message);
      const answer = c.kind === "ignore" ? ignored(request.uid) : answerPod(request.uid, c.pod, c.namespace, source.current(), settings);
      recordReview(log, events, request, c.kind === "pod" ? c.namespace : request.namespace, answer, dryRun);
      metrics.request(answer.labels, dryRun, reply.elapsedTime / 1000);
      reply.type(JSON_TYPE);
      return answerJson({ apiVersion: review.apiVersion, kind: review.kind, response: answer.response });
    },
  );

  app.get("/healthz", async () => ({ status: "ok" }));

  app.get("/readyz", async (_req, reply) => {
    const problems: string[] = [];
    if (lifecycle.stopping) problems.push("shutting down");
    if (!tls.loaded()) problems.push("serving certificate not loaded");
    if (!source.synced()) problems.push(`policy source (${source.describe()}) not synced yet`);
    reply.code(problems.length === 0 ? 200 : 503);
    return { ready: problems.length === 0, source: source.describe(), problems };
  });

  app.get("/metrics", async (_req, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  return app;
}

/**
 * Either word as it can only be spelled in a body without \u escapes. One regular
 * expression scans a 10 KB pod in about 1.5 µs; an indexOf per word took 6 µs
 * (V8 searches for "constructor" slowly: its last letter is common in JSON).
 */
const PLAIN_PROTO_KEYS = /__proto__|constructor/;

/**
 * JSON bodies, parsed once. Fastify's parser (secure-json-parse) scans every body
 * with two regular expressions for a "__proto__" or "constructor" key, spelled
 * plainly or with \u escapes; a body that contains neither word nor any \u escape
 * cannot match them, so it is only parsed. Any other body goes through Fastify's
 * parser and its checks. Errors say where the JSON is broken.
 */
function installJsonParser(app: WebhookApp): void {
  const base = app.getDefaultJsonParser("error", "error");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (req, raw, done) => {
    const body = raw as string;
    // The body is decoded as UTF-8 (JSON's only encoding on the wire, RFC 8259); anything else would be misread.
    const charset = charsetOf(req.headers["content-type"]);
    if (charset !== undefined && charset !== "utf-8" && charset !== "utf8") {
      done(clientError(415, `Content-Type charset must be utf-8 (got ${JSON.stringify(charset)})`), undefined);
      return;
    }
    if (body.length > 0 && body.charCodeAt(0) !== 0xfeff && body.indexOf("\\u") < 0 && !PLAIN_PROTO_KEYS.test(body)) {
      let value: unknown;
      try {
        value = JSON.parse(body);
      } catch (err) {
        done(badRequest(`body is not valid JSON: ${(err as Error).message}`), undefined);
        return;
      }
      done(null, value);
      return;
    }
    base(req, body, (err: Error | null, value?: unknown) => {
      if (err && (err as FastifyError).code === "FST_ERR_CTP_INVALID_JSON_BODY") {
        try {
          JSON.parse(body);
          done(badRequest("body contains a forbidden __proto__ or constructor.prototype key"), undefined);
        } catch (parseErr) {
          done(badRequest(`body is not valid JSON: ${(parseErr as Error).message}`), undefined);
        }
        return;
      }
      done(err, value);
    });
  });
}

/** The charset parameter of a Content-Type, lower-cased; undefined when there is none. */
export function charsetOf(contentType: string | undefined): string | undefined {
  // Fast path: "application/json" alone, the API server's header.
  if (contentType === undefined || contentType.length <= 16) return undefined;
  const m = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(contentType);
  return m ? (m[1] ?? "").toLowerCase() : undefined;
}

function badRequest(message: string): FastifyError {
  return clientError(400, message);
}

function clientError(statusCode: number, message: string): FastifyError {
  return Object.assign(new Error(message), { statusCode, code: "HOOKPOINT_BAD_REQUEST", name: "BadRequest" }) as FastifyError;
}

/** Every error answer has the same shape, { statusCode, error, message }, and the message names what was wrong. */
function errorMessage(err: FastifyError, contentType: string | undefined, bodyLimit: number): { statusCode: number; message: string } {
  const statusCode = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
  if (statusCode >= 500) return { statusCode, message: "internal error" };
  switch (err.code) {
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return { statusCode, message: `Content-Type must be application/json (got ${JSON.stringify(contentType ?? "nothing")})` };
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return { statusCode, message: `body is larger than the limit of ${bodyLimit} bytes` };
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return { statusCode, message: "body is empty; expected an AdmissionReview" };
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      return { statusCode, message: "body length does not match its Content-Length (request cut off?)" };
    default:
      return { statusCode, message: err.message };
  }
}
