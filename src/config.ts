// The only module that reads process.env. Everything else receives settings as
// arguments, so it can be tested without touching the environment.

/** HOOKPOINT_* variables of this process (the webhook sets them on the agent). */
export function hookpointEnv(): Readonly<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith("HOOKPOINT_") && v !== undefined) out[k] = v;
  }
  return out;
}

/** True inside a Kubernetes pod with a service account (in-cluster config is possible). */
export function inCluster(): boolean {
  return Boolean(process.env.KUBERNETES_SERVICE_HOST && process.env.KUBERNETES_SERVICE_PORT);
}

/** The namespace the webhook runs in (downward API), used as a default exclusion. */
export function podNamespace(): string | undefined {
  return process.env.POD_NAMESPACE || undefined;
}

/** HOOKPOINT_DEFAULT_POD_SECURITY: the default of the webhook's --default-pod-security. */
export function defaultPodSecurityEnv(): string | undefined {
  return process.env.HOOKPOINT_DEFAULT_POD_SECURITY || undefined;
}

/** "namespace/name" of the pod this process runs in (Istio's sidecar gets POD_NAME and POD_NAMESPACE), or null. */
export function podRef(): string | null {
  const ns = process.env.POD_NAMESPACE;
  const name = process.env.POD_NAME;
  return ns && name && !/[\s/]/.test(ns + name) ? `${ns}/${name}` : null;
}

/** This process's environment with `extra` set: for a child that needs a variable more. */
export function envWith(extra: Readonly<Record<string, string>>): Record<string, string | undefined> {
  return { ...process.env, ...extra };
}

/** Colour and pretty output only on a terminal and when NO_COLOR is unset. */
export function wantsColor(isTTY: boolean): boolean {
  return isTTY && !process.env.NO_COLOR;
}

/** Directories searched for helper executables (tini for the agent). */
export function executableSearchPath(): string[] {
  return (process.env.PATH ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin").split(":").filter(Boolean);
}
