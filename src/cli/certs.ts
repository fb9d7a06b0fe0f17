// `hookpoint certs`: a CA and a serving certificate for the webhook Service,
// for development clusters and for operators who manage the Secret themselves.
// Options here; the work (certs-run.ts) loads only when it runs.
import type { Command } from "commander";
import { SERVING_DAYS } from "../certs/days.js";
import { DEFAULT_CLUSTER_DOMAIN, DEFAULT_SERVICE } from "../certs/names.js";
import { WEBHOOK_NAMESPACE } from "../defaults.js";
import { runCommand } from "./run.js";

export interface CertsOptions {
  out: string;
  service: string;
  namespace: string;
  clusterDomain: string;
  days: string;
  force?: boolean;
  reuse?: boolean;
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
    .option("--reuse", "keep the files already there when they form a valid set for these names (not expiring soon), else replace them; print the caBundle either way")
    .action((opts: CertsOptions) =>
      runCommand("certs", async () => {
        const { runCerts } = await import("./certs-run.js");
        runCerts(opts, { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) });
      }),
    );
}
