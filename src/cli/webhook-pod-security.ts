// What `hookpoint check` says the webhook's --default-pod-security is, read from its
// Deployment's container as the webhook itself reads it: with the webhook's own option
// definitions (webhook.ts) and settings parser, so the two cannot drift apart.
import type { V1Container } from "@kubernetes/client-node";
import { Command, CommanderError } from "commander";
import { envEntry } from "../admission/pod.js";
import { DEFAULT_POD_SECURITY, type PodSecurityLevel } from "../names.js";
import { WEBHOOK_NAMESPACE } from "../k8s/install-names.js";
import { parsePodSecurityLevel } from "./settings.js";
import { addWebhookOptions } from "./webhook.js";

/** The environment variable that sets the webhook's --default-pod-security when the flag is not given. */
const POD_SECURITY_ENV = "HOOKPOINT_DEFAULT_POD_SECURITY";

/**
 * The --default-pod-security the webhook in this container runs with, and where it comes
 * from, read as the webhook reads it: its own option parser over command and args (the
 * last --default-pod-security wins, `--x=v` or `--x v`), else the last env entry of
 * HOOKPOINT_DEFAULT_POD_SECURITY (the one the kubelet passes), else privileged.
 */
export function webhookDefaultPodSecurity(container: Pick<V1Container, "command" | "args" | "env" | "envFrom"> | undefined, where: string): { level: PodSecurityLevel; from: string } {
  const assumed = (why: string) => ({ level: DEFAULT_POD_SECURITY, from: `assumed: ${why}` });
  // Without command and args the image's CMD runs, which sets no --default-pod-security.
  const argv = [...(container?.command ?? []), ...(container?.args ?? [])];
  const options = addWebhookOptions(new Command("webhook"), { namespace: WEBHOOK_NAMESPACE, defaultPodSecurity: DEFAULT_POD_SECURITY })
    .exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: () => {}, outputError: () => {} });
  try {
    // The webhook parses what follows its subcommand.
    options.parseOptions(argv.slice(argv.indexOf("webhook") + 1));
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    return assumed(`the webhook of ${where} stops at start: ${err.message.replace(/^error: /, "")}`);
  }
  if (options.getOptionValueSource("defaultPodSecurity") === "cli") {
    return levelOf(String(options.opts<{ defaultPodSecurity: string }>().defaultPodSecurity), `--default-pod-security of ${where}`);
  }
  const entry = envEntry(container?.env, POD_SECURITY_ENV);
  if (entry === undefined) {
    if ((container?.envFrom ?? []).length > 0) return assumed(`${where} sets no --default-pod-security, and its envFrom may set ${POD_SECURITY_ENV}`);
    return { level: DEFAULT_POD_SECURITY, from: `Kubernetes' default; ${where} sets no --default-pod-security` };
  }
  if (entry.valueFrom) return assumed(`${POD_SECURITY_ENV} of ${where} comes from a valueFrom, read when the pod starts`);
  // The webhook takes an empty variable as unset (src/config.ts).
  if (!entry.value) return { level: DEFAULT_POD_SECURITY, from: `Kubernetes' default; ${where} sets no --default-pod-security, and ${POD_SECURITY_ENV} empty` };
  return levelOf(entry.value, `${POD_SECURITY_ENV} of ${where}`);
}

/** A level as the webhook checks it at start (webhook-run.ts). */
function levelOf(value: string, from: string): { level: PodSecurityLevel; from: string } {
  // The kubelet expands $(NAME) when the pod starts: the value is not known before.
  if (value.includes("$(")) return { level: DEFAULT_POD_SECURITY, from: `assumed: ${from} is ${JSON.stringify(value)}, which the kubelet expands when the pod starts` };
  try {
    return { level: parsePodSecurityLevel("--default-pod-security", value), from };
  } catch (err) {
    return { level: DEFAULT_POD_SECURITY, from: `assumed: the webhook stops at start on ${from}: ${(err as Error).message}` };
  }
}
