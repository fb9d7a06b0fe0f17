// `hookpoint enable --workload`'s check before it changes anything: would the
// webhook inject a pod of each workload's template once annotated? Decided by
// the webhook's own review (reviewPod) on the cluster's inputs as `explain
// --kubeconfig` reads them, so a refusal costs no restart, no wait and no rollback.
// A template without istio-proxy is judged as Istio's injector hands its pods
// over (istio-handover.ts): with the proxy where Istio adds one, else saying why not.
import { reviewHandedOver } from "../admission/istio-handover.js";
import type { Pod } from "../admission/pod.js";
import { WEBHOOK_CONFIGURATION_NAME } from "../k8s/install-names.js";
import { INJECT_KEY, NS_ENABLED, POD_OPT_IN } from "../names.js";
import type { Settings } from "../policy/effective.js";
import type { LiveInputs } from "./explain-cluster.js";

export interface TemplateToCheck {
  /** "Deployment shop/web" */
  label: string;
  /** The workload's name ("web"). */
  name: string;
  template: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: unknown };
}

/** Why the webhook would not trace the workloads' new pods (one clause each), or undefined when it would trace them all. */
export function optInRefusal(live: LiveInputs, settings: Settings, namespace: string, workloads: readonly TemplateToCheck[]): string | undefined {
  const problems = workloads.flatMap((w) => {
    const why = refusal(live, settings, namespace, w);
    return why === undefined ? [] : [`${w.label}: ${why}`];
  });
  if (problems.length === 0) return undefined;
  return `not enabled, nothing was changed: ${problems.join("; ")}`;
}

function refusal(live: LiveInputs, settings: Settings, namespace: string, w: TemplateToCheck): string | undefined {
  const meta = w.template.metadata ?? {};
  // The pod as enable would make it: its template with the opt-in annotation.
  const pod = { metadata: { ...meta, annotations: { ...meta.annotations, [INJECT_KEY]: POD_OPT_IN } }, spec: w.template.spec ?? { containers: [] } } as unknown as Pod;
  const { review } = reviewHandedOver(pod, namespace, live.snapshot, settings, { namespaceKnown: live.snapshot.namespaces.has(namespace), workloadName: w.name, subject: "the template" });
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
