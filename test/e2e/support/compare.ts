// Comparing stored pods across webhook orders: the ServiceAccount admission plugin
// appends its token mount to containers a webhook added whenever it re-runs, so only
// the order of non-nesting mounts differs; and hookpoint's request counts by outcome.
import { parseSamples } from "./metrics.js";
import type { Pod } from "./pods.js";
import { REQUESTS_METRIC, type Hookpoint } from "./webhook.js";

/** The spec with every container's volumeMounts in mountPath order. */
export function mountsSorted(spec: Pod["spec"]): Pod["spec"] {
  const sort = (cs: Pod["spec"]["containers"] | undefined) =>
    cs?.map((c) => ({ ...c, volumeMounts: [...(c.volumeMounts ?? [])].sort((a, b) => (a.mountPath < b.mountPath ? -1 : a.mountPath > b.mountPath ? 1 : 0)) }));
  return { ...spec, containers: sort(spec.containers) ?? [], initContainers: sort(spec.initContainers) };
}

/** hookpoint's requests by outcome/reason, e.g. { "injected/namespace-label": 1 }. */
export async function requestsByOutcome(h: Hookpoint): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const s of parseSamples(await h.webhook.metrics())) {
    if (s.name !== REQUESTS_METRIC || s.labels.dry_run !== "false") continue;
    const key = `${s.labels.outcome}/${s.labels.reason}`;
    out[key] = (out[key] ?? 0) + s.value;
  }
  return out;
}

export function delta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) if (v !== (before[k] ?? 0)) out[k] = v - (before[k] ?? 0);
  return out;
}
