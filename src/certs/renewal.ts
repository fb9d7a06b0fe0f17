// When to keep, renew or replace the webhook's TLS material, and how to issue
// the replacement. Pure apart from key generation: the caller passes `now`.
//
// The serving certificate is renewed with the same CA, so the caBundle the API
// server trusts does not change. When the CA itself nears its end, a new CA is
// made and the old one stays in the bundle until it expires, so replicas still
// serving a certificate from the old CA keep being trusted during the switch.
// The rotation has two steps: first the bundle gains the new CA while the
// serving certificate from the old CA stays ("rotate-ca"); the serving
// certificate moves to the new CA ("switch-serving") only once the caller has
// seen the new bundle where clients read it (the webhook configuration), so no
// client is ever shown a certificate from a CA it does not trust yet.
import type { X509Certificate } from "node:crypto";
import { CA_DAYS, SERVING_DAYS } from "./days.js";
import { createCertificateAuthority, createServingCertificate, type KeyPairPem } from "./generate.js";
import {
  type CertificateInfo,
  certificateInfo,
  issuedBy,
  keyMatches,
  parseCertificate,
  remainingFraction,
  renewalTime,
  splitPemCertificates,
} from "./inspect.js";

/** What the Secret holds, as PEM text. */
export interface TlsMaterial {
  /** Current CA first, then older CAs still trusted during a rotation. */
  caBundle: string;
  caKey: string;
  tlsCert: string;
  tlsKey: string;
}

export interface RenewalPolicy {
  now: Date;
  commonName: string;
  dnsNames: readonly string[];
  ipAddresses: readonly string[];
  /** Renew when less than this share of a certificate's validity is left. */
  renewBelow: number;
  servingDays?: number;
  caDays?: number;
  /** How long before `now` issued certificates are valid from (default: generate.ts's CLOCK_SKEW_MS). */
  backdateMs?: number;
  /**
   * When an operator asked for a new CA (`hookpoint certs rotate-ca`): a CA issued
   * before that moment is rotated like one near its end.
   */
  rotateCaRequestedAt?: Date;
  /**
   * Replace a set that is not valid yet at `now`, as one that is broken or expiring
   * (`hookpoint certs --reuse`: this machine's clock is its only guess at the cluster's, and
   * the webhook refuses a tls.crt that is not valid yet on its clock). The self-managed
   * webhook leaves it unset: inspect.ts's remainingFraction counts such a set as fresh.
   */
  replaceNotYetValid?: boolean;
}

export const DEFAULT_RENEW_BELOW = 1 / 3;

export type RenewalPlan =
  | { action: "reuse"; renewAt: Date }
  /** switch-serving: tls.crt still serves but is from an older CA of the bundle; move it to the current CA once clients trust it. */
  | { action: "create" | "rotate-ca" | "renew-serving" | "switch-serving"; reason: string };

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Decides what to do with stored material (undefined: nothing stored). */
export function planRenewal(material: TlsMaterial | undefined, policy: RenewalPolicy): RenewalPlan {
  if (!material) return { action: "create", reason: "no certificate is stored yet" };

  let ca;
  try {
    ca = parseCertificate("ca.crt", material.caBundle);
  } catch (err) {
    return { action: "create", reason: message(err) };
  }
  const caInfo = certificateInfo(ca);
  if (!caInfo.isCA) return { action: "create", reason: "ca.crt is not a CA certificate" };
  if (!keyMatches(ca, material.caKey)) return { action: "create", reason: "ca.key is not the key of ca.crt" };
  // A new CA, not a rotation: no client can have trusted this one yet on this clock.
  const notYet = notValidYet(policy);
  if (notYet(caInfo)) return { action: "create", reason: `ca.crt is not valid before ${caInfo.notBefore.toISOString()}` };
  if (remainingFraction(caInfo, policy.now) < policy.renewBelow) {
    return { action: "rotate-ca", reason: `the CA expires at ${caInfo.notAfter.toISOString()}` };
  }
  const requested = policy.rotateCaRequestedAt;
  if (requested && caInfo.notBefore < requested) {
    return { action: "rotate-ca", reason: `a CA rotation was requested at ${requested.toISOString()} (hookpoint certs rotate-ca)` };
  }

  const leaf = servingLeaf(material, policy);
  if ("problem" in leaf) return { action: "renew-serving", reason: leaf.problem };
  const { cert: serving, info } = leaf;
  if (!issuedBy(serving, ca)) {
    const older = splitPemCertificates(material.caBundle).slice(1);
    if (servesAt(info, policy.now) && older.some((pem) => issuedByTrusted(serving, pem, policy.now))) {
      return { action: "switch-serving", reason: "tls.crt is from the previous CA (the CA was rotated)" };
    }
    return { action: "renew-serving", reason: "tls.crt was not issued by ca.crt" };
  }
  if (notYet(info)) return { action: "renew-serving", reason: `tls.crt is not valid before ${info.notBefore.toISOString()}` };
  if (remainingFraction(info, policy.now) < policy.renewBelow) {
    return { action: "renew-serving", reason: `tls.crt expires at ${info.notAfter.toISOString()}` };
  }

  const renewAt = Math.min(renewalTime(caInfo, policy.renewBelow).getTime(), renewalTime(info, policy.renewBelow).getTime());
  return { action: "reuse", renewAt: new Date(renewAt) };
}

/** tls.crt parsed, when it goes with tls.key and names what the policy asks; otherwise what is wrong. */
function servingLeaf(
  material: Pick<TlsMaterial, "tlsCert" | "tlsKey">,
  policy: Pick<RenewalPolicy, "dnsNames" | "ipAddresses">,
): { cert: X509Certificate; info: CertificateInfo } | { problem: string } {
  let cert;
  try {
    cert = parseCertificate("tls.crt", material.tlsCert);
  } catch (err) {
    return { problem: message(err) };
  }
  if (!keyMatches(cert, material.tlsKey)) return { problem: "tls.key is not the key of tls.crt" };
  const info = certificateInfo(cert);
  const missing = [
    ...policy.dnsNames.filter((n) => !info.dnsNames.includes(n)),
    ...policy.ipAddresses.filter((ip) => !info.ipAddresses.includes(ip)),
  ];
  if (missing.length > 0) return { problem: `tls.crt does not name ${missing.join(", ")}` };
  return { cert, info };
}

/** Whether a certificate is to be replaced for starting after `now` (never, unless the policy asks). */
function notValidYet(policy: Pick<RenewalPolicy, "now" | "replaceNotYetValid">): (info: Pick<CertificateInfo, "notBefore">) => boolean {
  return (info) => policy.replaceNotYetValid === true && policy.now < info.notBefore;
}

/** Whether a client checking the certificate at `now` accepts its dates. */
function servesAt(info: Pick<CertificateInfo, "notBefore" | "notAfter">, now: Date): boolean {
  return info.notBefore <= now && now < info.notAfter;
}

function issuedByTrusted(cert: X509Certificate, caPem: string, now: Date): boolean {
  try {
    const ca = parseCertificate("ca.crt", caPem);
    return servesAt(certificateInfo(ca), now) && issuedBy(cert, ca);
  } catch {
    return false;
  }
}

/** Older CAs of a bundle that are still valid at `now` (expired ones are dropped for good). */
function stillTrusted(bundle: string, now: Date): string[] {
  return splitPemCertificates(bundle).filter((pem) => {
    try {
      return certificateInfo(parseCertificate("ca.crt", pem)).notAfter > now;
    } catch {
      return false;
    }
  });
}

/** Issues what `plan` asks for. `material` must be the stored material for renew-serving and rotate-ca. */
export function issueMaterial(
  plan: Exclude<RenewalPlan, { action: "reuse" }>,
  material: TlsMaterial | undefined,
  policy: Omit<RenewalPolicy, "renewBelow">,
): TlsMaterial {
  const { now } = policy;
  let ca: KeyPairPem;
  let caBundle: string;
  if (plan.action === "renew-serving" || plan.action === "switch-serving") {
    if (!material) throw new Error(`${plan.action} needs the stored CA`);
    const [current = "", ...older] = splitPemCertificates(material.caBundle);
    ca = { certPem: current, keyPem: material.caKey };
    caBundle = [current, ...stillTrusted(older.join(""), now)].join("");
  } else {
    ca = createCertificateAuthority({ now, days: policy.caDays ?? CA_DAYS, backdateMs: policy.backdateMs });
    const older = plan.action === "rotate-ca" && material ? stillTrusted(material.caBundle, now) : [];
    caBundle = [ca.certPem, ...older].join("");
    // Step one of a rotation: clients do not trust the new CA yet, so a serving
    // certificate from the old one that still serves stays (switch-serving follows).
    if (material && older.length > 0) {
      const leaf = servingLeaf(material, policy);
      if (!("problem" in leaf) && servesAt(leaf.info, now) && older.some((pem) => issuedByTrusted(leaf.cert, pem, now))) {
        return { caBundle, caKey: ca.keyPem, tlsCert: material.tlsCert, tlsKey: material.tlsKey };
      }
    }
  }
  const serving = createServingCertificate({
    ca,
    commonName: policy.commonName,
    dnsNames: policy.dnsNames,
    ipAddresses: policy.ipAddresses,
    days: policy.servingDays ?? SERVING_DAYS,
    now,
    backdateMs: policy.backdateMs,
  });
  return { caBundle, caKey: ca.keyPem, tlsCert: serving.certPem, tlsKey: serving.keyPem };
}
