// `hookpoint certs rotate-ca`'s Secret patch against the fake API server, when it is
// refused: a lost race (the resourceVersion test failed) is read again; a Secret the
// API server refuses as invalid is reported at once, naming the Secret, with the API
// server's message. The refusals are Status bodies recorded from the real kube-apiserver.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { requestCaRotation } from "../../../src/k8s/rotate-ca-request.js";
import { ensureSelfManagedCerts } from "../../../src/k8s/self-managed-certs.js";
import { FakeApiServer, recordedStatus, webhookConfig } from "./fake-apiserver.js";

const NS = "hookpoint-system";
const SECRET = `/api/v1/namespaces/${NS}/secrets/hookpoint-webhook-tls`;
const NOW = new Date("2026-03-01T12:00:00.250Z");
const quiet = { info: () => {}, warn: () => {}, error: () => {} };

let api: FakeApiServer;
beforeEach(async () => {
  api = new FakeApiServer();
  await api.start();
  api.putWebhookConfig(webhookConfig("zz-hookpoint"));
  api.secrets.set(`${NS}/hookpoint-webhook-tls`, { apiVersion: "v1", kind: "Secret", metadata: { name: "hookpoint-webhook-tls", namespace: NS, resourceVersion: "1" }, type: "Opaque" });
  // The Secret as a running webhook filled it, an hour before NOW by the webhook's clock
  // (a CA that starts after the request's time would move the request: see rotate-ca-clock).
  await ensureSelfManagedCerts({ kubeConfig: api.kubeConfig(), namespace: NS, log: quiet, now: () => new Date(NOW.getTime() - 3_600_000) });
  api.requests.length = 0;
});
afterEach(async () => {
  await api.stop();
});

const request = () => requestCaRotation(api.kubeConfig(), { namespace: NS, secretName: "hookpoint-webhook-tls", now: NOW });
const annotation = () => (api.secrets.get(`${NS}/hookpoint-webhook-tls`)?.metadata.annotations as Record<string, string> | undefined)?.["hookpoint.dev/rotate-ca-requested-at"];

describe("requestCaRotation when the patch is refused", () => {
  it("a Secret refused as invalid (annotations too long): fails at once, naming the Secret, with the API server's message", async () => {
    api.injections.push({ method: "PATCH", path: /hookpoint-webhook-tls$/, status: 422, reason: "Invalid", times: 5, body: recordedStatus("patch-invalid-secret.json") });
    await expect(request()).rejects.toThrow(
      new Error('patching Secret hookpoint-system/hookpoint-webhook-tls failed: HTTP 422: Secret "hookpoint-webhook-tls" is invalid: metadata.annotations: Too long: may not be more than 262144 bytes'),
    );
    expect(api.requests.map((q) => `${q.method} ${q.status}`)).toEqual(["GET 200", "PATCH 422"]);
    expect(annotation()).toBeUndefined();
  });

  it("a lost race (the resourceVersion test failed): reads again and records the request", async () => {
    api.injections.push({ method: "PATCH", path: /hookpoint-webhook-tls$/, status: 422, reason: "Invalid", times: 1, body: recordedStatus("patch-test-failed.json") });
    const done = await request();
    expect(done.requestedAt.toISOString()).toBe("2026-03-01T12:00:00.000Z");
    expect(annotation()).toBe("2026-03-01T12:00:00Z");
    expect(api.requests.filter((q) => q.path === SECRET).map((q) => `${q.method} ${q.status}`)).toEqual(["GET 200", "PATCH 422", "GET 200", "PATCH 200"]);
  });

  it("a race lost on every attempt: 'kept changing' after 5", async () => {
    api.injections.push({ method: "PATCH", path: /hookpoint-webhook-tls$/, status: 422, reason: "Invalid", times: 5, body: recordedStatus("patch-test-failed.json") });
    await expect(request()).rejects.toThrow(new Error("Secret hookpoint-system/hookpoint-webhook-tls kept changing under 5 attempts to annotate it; run the command again"));
    expect(api.count("PATCH", SECRET, 422)).toBe(5);
  });
});
