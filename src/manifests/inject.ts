// `hookpoint inject` / `explain` over manifests: review every resource's pod
// template, say what happened to each, and write the documents back with only
// the injected templates changed (render.ts). Pure: text in, text and results out.
import { decide, type Decision } from "../admission/decision.js";
import { reviewHandedOver, type HandedOverReview } from "../admission/istio-handover.js";
import type { IstioWebhook } from "../admission/istio-injection.js";
import { reviewPod, type PodReview } from "../admission/review.js";
import type { Settings } from "../policy/effective.js";
import { governingPolicy, namespaceLabels, type Snapshot } from "../policy/snapshot.js";
import { parseDocuments } from "../input/documents.js";
import { renderChanges, type TemplateChange } from "./render.js";
import { resourcesOf, type Resource } from "./resources.js";

export interface InjectContext {
  snapshot: Snapshot;
  settings: Settings;
  /** Namespace of documents that name none (like kubectl's current namespace). */
  defaultNamespace: string;
  force: boolean;
  /**
   * explain: judge a template without istio-proxy as Istio's injector hands its pods
   * over (istio-handover.ts), given whether a namespace's labels are known. inject
   * leaves it unset: it cannot add Istio's container.
   */
  istio?: {
    namespaceKnown(namespace: string): boolean;
    /** The cluster's Istio injector webhooks, where read; else Istio's default install is assumed. */
    webhooks?: readonly IstioWebhook[];
  };
}

export type InjectOutcome =
  /** Changed: the template now is as hookpoint makes it. */
  | { status: "injected"; review: PodReview; overrode?: Decision }
  /** Decided "inject", but the template already was as hookpoint makes it. */
  | { status: "unchanged"; review: PodReview }
  | { status: "skipped"; review: PodReview }
  | { status: "denied"; review: PodReview; reason: string }
  | { status: "passed-through"; reason: string };

export interface ReviewedResource {
  resource: Resource;
  /** The namespace the decision used: the resource's own, or the default. */
  namespace: string;
  outcome: InjectOutcome;
  /** With ctx.istio: what Istio's injector would do with a template that has no proxy. */
  istio?: HandedOverReview["istio"];
}

export interface ReviewedManifests {
  resources: ReviewedResource[];
  /** True when some document was denied: nothing may be written then. */
  denied: boolean;
  /** The documents with the injected templates rewritten (computed once). */
  render(): string;
}

/** Reviews every resource; nothing is rewritten until render(). */
export function reviewManifests(text: string, file: string, ctx: InjectContext): ReviewedManifests {
  const parsed = parseDocuments(text, file);
  const resources = resourcesOf(parsed, file).map((r) => reviewResource(r, ctx));
  let output: string | undefined;
  return {
    resources,
    denied: resources.some((r) => r.outcome.status === "denied"),
    render: () => (output ??= renderChanges(text, file, parsed, resources.flatMap(changeOf))),
  };
}

function reviewResource(resource: Resource, ctx: InjectContext): ReviewedResource {
  const namespace = resource.namespace ?? ctx.defaultNamespace;
  const t = resource.template;
  if ("none" in t) return { resource, namespace, outcome: { status: "passed-through", reason: t.none } };
  let review: PodReview;
  let istio: HandedOverReview["istio"];
  if (ctx.istio) {
    const subject = resource.kind === "Pod" ? "the pod" : "the template";
    ({ review, istio } = reviewHandedOver(t.pod, namespace, ctx.snapshot, ctx.settings, { force: ctx.force, namespaceKnown: ctx.istio.namespaceKnown(namespace), workloadName: resource.name, subject, istioWebhooks: ctx.istio.webhooks }));
  } else review = reviewPod(t.pod, namespace, ctx.snapshot, ctx.settings, { force: ctx.force });
  const reviewed = (outcome: InjectOutcome): ReviewedResource => (istio ? { resource, namespace, outcome, istio } : { resource, namespace, outcome });
  if (review.denied) return reviewed({ status: "denied", review, reason: review.denied.replace(/^hookpoint: /, "") });
  if (!review.decision.inject) return reviewed({ status: "skipped", review });
  if (review.patch.length === 0) return reviewed({ status: "unchanged", review });
  const outcome: InjectOutcome = { status: "injected", review };
  // --force: say which decision it overrode, so no veto is overridden silently.
  if (ctx.force) {
    const nsLabels = namespaceLabels(ctx.snapshot, namespace);
    const policy = governingPolicy(ctx.snapshot, nsLabels, t.pod.metadata?.labels ?? {});
    const unforced = decide({ pod: t.pod, namespace, nsLabels, policy });
    if (!unforced.inject) outcome.overrode = unforced;
  }
  return reviewed(outcome);
}

function changeOf(r: ReviewedResource): TemplateChange[] {
  if (r.outcome.status !== "injected" || !r.outcome.review.mutated || "none" in r.resource.template) return [];
  return [{ document: r.resource.document, path: [...r.resource.prefix, ...r.resource.template.path], value: r.outcome.review.mutated }];
}

