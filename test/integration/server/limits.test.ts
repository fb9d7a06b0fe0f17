// Limits of the real HTTPS listener on 127.0.0.1: header and body timeouts that
// hold (a client trickling its request is cut off with a 408), and a cap on open
// connections, counted in the metrics. Waits are bounds on a stuck server, far
// above what the limits allow; nothing here measures time.
import tls from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadPod } from "../../support/pods.js";
import { atCreate, get, newCa, podReview, post, startOnFreshSecret, waitFor, type TestWebhook } from "./support.js";

const HEADERS_TIMEOUT_MS = 400;
const REQUEST_TIMEOUT_MS = 1200;
/** Far beyond both timeouts and Node's check interval; Node's defaults let such a client stay 90 s. */
const BOUND_MS = 10_000;
const MAX_CONNECTIONS = 3;

const ca = newCa();
let running: Awaited<ReturnType<typeof startOnFreshSecret>> | undefined;
let webhook: TestWebhook;

beforeAll(async () => {
  running = await startOnFreshSecret(ca, { headersTimeoutMs: HEADERS_TIMEOUT_MS, requestTimeoutMs: REQUEST_TIMEOUT_MS, maxConnections: MAX_CONNECTIONS });
  webhook = running.webhook;
});
afterAll(async () => {
  await running?.close();
});

const TIMEOUT_BODY = '{"statusCode":408,"error":"Request Timeout","message":"the request was not received in time"}';
const TIMEOUT_ANSWER = `HTTP/1.1 408 Request Timeout\r\nContent-Length: ${TIMEOUT_BODY.length}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${TIMEOUT_BODY}`;

/**
 * A TLS connection that sends `head` at once, then `drip` one byte every 100 ms
 * until the server closes it (or BOUND_MS passes). Resolves with what the server sent.
 */
function trickle(head: string, drip: string): Promise<{ answer: string; closedBy: "server" | "bound" }> {
  return new Promise((resolve) => {
    let answer = "";
    let timer: NodeJS.Timeout | undefined;
    const s = tls.connect({ host: "127.0.0.1", port: webhook.port, ca: ca.certPem, servername: "localhost" }, () => {
      if (head) s.write(head);
      let i = 0;
      timer = setInterval(() => {
        if (i < drip.length && s.writable) s.write(drip[i++] as string);
      }, 100);
    });
    const bound = setTimeout(() => {
      clearInterval(timer);
      s.destroy();
      resolve({ answer, closedBy: "bound" });
    }, BOUND_MS);
    s.on("data", (d: Buffer) => (answer += d.toString()));
    s.on("error", () => undefined);
    s.on("close", () => {
      clearInterval(timer);
      clearTimeout(bound);
      resolve({ answer, closedBy: "server" });
    });
  });
}

const body = JSON.stringify(podReview(atCreate(loadPod("classic-sidecar"))));

describe("timeouts", () => {
  it("a connection that sends nothing after the handshake gets a 408 and is closed", async () => {
    expect(await trickle("", "")).toEqual({ answer: TIMEOUT_ANSWER, closedBy: "server" });
  });

  it("a request head trickled byte by byte gets a 408 and is closed", async () => {
    expect(await trickle("POST /mutate HTTP/1.1\r\n", `Host: localhost\r\nContent-Type: application/json\r\nX-Slow: ${"x".repeat(200)}`)).toEqual({
      answer: TIMEOUT_ANSWER,
      closedBy: "server",
    });
  });

  it("a body trickled byte by byte gets a 408 and is closed", async () => {
    const head = `POST /mutate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    expect(await trickle(head, body)).toEqual({ answer: TIMEOUT_ANSWER, closedBy: "server" });
  });

  it("answers normally afterwards", async () => {
    expect((await post(webhook.port, ca.certPem, body, false)).status).toBe(200);
  });
});

/** Open TLS connections the server sees, as Node counts them. */
const serverConnections = () => new Promise<number>((resolve, reject) => webhook.app.server.getConnections((err, n) => (err ? reject(err) : resolve(n))));

describe("connection cap", () => {
  it(`accepts ${MAX_CONNECTIONS} connections, refuses the next at once, counts it, and accepts again once one closes`, async () => {
    await waitFor("no connections left from earlier tests", async () => (await serverConnections()) === 0);
    const held: tls.TLSSocket[] = [];
    for (let i = 0; i < MAX_CONNECTIONS; i++) {
      held.push(await new Promise<tls.TLSSocket>((resolve, reject) => {
        const s = tls.connect({ host: "127.0.0.1", port: webhook.port, ca: ca.certPem, servername: "localhost" }, () => resolve(s));
        s.on("error", reject);
      }));
    }
    const extra = await new Promise<string>((resolve) => {
      const s = tls.connect({ host: "127.0.0.1", port: webhook.port, ca: ca.certPem, servername: "localhost" }, () => {
        s.destroy();
        resolve("handshake completed");
      });
      s.on("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    });
    expect(extra).toBe("ECONNRESET");

    held.pop()?.destroy();
    await waitFor("the server to see the closed connection", async () => (await serverConnections()) === MAX_CONNECTIONS - 1);
    const metrics = (await get(webhook.port, ca.certPem, "/metrics")).body.split("\n");
    expect(metrics.filter((l) => l.startsWith("hookpoint_connections"))).toEqual([
      `hookpoint_connections_open ${MAX_CONNECTIONS}`,
      `hookpoint_connections_limit ${MAX_CONNECTIONS}`,
      "hookpoint_connections_refused_total 1",
    ]);
    for (const s of held) s.destroy();
    await waitFor("the held connections to close", async () => (await serverConnections()) === 0);
    expect((await post(webhook.port, ca.certPem, body, false)).status).toBe(200);
  });
});
