// Reading certificates back: validity, names, issuer and key pairing, through
// Node's own X.509 parser (the same OpenSSL that serves TLS later).
import { X509Certificate, createPrivateKey } from "node:crypto";

export interface CertificateInfo {
  subject: string;
  notBefore: Date;
  notAfter: Date;
  isCA: boolean;
  dnsNames: string[];
  ipAddresses: string[];
  fingerprint256: string;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The certificates of a PEM bundle, each as its own PEM block with a trailing newline. */
export function splitPemCertificates(bundle: string): string[] {
  return (bundle.match(PEM_CERT) ?? []).map((block) => `${block}\n`);
}

/** Parses one PEM certificate; throws an error that names `what` when it is not one. */
export function parseCertificate(what: string, pem: string): X509Certificate {
  const blocks = splitPemCertificates(pem);
  if (blocks.length === 0) throw new Error(`${what} holds no PEM certificate`);
  try {
    return new X509Certificate(blocks[0] ?? "");
  } catch (err) {
    throw new Error(`${what} is not a readable X.509 certificate: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Node prints IPv6 SANs in full (0:0:0:0:0:0:0:1); the URL parser gives the canonical short form (::1). */
function canonicalIp(ip: string): string {
  if (!ip.includes(":")) return ip;
  try {
    return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  } catch {
    return ip;
  }
}

export function certificateInfo(cert: X509Certificate): CertificateInfo {
  const dnsNames: string[] = [];
  const ipAddresses: string[] = [];
  for (const entry of (cert.subjectAltName ?? "").split(", ")) {
    if (entry.startsWith("DNS:")) dnsNames.push(entry.slice(4));
    else if (entry.startsWith("IP Address:")) ipAddresses.push(canonicalIp(entry.slice(11)));
  }
  return {
    subject: cert.subject,
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
    isCA: cert.ca,
    dnsNames,
    ipAddresses,
    fingerprint256: cert.fingerprint256,
  };
}

/** True when `keyPem` is the private key of `cert`. */
export function keyMatches(cert: X509Certificate, keyPem: string): boolean {
  try {
    return cert.checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    return false;
  }
}

/** True when `cert` names `ca` as issuer and carries `ca`'s signature. */
export function issuedBy(cert: X509Certificate, ca: X509Certificate): boolean {
  return cert.checkIssued(ca) && cert.verify(ca.publicKey);
}

/**
 * Share of the validity period still ahead at `now`: 1 when fresh, 0 when expired.
 * A certificate whose notBefore is still ahead counts as fresh: the clients that
 * check it (the API server) may well have a better clock than this replica.
 */
export function remainingFraction(info: Pick<CertificateInfo, "notBefore" | "notAfter">, now: Date): number {
  const total = info.notAfter.getTime() - info.notBefore.getTime();
  const left = info.notAfter.getTime() - now.getTime();
  if (total <= 0 || left <= 0) return 0;
  return Math.min(1, left / total);
}

/** The moment at which only `fraction` of the validity period is left. */
export function renewalTime(info: Pick<CertificateInfo, "notBefore" | "notAfter">, fraction: number): Date {
  const total = info.notAfter.getTime() - info.notBefore.getTime();
  return new Date(info.notAfter.getTime() - fraction * total);
}
