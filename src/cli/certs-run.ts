// `hookpoint certs`'s work: issue the CA and serving certificate (or keep a valid
// set with --reuse), write them, print the caBundle.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CERT_MODE, KEY_MODE, writeOutputFiles } from "../certs/files.js";
import { checkDays } from "../certs/days.js";
import { WORKSTATION_CLOCK_SKEW_MS } from "../certs/generate.js";
import { certificateInfo, parseCertificate } from "../certs/inspect.js";
import { servingSubjectAltNames } from "../certs/names.js";
import { DEFAULT_RENEW_BELOW, issueMaterial, planRenewal, type TlsMaterial } from "../certs/renewal.js";
import { errnoText } from "../errno-text.js";
import { InputError, UsageError } from "./errors.js";

export interface CertsOptions {
  /** Required; checked in certs-run.ts (a required option would also be demanded of rotate-ca). */
  out?: string;
  service: string;
  namespace: string;
  clusterDomain: string;
  days: string;
  force?: boolean;
  reuse?: boolean;
}

function parseDays(raw: string): number {
  if (!/^\d+$/.test(raw)) throw new UsageError(`--days must be a whole number of days, got ${JSON.stringify(raw)}`);
  try {
    return checkDays("--days", Number(raw));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/**
 * The set already in `dir` (undefined when none of the four files is there), a missing
 * file read as empty, and the names of those missing: a lost tls.key renews the serving
 * certificate with the CA that is there, and only a lost CA file makes a new CA.
 */
function readExisting(dir: string): { material: TlsMaterial; missing: string[] } | undefined {
  const missing: string[] = [];
  const read = (f: string) => {
    try {
      return readFileSync(join(dir, f), "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw new InputError(join(dir, f), `cannot read: ${errnoText(err, "file")}`);
      missing.push(f);
      return "";
    }
  };
  const material = { caBundle: read("ca.crt"), caKey: read("ca.key"), tlsCert: read("tls.crt"), tlsKey: read("tls.key") };
  return missing.length === 4 ? undefined : { material, missing };
}

/** `now`: this machine's clock (a parameter for tests). */
export function runCerts(options: CertsOptions, out: { stdout: (s: string) => void; stderr: (s: string) => void }, now = new Date()): void {
  const dir = options.out;
  if (dir === undefined) throw new UsageError("--out <dir> is required: the directory to write the certificates into");
  const opts = { ...options, out: dir };
  if (opts.force && opts.reuse) throw new UsageError("--force and --reuse: --force replaces every file, --reuse keeps a valid set; give one");
  const days = parseDays(opts.days);
  let names: ReturnType<typeof servingSubjectAltNames>;
  try {
    names = servingSubjectAltNames(opts.service, opts.namespace, opts.clusterDomain);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const found = opts.reuse ? readExisting(opts.out) : undefined;
  const existing = found?.material;
  const plan = opts.reuse ? planRenewal(existing, { now, commonName: "", dnsNames: names.dnsNames, ipAddresses: names.ipAddresses, renewBelow: DEFAULT_RENEW_BELOW, replaceNotYetValid: true }) : undefined;
  if (existing && plan?.action === "reuse") {
    const tls = certificateInfo(parseCertificate("tls.crt", existing.tlsCert));
    out.stderr(`kept ${join(opts.out, "tls.crt")} and ${join(opts.out, "ca.crt")}: they match their keys, tls.crt is issued by ca.crt, names ${[...tls.dnsNames, ...tls.ipAddresses].join(", ")} and is valid until ${tls.notAfter.toISOString().slice(0, 10)}\n`);
    out.stderr("stdout: the caBundle (base64 of ca.crt) for the MutatingWebhookConfiguration\n");
    out.stdout(`${Buffer.from(existing.caBundle).toString("base64")}\n`);
    return;
  }
  if (plan && plan.action !== "reuse") {
    const missing = found?.missing ?? [];
    const why = missing.length > 0 ? `${missing.join(" and ")} ${missing.length > 1 ? "are" : "is"} missing` : plan.reason;
    // A first run has nothing to replace.
    out.stderr(existing === undefined ? `writing new certificates into ${opts.out}: none is there yet\n` : `replacing the certificates in ${opts.out}: ${why}\n`);
  }
  const material = issueMaterial(plan && plan.action !== "reuse" ? plan : { action: "create", reason: "hookpoint certs" }, existing, {
    now,
    commonName: `${opts.service}.${opts.namespace}.svc`,
    dnsNames: names.dnsNames,
    ipAddresses: names.ipAddresses,
    servingDays: days,
    backdateMs: WORKSTATION_CLOCK_SKEW_MS,
  });
  const [caPath, caKeyPath, tlsPath, tlsKeyPath] = writeOutputFiles(
    opts.out,
    [
      { name: "ca.crt", content: material.caBundle, mode: CERT_MODE },
      { name: "ca.key", content: material.caKey, mode: KEY_MODE },
      { name: "tls.crt", content: material.tlsCert, mode: CERT_MODE },
      { name: "tls.key", content: material.tlsKey, mode: KEY_MODE },
    ],
    { force: Boolean(opts.force || opts.reuse) },
  );
  const ca = certificateInfo(parseCertificate("ca.crt", material.caBundle));
  const tls = certificateInfo(parseCertificate("tls.crt", material.tlsCert));
  const until = (d: Date) => d.toISOString().slice(0, 10);
  if (existing !== undefined && material.caBundle === existing.caBundle && material.caKey === existing.caKey) {
    // Only the serving certificate changed (new names, or it was expiring): the caBundle clients hold stays right.
    out.stderr(`kept ${caPath} and ${caKeyPath} (CA, valid until ${until(ca.notAfter)}): the caBundle is unchanged\n`);
  } else {
    out.stderr(`wrote ${caPath} (CA, valid until ${until(ca.notAfter)})\n`);
    out.stderr(`wrote ${caKeyPath} (CA key, mode 0600)\n`);
  }
  if (existing !== undefined && material.tlsCert === existing.tlsCert) {
    // Step one of a CA rotation (renewal.ts): clients trust only the old CA until they get the new bundle.
    out.stderr(`kept ${tlsPath} and ${tlsKeyPath}: issued by the previous CA, which the new caBundle still holds, valid until ${until(tls.notAfter)}\n`);
    out.stderr(`once every client has the new caBundle, run hookpoint certs --reuse again: it moves ${tlsPath} to the new CA\n`);
  } else {
    out.stderr(
      `wrote ${tlsPath} (serving certificate for ${[...tls.dnsNames, ...tls.ipAddresses].join(", ")}; valid until ${until(tls.notAfter)})\n`,
    );
    out.stderr(`wrote ${tlsKeyPath} (serving key, mode 0600)\n`);
  }
  out.stderr("stdout: the caBundle (base64 of ca.crt) for the MutatingWebhookConfiguration\n");
  out.stdout(`${Buffer.from(material.caBundle).toString("base64")}\n`);
}
