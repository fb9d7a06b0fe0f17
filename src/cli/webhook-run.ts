// `hookpoint webhook`'s work: the policy source, certificates and the HTTPS server.
import { hostname } from "node:os";
import { collectDefaultMetrics, Registry } from "prom-client";
import { inCluster, wantsColor } from "../config.js";
import { createClusterSource } from "../k8s/cluster-source.js";
import { clusterEventApi, createEventMetrics, EventRecorder } from "../k8s/events.js";
import { loadKubeConfig } from "../k8s/kubeconfig.js";
import { startSelfManagedCerts } from "../k8s/self-managed-certs.js";
import { writeServingFiles } from "../certs/files.js";
import { createSourceMetrics } from "../k8s/source-metrics.js";
import { FileSnapshotSource } from "../policy/file-source.js";
import type { SnapshotSource } from "../policy/source.js";
import { createLogger } from "../server/logger.js";
import { startWebhook, type RunningWebhook } from "../server/run.js";
import { exitOnSignals } from "../server/shutdown.js";
import { UsageError } from "./errors.js";
import { checkStdinOnce } from "./input-options.js";
import { defaultListenHost } from "./listen-host.js";
import { loadSettings, parsePodSecurityLevel } from "./settings.js";

export interface WebhookFlags {
  port: string;
  host?: string;
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
  certCheckInterval: string;
  defaultPodSecurity: string;
  manageRouting: boolean;
  maxConnections: string;
  shutdownDelay: string;
}

function parsePort(raw: string): number {
  if (!/^\d+$/.test(raw) || Number(raw) > 65535) throw new UsageError(`--port must be a port number between 0 and 65535, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

function parseSeconds(flag: string, raw: string, min = 0.1, max = 3600): number {
  const n = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw) || n < min || n > max) throw new UsageError(`${flag} must be a number of seconds between ${min} and ${max}, got ${JSON.stringify(raw)}`);
  return Math.round(n * 1000);
}

function parseCount(flag: string, raw: string, min: number, max: number): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max) throw new UsageError(`${flag} must be a whole number between ${min} and ${max}, got ${JSON.stringify(raw)}`);
  return n;
}

/** Flags that name two sources for one thing are refused, not silently dropped. */
function checkFlags(flags: WebhookFlags): void {
  checkStdinOnce(flags);
  const files = [flags.policy !== undefined && "--policy", flags.namespaces !== undefined && "--namespaces"].filter(Boolean).join("/");
  const cluster = [flags.kubeconfig !== undefined && "--kubeconfig", flags.context !== undefined && "--context"].filter(Boolean).join("/");
  if (files && cluster && !flags.selfManagedCerts) {
    throw new UsageError(`${files} and ${cluster} both say where policies come from: give one (files, or the cluster)`);
  }
}

export async function runWebhook(flags: WebhookFlags): Promise<void> {
  checkFlags(flags);
  const port = parsePort(flags.port);
  const certPollMs = parseSeconds("--cert-poll-interval", flags.certPollInterval);
  const certCheckMs = parseSeconds("--cert-check-interval", flags.certCheckInterval, 1, 86_400);
  const maxConnections = parseCount("--max-connections", flags.maxConnections, 1, 1_000_000);
  // Within Kubernetes' default grace period (30 s) together with the drain.
  const shutdownDelayMs = parseSeconds("--shutdown-delay", flags.shutdownDelay, 0, 20);
  let logger: ReturnType<typeof createLogger>;
  try {
    logger = createLogger({ level: flags.logLevel, pretty: flags.pretty, color: wantsColor(Boolean(process.stdout.isTTY)) });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const defaultPodSecurity = parsePodSecurityLevel("--default-pod-security", flags.defaultPodSecurity);
  const settings = await loadSettings({ ...(flags.image !== undefined ? { image: flags.image } : {}), webhookNamespace: flags.namespace, defaultPodSecurity });

  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  // --context alone names a context of the default kubeconfig (as in explain and check).
  const kubeConfig = flags.kubeconfig !== undefined || flags.context !== undefined || inCluster() ? loadKubeConfig({ file: flags.kubeconfig, context: flags.context }) : undefined;

  if (flags.manageRouting && (flags.policy || flags.namespaces || !kubeConfig)) {
    throw new UsageError("--manage-routing follows the cluster's policies: pass --kubeconfig or run in a pod, without --policy/--namespaces");
  }
  // Local files when given; otherwise the cluster (informers), as in a pod.
  let source: SnapshotSource;
  if (flags.policy || flags.namespaces) {
    const files = new FileSnapshotSource({
      ...(flags.policy ? { policyFile: flags.policy } : {}),
      ...(flags.namespaces ? { namespacesFile: flags.namespaces } : {}),
      settings,
      onError: (err) => logger.warn({ error: err.message }, "policy files changed but cannot be used; the previous ones stay in force"),
      onReload: (files) => logger.info({ files }, "policy files reloaded"),
      onReadOnce: (file) => logger.info({ file }, "policy file is standard input or not a regular file: read once at start, not watched for changes"),
    });
    // The source's first read, before anything else starts: a file that cannot be read or used
    // is bad input, named in words (exit 2) as inject and explain name it. It then only polls
    // (regular files; standard input and pipes are not read again).
    await files.load();
    source = files;
  } else if (kubeConfig) {
    source = createClusterSource({ kubeConfig, settings, logger, metrics: createSourceMetrics(registry), routing: { manage: flags.manageRouting } });
  } else {
    throw new UsageError("no policy source: pass --policy and/or --namespaces (local files), --kubeconfig, or run in a cluster");
  }

  // The certificate files must exist before the listener starts; renewals rewrite
  // them and the file poller swaps them into the live server.
  let certs: { stop(): void } | undefined;
  if (flags.selfManagedCerts) {
    if (!kubeConfig) throw new UsageError("--self-managed-certs needs a cluster: pass --kubeconfig or run in a pod");
    certs = await startSelfManagedCerts({
      kubeConfig,
      namespace: flags.namespace,
      checkIntervalMs: certCheckMs,
      onCertificate: (tls) => writeServingFiles({ certFile: flags.cert, keyFile: flags.key }, tls),
      log: logger,
    });
  }
  const host = flags.host ?? (await defaultListenHost());
  // Warnings about controller-made pods also go on their owner as Events (the controller never shows them).
  const events = kubeConfig
    ? new EventRecorder({ api: clusterEventApi(kubeConfig), log: logger, metrics: createEventMetrics(registry), instance: hostname() })
    : undefined;
  // The handlers go in before anything listens: the "listening" line is written as the
  // server starts, and a Ctrl-C or SIGTERM right after it must shut down, not kill.
  const running: { webhook?: RunningWebhook } = {};
  exitOnSignals(
    async (close) => {
      await running.webhook?.close(close);
      certs?.stop();
      await events?.flushed(1000);
      events?.stop();
    },
    { log: logger, delayMs: shutdownDelayMs },
  );
  running.webhook = await startWebhook({
    host,
    port,
    certFile: flags.cert,
    keyFile: flags.key,
    certPollMs,
    source,
    settings,
    logger,
    registry,
    maxConnections,
    ...(events ? { events } : {}),
  });
}
