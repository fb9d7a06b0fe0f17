// The JSON Patch that sets the caBundle of every entry of the webhook's own
// MutatingWebhookConfiguration. Each change is guarded by a `test` of the entry's
// name, so a concurrent reorder makes the patch fail (and be recomputed) instead
// of writing a bundle into someone else's entry.
import type { Operation } from "fast-json-patch";

export interface WebhookConfigurationLike {
  webhooks?: { name: string; clientConfig?: { caBundle?: string } }[];
}

/** Operations that make every entry's clientConfig.caBundle equal `caBundleBase64`; [] when all already do. */
export function caBundlePatch(config: WebhookConfigurationLike, caBundleBase64: string): Operation[] {
  const ops: Operation[] = [];
  (config.webhooks ?? []).forEach((hook, i) => {
    if (hook.clientConfig?.caBundle === caBundleBase64) return;
    ops.push({ op: "test", path: `/webhooks/${i}/name`, value: hook.name });
    // clientConfig is required by the API, so only its caBundle member may be missing; "add" sets or replaces it.
    ops.push({ op: "add", path: `/webhooks/${i}/clientConfig/caBundle`, value: caBundleBase64 });
  });
  return ops;
}
