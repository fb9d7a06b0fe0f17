// `hookpoint webhook`: the HTTPS mutating admission webhook. Options here; the
// server (webhook-run.ts) loads only when it runs.
import type { Command } from "commander";
import { DEFAULT_POD_SECURITY, POD_SECURITY_LEVELS } from "../names.js";
import { defaultPodSecurityEnv, podNamespace } from "../config.js";
import { LOG_LEVELS, WEBHOOK_NAMESPACE, WEBHOOK_PORT } from "../defaults.js";
import { DEFAULT_MAX_CONNECTIONS } from "../server/app.js";
import { DEFAULT_SHUTDOWN_DELAY_MS } from "../server/shutdown.js";
import { DEFAULT_POLL_INTERVAL_MS } from "../server/tls-reload.js";
import { fixedValuesOption } from "./option-values.js";
import { runCommand } from "./run.js";
import type { WebhookFlags } from "./webhook-run.js";

export function register(program: Command): void {
  addWebhookOptions(program.command("webhook").description("Serve the mutating admission webhook over HTTPS (POST /mutate, /healthz, /readyz, /metrics)"), {
    namespace: podNamespace() ?? WEBHOOK_NAMESPACE,
    defaultPodSecurity: defaultPodSecurityEnv() ?? DEFAULT_POD_SECURITY,
  }).action((flags: WebhookFlags) => runCommand("webhook", async () => (await import("./webhook-run.js")).runWebhook(flags)));
}

/** The defaults the webhook takes from its environment. */
export interface WebhookOptionDefaults {
  namespace: string;
  defaultPodSecurity: string;
}

/**
 * The webhook's options, on `cmd`. Also what `hookpoint check` parses the webhook
 * Deployment's command line with, so that it reads the flags as the webhook does.
 */
export function addWebhookOptions(cmd: Command, defaults: WebhookOptionDefaults): Command {
  return cmd
    .option("--port <n>", "HTTPS port", String(WEBHOOK_PORT))
    .option("--host <address>", "address to listen on (default: :: with IPv4 mapped, 0.0.0.0 where IPv6 is off)")
    .option("--cert <file>", "serving certificate (PEM); re-read when it changes", "certs/tls.crt")
    .option("--key <file>", "serving key (PEM); re-read when it changes", "certs/tls.key")
    .option("--cert-poll-interval <seconds>", "how often the certificate files are checked for changes", String(DEFAULT_POLL_INTERVAL_MS / 1000))
    .option("--policy <file>", "HookpointPolicy objects (YAML or JSON), re-read when the file changes; - (standard input) or a pipe such as <(cmd) is read once, at start (not with --kubeconfig/--context)")
    .option("--namespaces <file>", "Namespace objects whose labels the rules read, re-read when the file changes; - or a pipe is read once, at start (not with --kubeconfig/--context)")
    .option("--kubeconfig <file>", "read HookpointPolicies and namespaces from this cluster (in a pod: its service account); with --self-managed-certs also for the certificates")
    .option("--context <name>", "kubeconfig context (default: the current one)")
    .option("--image <image>", "tracing image when the profile names none")
    .option("--namespace <name>", "the webhook's own namespace (never injected)", defaults.namespace)
    .option(
      "--self-managed-certs",
      "create the CA and serving certificate in the cluster (Secret hookpoint-webhook-tls), write them to --cert/--key, keep the MutatingWebhookConfiguration's caBundle current and renew before expiry",
      false,
    )
    .option(
      "--cert-check-interval <seconds>",
      "with --self-managed-certs: how often the Secret and the caBundle are checked (renewals, a requested CA rotation, each step of a rotation)",
      "60",
    )
    .option(
      "--manage-routing",
      "keep the namespaceSelector/objectSelector/matchConditions of the MutatingWebhookConfiguration's entries in step with the HookpointPolicies, so every pod they can inject is sent to the webhook (without it, each policy's Routed condition only reports)",
      false,
    )
    .addOption(
      fixedValuesOption(
        "--default-pod-security <level>",
        "the cluster's default Pod Security level for namespaces without a pod-security.kubernetes.io/enforce label (baseline and restricted skip such namespaces) [env HOOKPOINT_DEFAULT_POD_SECURITY]",
        POD_SECURITY_LEVELS,
        defaults.defaultPodSecurity,
      ),
    )
    .option("--max-connections <n>", "open connections accepted at most; more are refused (hookpoint_connections_refused_total)", String(DEFAULT_MAX_CONNECTIONS))
    .option(
      "--shutdown-delay <seconds>",
      "on SIGTERM, how long to go on answering (not ready) while the endpoint is removed, before closing; Ctrl-C does not wait",
      String(DEFAULT_SHUTDOWN_DELAY_MS / 1000),
    )
    .option("--pretty", "human-readable logs instead of JSON lines", false)
    .addOption(fixedValuesOption("--log-level <level>", "log level", LOG_LEVELS, "info"));
}
