// When the webhook's TLS material is kept, renewed or replaced, and what the
// replacement looks like. Keys are made once; only the clock moves.
import { X509Certificate } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CLOCK_SKEW_MS } from "../../../src/certs/generate.js";
import { certificateInfo, issuedBy, parseCertificate, splitPemCertificates } from "../../../src/certs/inspect.js";
import { servingSubjectAltNames } from "../../../src/certs/names.js";
import { issueMaterial, planRenewal, type RenewalPolicy, type TlsMaterial } from "../../../src/certs/renewal.js";

const DAY = 86_400_000;
const T0 = new Date("2026-01-01T00:00:00Z");
const at = (days: number) => new Date(T0.getTime() + days * DAY);
const names = servingSubjectAltNames("hookpoint-webhook", "hookpoint-system");

function policy(now: Date, over: Partial<RenewalPolicy> = {}): RenewalPolicy {
  return { now, commonName: "hookpoint-webhook.hookpoint-system.svc", ...names, renewBelow: 1 / 3, ...over };
}

const fresh = issueMaterial({ action: "create", reason: "test" }, undefined, policy(T0));
const other = issueMaterial({ action: "create", reason: "test" }, undefined, policy(T0));
const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256;

describe("planRenewal", () => {
  it("creates when nothing is stored", () => {
    expect(planRenewal(undefined, policy(T0))).toEqual({ action: "create", reason: "no certificate is stored yet" });
  });

  it("reuses fresh material and says when to look again: when a third of the serving certificate's life is left", () => {
    const servingLife = 365 * DAY + CLOCK_SKEW_MS;
    const notAfter = T0.getTime() + 365 * DAY;
    expect(planRenewal(fresh, policy(at(1)))).toEqual({ action: "reuse", renewAt: new Date(notAfter - servingLife / 3) });
  });

  it("renews the serving certificate once less than a third of its life is left", () => {
    expect(planRenewal(fresh, policy(at(243))).action).toBe("reuse");
    expect(planRenewal(fresh, policy(at(244)))).toEqual({ action: "renew-serving", reason: "tls.crt expires at 2027-01-01T00:00:00.000Z" });
  });

  it("rotates the CA once less than a third of its life is left", () => {
    expect(planRenewal(fresh, policy(at(2434)))).toEqual({ action: "rotate-ca", reason: "the CA expires at 2035-12-30T00:00:00.000Z" });
  });

  it.each<[string, Partial<TlsMaterial>, string, string]>([
    ["an unreadable ca.crt", { caBundle: "junk" }, "create", "ca.crt holds no PEM certificate"],
    ["a serving certificate as ca.crt", { caBundle: fresh.tlsCert }, "create", "ca.crt is not a CA certificate"],
    ["another CA's key", { caKey: other.caKey }, "create", "ca.key is not the key of ca.crt"],
    ["an unreadable tls.crt", { tlsCert: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n" }, "renew-serving", "tls.crt is not a readable X.509 certificate"],
    ["a tls.crt from another CA", { tlsCert: other.tlsCert, tlsKey: other.tlsKey }, "renew-serving", "tls.crt was not issued by ca.crt"],
    ["another tls.key", { tlsKey: other.tlsKey }, "renew-serving", "tls.key is not the key of tls.crt"],
  ])("on %s: %s", (_what, patch, action, reason) => {
    const plan = planRenewal({ ...fresh, ...patch }, policy(at(1)));
    expect(plan.action).toBe(action);
    expect(plan.action !== "reuse" && plan.reason.startsWith(reason)).toBe(true);
  });

  it("rotates the CA on request when the CA was issued before the request, and not when it was issued after", () => {
    // fresh's CA is valid from T0 minus the clock-skew backdating.
    const notBefore = new Date(T0.getTime() - CLOCK_SKEW_MS);
    const requested = at(10);
    expect(planRenewal(fresh, policy(at(11), { rotateCaRequestedAt: requested }))).toEqual({
      action: "rotate-ca",
      reason: "a CA rotation was requested at 2026-01-11T00:00:00.000Z (hookpoint certs rotate-ca)",
    });
    expect(planRenewal(fresh, policy(at(11), { rotateCaRequestedAt: new Date(notBefore.getTime() + 1000) })).action).toBe("rotate-ca");
    // A request older than the CA was answered by it already (or by a rotation that was due).
    expect(planRenewal(fresh, policy(at(11), { rotateCaRequestedAt: notBefore })).action).toBe("reuse");
    expect(planRenewal(fresh, policy(at(11), { rotateCaRequestedAt: new Date(notBefore.getTime() - DAY) })).action).toBe("reuse");
  });

  it("a requested rotation takes the same two steps, and the CA it made answers the request", () => {
    const requested = at(100);
    const step1Plan = planRenewal(fresh, policy(at(100), { rotateCaRequestedAt: requested }));
    expect(step1Plan.action).toBe("rotate-ca");
    if (step1Plan.action === "reuse") throw new Error("unreachable");
    // The new CA is issued after the request (its notBefore is only backdated by the clock skew).
    const step1 = issueMaterial(step1Plan, fresh, policy(at(100)));
    expect(splitPemCertificates(step1.caBundle)).toEqual([splitPemCertificates(step1.caBundle)[0], fresh.caBundle]);
    expect([step1.tlsCert, step1.tlsKey]).toEqual([fresh.tlsCert, fresh.tlsKey]);
    // A request made before the new CA no longer rotates: the serving certificate moves next.
    expect(planRenewal(step1, policy(at(101), { rotateCaRequestedAt: new Date(requested.getTime() - CLOCK_SKEW_MS) }))).toEqual({
      action: "switch-serving",
      reason: "tls.crt is from the previous CA (the CA was rotated)",
    });
  });

  it("renews a serving certificate that lacks a required name (the Service was renamed)", () => {
    const renamed = servingSubjectAltNames("tracer", "hookpoint-system");
    expect(planRenewal(fresh, policy(at(1), renamed))).toEqual({
      action: "renew-serving",
      reason: "tls.crt does not name tracer, tracer.hookpoint-system, tracer.hookpoint-system.svc, tracer.hookpoint-system.svc.cluster.local",
    });
  });

  it("with replaceNotYetValid (hookpoint certs --reuse), replaces a set not valid yet at now: a new CA when the CA is, else the serving certificate", () => {
    // fresh is valid from T0 minus the 5-minute backdating; a clock 6 minutes before T0 is before that.
    const early = new Date(T0.getTime() - 6 * 60_000);
    expect(planRenewal(fresh, policy(early, { replaceNotYetValid: true }))).toEqual({ action: "create", reason: "ca.crt is not valid before 2025-12-31T23:55:00.000Z" });
    const laterLeaf = issueMaterial({ action: "renew-serving", reason: "test" }, fresh, policy(at(1)));
    expect(planRenewal(laterLeaf, policy(at(1 - 6 / 1440), { replaceNotYetValid: true }))).toEqual({
      action: "renew-serving",
      reason: "tls.crt is not valid before 2026-01-01T23:55:00.000Z",
    });
    // At its very start it is valid: kept.
    expect(planRenewal(laterLeaf, policy(new Date(at(1).getTime() - CLOCK_SKEW_MS), { replaceNotYetValid: true })).action).toBe("reuse");
    // The self-managed webhook's policy counts it as fresh (an API server may have a better clock than this replica).
    expect(planRenewal(fresh, policy(early)).action).toBe("reuse");
  });

  it("keeps material until exactly the renewal point, for any moment of its life (property)", () => {
    const info = certificateInfo(parseCertificate("tls.crt", fresh.tlsCert));
    const total = info.notAfter.getTime() - info.notBefore.getTime();
    fc.assert(
      fc.property(fc.integer({ min: info.notBefore.getTime(), max: info.notAfter.getTime() + 30 * DAY }), (t) => {
        const plan = planRenewal(fresh, policy(new Date(t)));
        const left = (info.notAfter.getTime() - t) / total;
        expect(plan.action).toBe(left >= 1 / 3 ? "reuse" : "renew-serving");
      }),
      { numRuns: 200 },
    );
  });
});

describe("issueMaterial", () => {
  it("renew-serving keeps the CA and the bundle (the caBundle in the API server stays valid)", () => {
    const renewed = issueMaterial({ action: "renew-serving", reason: "" }, fresh, policy(at(250)));
    expect(renewed.caBundle).toBe(fresh.caBundle);
    expect(renewed.caKey).toBe(fresh.caKey);
    expect(fingerprint(renewed.tlsCert)).not.toBe(fingerprint(fresh.tlsCert));
    expect(issuedBy(new X509Certificate(renewed.tlsCert), new X509Certificate(fresh.caBundle))).toBe(true);
    expect(planRenewal(renewed, policy(at(250))).action).toBe("reuse");
  });

  it("rotate-ca makes a new CA and keeps the old one in the bundle while it is valid", () => {
    const rotated = issueMaterial({ action: "rotate-ca", reason: "" }, fresh, policy(at(2500)));
    const bundle = splitPemCertificates(rotated.caBundle);
    expect(bundle).toHaveLength(2);
    expect(bundle[1]).toBe(fresh.caBundle);
    expect(issuedBy(new X509Certificate(rotated.tlsCert), new X509Certificate(bundle[0] ?? ""))).toBe(true);
    expect(planRenewal(rotated, policy(at(2500))).action).toBe("reuse");

    // Once the old CA has expired, the next renewal drops it from the bundle.
    const later = issueMaterial({ action: "renew-serving", reason: "" }, rotated, policy(at(3660)));
    expect(splitPemCertificates(later.caBundle)).toEqual([bundle[0]]);
  });

  it("rotate-ca in two steps when the serving certificate still serves: bundle first, the serving certificate only on switch-serving", () => {
    // The serving certificate was renewed (same CA) shortly before the CA's own renewal point.
    const renewed = issueMaterial({ action: "renew-serving", reason: "" }, fresh, policy(at(2400)));
    expect(planRenewal(renewed, policy(at(2435)))).toEqual({ action: "rotate-ca", reason: "the CA expires at 2035-12-30T00:00:00.000Z" });

    const step1 = issueMaterial({ action: "rotate-ca", reason: "" }, renewed, policy(at(2435)));
    const bundle = splitPemCertificates(step1.caBundle);
    expect(bundle).toHaveLength(2);
    expect(bundle[1]).toBe(fresh.caBundle);
    expect([step1.tlsCert, step1.tlsKey]).toEqual([renewed.tlsCert, renewed.tlsKey]);
    expect(step1.caKey).not.toBe(fresh.caKey);
    expect(planRenewal(step1, policy(at(2435)))).toEqual({ action: "switch-serving", reason: "tls.crt is from the previous CA (the CA was rotated)" });

    const step2 = issueMaterial({ action: "switch-serving", reason: "" }, step1, policy(at(2436)));
    expect(step2.caBundle).toBe(step1.caBundle);
    expect(issuedBy(new X509Certificate(step2.tlsCert), new X509Certificate(bundle[0] ?? ""))).toBe(true);
    expect(planRenewal(step2, policy(at(2436))).action).toBe("reuse");
  });

  it("switch-serving is not offered for a serving certificate that no longer serves: it is renewed from the new CA at once", () => {
    const renewed = issueMaterial({ action: "renew-serving", reason: "" }, fresh, policy(at(2400)));
    const step1 = issueMaterial({ action: "rotate-ca", reason: "" }, renewed, policy(at(2435)));
    // The old serving certificate (issued day 2400, one year) has expired by day 2770.
    expect(planRenewal(step1, policy(at(2770)))).toEqual({ action: "renew-serving", reason: "tls.crt was not issued by ca.crt" });
  });

  it("create makes a CA valid 10 years and a serving certificate valid 1 year, or the days asked for", () => {
    const m = issueMaterial({ action: "create", reason: "" }, undefined, policy(T0, { servingDays: 30, caDays: 100 }));
    expect(certificateInfo(parseCertificate("ca.crt", m.caBundle)).notAfter).toEqual(at(100));
    expect(certificateInfo(parseCertificate("tls.crt", m.tlsCert)).notAfter).toEqual(at(30));
  });
});
