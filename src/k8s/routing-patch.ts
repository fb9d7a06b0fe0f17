// The JSON Patch that makes the webhook's own MutatingWebhookConfiguration
// route exactly the given routes (src/admission/routing.ts). Entries keep
// everything but their routing fields (clientConfig and its caBundle, timeouts,
// failurePolicy); a new entry copies those from an existing one of hookpoint's;
// entries hookpoint does not name are left as they are. The patch is guarded by
// the resourceVersion read, so a concurrent writer (the caBundle, kubectl
// apply) makes it fail and be computed again rather than be overwritten. Pure.
import { isDeepStrictEqual } from "node:util";
import type { Operation } from "fast-json-patch";
import { entryRouting, isHookpointRoute, type EntryRouting, type Route } from "../admission/routing.js";
import { errorText, httpStatus } from "./api-errors.js";

export type WebhookEntry = EntryRouting & Record<string, unknown>;

export interface WebhookConfiguration {
  metadata?: { resourceVersion?: string; [k: string]: unknown };
  webhooks?: WebhookEntry[];
}

export type RoutingPatch = { ok: true; ops: Operation[]; webhooks: WebhookEntry[] } | { ok: false; problem: string };

export function routingPatch(config: WebhookConfiguration, wanted: readonly Route[]): RoutingPatch {
  const current = config.webhooks ?? [];
  const ours = current.filter((w) => isHookpointRoute(w.name));
  const template = ours[0] ?? current[0];
  const webhooks: WebhookEntry[] = [];
  for (const route of wanted) {
    const routing = entryRouting(route);
    const existing = current.find((w) => w.name === route.name);
    if (existing) webhooks.push({ ...existing, ...routing });
    else if (template) {
      const { name: _n, namespaceSelector: _ns, objectSelector: _os, matchConditions: _mc, ...rest } = template;
      webhooks.push({ ...structuredClone(rest), ...routing });
    } else return { ok: false, problem: "it has no entry to copy the webhook's address (clientConfig) from" };
  }
  for (const w of current) if (!isHookpointRoute(w.name)) webhooks.push(w);
  if (isDeepStrictEqual(webhooks, current)) return { ok: true, ops: [], webhooks };
  const rv = config.metadata?.resourceVersion;
  const ops: Operation[] = [];
  if (rv !== undefined) ops.push({ op: "test", path: "/metadata/resourceVersion", value: rv });
  // "add" sets the member whether or not it exists.
  ops.push({ op: "add", path: "/webhooks", value: webhooks });
  return { ok: true, ops, webhooks };
}

/**
 * The configuration as the API server sent it: the client's model objects carry
 * absent fields as undefined and have their own prototypes, which structural
 * comparisons would count as differences.
 */
/** Why the webhook configuration `name` could not be read, in words (a missing one routes no pod). */
export function configurationReadProblem(name: string, err: unknown): string {
  return httpStatus(err) === 404 ? `MutatingWebhookConfiguration ${name} does not exist: no pod is sent to the webhook` : `cannot read MutatingWebhookConfiguration ${name}: ${errorText(err)}`;
}

export function plainConfiguration(config: unknown): WebhookConfiguration {
  return JSON.parse(JSON.stringify(config)) as WebhookConfiguration;
}

/** The routing fields of every entry of a configuration, as stored. */
export function entriesOf(config: WebhookConfiguration): EntryRouting[] {
  return (config.webhooks ?? []).map((w) => ({ name: w.name, namespaceSelector: w.namespaceSelector, objectSelector: w.objectSelector, matchConditions: w.matchConditions ?? [] }));
}
