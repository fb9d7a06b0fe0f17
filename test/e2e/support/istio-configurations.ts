// Istio-shaped injector configurations (test/support/istio-webhooks.ts) held in the
// local cluster while a test runs. They need no istiod: they are only listed, their
// failurePolicy is Ignore and their Service does not exist, and the tests using them
// create no pod they select.
import type { KubeConfig } from "@kubernetes/client-node";
import type { IstioConfiguration } from "../../support/istio-webhooks.js";
import { apply, ok, remove } from "./kube-http.js";

/** Runs `body` with the configurations in the cluster, and deletes them after. */
export async function withIstioConfigurations<T>(admin: KubeConfig, configurations: readonly IstioConfiguration[], body: () => Promise<T>): Promise<T> {
  try {
    for (const c of configurations) ok(await apply(admin, c), `apply MutatingWebhookConfiguration ${c.metadata.name}`);
    return await body();
  } finally {
    for (const c of configurations) await remove(admin, c);
  }
}
