// `hookpoint certs`: a CA and a serving certificate for the webhook Service,
// for development clusters and for operators who manage the Secret themselves;
// `hookpoint certs rotate-ca`: ask a self-managed install for a new CA.
// Options here; the work (certs-run.ts, rotate-ca-run.ts) loads only when it runs.
import type { Command } from "commander";
import { SERVING_DAYS } from "../certs/days.js";
import { DEFAULT_CLUSTER_DOMAIN, DEFAULT_SERVICE } from "../certs/names.js";
import { WEBHOOK_NAMESPACE } from "../defaults.js";
import type { RotateCaOptions } from "./rotate-ca-run.js";
import { runCommand } from "./run.js";
import type { CertsOptions } from "./certs-run.js";

export function register(program: Command): void {
  const certs = program
    .command("certs")
    .description("Write a CA (ca.crt, ca.key) and a serving certificate (tls.crt, tls.key) for the webhook Service; print the caBundle")
    // certs' own options (--namespace) stop at the subcommand, which has its own.
    .enablePositionalOptions()
    .option("--out <dir>", "directory to write into (created if missing; required)")
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

  certs
    .command("rotate-ca")
    .description(
      "Ask a self-managed install (--self-managed-certs) for a new CA now, e.g. after a suspected key compromise: the webhook adds it to the caBundle, then moves the serving certificate to it",
    )
    .option("--kubeconfig <file>", "kubeconfig file (default: KUBECONFIG, ~/.kube/config, in-cluster)")
    .option("--context <name>", "kubeconfig context (default: its current context)")
    .option("-n, --namespace <ns>", "the webhook's namespace (where Secret hookpoint-webhook-tls is)", WEBHOOK_NAMESPACE)
    .action((opts: RotateCaOptions) =>
      runCommand("certs rotate-ca", async () => {
        const { runRotateCa } = await import("./rotate-ca-run.js");
        await runRotateCa(opts, { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) });
      }),
    );
}
