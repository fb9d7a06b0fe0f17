// CA and serving-certificate generation. RSA 2048 keys come from Node's crypto
// (OpenSSL: milliseconds, where node-forge's pure-JS keygen takes a second);
// node-forge builds and signs the certificates (SHA-256). Everything is PEM.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import forge from "node-forge";
import { CA_DAYS, checkDays, SERVING_DAYS } from "./days.js";

/** notBefore is backdated so that a node whose clock runs a little behind still accepts a fresh certificate. */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;
/**
 * The backdating of `hookpoint certs`, which runs on a workstation whose clock nothing keeps in
 * step with the cluster's: an hour, as Kubernetes' own self-signed certificates (client-go's
 * cert.GenerateSelfSignedCertKey). Less, and a laptop a few minutes ahead wrote certificates
 * that the webhook refused to load and the API server to trust until the cluster caught up.
 */
export const WORKSTATION_CLOCK_SKEW_MS = 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface KeyPairPem {
  certPem: string;
  keyPem: string;
}

export interface CaOptions {
  commonName?: string;
  days?: number;
  now?: Date;
  /** How long before `now` it is valid from (default CLOCK_SKEW_MS). */
  backdateMs?: number;
}

export interface ServingOptions {
  ca: KeyPairPem;
  commonName: string;
  dnsNames: readonly string[];
  ipAddresses?: readonly string[];
  days?: number;
  now?: Date;
  /** How long before `now` it is valid from (default CLOCK_SKEW_MS). */
  backdateMs?: number;
}

export interface RsaKey {
  privatePem: string;
  publicPem: string;
  privateKey: forge.pki.rsa.PrivateKey;
  publicKey: forge.pki.rsa.PublicKey;
}

/** A fresh RSA 2048 key pair: PKCS#8 and SPKI PEM, and the same keys for node-forge. */
export function newRsaKey(): RsaKey {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  const forgeKey = forge.pki.privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey;
  return { privatePem: privateKey, publicPem: publicKey, privateKey: forgeKey, publicKey: forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e) };
}

/** A positive 127-bit serial number, hex-encoded (RFC 5280: positive, at most 20 octets). */
export function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x3f) | 0x40; // top bit clear: positive; next bit set: no leading zero to strip
  return bytes.toString("hex");
}

/** node-forge writes CRLF line ends; everything else here (and kubectl) writes LF. */
function pemLF(pem: string): string {
  return pem.replace(/\r\n/g, "\n");
}

/**
 * A name attribute encoded as UTF8String. node-forge defaults to
 * PrintableString, which cannot hold "@": Go's x509 (kube-apiserver, etcd)
 * then refuses the whole certificate.
 */
export function utf8(name: string, value: string): forge.pki.CertificateField {
  return { name, value, valueTagClass: forge.asn1.Type.UTF8 as unknown as forge.pki.CertificateField["valueTagClass"] };
}

/** Valid from `backdateMs` before `now` until `days` after it. */
export function validity(cert: forge.pki.Certificate, now: Date, days: number, backdateMs = CLOCK_SKEW_MS): void {
  cert.validity.notBefore = new Date(now.getTime() - backdateMs);
  cert.validity.notAfter = new Date(now.getTime() + days * DAY_MS);
}

/** A self-signed CA allowed to sign end-entity certificates only (pathLen 0). */
export function createCertificateAuthority(opts: CaOptions = {}): KeyPairPem {
  const now = opts.now ?? new Date();
  const days = checkDays("CA validity", opts.days ?? CA_DAYS);
  const key = newRsaKey();
  const cert = forge.pki.createCertificate();
  cert.publicKey = key.publicKey;
  cert.serialNumber = serialNumber();
  validity(cert, now, days, opts.backdateMs);
  // The timestamp tells rotated CAs apart in a bundle, as Kubernetes' own self-signed CAs do.
  const subject = [
    utf8("commonName", `${opts.commonName ?? "hookpoint-webhook-ca"}@${Math.floor(now.getTime() / 1000)}`),
    utf8("organizationName", "hookpoint"),
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: "basicConstraints", cA: true, pathLenConstraint: 0, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: "subjectKeyIdentifier" },
  ]);
  cert.sign(key.privateKey, forge.md.sha256.create());
  return { certPem: pemLF(forge.pki.certificateToPem(cert)), keyPem: key.privatePem };
}

/** A TLS server certificate (extKeyUsage serverAuth) for the given names, signed by `ca`. */
export function createServingCertificate(opts: ServingOptions): KeyPairPem {
  const now = opts.now ?? new Date();
  const days = checkDays("serving certificate validity", opts.days ?? SERVING_DAYS);
  if (opts.dnsNames.length === 0 && (opts.ipAddresses ?? []).length === 0) {
    throw new Error("a serving certificate needs at least one DNS name or IP address");
  }
  const caCert = forge.pki.certificateFromPem(opts.ca.certPem);
  const caKey = forge.pki.privateKeyFromPem(opts.ca.keyPem) as forge.pki.rsa.PrivateKey;
  const key = newRsaKey();
  const cert = forge.pki.createCertificate();
  cert.publicKey = key.publicKey;
  cert.serialNumber = serialNumber();
  validity(cert, now, days, opts.backdateMs);
  // A serving certificate must not outlive the CA that vouches for it.
  if (cert.validity.notAfter > caCert.validity.notAfter) cert.validity.notAfter = caCert.validity.notAfter;
  cert.setSubject([utf8("commonName", opts.commonName)]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: "basicConstraints", cA: false, critical: true },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "extKeyUsage", serverAuth: true },
    {
      name: "subjectAltName",
      altNames: [
        ...opts.dnsNames.map((value) => ({ type: 2, value })),
        ...(opts.ipAddresses ?? []).map((ip) => ({ type: 7, ip })),
      ],
    },
    { name: "subjectKeyIdentifier" },
    { name: "authorityKeyIdentifier", keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { certPem: pemLF(forge.pki.certificateToPem(cert)), keyPem: key.privatePem };
}
