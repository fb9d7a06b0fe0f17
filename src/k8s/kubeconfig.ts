// Loading a kubeconfig for the commands that read a cluster, with errors that
// name the file and what is wrong in it instead of a stack trace.
import { KubeConfig } from "@kubernetes/client-node";
import { InputError } from "../input-error.js";
import { errnoText } from "../errno-text.js";

export interface KubeConfigChoice {
  /** A kubeconfig file; without one, the client's default search (KUBECONFIG, ~/.kube/config, in-cluster). */
  file?: string | undefined;
  /** A context of that kubeconfig; default: its current context. */
  context?: string | undefined;
}

export function loadKubeConfig(choice: KubeConfigChoice): KubeConfig {
  const kc = new KubeConfig();
  const where = choice.file ?? "the default kubeconfig";
  try {
    if (choice.file) kc.loadFromFile(choice.file);
    else kc.loadFromDefault();
  } catch (err) {
    const { code, path } = err as NodeJS.ErrnoException;
    // The default search names its file only in the error (a KUBECONFIG that is not there): name it too.
    // The client reads an empty file as null and then fails on its fields (a TypeError).
    const invalid = err instanceof TypeError ? "it is empty" : (err as Error).message.split("\n")[0];
    throw new InputError(choice.file ?? path ?? where, code ? `cannot read: ${errnoText(err, "file")}` : `not a valid kubeconfig: ${invalid}`);
  }
  if (!choice.file && isNoConfigFallback(kc)) throw new InputError("no kubeconfig", NO_KUBECONFIG);
  const contexts = kc.getContexts().map((c) => c.name);
  if (choice.context !== undefined) {
    if (!kc.getContextObject(choice.context)) {
      throw new InputError("--context", `no context "${choice.context}" in ${where} (contexts: ${list(contexts)})`);
    }
    kc.setCurrentContext(choice.context);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new InputError(where, noClusterDetail(kc, contexts));
  // The client refuses plain HTTP unless TLS verification is off, with a message about TLS: say which cluster and what to set.
  if (cluster.server.startsWith("http:") && !cluster.skipTLSVerify) {
    throw new InputError(where, `cluster "${cluster.name}" is served over plain HTTP (${cluster.server}), which the Kubernetes client refuses unless the cluster sets insecure-skip-tls-verify: true`);
  }
  return kc;
}

const list = (names: readonly string[]): string => (names.length ? names.join(", ") : "none");

const NO_KUBECONFIG =
  "KUBECONFIG is unset, ~/.kube/config does not exist and this is not a pod with a service account; give one with --kubeconfig FILE or the KUBECONFIG environment variable";

/**
 * The client's last resort when it found no kubeconfig: an insecure http://localhost:8080
 * (the API server's old insecure port) that it then refuses to call, with a message about TLS.
 */
function isNoConfigFallback(kc: KubeConfig): boolean {
  const cluster = kc.getCurrentCluster();
  return kc.getCurrentContext() === "loaded-context" && kc.getContexts().length === 1 && cluster?.name === "cluster" && cluster.server === "http://localhost:8080" && kc.getCurrentUser()?.name === "user";
}

/** Why the current context gives no cluster: none chosen, a context that is not there, or one naming a cluster that is not there. */
function noClusterDetail(kc: KubeConfig, contexts: readonly string[]): string {
  const current = kc.getCurrentContext();
  if (!current) return contexts.length ? `it has no current context; pass --context (contexts: ${list(contexts)})` : "it defines no contexts";
  const context = kc.getContextObject(current);
  if (!context) return `its current context "${current}" is not one of its contexts (contexts: ${list(contexts)}); pass --context`;
  return `context "${current}" names cluster "${context.cluster}", which it does not define (clusters: ${list(kc.getClusters().map((c) => c.name))})`;
}
