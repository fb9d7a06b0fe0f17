// `hookpoint certs`: a CA and a serving certificate for the webhook Service,
// for development clusters and for operators who manage the Secret themselves.
import type { Command } from "commander";
import { CERT_MODE, KEY_MODE, writeOutputFiles } from "../certs/files.js";
import { checkDays, SERVING_DAYS } from "../certs/generate.js";
import { certificateInfo, parseCertificate } from "../certs/inspect.js";
import { DEFAULT_CLUSTER_DOMAIN, DEFAULT_SERVICE, servingSubjectAltNames } from "../certs/names.js";
import { issueMaterial } from "../certs/renewal.js";
import { WEBHOOK_NAMESPACE } from "../defaults.js";

interface CertsOptions {
  out: string;
  service: string;
  namespace: string;
  clusterDomain: string;
  days: string;
  force?: boolean;
}

function parseDays(raw: string): number {
  if (!/^\d+$/.test(raw)) throw new Error(`--days must be a whole number of days, got ${JSON.stringify(raw)}`);
  return checkDays("--days", Number(raw));
}

function runCerts(opts: CertsOptions, out: { stdout: (s: string) => void; stderr: (s: string) => void }): void {
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

export function register(program: Command): void {
  program
    .command("certs")
    .description("Write a CA (ca.crt, ca.key) and a serving certificate (tls.crt, tls.key) for the webhook Service; print the caBundle")
    .requiredOption("--out <dir>", "directory to write into (created if missing)")
    .option("--service <name>", "webhook Service name", DEFAULT_SERVICE)
    .option("--namespace <ns>", "webhook namespace", WEBHOOK_NAMESPACE)
    .option("--cluster-domain <domain>", "cluster DNS domain", DEFAULT_CLUSTER_DOMAIN)
    .option("--days <n>", "serving certificate validity in days (the CA gets 10 years)", String(SERVING_DAYS))
    .option("--force", "replace existing files")
    .action((opts: CertsOptions) => {
      runCerts(opts, { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) });
    });
}
