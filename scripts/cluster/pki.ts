// Certificates and keys of the local test cluster: one CA; serving certificates for
// etcd and kube-apiserver; client certificates for the admin and for kube-apiserver
// talking to etcd; the service-account signing key pair. Keys, serials, names and
// validity come from src/certs/generate.ts; the PEM keeps node-forge's CRLF line ends.
import forge from "node-forge";
import { newRsaKey, serialNumber, utf8, validity, type RsaKey } from "../../src/certs/generate.js";

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

function base(now: Date, subject: forge.pki.CertificateField[]): { cert: forge.pki.Certificate; key: RsaKey } {
  const key = newRsaKey();
  const cert = forge.pki.createCertificate();
  cert.publicKey = key.publicKey;
  cert.serialNumber = serialNumber();
  validity(cert, now, VALID_DAYS);
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
  cert.sign(key.privateKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: key.privatePem };
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
  return { certPem: forge.pki.certificateToPem(cert), keyPem: key.privatePem };
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
  const sa = newRsaKey();
  return {
    "ca.crt": ca.certPem, "ca.key": ca.keyPem,
    "etcd-server.crt": etcd.certPem, "etcd-server.key": etcd.keyPem,
    "apiserver.crt": apiserver.certPem, "apiserver.key": apiserver.keyPem,
    "apiserver-etcd-client.crt": etcdClient.certPem, "apiserver-etcd-client.key": etcdClient.keyPem,
    "admin.crt": admin.certPem, "admin.key": admin.keyPem,
    "sa.key": sa.privatePem, "sa.pub": sa.publicPem,
  };
}
