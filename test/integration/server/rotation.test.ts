// Certificate rotation on a live listener, the way Kubernetes updates a mounted
// Secret (a `..data` symlink swap), under concurrent requests: zero may fail.
import https from "node:https";
import tls from "node:tls";
import { X509Certificate } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { CLOCK_SKEW_MS, createServingCertificate } from "../../../src/certs/generate.js";
import { loadPod } from "../../support/pods.js";
import { atCreate, get, newCa, podReview, post, SecretDir, servingCert, startTestWebhook, waitFor, type TestWebhook } from "./support.js";

const MAX_REQUESTS = 20_000;
const MAX_MS = 40_000;

const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

const fingerprint = (certPem: string) => new X509Certificate(certPem).fingerprint256;

describe("certificate rotation", () => {
  it("swaps in new pairs without failing a request, keeps the old pair when the new one is broken", async () => {
    const ca = newCa();
    const [a, b, c] = [servingCert(ca), servingCert(ca), servingCert(ca)];
    const secret = new SecretDir({ "tls.crt": a.certPem, "tls.key": a.keyPem });
    cleanups.push(() => secret.remove());
    const webhook: TestWebhook = await startTestWebhook(secret.path("tls.crt"), secret.path("tls.key"), 100);
    cleanups.push(() => webhook.close());
    const { port } = webhook;
    const body = JSON.stringify(podReview(atCreate(loadPod("classic-sidecar"))));

    // Load: 4 workers open a new connection per request (they see each new certificate),
    // 4 reuse one keep-alive connection each (their connections must survive the swaps).
    let stop = false;
    let total = 0;
    const failures: string[] = [];
    const seen: string[] = []; // certificate fingerprints, in the order new connections saw them
    const keepAliveBefore = new Set<number>();
    const keepAliveAfter = new Set<number>();
    let rotatedOnce = false;
    const started = Date.now();
    const worker = async (agent: https.Agent | false) => {
      while (!stop && total < MAX_REQUESTS && Date.now() - started < MAX_MS) {
        total++;
        try {
          const res = await post(port, ca.certPem, body, agent);
          if (res.status !== 200 || !res.body.includes('"patchType":"JSONPatch"')) failures.push(`HTTP ${res.status}: ${res.body.slice(0, 200)}`);
          if (agent === false && seen[seen.length - 1] !== res.fingerprint256) seen.push(res.fingerprint256);
          if (agent !== false) (rotatedOnce ? keepAliveAfter : keepAliveBefore).add(res.localPort);
        } catch (err) {
          failures.push(String(err));
        }
      }
    };
    const agents = Array.from({ length: 4 }, () => new https.Agent({ keepAlive: true, maxSockets: 1 }));
    cleanups.push(() => agents.forEach((ag) => ag.destroy()));
    const load = Promise.all([...agents.map((ag) => worker(ag)), ...Array.from({ length: 4 }, () => worker(false))]);

    const metric = async (line: string) => (await get(port, ca.certPem, "/metrics")).body.split("\n").find((l) => l.startsWith(line));
    const newConnectionSees = (pem: string) => waitFor(`a new connection to present ${fingerprint(pem)}`, () => seen.includes(fingerprint(pem)));

    await waitFor("some requests before rotating", () => total > 100);
    // 1. A valid new pair: swapped in.
    secret.write({ "tls.crt": b.certPem, "tls.key": b.keyPem });
    await newConnectionSees(b.certPem);
    rotatedOnce = true;
    await waitFor("some requests after rotating", () => total > 300);

    // 2. A broken pair (certificate and key do not belong together): the old pair stays.
    secret.write({ "tls.crt": c.certPem, "tls.key": a.keyPem });
    expect(await waitFor("the failed reload to be counted", () => metric('hookpoint_tls_reloads_total{result="failure"} 1'))).toBe('hookpoint_tls_reloads_total{result="failure"} 1');
    const afterBroken = total;
    await waitFor("more requests on the kept pair", () => total > afterBroken + 200);

    // 3. Garbage: still the old pair.
    secret.write({ "tls.crt": "not a certificate\n", "tls.key": "not a key\n" });
    await waitFor("the second failed reload to be counted", () => metric('hookpoint_tls_reloads_total{result="failure"} 2'));
    const afterGarbage = total;
    await waitFor("more requests on the kept pair", () => total > afterGarbage + 200);

    // 4. A valid pair again.
    secret.write({ "tls.crt": c.certPem, "tls.key": c.keyPem });
    await newConnectionSees(c.certPem);
    const afterLast = total;
    await waitFor("requests on the last pair", () => total > afterLast + 200);

    stop = true;
    await load;

    expect(failures).toEqual([]);
    expect(seen).toEqual([fingerprint(a.certPem), fingerprint(b.certPem), fingerprint(c.certPem)]);
    // Keep-alive connections opened before the first swap went on serving after it.
    expect([...keepAliveBefore].filter((p) => keepAliveAfter.has(p)).length).toBeGreaterThan(0);
    expect(await metric("hookpoint_tls_reloads_total")).toBe('hookpoint_tls_reloads_total{result="success"} 3');
    expect(await metric("hookpoint_tls_certificate_expiry_timestamp_seconds")).toBe(
      `hookpoint_tls_certificate_expiry_timestamp_seconds ${Date.parse(new X509Certificate(c.certPem).validTo) / 1000}`,
    );
    expect(webhook.logs.filter((l) => l.msg === "serving certificate reload failed; keeping the current one").map((l) => l.error)).toEqual([
      `${secret.path("tls.key")} is not the private key of ${secret.path("tls.crt")}`,
      expect.stringMatching(new RegExp(`^${secret.path("tls.crt").replace(/[.]/g, "\\.")} is not a PEM certificate: `)),
    ]);

    // The minimum TLS version survives the swaps...
    const tls11 = await new Promise<string>((resolve) => {
      const s = tls.connect({ host: "127.0.0.1", port, ca: ca.certPem, minVersion: "TLSv1.1", maxVersion: "TLSv1.1", ciphers: "DEFAULT@SECLEVEL=0" }, () => {
        s.end();
        resolve("connected");
      });
      s.on("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    });
    expect(tls11).toBe("ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION");
    // And so does the cipher preference.
    const cipher = await new Promise<string>((resolve, reject) => {
      const s = tls.connect({ host: "127.0.0.1", port, ca: ca.certPem }, () => {
        resolve(s.getCipher().standardName);
        s.end();
      });
      s.on("error", reject);
    });
    expect(cipher).toBe("TLS_AES_128_GCM_SHA256");
    console.log(`rotation: ${total} requests, 0 failed`);
  });

  it("refuses an expired, a not yet valid and a mismatched pair with a line naming the file, and takes the early one once it is valid", async () => {
    const ca = newCa();
    const a = servingCert(ca);
    const day = 86_400_000;
    const expired = createServingCertificate({ ca, commonName: "localhost", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"], now: new Date(Date.now() - 3 * day), days: 1 });
    // notBefore is backdated by CLOCK_SKEW_MS from `now`: made just before it is written, this one becomes valid 8 s later.
    const early = () => createServingCertificate({ ca, commonName: "localhost", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"], now: new Date(Date.now() + CLOCK_SKEW_MS + 8000) });
    const other = servingCert(ca);
    const secret = new SecretDir({ "tls.crt": a.certPem, "tls.key": a.keyPem });
    cleanups.push(() => secret.remove());
    const webhook = await startTestWebhook(secret.path("tls.crt"), secret.path("tls.key"), 100);
    cleanups.push(() => webhook.close());
    const { port } = webhook;
    const body = JSON.stringify(podReview(atCreate(loadPod("classic-sidecar"))));
    // A real client that verifies the server against the CA, on a new connection each time.
    const served = async () => {
      const res = await post(port, ca.certPem, body, false);
      expect(res.status).toBe(200);
      return res.fingerprint256;
    };
    const failures = async () => (await get(port, ca.certPem, "/metrics")).body.split("\n").find((l) => l.startsWith('hookpoint_tls_reloads_total{result="failure"}'));
    const refusals = () => webhook.logs.filter((l) => l.msg === "serving certificate reload failed; keeping the current one").map((l) => l.error);
    const crt = secret.path("tls.crt");
    const key = secret.path("tls.key");

    let notYet = { certPem: "", keyPem: "" };
    for (const [n, make] of [[1, () => expired], [2, () => ({ certPem: other.certPem, keyPem: a.keyPem })], [3, () => (notYet = early())]] as const) {
      const pair = make();
      secret.write({ "tls.crt": pair.certPem, "tls.key": pair.keyPem });
      await waitFor(`refusal ${n} to be counted`, async () => (await failures()) === `hookpoint_tls_reloads_total{result="failure"} ${n}`);
      expect(await served()).toBe(fingerprint(a.certPem));
    }
    expect(refusals()).toEqual([
      `${crt} expired at ${new Date(new X509Certificate(expired.certPem).validTo).toISOString()}`,
      `${key} is not the private key of ${crt}`,
      `${crt} is not valid before ${new Date(new X509Certificate(notYet.certPem).validFrom).toISOString()}`,
    ]);
    await waitFor("the early pair to be served once valid", async () => (await served()) === fingerprint(notYet.certPem), 20_000);
    expect(refusals()).toHaveLength(3);
  });
});
