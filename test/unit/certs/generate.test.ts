// What the generated certificates say, read back by OpenSSL (node:crypto) and
// by node-forge (for the extensions Node does not expose).
import { X509Certificate, createPrivateKey } from "node:crypto";
import forge from "node-forge";
import { describe, expect, it } from "vitest";
import { CLOCK_SKEW_MS, createCertificateAuthority, createServingCertificate } from "../../../src/certs/generate.js";
import { certificateInfo, issuedBy, keyMatches } from "../../../src/certs/inspect.js";
import { servingSubjectAltNames } from "../../../src/certs/names.js";

const DAY = 86_400_000;
const NOW = new Date("2026-03-01T12:00:00Z");
const ca = createCertificateAuthority({ now: NOW });
const names = servingSubjectAltNames("hookpoint-webhook", "hookpoint-system");
const serving = createServingCertificate({ ca, commonName: "hookpoint-webhook.hookpoint-system.svc", ...names, now: NOW });

function ext(pem: string, name: string): Record<string, unknown> | undefined {
  return forge.pki.certificateFromPem(pem).getExtension(name) as Record<string, unknown> | undefined;
}

describe("the CA", () => {
  const cert = new X509Certificate(ca.certPem);
  it("is a self-signed CA valid 10 years (backdated 5 minutes for clock skew)", () => {
    const info = certificateInfo(cert);
    expect(info.isCA).toBe(true);
    expect(info.subject).toBe(`CN=hookpoint-webhook-ca@${NOW.getTime() / 1000}\nO=hookpoint`);
    expect(cert.issuer).toBe(cert.subject);
    expect(info.notBefore.getTime()).toBe(NOW.getTime() - CLOCK_SKEW_MS);
    expect(info.notAfter.getTime()).toBe(NOW.getTime() + 3650 * DAY);
    expect(cert.verify(cert.publicKey)).toBe(true);
  });

  it("may sign certificates only, not further CAs (pathLen 0), with an RSA 2048 key", () => {
    expect(ext(ca.certPem, "basicConstraints")).toMatchObject({ cA: true, pathLenConstraint: 0, critical: true });
    expect(ext(ca.certPem, "keyUsage")).toMatchObject({ keyCertSign: true, cRLSign: true, digitalSignature: true, keyEncipherment: false, critical: true });
    expect(createPrivateKey(ca.keyPem).asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(keyMatches(cert, ca.keyPem)).toBe(true);
    expect(ca.keyPem.startsWith("-----BEGIN PRIVATE KEY-----\n")).toBe(true);
    expect(ca.certPem).not.toContain("\r");
  });
});

describe("the serving certificate", () => {
  const cert = new X509Certificate(serving.certPem);
  it("names the Service, localhost and the loopback addresses", () => {
    const info = certificateInfo(cert);
    expect(info.dnsNames).toEqual(names.dnsNames);
    expect(info.ipAddresses).toEqual(["127.0.0.1", "::1"]);
    expect(info.subject).toBe("CN=hookpoint-webhook.hookpoint-system.svc");
    expect(cert.checkHost("hookpoint-webhook.hookpoint-system.svc")).toBe("hookpoint-webhook.hookpoint-system.svc");
    expect(cert.checkIP("::1")).toBe("::1");
    expect(cert.checkHost("other.hookpoint-system.svc")).toBeUndefined();
  });

  it("is a server-auth end-entity certificate signed by the CA, valid 1 year", () => {
    expect(cert.ca).toBe(false);
    expect(cert.keyUsage).toEqual(["1.3.6.1.5.5.7.3.1"]);
    expect(ext(serving.certPem, "basicConstraints")).toMatchObject({ cA: false, critical: true });
    expect(ext(serving.certPem, "keyUsage")).toMatchObject({ digitalSignature: true, keyEncipherment: true, keyCertSign: false, critical: true });
    expect(issuedBy(cert, new X509Certificate(ca.certPem))).toBe(true);
    expect(keyMatches(cert, serving.keyPem)).toBe(true);
    expect(keyMatches(cert, ca.keyPem)).toBe(false);
    expect(certificateInfo(cert).notAfter.getTime()).toBe(NOW.getTime() + 365 * DAY);
    // Its authority key identifier is the CA's subject key identifier, so chain building is unambiguous.
    const aki = forge.asn1.fromDer((ext(serving.certPem, "authorityKeyIdentifier") as { value: string }).value);
    const ski = (ext(ca.certPem, "subjectKeyIdentifier") as { subjectKeyIdentifier: string }).subjectKeyIdentifier;
    expect(forge.util.bytesToHex((aki.value as forge.asn1.Asn1[])[0]?.value as string)).toBe(ski);
  });

  it("gets a fresh serial number each time", () => {
    const again = createServingCertificate({ ca, commonName: "x", dnsNames: ["x"], now: NOW });
    expect(new X509Certificate(again.certPem).serialNumber).not.toBe(cert.serialNumber);
  });

  it("never outlives its CA", () => {
    const shortCa = createCertificateAuthority({ now: NOW, days: 30 });
    const s = createServingCertificate({ ca: shortCa, commonName: "x", dnsNames: ["x"], days: 365, now: NOW });
    expect(certificateInfo(new X509Certificate(s.certPem)).notAfter).toEqual(certificateInfo(new X509Certificate(shortCa.certPem)).notAfter);
  });

  it.each([0, -1, 1.5, 3651])("refuses %s days", (days) => {
    expect(() => createServingCertificate({ ca, commonName: "x", dnsNames: ["x"], days })).toThrow(
      `serving certificate validity must be a whole number of days between 1 and 3650, got ${days}`,
    );
  });

  it("refuses a certificate without any name", () => {
    expect(() => createServingCertificate({ ca, commonName: "x", dnsNames: [] })).toThrow("a serving certificate needs at least one DNS name or IP address");
  });
});
