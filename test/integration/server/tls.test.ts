// The real HTTPS listener on 127.0.0.1: TLS 1.2 and 1.3 only, no plaintext.
import http from "node:http";
import net from "node:net";
import tls from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { relayServer } from "../../e2e/support/relay.js";
import { loadPod } from "../../support/pods.js";
import { atCreate, get, newCa, podReview, post, servingCert, startOnFreshSecret, waitFor, type TestWebhook } from "./support.js";

const ca = newCa();
let running: Awaited<ReturnType<typeof startOnFreshSecret>> | undefined;
let webhook: TestWebhook;

beforeAll(async () => {
  running = await startOnFreshSecret(ca);
  webhook = running.webhook;
});
afterAll(async () => {
  await running?.close();
});

/** Handshake result: the protocol agreed, or the error code. */
function handshake(port: number, options: tls.ConnectionOptions): Promise<{ protocol: string | null } | { error: string }> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: "127.0.0.1", port, ca: ca.certPem, servername: "localhost", ...options }, () => {
      const protocol = socket.getProtocol();
      socket.end();
      resolve({ protocol });
    });
    socket.on("error", (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
  });
}

// TLS 1.1 needs OpenSSL security level 0 on the client side to be offered at all.
const TLS11 = { minVersion: "TLSv1.1", maxVersion: "TLSv1.1", ciphers: "DEFAULT@SECLEVEL=0" } as const;

describe("HTTPS listener", () => {
  it("answers an AdmissionReview over HTTPS, verified against the CA", async () => {
    const res = await post(webhook.port, ca.certPem, JSON.stringify(podReview(atCreate(loadPod("classic-sidecar")))), false);
    expect(res.status).toBe(200);
    expect((JSON.parse(res.body) as { response: { allowed: boolean; patchType: string } }).response).toMatchObject({ allowed: true, patchType: "JSONPatch" });
  });

  it("accepts TLS 1.2 and TLS 1.3", async () => {
    expect(await handshake(webhook.port, { minVersion: "TLSv1.2", maxVersion: "TLSv1.2" })).toEqual({ protocol: "TLSv1.2" });
    expect(await handshake(webhook.port, { minVersion: "TLSv1.3", maxVersion: "TLSv1.3" })).toEqual({ protocol: "TLSv1.3" });
  });

  it("prefers AES-128-GCM, whatever order the client asks in", async () => {
    const cipher = (options: tls.ConnectionOptions) =>
      new Promise<string>((resolve, reject) => {
        const socket = tls.connect({ host: "127.0.0.1", port: webhook.port, ca: ca.certPem, servername: "localhost", ...options }, () => {
          resolve(socket.getCipher().standardName);
          socket.end();
        });
        socket.on("error", reject);
      });
    // Node's own client default puts AES-256-GCM first; Go's (the API server's) AES-128-GCM.
    expect(await cipher({})).toBe("TLS_AES_128_GCM_SHA256");
    expect(await cipher({ maxVersion: "TLSv1.2" })).toBe("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
    // A client that offers only AES-256-GCM still gets it.
    expect(await cipher({ ciphers: "TLS_AES_256_GCM_SHA384" })).toBe("TLS_AES_256_GCM_SHA384");
  });

  // A cost check, not a timing: each answer costs one encryption and one write, however
  // the HTTP layer hands over headers and body (a record per piece would double both).
  it("sends each answer in one TLS record on a kept-alive connection, over TLS 1.3 and 1.2", async () => {
    const body = JSON.stringify(podReview(atCreate(loadPod("classic-sidecar"))));
    for (const [version, overhead] of [["TLSv1.3", 17], ["TLSv1.2", 24]] as const) {
      // A relay between client and server reads the headers (type, version, length) of the
      // records the server sends; a record may span reads, and a read may hold several.
      const records: number[] = [];
      let pending = Buffer.alloc(0);
      const sockets = new Set<net.Socket>();
      const relay = relayServer(
        () =>
          net.connect(webhook.port, "127.0.0.1").on("data", (d: Buffer) => {
            pending = Buffer.concat([pending, d]);
            while (pending.length >= 5 && pending.length >= 5 + pending.readUInt16BE(3)) {
              if (pending[0] === 23) records.push(pending.readUInt16BE(3));
              pending = pending.subarray(5 + pending.readUInt16BE(3));
            }
          }),
        sockets,
      );
      let socket: tls.TLSSocket | undefined;
      try {
        await new Promise<void>((r) => relay.listen(0, "127.0.0.1", r));
        const s = tls.connect({ host: "127.0.0.1", port: (relay.address() as net.AddressInfo).port, ca: ca.certPem, servername: "localhost", maxVersion: version });
        socket = s;
        let failed: Error | undefined;
        await new Promise<void>((resolve, reject) => s.once("secureConnect", resolve).once("error", reject));
        s.on("error", (err) => (failed = err));
        expect(s.getProtocol()).toBe(version);
        let received = "";
        s.setEncoding("latin1");
        s.on("data", (d: string) => (received += d));
        /** One request on the connection; the whole answer as it arrived (ASCII: bytes = characters). */
        const exchange = async (): Promise<string> => {
          received = "";
          s.write(`POST /mutate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
          return waitFor("the whole answer", () => {
            if (failed) throw failed;
            const end = received.indexOf("\r\n\r\n");
            const length = Number(/content-length: (\d+)/i.exec(received)?.[1]);
            return end >= 0 && received.length === end + 4 + length && received;
          });
        };
        await exchange(); // the handshake's last records and TLS 1.3's session tickets come with the first
        for (let i = 0; i < 3; i++) {
          const before = records.length;
          const answer = await exchange();
          expect(answer).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*"patchType":"JSONPatch"/);
          expect(records.slice(before)).toEqual([answer.length + overhead]);
        }
      } finally {
        // Also on a failed expectation: no connection left to hold the webhook's close in afterAll.
        socket?.destroy();
        for (const sock of sockets) sock.destroy();
        await new Promise((r) => relay.close(r));
      }
    }
  });

  it("refuses a TLS 1.1 client (which a permissive server would accept)", async (ctx) => {
    // Control: the same client against a server that allows TLS 1.1 — proves the client can speak it here.
    const pair = servingCert(ca);
    const control = tls.createServer({ cert: pair.certPem, key: pair.keyPem, minVersion: "TLSv1", ciphers: "DEFAULT@SECLEVEL=0" }, (s) => s.end());
    await new Promise<void>((r) => control.listen(0, "127.0.0.1", r));
    const controlPort = (control.address() as { port: number }).port;
    const controlResult = await handshake(controlPort, TLS11);
    await new Promise((r) => control.close(r));
    if (!("protocol" in controlResult)) ctx.skip(`this Node's OpenSSL cannot speak TLS 1.1 at all (${controlResult.error}), so refusing it proves nothing`);
    expect(controlResult).toEqual({ protocol: "TLSv1.1" });

    expect(await handshake(webhook.port, TLS11)).toEqual({ error: "ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION" });
  });

  it("has no plaintext listener: plain HTTP on the port gets no HTTP answer", async () => {
    const result = await new Promise<{ status: number } | { error: string }>((resolve) => {
      const req = http.request({ host: "127.0.0.1", port: webhook.port, path: "/mutate", method: "POST", headers: { "content-type": "application/json" } }, (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0 });
      });
      req.on("error", (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
      req.end("{}");
    });
    expect(result).toEqual({ error: "ECONNRESET" });
  });

  it("survives a request cut off half-way, a client that vanishes, and non-TLS garbage", async () => {
    const body = JSON.stringify(podReview(atCreate(loadPod("classic-sidecar"))));
    // Half a body, then the client closes its side: a 400 saying so, and the connection closed.
    const cutOff = await new Promise<string>((resolve) => {
      const s = tls.connect({ host: "127.0.0.1", port: webhook.port, ca: ca.certPem, servername: "localhost" }, () => {
        s.write(`POST /mutate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 500)}`);
        s.end();
      });
      let text = "";
      s.on("data", (d: Buffer) => (text += d.toString()));
      s.on("close", () => resolve(text));
      s.on("error", () => undefined);
    });
    const answer = '{"statusCode":400,"error":"Bad Request","message":"the connection was closed before the request was complete"}';
    expect(cutOff).toBe(`HTTP/1.1 400 Bad Request\r\nContent-Length: ${answer.length}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${answer}`);
    // A client that sends half a body and disappears without a word.
    await new Promise<void>((resolve) => {
      const s = tls.connect({ host: "127.0.0.1", port: webhook.port, ca: ca.certPem, servername: "localhost" }, () => {
        s.write(`POST /mutate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 500)}`);
        setTimeout(() => {
          s.destroy();
          resolve();
        }, 100);
      });
    });
    // Bytes that are not a TLS handshake at all.
    await new Promise<void>((resolve) => {
      const s = net.connect(webhook.port, "127.0.0.1", () => s.write(Buffer.from([0x80, 0xff, 0x00, 0x13, 0x37, 0x42, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05])));
      s.on("close", () => resolve());
      s.on("error", () => undefined);
    });

    expect(await get(webhook.port, ca.certPem, "/healthz")).toEqual({ status: 200, body: '{"status":"ok"}' });
    const res = await post(webhook.port, ca.certPem, body, false);
    expect(res.status).toBe(200);
  });
});
