// `hookpoint certs`'s work: issue the CA and serving certificate, write them, print the caBundle.
import { CERT_MODE, KEY_MODE, writeOutputFiles } from "../certs/files.js";
import { checkDays } from "../certs/days.js";
import { certificateInfo, parseCertificate } from "../certs/inspect.js";
import { servingSubjectAltNames } from "../certs/names.js";
import { issueMaterial } from "../certs/renewal.js";
import type { CertsOptions } from "./certs.js";

function parseDays(raw: string): number {
  if (!/^\d+$/.test(raw)) throw new Error(`--days must be a whole number of days, got ${JSON.stringify(raw)}`);
  return checkDays("--days", Number(raw));
}

export function runCerts(opts: CertsOptions, out: { stdout: (s: string) => void; stderr: (s: string) => void }): void {
  const days = parseDays(opts.days);
  const names = servingSubjectAltNames(opts.service, opts.namespace, opts.clusterDomain);
  const material = issueMaterial({ action: "create", reason: "hookpoint certs" }, undefined, {
    now: new Date(),
    commonName: `${opts.service}.${opts.namespace}.svc`,
    dnsNames: names.dnsNames,
    ipAddresses: names.ipAddresses,
    servingDays: days,
  });
  const [caPath, caKeyPath, tlsPath, tlsKeyPath] = writeOutputFiles(
    opts.out,
    [
      { name: "ca.crt", content: material.caBundle, mode: CERT_MODE },
      { name: "ca.key", content: material.caKey, mode: KEY_MODE },
      { name: "tls.crt", content: material.tlsCert, mode: CERT_MODE },
      { name: "tls.key", content: material.tlsKey, mode: KEY_MODE },
    ],
    { force: Boolean(opts.force) },
  );
  const ca = certificateInfo(parseCertificate("ca.crt", material.caBundle));
  const tls = certificateInfo(parseCertificate("tls.crt", material.tlsCert));
  const until = (d: Date) => d.toISOString().slice(0, 10);
  out.stderr(`wrote ${caPath} (CA, valid until ${until(ca.notAfter)})\n`);
  out.stderr(`wrote ${caKeyPath} (CA key, mode 0600)\n`);
  out.stderr(
    `wrote ${tlsPath} (serving certificate for ${[...tls.dnsNames, ...tls.ipAddresses].join(", ")}; valid until ${until(tls.notAfter)})\n`,
  );
  out.stderr(`wrote ${tlsKeyPath} (serving key, mode 0600)\n`);
  out.stderr("stdout: the caBundle (base64 of ca.crt) for the MutatingWebhookConfiguration\n");
  out.stdout(`${Buffer.from(material.caBundle).toString("base64")}\n`);
}
