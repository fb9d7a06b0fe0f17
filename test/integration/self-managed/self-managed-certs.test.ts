// The self-managed certificate module against a fake API server on 127.0.0.1
// (./fake-apiserver.ts): first start (filling the empty Secret the manifests
// create), restart, two replicas racing, renewal, CA rotation in two steps,
// adopting a peer's renewal, conflicts, a missing or wiped webhook
// configuration, and clear errors when the Secret or RBAC is missing.
import { X509Certificate } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { certificateInfo, issuedBy, splitPemCertificates } from "../../../src/certs/inspect.js";
import {
  ensureSelfManagedCerts,
  startSelfManagedCerts,
  type SelfManagedCerts,
  type SelfManagedCertsOptions,
  type ServingTls,
} from "../../../src/k8s/self-managed-certs.js";
import { FakeApiServer, recordedStatus, webhookConfig } from "./fake-apiserver.js";

const NS = "hookpoint-system";
const SECRET = `/api/v1/namespaces/${NS}/secrets`;
const MWC = "/mutatingwebhookconfigurations/zz-hookpoint";
const DAY = 86_400_000;

interface LogLine {
  level: string;
  msg: string;
  obj: Record<string, unknown>;
}

let api: FakeApiServer;
const handles: SelfManagedCerts[] = [];

/** The Secret as deploy/overlays/self-managed creates it: Opaque, no data (the webhook fills it). */
function manifestSecret() {
  api.secrets.set(`${NS}/hookpoint-webhook-tls`, {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "hookpoint-webhook-tls", namespace: NS, resourceVersion: "1", labels: { "app.kubernetes.io/part-of": "hookpoint" } },
    type: "Opaque",
  });
}

beforeEach(async () => {
  api = new FakeApiServer();
  await api.start();
  api.putWebhookConfig(webhookConfig("zz-hookpoint"));
  manifestSecret();
});

afterEach(async () => {
  for (const h of handles.splice(0)) h.stop();
  await api.stop();
});

function replica(opts: Partial<SelfManagedCertsOptions> = {}) {
  const delivered: ServingTls[] = [];
  const logs: LogLine[] = [];
  const line = (level: string) => (obj: object, msg: string) => void logs.push({ level, msg, obj: obj as Record<string, unknown> });
  const options: SelfManagedCertsOptions = {
    kubeConfig: api.kubeConfig(),
    namespace: NS,
    onCertificate: (tls) => void delivered.push(tls),
    log: { info: line("info"), warn: line("warn"), error: line("error") },
    ...opts,
  };
  return {
    delivered,
    logs,
    options,
    start: async () => {
      const h = await startSelfManagedCerts(options);
      handles.push(h);
      return h;
    },
  };
}

function storedSecret() {
  const s = api.secrets.get(`${NS}/hookpoint-webhook-tls`) as { type: string; data: Record<string, string>; metadata: { resourceVersion: string } } | undefined;
  if (!s) throw new Error("no Secret stored");
  const text = (k: string) => Buffer.from(s.data[k] ?? "", "base64").toString("utf8");
  return { type: s.type, keys: Object.keys(s.data).sort(), caBundle: text("ca.crt"), tlsCert: text("tls.crt"), tlsKey: text("tls.key"), rv: s.metadata.resourceVersion };
}

function caBundles(): (string | undefined)[] {
  const mwc = api.webhookConfigs.get("zz-hookpoint") as unknown as { webhooks: { clientConfig: { caBundle?: string } }[] };
  return mwc.webhooks.map((w) => w.clientConfig.caBundle);
}

const b64 = (s: string) => Buffer.from(s).toString("base64");
const fp = (pem: string) => new X509Certificate(pem).fingerprint256;

describe("self-managed certificates", () => {
  it("on a fresh install: fills the empty Secret, sets the caBundle on both entries, hands over the certificate", async () => {
    const r = replica();
    const h = await r.start();
    const s = storedSecret();
    expect(s.type).toBe("Opaque");
    expect(s.keys).toEqual(["ca.crt", "ca.key", "tls.crt", "tls.key"]);
    expect(caBundles()).toEqual([b64(s.caBundle), b64(s.caBundle)]);
    expect(r.delivered).toHaveLength(1);
    expect(r.delivered[0]?.cert).toBe(s.tlsCert);
    expect(r.delivered[0]?.key).toBe(s.tlsKey);
    expect(r.delivered[0]?.caBundle).toBe(s.caBundle);
    expect(h.current().fingerprint256).toBe(fp(s.tlsCert));
    expect(new X509Certificate(s.tlsCert).checkHost("hookpoint-webhook.hookpoint-system.svc")).toBe("hookpoint-webhook.hookpoint-system.svc");
    // The webhook configuration first (is a new CA trusted yet?), then the Secret; never a create.
    expect(api.requests.map((q) => `${q.method} ${q.path.includes("secrets") ? "Secret" : "MWC"} ${q.status}`)).toEqual(["GET MWC 200", "GET Secret 200", "PUT Secret 200", "PATCH MWC 200"]);
    expect(r.logs.map((l) => l.msg)).toEqual(["issuing webhook certificate", "webhook certificate stored", "caBundle set"]);
    expect(r.logs[0]?.obj).toEqual({ secret: `${NS}/hookpoint-webhook-tls`, action: "create", reason: "the Secret has no ca.crt, ca.key, tls.crt, tls.key" });
  });

  it("on restart: reuses the stored certificate and writes nothing", async () => {
    await replica().start();
    const first = storedSecret();
    api.requests.length = 0;
    const r = replica();
    await r.start();
    expect(r.delivered[0]?.fingerprint256).toBe(fp(first.tlsCert));
    expect(storedSecret().rv).toBe(first.rv);
    expect(api.requests.map((q) => `${q.method} ${q.status}`)).toEqual(["GET 200", "GET 200"]);
    expect(r.logs).toEqual([]);
  });

  it("two replicas starting together: one fills the Secret, the other gets a Conflict, re-reads and serves the same certificate", async () => {
    // Hold both first reads until both replicas have asked, so both see "no Secret".
    const waiting: (() => void)[] = [];
    api.secretReadGate = () =>
      new Promise<void>((release) => {
        waiting.push(release);
        if (waiting.length === 2) {
          api.secretReadGate = undefined;
          for (const w of waiting) w();
        }
      });
    const a = replica();
    const b = replica();
    await Promise.all([a.start(), b.start()]);
    expect(api.count("PUT", SECRET, 200)).toBe(1);
    expect(api.count("PUT", SECRET, 409)).toBe(1);
    const s = storedSecret();
    expect(a.delivered.map((t) => t.fingerprint256)).toEqual([fp(s.tlsCert)]);
    expect(b.delivered.map((t) => t.fingerprint256)).toEqual([fp(s.tlsCert)]);
    expect(caBundles()).toEqual([b64(s.caBundle), b64(s.caBundle)]);
    const loser = [a, b].find((x) => x.logs.some((l) => l.msg === "secret written by another replica, reading it again"));
    expect(loser?.logs.find((l) => l.msg === "secret written by another replica, reading it again")?.obj).toEqual({
      secret: `${NS}/hookpoint-webhook-tls`,
      attempt: 1,
    });
  });

  it("renews the serving certificate with the same CA once a third of its life is left, without touching the caBundle", async () => {
    let now = new Date("2026-01-01T00:00:00Z");
    const r = replica({ now: () => now });
    const h = await r.start();
    const before = storedSecret();
    const patches = api.count("PATCH", MWC);
    now = new Date(now.getTime() + 250 * DAY);
    const renewed = await h.sync();
    const after = storedSecret();
    expect(after.tlsCert).not.toBe(before.tlsCert);
    expect(after.caBundle).toBe(before.caBundle);
    expect(api.count("PUT", SECRET, 200)).toBe(2);
    expect(api.count("PATCH", MWC)).toBe(patches);
    expect(renewed.fingerprint256).toBe(fp(after.tlsCert));
    expect(r.delivered.map((t) => t.fingerprint256)).toEqual([fp(before.tlsCert), fp(after.tlsCert)]);
    expect(issuedBy(new X509Certificate(after.tlsCert), new X509Certificate(before.caBundle))).toBe(true);
    expect(r.logs.filter((l) => l.msg === "issuing webhook certificate").map((l) => l.obj.action)).toEqual(["create", "renew-serving"]);
    expect(r.logs.at(-1)).toEqual({ level: "info", msg: "serving certificate replaced", obj: { notAfter: certificateInfo(new X509Certificate(after.tlsCert)).notAfter.toISOString() } });
  });

  it("rotates the CA near its end in two steps: the bundle gains the new CA, the serving certificate moves only once the configuration trusts it", async () => {
    let now = new Date("2026-01-01T00:00:00Z");
    const r = replica({ now: () => now });
    const h = await r.start();
    const first = storedSecret();
    now = new Date(now.getTime() + 2400 * DAY);
    await h.sync(); // serving certificate renewed (same CA), as it is every 8 months
    const before = storedSecret();
    const delivered = r.delivered.length;

    // Step 1: new CA into the Secret and the configuration; the old serving certificate stays.
    now = new Date(now.getTime() + 35 * DAY);
    api.injections.push({ method: "PATCH", path: /zz-hookpoint$/, status: 500, reason: "InternalError", times: 1 });
    await expect(h.sync()).rejects.toThrow(/patching the caBundle of MutatingWebhookConfiguration zz-hookpoint failed: HTTP 500/);
    const step1 = storedSecret();
    const bundle = splitPemCertificates(step1.caBundle);
    expect(bundle).toHaveLength(2);
    expect(bundle[1]).toBe(first.caBundle);
    expect([step1.tlsCert, step1.tlsKey]).toEqual([before.tlsCert, before.tlsKey]);
    expect(caBundles()).toEqual([b64(first.caBundle), b64(first.caBundle)]);
    expect(r.delivered).toHaveLength(delivered);

    // The next pass reads a configuration without the new CA: it patches it, and still keeps the serving certificate.
    await h.sync();
    expect(caBundles()).toEqual([b64(step1.caBundle), b64(step1.caBundle)]);
    expect(storedSecret().tlsCert).toBe(before.tlsCert);
    expect(r.delivered).toHaveLength(delivered);
    expect(r.logs.filter((l) => l.msg.startsWith("new CA not yet")).map((l) => l.obj)).toEqual([
      { webhookConfiguration: "zz-hookpoint", reason: "tls.crt is from the previous CA (the CA was rotated)" },
    ]);

    // Step 2: this pass finds the new CA in the configuration: the serving certificate moves to it.
    await h.sync();
    const after = storedSecret();
    expect(after.caBundle).toBe(step1.caBundle);
    expect(issuedBy(new X509Certificate(after.tlsCert), new X509Certificate(bundle[0] ?? ""))).toBe(true);
    expect(r.delivered.map((t) => t.fingerprint256).slice(delivered)).toEqual([fp(after.tlsCert)]);
    expect(r.logs.filter((l) => l.msg === "issuing webhook certificate").map((l) => l.obj.action)).toEqual(["create", "renew-serving", "rotate-ca", "switch-serving"]);
  });

  it("adopts a certificate another replica renewed, without writing", async () => {
    const now = new Date("2026-01-01T00:00:00Z");
    const b = replica({ now: () => now });
    const hb = await b.start();
    // Replica A, later in time, renews.
    const a = await ensureSelfManagedCerts({ ...replica().options, now: () => new Date(now.getTime() + 250 * DAY) });
    expect(storedSecret().tlsCert).toBe(a.tls.cert);
    const puts = api.count("PUT", SECRET);
    await hb.sync();
    expect(api.count("PUT", SECRET)).toBe(puts);
    expect(b.delivered.map((t) => t.fingerprint256)).toEqual([expect.any(String), a.tls.fingerprint256]);
  });

  it("notices the peer's renewal on its own, on the periodic check", async () => {
    const b = replica({ checkIntervalMs: 50 });
    await b.start();
    const a = await ensureSelfManagedCerts({ ...replica().options, now: () => new Date(Date.now() + 250 * DAY) });
    for (let i = 0; i < 200 && b.delivered.length < 2; i++) await new Promise((r) => setTimeout(r, 25));
    expect(b.delivered.map((t) => t.fingerprint256)).toEqual([expect.any(String), a.tls.fingerprint256]);
  });

  it("re-reads after a Conflict on replace, and after a failed test op on patch", async () => {
    let now = new Date("2026-01-01T00:00:00Z");
    const h = await replica({ now: () => now }).start();
    api.injections.push({ method: "PUT", path: /secrets\/hookpoint-webhook-tls$/, status: 409, reason: "Conflict", times: 1 });
    now = new Date(now.getTime() + 2500 * DAY); // rotate-ca: both the Secret and the caBundle change
    api.injections.push({ method: "PATCH", path: /zz-hookpoint$/, status: 422, reason: "Invalid", times: 1, body: recordedStatus("patch-test-failed.json") });
    await h.sync();
    expect(api.count("PUT", SECRET, 409)).toBe(1);
    expect(api.count("PUT", SECRET, 200)).toBe(2);
    expect(api.count("PATCH", MWC, 422)).toBe(1);
    expect(caBundles()).toEqual([b64(storedSecret().caBundle), b64(storedSecret().caBundle)]);
  });

  it("a caBundle patch refused as invalid (422 with causes) fails at once with the API server's message, not 5 attempts later as 'kept changing'", async () => {
    api.injections.push({ method: "PATCH", path: /zz-hookpoint$/, status: 422, reason: "Invalid", times: 5, body: recordedStatus("patch-invalid-webhook-configuration.json") });
    await expect(replica().start()).rejects.toThrow(
      new Error(
        `patching the caBundle of MutatingWebhookConfiguration zz-hookpoint failed: HTTP 422: MutatingWebhookConfiguration.admissionregistration.k8s.io "zz-hookpoint" is invalid: webhooks[2].namespaceSelector.matchExpressions[0].values[0]: Invalid value: "perf team": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
      ),
    );
    expect(api.count("PATCH", MWC)).toBe(1);
  });

  it("replaces a Secret whose contents are unusable, saying why", async () => {
    api.secrets.set(`${NS}/hookpoint-webhook-tls`, {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "hookpoint-webhook-tls", namespace: NS, resourceVersion: "5" },
      type: "kubernetes.io/tls",
      data: { "tls.crt": b64("x"), "tls.key": b64("y"), "ca.crt": b64("z") },
    });
    const r = replica();
    await r.start();
    expect(api.count("PUT", SECRET, 200)).toBe(1);
    expect(r.logs[0]?.obj).toEqual({ secret: `${NS}/hookpoint-webhook-tls`, action: "create", reason: "the Secret has no ca.key" });
    expect(storedSecret().keys).toEqual(["ca.crt", "ca.key", "tls.crt", "tls.key"]);
  });

  it("replaces the contents of a Secret made by hand as Opaque, keeping its type (which is immutable)", async () => {
    api.secrets.set(`${NS}/hookpoint-webhook-tls`, {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "hookpoint-webhook-tls", namespace: NS, resourceVersion: "5" },
      type: "Opaque",
      data: { "tls.crt": b64("x"), "tls.key": b64("y") },
    });
    const r = replica();
    await r.start();
    expect(api.count("PUT", SECRET, 200)).toBe(1);
    expect(storedSecret().type).toBe("Opaque");
    expect(storedSecret().keys).toEqual(["ca.crt", "ca.key", "tls.crt", "tls.key"]);
    expect(r.delivered[0]?.cert).toBe(storedSecret().tlsCert);
  });

  it("starts without the webhook configuration (applied later) and sets its caBundle on the next check", async () => {
    api.webhookConfigs.clear();
    const r = replica();
    const h = await r.start();
    expect(r.logs.find((l) => l.level === "warn")).toEqual({
      level: "warn",
      msg: "webhook configuration not found, caBundle not set yet",
      obj: { webhookConfiguration: "zz-hookpoint" },
    });
    expect(r.delivered).toHaveLength(1);
    api.putWebhookConfig(webhookConfig("zz-hookpoint"));
    await h.sync();
    expect(caBundles()).toEqual([b64(storedSecret().caBundle), b64(storedSecret().caBundle)]);
  });

  it("restores a caBundle that a re-apply wiped", async () => {
    const h = await replica().start();
    api.putWebhookConfig(webhookConfig("zz-hookpoint"));
    expect(caBundles()).toEqual([undefined, undefined]);
    await h.sync();
    expect(caBundles()).toEqual([b64(storedSecret().caBundle), b64(storedSecret().caBundle)]);
  });

  it("fails start with a clear message when the Secret is missing (it never creates one)", async () => {
    api.secrets.clear();
    await expect(replica().start()).rejects.toThrow(
      `Secret ${NS}/hookpoint-webhook-tls does not exist: it is part of deploy/overlays/self-managed (created empty; the webhook fills it). Apply the overlay again`,
    );
    expect(api.count("POST", SECRET)).toBe(0);
  });

  it("fails start with a clear message when RBAC forbids updating the Secret", async () => {
    api.forbidden.add("update secrets");
    await expect(replica().start()).rejects.toThrow(
      `replacing Secret ${NS}/hookpoint-webhook-tls failed: HTTP 403: secrets is forbidden: User "system:serviceaccount:${NS}:hookpoint-webhook" cannot update resource "secrets" in API group "" in the namespace "${NS}" (the webhook's ServiceAccount lacks this permission: apply the self-managed overlay's RBAC)`,
    );
  });

  it("keeps serving its certificate when a periodic check fails, and logs why", async () => {
    const r = replica();
    const h = await r.start();
    api.injections.push({ method: "GET", path: /secrets\/hookpoint-webhook-tls$/, status: 500, reason: "InternalError", times: 1 });
    await expect(h.sync()).rejects.toThrow(`reading Secret ${NS}/hookpoint-webhook-tls failed: HTTP 500: injected InternalError`);
    expect(r.logs.at(-1)).toEqual({
      level: "error",
      msg: "certificate check failed, keeping the current certificate",
      obj: { err: `reading Secret ${NS}/hookpoint-webhook-tls failed: HTTP 500: injected InternalError` },
    });
    expect(h.current().fingerprint256).toBe(r.delivered[0]?.fingerprint256);
    await h.sync(); // and recovers on the next one
  });

  it("refuses a namespace that is no DNS label before calling the API", async () => {
    await expect(replica({ namespace: "Hookpoint" }).start()).rejects.toThrow(/^webhook namespace must be a DNS-1123 label/);
    expect(api.requests).toEqual([]);
  });
});
