// The webhook's TLS as the API server meets it: each entry's caBundle, the
// certificate the webhook serves verified against it (a real X.509 chain check
// through Node's OpenSSL), and how long that certificate and its CA stay valid.
// Pure: the PEM text and `now` are given.
import { X509Certificate } from "node:crypto";
import { certificateInfo, issuedBy, splitPemCertificates } from "../certs/inspect.js";
import { fail, pass, type CheckLine } from "./lines.js";

/** One entry of the webhook configuration, as far as TLS goes. */
export interface WebhookEntry {
  name: string;
  /** clientConfig.url, when the API server calls a URL. */
  url?: string;
  /** clientConfig.service, when it calls a Service. */
  service?: { namespace: string; name: string; port: number };
  /** clientConfig.caBundle as stored (base64 of PEM), "" when unset. */
  caBundle: string;
}

/** Where the serving certificate was read, and its PEM chain (leaf first). */
export type ServingCertificate =
  | { source: "served"; address: string; pem: string }
  | { source: "secret"; secret: string; why: string; pem: string }
  | { source: "none"; problem: string };

/** Below this many days left a certificate fails the expiry check: its renewal (at a third left) has not happened. */
export const EXPIRY_DAYS = 7;
const DAY_MS = 24 * 60 * 60 * 1000;

const FIX_CA_BUNDLE =
  "self-managed: the webhook sets the caBundle from its Secret at start and every minute (is it running? its log says why not); cert-manager: check the cert-manager.io/inject-ca-from annotation of zz-hookpoint and that cainjector runs; by hand: see the README's development setup";

function bundleCertificates(entry: WebhookEntry): X509Certificate[] | string {
  if (entry.caBundle === "") return "empty";
  const pem = Buffer.from(entry.caBundle, "base64").toString("utf8");
  const blocks = splitPemCertificates(pem);
  if (blocks.length === 0) return "holds no PEM certificate";
  try {
    return blocks.map((b) => new X509Certificate(b));
  } catch (err) {
    return `holds a certificate that cannot be read (${(err as Error).message})`;
  }
}

export function caBundleLine(entries: readonly WebhookEntry[]): CheckLine {
  const problems: string[] = [];
  const subjects = new Set<string>();
  for (const e of entries) {
    const got = bundleCertificates(e);
    if (typeof got === "string") problems.push(`entry ${e.name}: ${got}`);
    else for (const c of got) subjects.add(oneLine(c.subject));
  }
  if (entries.length === 0) return fail("caBundle", "zz-hookpoint has no entries", "kubectl apply -k deploy/overlays/<yours>");
  if (problems.length > 0) {
    return fail("caBundle", `${problems.join("; ")}: the API server cannot verify the webhook, and failurePolicy Ignore admits those pods untraced`, FIX_CA_BUNDLE);
  }
  return pass("caBundle", `${entries.length} ${entries.length === 1 ? "entry" : "entries"}, trusting ${[...subjects].map((s) => `"${s}"`).join(", ")}`);
}

/** Node prints names one attribute a line. */
function oneLine(name: string): string {
  return name.split("\n").filter(Boolean).join(", ");
}

/** Walks from the leaf through the served intermediates to a certificate of the bundle; returns that root, or null. */
export function verifiedRoot(leaf: X509Certificate, intermediates: readonly X509Certificate[], roots: readonly X509Certificate[]): X509Certificate | null {
  let current = leaf;
  for (let depth = 0; depth <= intermediates.length; depth++) {
    const root = roots.find((r) => issuedBy(current, r));
    if (root) return root;
    const next = intermediates.find((i) => i !== current && issuedBy(current, i));
    if (!next) return null;
    current = next;
  }
  return null;
}

function sourceText(s: Exclude<ServingCertificate, { source: "none" }>): string {
  return s.source === "served" ? `served at ${s.address}` : `from Secret ${s.secret}; ${s.why}`;
}

/** The host names the API server checks the certificate against: the Service's DNS name, or the URL's host. */
function expectedHost(entry: WebhookEntry): { host?: string; ip?: string } {
  if (entry.service) return { host: `${entry.service.name}.${entry.service.namespace}.svc` };
  if (!entry.url) return {};
  try {
    const host = new URL(entry.url).hostname;
    const bare = host.startsWith("[") ? host.slice(1, -1) : host;
    return /^[\d.]+$/.test(bare) || bare.includes(":") ? { ip: bare } : { host: bare };
  } catch {
    return {};
  }
}

export interface ServingVerdict {
  line: CheckLine;
  /** The leaf and the CA it verified against, for the expiry check. */
  leaf?: X509Certificate;
  root?: X509Certificate;
}

export function servingCertificateCheck(entries: readonly WebhookEntry[], serving: ServingCertificate): ServingVerdict {
  const name = "serving certificate";
  if (serving.source === "none") {
    return { line: fail(name, `cannot read it: ${serving.problem}`, "kubectl -n hookpoint-system get secret hookpoint-webhook-tls; kubectl -n hookpoint-system logs deploy/hookpoint-webhook") };
  }
  const where = sourceText(serving);
  let chain: X509Certificate[];
  try {
    chain = splitPemCertificates(serving.pem).map((b) => new X509Certificate(b));
  } catch (err) {
    return { line: fail(name, `(${where}) cannot be read: ${(err as Error).message}`, "replace the Secret hookpoint-webhook-tls (self-managed: delete it and restart the webhook)") };
  }
  const [leaf, ...intermediates] = chain;
  if (!leaf) return { line: fail(name, `(${where}) holds no PEM certificate`, "replace the Secret hookpoint-webhook-tls (self-managed: delete it and restart the webhook)") };
  const problems: string[] = [];
  let root: X509Certificate | undefined;
  const names = new Set<string>();
  for (const e of entries) {
    const roots = bundleCertificates(e);
    if (typeof roots === "string") continue; // the caBundle check reports it
    const r = verifiedRoot(leaf, intermediates, roots);
    if (!r) {
      problems.push(`not issued by the caBundle of entry ${e.name} (the certificate's issuer is "${oneLine(leaf.issuer)}", the caBundle holds ${roots.map((c) => `"${oneLine(c.subject)}"`).join(", ")})`);
      continue;
    }
    root ??= r;
    const want = expectedHost(e);
    if (want.host !== undefined && leaf.checkHost(want.host) === undefined) problems.push(`does not name ${want.host}, which entry ${e.name} calls`);
    else if (want.ip !== undefined && leaf.checkIP(want.ip) === undefined) problems.push(`does not name ${want.ip}, which entry ${e.name} calls`);
    else names.add(want.host ?? want.ip ?? "");
  }
  if (problems.length > 0) {
    return {
      line: fail(name, `${problems.join("; ")} (${where}): the API server refuses the TLS handshake, and failurePolicy Ignore admits pods untraced`, `make the caBundle the CA that issued the serving certificate: ${FIX_CA_BUNDLE}`),
      leaf,
      ...(root ? { root } : {}),
    };
  }
  if (!root) return { line: pass(name, `not verified: no entry has a readable caBundle (${where})`), leaf };
  const named = [...names].filter(Boolean);
  return { line: pass(name, `issued by "${oneLine(root.subject)}" of the caBundle${named.length ? `, names ${named.join(", ")}` : ""} (${where})`), leaf, root };
}

function left(notAfter: Date, now: Date): string {
  const ms = notAfter.getTime() - now.getTime();
  if (ms <= 0) return `expired ${notAfter.toISOString()}`;
  return `valid until ${notAfter.toISOString()} (${Math.floor(ms / DAY_MS)} days)`;
}

export function expiryLine(leaf: X509Certificate, root: X509Certificate | undefined, now: Date): CheckLine {
  const name = "certificate expiry";
  const certs: [string, Date][] = [["serving certificate", certificateInfo(leaf).notAfter]];
  if (root) certs.push(["CA", certificateInfo(root).notAfter]);
  const text = certs.map(([what, end]) => `${what} ${left(end, now)}`).join(", ");
  const soon = certs.filter(([, end]) => end.getTime() - now.getTime() < EXPIRY_DAYS * DAY_MS);
  if (soon.length === 0) return pass(name, text);
  return fail(
    name,
    `${text}: ${soon.map(([what]) => what).join(" and ")} with less than ${EXPIRY_DAYS} days left, and its renewal (due with a third of the validity left) has not happened`,
    "self-managed: restart the webhook (it renews at start; its log names a failed renewal); cert-manager: kubectl -n hookpoint-system describe certificate hookpoint-webhook",
  );
}
