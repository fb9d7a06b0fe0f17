// `hookpoint enable --workload`'s check before it changes anything: would the
// webhook inject a pod of each workload's template once annotated? Decided by
// the webhook's own review (reviewPod) on the cluster's inputs as `explain
// --kubeconfig` reads them, so a refusal costs no restart, no wait and no rollback.
// A template without istio-proxy is judged as Istio's injector hands its pods
// over (istio-handover.ts): with the proxy where Istio adds one, else saying why not.
import { reviewHandedOver, type HandedOverReview } from "../admission/istio-handover.js";
import type { PodReview } from "../admission/review.js";
import type { Pod } from "../admission/pod.js";
import { WEBHOOK_CONFIGURATION_NAME } from "../k8s/install-names.js";
import { INJECT_KEY, NS_ENABLED, POD_OPT_IN } from "../names.js";
import type { Settings } from "../policy/effective.js";
import { knownIstioWebhooks, type LiveInputs } from "./explain-cluster.js";

export interface TemplateToCheck {
  /** "Deployment shop/web" */
  label: string;
  /** The workload's name ("web"). */
  name: string;
  template: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: unknown };
}

export interface OptInCheck {
  /** Why the webhook would not trace the workloads' new pods (one clause each), or undefined when it would trace them all. */
  refusal: string | undefined;
  /** Accepted because Istio's injector adds the proxy their templates lack: one line each, saying why (as explain's assumed: line). */
  istioAdds: string[];
}

export function checkOptIn(live: LiveInputs, settings: Settings, namespace: string, workloads: readonly TemplateToCheck[]): OptInCheck {
  const checked = workloads.map((w) => ({ w, ...check(live, settings, namespace, w) }));
  const problems = checked.flatMap((c) => (c.refusal === undefined ? [] : [`${c.w.label}: ${c.refusal}`]));
  // Where the webhooks could not be listed, the reason rests on Istio's default install: say that too.
  const assumed = live.istioWebhooks.ok ? "" : ` (assumed: Istio's webhooks are those of its default install: ${live.istioWebhooks.problem})`;
  const istioAdds = checked.flatMap((c) => (c.refusal === undefined && c.istioReason !== undefined ? [`${c.w.label}: Istio's injector adds its istio-proxy container (Istio's default sidecar template) to its pods: ${c.istioReason}${assumed}`] : []));
  return { refusal: problems.length === 0 ? undefined : `not enabled, nothing was changed: ${problems.join("; ")}`, istioAdds };
}

function check(live: LiveInputs, settings: Settings, namespace: string, w: TemplateToCheck): { refusal: string | undefined; istioReason?: string } {
  const { review, istio } = handedOver(live, settings, namespace, w);
  const r = refusal(live, namespace, review);
  return istio?.added && istio.inject === "yes" ? { refusal: r, istioReason: istio.reason } : { refusal: r };
}

function handedOver(live: LiveInputs, settings: Settings, namespace: string, w: TemplateToCheck): HandedOverReview {
  const meta = w.template.metadata ?? {};
  // The pod as enable would make it: its template with the opt-in annotation.
  const pod = { metadata: { ...meta, annotations: { ...meta.annotations, [INJECT_KEY]: POD_OPT_IN } }, spec: w.template.spec ?? { containers: [] } } as unknown as Pod;
  return reviewHandedOver(pod, namespace, live.snapshot, settings, { namespaceKnown: live.snapshot.namespaces.has(namespace), workloadName: w.name, subject: "the template", istioWebhooks: knownIstioWebhooks(live) });
}

function refusal(live: LiveInputs, namespace: string, review: PodReview): string | undefined {
  const d = review.decision;
  const governing = d.policy === null ? "the built-in default policy (no HookpointPolicy selects the pod)" : `HookpointPolicy ${d.policy}`;
  if (review.denied !== undefined) return `the webhook would refuse to admit its pods: ${review.denied.replace(/^hookpoint: /, "")}`;
  if (!d.inject && d.reason === "pod-opt-in-not-allowed") {
    const fix = d.policy === null ? "a HookpointPolicy whose allowPodOptIn selects it" : `an allowPodOptIn in HookpointPolicy ${d.policy} that selects it`;
    return `pod opt-in is not allowed in namespace ${namespace}: it is not labelled ${INJECT_KEY}=${NS_ENABLED} and ${governing} has no allowPodOptIn selecting it; opt the whole namespace in with hookpoint enable -n ${namespace} (label ${INJECT_KEY}=${NS_ENABLED}), or add ${fix}`;
  }
  if (!d.inject) return `the webhook would not inject its pods: ${d.message} (decided by ${d.decidedBy}, reason ${d.reason}, under ${governing})`;
  if (review.mutated && live.sends(namespace, review.mutated) === false) {
    const routed = live.routed(d.policy);
    return `the webhook would inject its pods, but MutatingWebhookConfiguration ${WEBHOOK_CONFIGURATION_NAME} does not send them to it${routed?.status === "False" ? `: ${routed.message}` : ""}`;
  }
  return undefined;
}
