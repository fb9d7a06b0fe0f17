// Child process of `npm run bench:webhook`: either the real webhook (startWebhook,
// example policy and namespaces, JSON logs to /dev/null) or the limit it is
// compared with, a bare Fastify HTTPS server answering every body with a constant
// allowed AdmissionReview. Given an answers file ({uid: answer text}), the bare
// server instead sends, for each body, a constant text as large as the webhook's
// answer to it: the limit for any server that must send those answers.
// Prints {"port":N} on stdout once listening.
import { readFileSync } from "node:fs";
import Fastify from "fastify";
import { pino } from "pino";
import { Registry } from "prom-client";
import { BODY_LIMIT, TLS_SETTINGS } from "../src/server/app.js";
import { createLogger } from "../src/server/logger.js";
import { startWebhook } from "../src/server/run.js";
import { exitOnSignals } from "../src/server/shutdown.js";
import { exampleSource } from "./common.js";

const [mode, certFile, keyFile, answersFile] = process.argv.slice(2);
if ((mode !== "webhook" && mode !== "bare") || !certFile || !keyFile) {
  process.stderr.write("usage: webhook-server.ts webhook|bare CERT KEY [ANSWERS_JSON]\n");
  process.exit(2);
}
function ready(port: number): void {
  process.stdout.write(`${JSON.stringify({ port })}\n`);
}

if (mode === "bare") {
  const app = Fastify({ https: { cert: readFileSync(certFile), key: readFileSync(keyFile), ...TLS_SETTINGS }, bodyLimit: BODY_LIMIT });
  const answer = { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", response: { uid: "constant", allowed: true } };
  if (answersFile) {
    const sized = new Map(Object.entries(JSON.parse(readFileSync(answersFile, "utf8")) as Record<string, string>));
    app.post("/mutate", async (req, reply) => {
      reply.type("application/json; charset=utf-8");
      return sized.get((req.body as { request: { uid: string } }).request.uid) ?? answer;
    });
  } else {
    app.post("/mutate", async () => answer);
  }
  await app.listen({ host: "127.0.0.1", port: 0 });
  // A clean exit on SIGTERM/SIGINT, so --cpu-prof and friends get to write their files.
  exitOnSignals(() => app.close(), { log: pino({ enabled: false }), delayMs: 0 });
  const address = app.server.address();
  ready(typeof address === "object" && address ? address.port : 0);
} else {
  // Production logging (JSON, info), written where it costs a write but fills no disk.
  const logger = createLogger({ level: "info", pretty: false, file: "/dev/null" });
  const { settings, source } = await exampleSource();
  const webhook = await startWebhook({ host: "127.0.0.1", port: 0, certFile, keyFile, source, settings, logger, registry: new Registry() });
  exitOnSignals((close) => webhook.close(close), { log: logger, delayMs: 0 });
  ready(webhook.port);
}
