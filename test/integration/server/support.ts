// Certificates laid out the way the kubelet mounts a Secret, a webhook on
// 127.0.0.1 with a port picked by the OS, and a small HTTPS client.
import { mkdirSync, mkdtempSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import https from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { Registry } from "prom-client";
import { createCertificateAuthority, createServingCertificate, type KeyPairPem } from "../../../src/certs/generate.js";
import { startWebhook, type RunningWebhook, type WebhookRunOptions } from "../../../src/server/run.js";
import { settings, snapshot } from "../../support/pods.js";
import { jsonLogSink, NAMESPACES, staticSource, type LogLine } from "../../unit/server/harness.js";

export { atCreate, podReview } from "../../unit/server/harness.js";

export function newCa(): KeyPairPem {
  return createCertificateAuthority();
}

export function servingCert(ca: KeyPairPem): KeyPairPem {
  return createServingCertificate({ ca, commonName: "localhost", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] });
}

/**
 * A directory like a mounted Secret: `tls.crt -> ..data/tls.crt`, `..data -> ..<n>`; a
 * new version is written into a fresh `..<n>` and `..data` is swapped atomically (the
 * kubelet's AtomicWriter), which is what breaks plain fs.watch.
 */
export class SecretDir {
  readonly dir = mkdtempSync(join(tmpdir(), "hookpoint-secret-"));
  #version = 0;

  constructor(files: Record<string, string>) {
    this.write(files);
    for (const name of Object.keys(files)) symlinkSync(join("..data", name), join(this.dir, name));
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  write(files: Record<string, string>): void {
    const version = `..${++this.#version}`;
    mkdirSync(join(this.dir, version));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(this.dir, version, name), text);
    const tmp = join(this.dir, "..data_tmp");
    symlinkSync(version, tmp);
    let old: string | undefined;
    try {
      old = readlinkSync(join(this.dir, "..data"));
    } catch {
      old = undefined;
    }
    renameSync(tmp, join(this.dir, "..data"));
    if (old) rmSync(join(this.dir, old), { recursive: true, force: true });
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface TestWebhook extends RunningWebhook {
  logs: LogLine[];
}

export async function startTestWebhook(
  certFile: string,
  keyFile: string,
  certPollMs = 100,
  limits: Pick<WebhookRunOptions, "maxConnections" | "headersTimeoutMs" | "requestTimeoutMs"> = {},
): Promise<TestWebhook> {
  const { logs, sink } = jsonLogSink();
  const webhook = await startWebhook({
    host: "127.0.0.1",
    port: 0,
    certFile,
    keyFile,
    certPollMs,
    source: staticSource(snapshot(NAMESPACES)),
    settings,
    logger: pino({ level: "info" }, sink),
    registry: new Registry(),
    ...limits,
  });
  return Object.assign(webhook, { logs });
}

/** A webhook on 127.0.0.1 serving a fresh certificate of `ca` from a Secret-like directory; close() removes both. */
export async function startOnFreshSecret(
  ca: KeyPairPem,
  limits: Parameters<typeof startTestWebhook>[3] = {},
): Promise<{ secret: SecretDir; webhook: TestWebhook; close(): Promise<void> }> {
  const pair = servingCert(ca);
  const secret = new SecretDir({ "tls.crt": pair.certPem, "tls.key": pair.keyPem });
  const webhook = await startTestWebhook(secret.path("tls.crt"), secret.path("tls.key"), 100, limits);
  return {
    secret,
    webhook,
    async close() {
      await webhook.close();
      secret.remove();
    },
  };
}

export interface Answer {
  status: number;
  body: string;
  /** Fingerprint of the certificate the server presented on this connection. */
  fingerprint256: string;
  /** Local port of the connection, to tell connections apart. */
  localPort: number;
}

export function post(port: number, ca: string, body: string, agent: https.Agent | false, path = "/mutate"): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: "127.0.0.1", port, path, method: "POST", ca, agent, headers: { "content-type": "application/json" } },
      (res) => {
        const socket = res.socket as import("node:tls").TLSSocket;
        const fingerprint256 = socket.getPeerCertificate().fingerprint256;
        const localPort = socket.localPort ?? 0;
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (text += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text, fingerprint256, localPort }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

export interface VerifiedLoad {
  /** Requests sent so far. */
  total(): number;
  /** What went wrong, one entry per failed request (a refused certificate among them). */
  failures: string[];
  /** The certificates the server presented, each once in the order they first appeared consecutively. */
  seen: string[];
  stop(): Promise<void>;
}

/**
 * POSTs `body` to /mutate on a new connection each time, from `workers` loops, each verified
 * against `ca()` as it is just before the connection (the caBundle a client holds at that
 * moment); bounded by `maxRequests` and `maxMs`.
 */
export function verifiedLoad(opts: { port: number; ca: () => string | Promise<string>; body: string; workers: number; maxRequests: number; maxMs: number }): VerifiedLoad {
  let stopped = false;
  let total = 0;
  const failures: string[] = [];
  const seen: string[] = [];
  const started = Date.now();
  const worker = async () => {
    while (!stopped && total < opts.maxRequests && Date.now() - started < opts.maxMs) {
      total++;
      try {
        const res = await post(opts.port, await opts.ca(), opts.body, false);
        if (res.status !== 200) failures.push(`HTTP ${res.status}`);
        if (seen.at(-1) !== res.fingerprint256) seen.push(res.fingerprint256);
      } catch (err) {
        failures.push(String(err));
      }
    }
  };
  const running = Promise.all(Array.from({ length: opts.workers }, worker));
  return {
    total: () => total,
    failures,
    seen,
    stop: async () => {
      stopped = true;
      await running;
    },
  };
}

export function get(port: number, ca: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get({ host: "127.0.0.1", port, path, ca, agent: false }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (text += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      })
      .on("error", reject);
  });
}

/** Polls `check` every 50 ms until it is truthy; throws naming `what` after `ms`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
