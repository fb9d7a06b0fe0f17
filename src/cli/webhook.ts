// `hookpoint webhook`: the HTTPS mutating admission webhook.
import type { Command } from "commander";
import { collectDefaultMetrics, Registry } from "prom-client";
import { inCluster, podNamespace, wantsColor } from "../config.js";
import { WEBHOOK_NAMESPACE, WEBHOOK_PORT } from "../defaults.js";
import { createClusterSource } from "../k8s/cluster-source.js";
import { loadKubeConfig } from "../k8s/kubeconfig.js";
import { startSelfManagedCerts } from "../k8s/self-managed-certs.js";
import { writeServingFiles } from "../certs/files.js";
import { createSourceMetrics } from "../k8s/source-metrics.js";
import { FileSnapshotSource } from "../policy/file-source.js";
import type { SnapshotSource } from "../policy/source.js";
import { createLogger } from "../server/logger.js";
import { startWebhook } from "../server/run.js";
import { exitOnSignals } from "../server/shutdown.js";
import { DEFAULT_POLL_INTERVAL_MS } from "../server/tls-reload.js";
import { runCommand } from "./run.js";
import { loadSettings } from "./settings.js";

interface WebhookFlags {
  port: string;
  host: string;
  cert: string;
  key: string;
  certPollInterval: string;
  policy?: string;
  namespaces?: string;
  kubeconfig?: string;
  context?: string;
  image?: string;
  namespace: string;
  pretty: boolean;
  logLevel: string;
  selfManagedCerts: boolean;
}

export function register(program: Command): void {
  program
    .command("webhook")
    .description("Serve the mutating admission webhook over HTTPS (POST /mutate, /healthz, /readyz, /metrics)")
    .option("--port <n>", "HTTPS port", String(WEBHOOK_PORT))
    .option("--host <address>", "address to listen on", "0.0.0.0")
    .option("--cert <file>", "serving certificate (PEM); re-read when it changes", "certs/tls.crt")
    .option("--key <file>", "serving key (PEM); re-read when it changes", "certs/tls.key")
    .option("--cert-poll-interval <seconds>", "how often the certificate files are checked for changes", String(DEFAULT_POLL_INTERVAL_MS / 1000))
    .option("--policy <file>", "HookpointPolicy objects (YAML or JSON), re-read when the file changes")
    .option("--namespaces <file>", "Namespace objects whose labels the rules read, re-read when the file changes")
    .option("--kubeconfig <file>", "read HookpointPolicies and namespaces from this cluster (in a pod: its service account)")
    .option("--context <name>", "kubeconfig context (default: the current one)")
    .option("--image <image>", "tracing image when the profile names none")
    .option("--namespace <name>", "the webhook's own namespace (never injected)", podNamespace() ?? WEBHOOK_NAMESPACE)
    .option(
      "--self-managed-certs",
      "create the CA and serving certificate in the cluster (Secret hookpoint-webhook-tls), write them to --cert/--key, keep the MutatingWebhookConfiguration's caBundle current and renew before expiry",
      false,
    )
    .option("--pretty", "human-readable logs instead of JSON lines", false)
    .option("--log-level <level>", "fatal, error, warn, info, debug, trace or silent", "info")
    .action((flags: WebhookFlags) => runCommand("webhook", () => runWebhook(flags)));
}

function parsePort(raw: string): number {
  if (!/^\d+$/.test(raw) || Number(raw) > 65535) throw new Error(`--port must be a port number between 0 and 65535, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

function parseSeconds(flag: string, raw: string): number {
  const n = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw) || n < 0.1 || n > 3600) throw new Error(`${flag} must be a number of seconds between 0.1 and 3600, got ${JSON.stringify(raw)}`);
  return Math.round(n * 1000);
}

async function runWebhook(flags: WebhookFlags): Promise<void> {
  const port = parsePort(flags.port);
  const certPollMs = parseSeconds("--cert-poll-interval", flags.certPollInterval);
  const logger = createLogger({ level: flags.logLevel, pretty: flags.pretty, color: wantsColor(Boolean(process.stdout.isTTY)) });
  const settings = await loadSettings({ ...(flags.image ? { image: flags.image } : {}), webhookNamespace: flags.namespace });

  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const kubeConfig = flags.kubeconfig || inCluster() ? loadKubeConfig({ file: flags.kubeconfig, context: flags.context }) : undefined;

  // Local files when given; otherwise the cluster (informers), as in a pod.
  let source: SnapshotSource;
  if (flags.policy || flags.namespaces) {
    source = new FileSnapshotSource({
      ...(flags.policy ? { policyFile: flags.policy } : {}),
      ...(flags.namespaces ? { namespacesFile: flags.namespaces } : {}),
      settings,
      onError: (err) => logger.warn({ error: err.message }, "policy files changed but cannot be used; the previous ones stay in force"),
      onReload: (files) => logger.info({ files }, "policy files reloaded"),
    });
  } else if (kubeConfig) {
    source = createClusterSource({ kubeConfig, settings, logger, metrics: createSourceMetrics(registry) });
  } else {
    throw new Error("no policy source: pass --policy and/or --namespaces (local files), --kubeconfig, or run in a cluster");
  }

  // The certificate files must exist before the listener starts; renewals rewrite
  // them and the file poller swaps them into the live server.
  let certs: { stop(): void } | undefined;
  if (flags.selfManagedCerts) {
    if (!kubeConfig) throw new Error("--self-managed-certs needs a cluster: pass --kubeconfig or run in a pod");
    certs = await startSelfManagedCerts({
      kubeConfig,
      namespace: flags.namespace,
      onCertificate: (tls) => writeServingFiles({ certFile: flags.cert, keyFile: flags.key }, tls),
      log: logger,
    });
  }
  const webhook = await startWebhook({ host: flags.host, port, certFile: flags.cert, keyFile: flags.key, certPollMs, source, settings, logger, registry });
  exitOnSignals(async () => {
    certs?.stop();
    await webhook.close();
  }, { log: logger });
}
