// The webhook's review of a pod as Istio's injector hands it over. A workload's
// template has no istio-proxy where Istio injects automatically: Istio adds it
// when the pod is created, before hookpoint's webhook sees the pod (DESIGN.md,
// "Ordering with Istio"). `explain` and `enable --workload` judge templates, so
// they review the pod with the proxy Istio would add; where Istio would not add
// one, the decision says why. The webhook itself never uses this: it sees the
// real pod. Pure.
import type { Settings } from "../policy/effective.js";
import { governingPolicy, namespaceLabels, type Snapshot } from "../policy/snapshot.js";
import { ISTIO_PROXY_CONTAINER, withIstioProxy, type IstioSidecarKind } from "./istio.js";
import { istioInjection, type IstioInjection, type IstioWebhook } from "./istio-injection.js";
import { findTarget, type Pod } from "./pod.js";
import { reviewPod, type PodReview, type ReviewOptions } from "./review.js";

export interface IstioHandOverOptions extends ReviewOptions {
  /** Whether the namespace's labels are known (a Namespace object or the cluster); else Istio's decision is unknown and its proxy assumed. */
  namespaceKnown: boolean;
  /** The workload's name (Istio's canonical-name label falls back to it). */
  workloadName: string;
  /** How reasons name the pod: "the template", "the pod". */
  subject: string;
  kind?: IstioSidecarKind;
  /** The cluster's Istio injector webhooks, where read (istio-injection.ts); else Istio's default install is assumed. */
  istioWebhooks?: readonly IstioWebhook[];
}

export interface HandedOverReview {
  review: PodReview;
  /** Set where the pod had no target container and Istio's decision was asked. */
  istio?: IstioInjection & {
    /** Whether the review was made with Istio's proxy added (Istio says yes, or unknown and assumed yes). */
    added: boolean;
  };
}

export function reviewHandedOver(pod: Pod, namespace: string, snapshot: Snapshot, settings: Settings, options: IstioHandOverOptions): HandedOverReview {
  const { namespaceKnown, workloadName, subject, kind, istioWebhooks, ...reviewOptions } = options;
  const nsLabels = namespaceLabels(snapshot, namespace);
  const policy = governingPolicy(snapshot, nsLabels, pod.metadata?.labels ?? {});
  // hookpoint never adds a proxy: only a pod that lacks one Istio would add is Istio's to decide.
  if (!policy.targetContainers.includes(ISTIO_PROXY_CONTAINER) || findTarget(pod.spec, policy.targetContainers)) return { review: reviewPod(pod, namespace, snapshot, settings, reviewOptions) };
  const istio = istioInjection({
    namespace,
    namespaceLabels: namespaceKnown ? nsLabels : undefined,
    labels: pod.metadata?.labels,
    annotations: pod.metadata?.annotations,
    hostNetwork: pod.spec.hostNetwork,
    subject,
    webhooks: istioWebhooks,
  });
  if (istio.inject === "no") {
    const review = reviewPod(pod, namespace, snapshot, settings, reviewOptions);
    const d = review.decision;
    if (d.reason !== "no-target-container") return { review, istio: { ...istio, added: false } };
    return { review: { ...review, decision: { ...d, message: `${d.message}, and Istio's injector would not add one: ${istio.reason}` } }, istio: { ...istio, added: false } };
  }
  return { review: reviewPod(withIstioProxy(pod, workloadName, kind), namespace, snapshot, settings, reviewOptions), istio: { ...istio, added: true } };
}
