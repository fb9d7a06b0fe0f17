// Certificates and keys of the local test cluster: one CA; serving certificates for
// etcd and kube-apiserver; client certificates for the admin and for kube-apiserver
// talking to etcd; the service-account signing key pair. RSA keys come from Node's
// crypto (native, milliseconds); node-forge builds and signs the certificates.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import forge from "node-forge";

const DAY_MS = 24 * 60 * 60 * 1000;
/** Backdated so a freshly made certificate is valid at once despite small clock steps. */
const SKEW_MS = 5 * 60 * 1000;
const VALID_DAYS = 365;

export interface Pem {
  certPem: string;
  keyPem: string;
}

/** Every file of the cluster's PKI, by file name (PEM text). */
export type PkiFiles = Record<
  | "ca.crt" | "ca.key"
  | "etcd-server.crt" | "etcd-server.key"
  | "apiserver.crt" | "apiserver.key"
  | "apiserver-etcd-client.crt" | "apiserver-etcd-client.key"
  | "admin.crt" | "admin.key"
  | "sa.key" | "sa.pub",
  string
>;

/** Who the admin client certificate names; system:masters bypasses RBAC, like kubeadm's super-admin. */
export const ADMIN_USER = "hookpoint-admin";
export const ADMIN_GROUP = "system:masters";

/** Names the apiserver answers to: loopback, and the in-cluster service names. */
const APISERVER_DNS = ["localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"];

function rsaKey(): { pem: string; publicPem: string; priv: forge.pki.rsa.PrivateKey; pub: forge.pki.rsa.PublicKey } {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  const priv = forge.pki.privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey;
  return { pem: privateKey, publicPem: publicKey, priv, pub: forge.pki.setRsaPublicKey(priv.n, priv.e) };
}

/**
 * forge encodes names as PrintableString by default, which cannot hold "@" or ":";
 * Go's x509 (etcd, kube-apiserver) then rejects the whole certificate.
 */
function utf8(name: string, value: string): forge.pki.CertificateField {
  return { name, value, valueTagClass: forge.asn1.Type.UTF8 as unknown as forge.asn1.Class };
}

/** Positive, 16 octets, no leading zero octet (RFC 5280). */
function serial(): string {
  const b = randomBytes(16);
  b[0] = ((b[0] ?? 0) & 0x7f) | 0x40;
  return b.toString("hex");
}

function base(now: Date, subject: forge.pki.CertificateField[]): { cert: forge.pki.Certificate; key: ReturnType<typeof rsaKey> } {
  const key = rsaKey();
  const cert = forge.pki.createCertificate();
  cert.publicKey = key.pub;
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(now.getTime() - SKEW_MS);
  cert.validity.notAfter = new Date(now.getTime() + VALID_DAYS * DAY_MS);
  cert.setSubject(subject);
  return { cert, key };
}

export function createCa(now: Date): Pem {
  const subject = [utf8("commonName", `hookpoint-cluster-ca@${Math.floor(now.getTime() / 1000)}`)];
  const { cert, key } = base(now, subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: "basicConstraints", cA: true, pathLenConstraint: 0, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: "subjectKeyIdentifier" },
  ]);
  cert.sign(key.priv, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: key.pem };
}

interface LeafOptions {
  commonName: string;
  organizations?: readonly string[];
  server?: { dns: readonly string[]; ips: readonly string[] };
  client?: boolean;
}

export function createLeaf(ca: Pem, now: Date, opts: LeafOptions): Pem {
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const caKey = forge.pki.privateKeyFromPem(ca.keyPem) as forge.pki.rsa.PrivateKey;
  const subject: forge.pki.CertificateField[] = [
    ...(opts.organizations ?? []).map((value) => utf8("organizationName", value)),
    utf8("commonName", opts.commonName),
  ];
  const { cert, key } = base(now, subject);
  cert.setIssuer(caCert.subject.attributes);
  const extensions: object[] = [
    { name: "basicConstraints", cA: false, critical: true },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "extKeyUsage", serverAuth: opts.server !== undefined, clientAuth: opts.client === true },
    { name: "authorityKeyIdentifier", keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ];
  if (opts.server) {
    extensions.push({
      name: "subjectAltName",
      altNames: [...opts.server.dns.map((value) => ({ type: 2, value })), ...opts.server.ips.map((ip) => ({ type: 7, ip }))],
    });
  }
  cert.setExtensions(extensions);
  cert.sign(caKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: key.pem };
}

/** The whole PKI of a fresh cluster. Pure apart from randomness and key generation. */
export function createClusterPki(now: Date = new Date()): PkiFiles {
  const ca = createCa(now);
  const loopback = { dns: ["localhost"], ips: ["127.0.0.1", "::1"] };
  const etcd = createLeaf(ca, now, { commonName: "etcd", server: loopback, client: true });
  // 10.96.0.1 is the first address of the service range: the "kubernetes" service's ClusterIP.
  const apiserver = createLeaf(ca, now, { commonName: "kube-apiserver", server: { dns: APISERVER_DNS, ips: [...loopback.ips, "10.96.0.1"] } });
  const etcdClient = createLeaf(ca, now, { commonName: "kube-apiserver-etcd-client", client: true });
  const admin = createLeaf(ca, now, { commonName: ADMIN_USER, organizations: [ADMIN_GROUP], client: true });
  const sa = rsaKey();
  return {
    "ca.crt": ca.certPem, "ca.key": ca.keyPem,
    "etcd-server.crt": etcd.certPem, "etcd-server.key": etcd.keyPem,
    "apiserver.crt": apiserver.certPem, "apiserver.key": apiserver.keyPem,
    "apiserver-etcd-client.crt": etcdClient.certPem, "apiserver-etcd-client.key": etcdClient.keyPem,
    "admin.crt": admin.certPem, "admin.key": admin.keyPem,
    "sa.key": sa.pem, "sa.pub": sa.publicPem,
  };
}
