// One line per e2e test file: `const e2e = useCluster();` brings the local cluster
// up before the file's tests (or records why it cannot), and deletes the
// namespaces the file created afterwards. Tests call `e2e.require(ctx)` first:
// on a machine that cannot build the cluster they are skipped with the reason.
import { afterAll, beforeAll, type TestContext } from "vitest";
import type { KubeConfig } from "@kubernetes/client-node";
import { adminKubeConfig, ClusterUnavailableError, ensureCluster, type ClusterInfo } from "./cluster.js";
import { TestNamespaces, type NamespaceOptions } from "./namespaces.js";

/** A cold build of kube-apiserver runs inside beforeAll when the setup script did not. */
const CLUSTER_SETUP_MS = 30 * 60_000;

export interface E2E {
  /** The cluster and an admin client, or ctx.skip(reason) when there is no cluster on this machine. */
  require(ctx: TestContext): { cluster: ClusterInfo; admin: KubeConfig };
  /** A unique namespace (with its "default" ServiceAccount), deleted after the file's tests. */
  namespace(prefix: string, opts?: NamespaceOptions): Promise<string>;
}

export function useCluster(): E2E {
  let cluster: ClusterInfo | undefined;
  let admin: KubeConfig | undefined;
  let unavailable = "the local cluster was not set up (beforeAll did not run)";
  const namespaces = new TestNamespaces(() => {
    if (!admin) throw new Error("e2e.namespace() needs the cluster: call e2e.require(ctx) first");
    return admin;
  });

  beforeAll(async () => {
    const got = await connectCluster();
    if (typeof got === "string") unavailable = got;
    else ({ cluster, admin } = got);
  }, CLUSTER_SETUP_MS);

  afterAll(async () => {
    if (admin) await namespaces.cleanup();
  });

  return {
    require(ctx) {
      if (!cluster || !admin) return ctx.skip(unavailable);
      return { cluster, admin };
    },
    namespace: (prefix, opts) => namespaces.create(prefix, opts),
  };
}

/** The running cluster and its admin config, or why there is none (tests then skip with it). */
export async function connectCluster(): Promise<{ cluster: ClusterInfo; admin: KubeConfig } | string> {
  try {
    const cluster = await ensureCluster();
    return { cluster, admin: await adminKubeConfig() };
  } catch (e) {
    if (!(e instanceof ClusterUnavailableError)) throw e;
    return `no local cluster on this machine: ${e.message}`;
  }
}
