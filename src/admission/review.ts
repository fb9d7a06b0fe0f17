// The whole admission of one pod: decision, plan, mutation and patch. Pure.
import type { Settings } from "../policy/effective.js";
import { governingPolicy, namespaceLabels, type Snapshot } from "../policy/snapshot.js";
import { decide, type Decision } from "./decision.js";
import { mutatePod, type InjectionStatus } from "./mutate.js";
import { podPatch, type Operation } from "./patch.js";
import { planInjection } from "./plan.js";
import type { Pod } from "./pod.js";

export interface PodReview {
  decision: Decision;
  /** Empty when skipping or when the pod is already as hookpoint would make it. */
  patch: Operation[];
  /** Set when the request must be refused; the message names what and why. */
  denied?: string;
  warnings: string[];
  mutated?: Pod;
  status?: InjectionStatus;
}

export interface ReviewOptions {
  force?: boolean;
}

export function reviewPod(pod: Pod, namespace: string, snapshot: Snapshot, settings: Settings, options: ReviewOptions = {}): PodReview {
  const nsLabels = namespaceLabels(snapshot, namespace);
  const policy = governingPolicy(snapshot, nsLabels, pod.metadata?.labels ?? {});
  const decision = decide({ pod, namespace, nsLabels, policy, force: options.force ?? false });
  if (!decision.inject || !decision.target) return { decision, patch: [], warnings: [...decision.warnings] };

  const planned = planInjection(pod, decision.target, policy, settings);
  if (!planned.ok) return { decision, patch: [], denied: planned.denied, warnings: [...decision.warnings] };

  const mutation = mutatePod(pod, planned.plan, decision.decidedBy, settings);
  return {
    decision,
    patch: podPatch(pod, mutation.pod),
    warnings: [...decision.warnings, ...planned.warnings, ...mutation.warnings],
    mutated: mutation.pod,
    status: mutation.status,
  };
}
