// The local cluster for e2e tests: started through the same code as
// `npm run cluster:up` (reusing a running one), admin and ServiceAccount clients.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { up, type ClusterInfo } from "../../../scripts/cluster/control.js";
import { kubeconfigYaml } from "../../../scripts/cluster/kubeconfig.js";
import { layout } from "../../../scripts/cluster/layout.js";
import { apiError } from "./api.js";

export type { ClusterInfo } from "../../../scripts/cluster/control.js";
export { ClusterUnavailableError } from "../../../scripts/cluster/layout.js";

let current: Promise<ClusterInfo> | undefined;

/**
 * The running local cluster, started (and its binaries built) when needed.
 * Throws ClusterUnavailableError when this machine cannot build the binaries.
 */
export function ensureCluster(): Promise<ClusterInfo> {
  current ??= up({ env: process.env }).catch((e: unknown) => {
    current = undefined; // a later call may try again
    throw e;
  });
  return current;
}

/** A client configuration for the admin (group system:masters: RBAC does not apply). */
export async function adminKubeConfig(): Promise<KubeConfig> {
  const kc = new KubeConfig();
  kc.loadFromFile((await ensureCluster()).kubeconfigPath);
  return kc;
}

export interface ServiceAccountKubeConfig {
  kubeConfig: KubeConfig;
  /** The same configuration as a file (for a process under test, e.g. the webhook). */
  kubeconfigPath: string;
  token: string;
  /** How the apiserver names this identity: system:serviceaccount:<ns>:<name>. */
  username: string;
}

export interface ServiceAccountOptions {
  /** Token lifetime; the apiserver's minimum is 600. Default 3600. */
  expirationSeconds?: number;
}

/**
 * A kubeconfig that authenticates as ServiceAccount `ns/name` with a token from the
 * TokenRequest API. Creates the ServiceAccount if it does not exist; grants nothing.
 */
export async function serviceAccountKubeConfig(namespace: string, name: string, opts: ServiceAccountOptions = {}): Promise<ServiceAccountKubeConfig> {
  const cluster = await ensureCluster();
  const core = (await adminKubeConfig()).makeApiClient(CoreV1Api);
  try {
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  } catch (e) {
    const err = apiError(e);
    if (err?.code !== 409) throw e;
  }
  const tr = await core.createNamespacedServiceAccountToken({
    namespace,
    name,
    body: { spec: { audiences: [], expirationSeconds: opts.expirationSeconds ?? 3600 } },
  });
  const token = tr.status?.token;
  if (!token) throw new Error(`TokenRequest for ServiceAccount ${namespace}/${name} returned no token`);
  const yaml = kubeconfigYaml({ name: `sa-${namespace}-${name}`, server: cluster.server, caPem: cluster.caPem, credentials: { token }, namespace });
  const dir = layout(cluster.dir).serviceAccounts;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const kubeconfigPath = join(dir, `${namespace}.${name}.kubeconfig`);
  writeFileSync(kubeconfigPath, yaml, { mode: 0o600 });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(yaml);
  return { kubeConfig, kubeconfigPath, token, username: `system:serviceaccount:${namespace}:${name}` };
}
