// /healthz, /readyz and /metrics, and how the certificate state shows in them.
import { describe, expect, it } from "vitest";
import { createCertificateAuthority, createServingCertificate } from "../../../src/certs/generate.js";
import { DEFAULT_MAX_CONNECTIONS, HEADERS_TIMEOUT_MS, REQUEST_TIMEOUT_MS, timeoutCheckInterval } from "../../../src/server/app.js";
import { newLifecycle } from "../../../src/server/lifecycle.js";
import { servingPair } from "../../../src/server/tls-state.js";
import { snapshot } from "../../support/pods.js";
import { harness, NAMESPACES, staticSource } from "./harness.js";

const ca = createCertificateAuthority({ now: new Date("2026-01-01T00:00:00Z") });
function pair(days: number) {
  const p = createServingCertificate({ ca, commonName: "localhost", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"], days, now: new Date("2026-01-01T00:00:00Z") });
  return servingPair(p.certPem, p.keyPem, { cert: "tls.crt", key: "tls.key" });
}

describe("probes", () => {
  it("/healthz answers while the process is alive, whatever the readiness", async () => {
    const h = harness({ source: staticSource(snapshot(NAMESPACES), { synced: false }) });
    const res = await h.app.inject({ url: "/healthz" });
    expect([res.statusCode, res.json()]).toEqual([200, { status: "ok" }]);
  });

  it("/readyz is 503 without a certificate and with an unsynced source, naming both", async () => {
    const h = harness({ source: staticSource(snapshot(NAMESPACES), { synced: false }) });
    const res = await h.app.inject({ url: "/readyz" });
    expect([res.statusCode, res.json()]).toEqual([
      503,
      { ready: false, source: "static test snapshot", problems: ["serving certificate not loaded", "policy source (static test snapshot) not synced yet"] },
    ]);
  });

  it("/readyz is 200 once the certificate is loaded and the source synced", async () => {
    const h = harness({ pair: pair(30) });
    const res = await h.app.inject({ url: "/readyz" });
    expect([res.statusCode, res.json()]).toEqual([200, { ready: true, source: "static test snapshot", problems: [] }]);
  });

  it("/readyz is 503 once shutting down, while /healthz and reviews still answer; closing answers say Connection: close", async () => {
    const lifecycle = newLifecycle();
    const h = harness({ pair: pair(30), lifecycle });
    expect((await h.app.inject({ url: "/readyz" })).headers.connection).toBe("keep-alive");
    lifecycle.stopping = true;
    const res = await h.app.inject({ url: "/readyz" });
    expect([res.statusCode, res.json()]).toEqual([503, { ready: false, source: "static test snapshot", problems: ["shutting down"] }]);
    expect((await h.app.inject({ url: "/healthz" })).statusCode).toBe(200);
    lifecycle.closing = true;
    const closing = await h.app.inject({ url: "/healthz" });
    expect([closing.statusCode, closing.headers.connection]).toEqual([200, "close"]);
  });

  it("holds requests to the production header and request timeouts, checked every second", () => {
    const h = harness();
    expect([h.app.server.headersTimeout, h.app.server.requestTimeout, timeoutCheckInterval(HEADERS_TIMEOUT_MS, REQUEST_TIMEOUT_MS)]).toEqual([10_000, 30_000, 1000]);
    expect([h.app.server.maxConnections]).toEqual([DEFAULT_MAX_CONNECTIONS]);
  });

  it("/readyz turns ready when a certificate arrives later", async () => {
    const h = harness();
    expect((await h.app.inject({ url: "/readyz" })).statusCode).toBe(503);
    h.tls.set(pair(30));
    expect((await h.app.inject({ url: "/readyz" })).statusCode).toBe(200);
  });

  it("/metrics is Prometheus text with the certificate's expiry, following rotations", async () => {
    const first = pair(30);
    const h = harness({ pair: first });
    let res = await h.app.inject({ url: "/metrics" });
    expect(res.headers["content-type"]).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(res.body).toContain(`hookpoint_tls_certificate_expiry_timestamp_seconds ${Date.parse("2026-01-31T00:00:00Z") / 1000}`);
    h.tls.set(pair(90));
    res = await h.app.inject({ url: "/metrics" });
    expect(res.body).toContain(`hookpoint_tls_certificate_expiry_timestamp_seconds ${Date.parse("2026-04-01T00:00:00Z") / 1000}`);
    expect(res.body).toContain('hookpoint_tls_reloads_total{result="failure"} 0');
    expect(res.body).toContain("# TYPE hookpoint_admission_duration_seconds histogram");
  });
});
