// Throw-away namespaces for e2e tests: unique names (namespaces are never finalized
// without kube-controller-manager, so a name is never reused) and deletion at the end.
import { randomBytes } from "node:crypto";
import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import { apiError } from "./api.js";

export interface NamespaceOptions {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** "e2e-<prefix>-<6 hex>", a valid DNS label whatever the prefix. */
export function uniqueNamespaceName(prefix: string): string {
  const slug = prefix.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 40) || "ns";
  return `e2e-${slug}-${randomBytes(3).toString("hex")}`;
}

export class TestNamespaces {
  private readonly created: string[] = [];

  constructor(private readonly admin: () => KubeConfig) {}

  /**
   * Creates a namespace and its "default" ServiceAccount (kube-controller-manager's
   * job in a real cluster; the ServiceAccount admission plugin rejects pods without it).
   */
  async create(prefix: string, opts: NamespaceOptions = {}): Promise<string> {
    const core = this.admin().makeApiClient(CoreV1Api);
    const name = uniqueNamespaceName(prefix);
    await core.createNamespace({ body: { metadata: { name, labels: opts.labels, annotations: opts.annotations } } });
    this.created.push(name);
    await core.createNamespacedServiceAccount({ namespace: name, body: { metadata: { name: "default" } } });
    return name;
  }

  /** Deletes every namespace created here (they stay Terminating: nothing finalizes them). */
  async cleanup(): Promise<void> {
    const core = this.admin().makeApiClient(CoreV1Api);
    const names = this.created.splice(0);
    await Promise.all(
      names.map(async (name) => {
        try {
          await core.deleteNamespace({ name });
        } catch (e) {
          if (apiError(e)?.code !== 404) throw e;
        }
      }),
    );
  }
}
