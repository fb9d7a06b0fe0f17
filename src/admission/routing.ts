// Which pods the API server sends to the webhook (DESIGN.md, "Every install
// routes what the rules could inject"). decide() is only half the truth: a pod
// the rules would inject but that no MutatingWebhookConfiguration entry sends
// is silently untraced. This module is the one source of the entries'
// namespaceSelector, objectSelector and CEL matchConditions: they are derived
// here from the same opt-in names and exclusions decide() reads, for the
// policies in force. deploy/'s YAML is what routes() gives for its default
// policy (a test checks it), the webhook writes the same entries when it
// manages its configuration (--manage-routing), and routedCondition() tells
// each policy whether the entries in place carry every pod it can inject.
// Pure: no I/O.
import { isDeepStrictEqual } from "node:util";
import { selectorMatches } from "../policy/selector.js";
import type { HookpointPolicy, LabelSelector, LabelSelectorRequirement } from "../policy/types.js";
import { DEFAULT_EXCLUDED_NAMESPACES, INJECT_KEY, NAMESPACE_NAME_LABEL, NS_DISABLED, NS_ENABLED, POD_OPT_IN, POD_OPT_OUT } from "../names.js";

/** The webhook's own pods carry this label value (deploy/base); they never reach it. */
export const WEBHOOK_APP_LABEL = "app.kubernetes.io/name";
export const WEBHOOK_APP = "hookpoint-webhook";

/** What a route asks of the pod annotation hookpoint.dev/inject (decide()'s rules 4 and 6). */
export type AnnotationTest = "not-opted-out" | "opted-in" | "no-opt-in";

export type RouteKind = "namespace" | "pod" | "cluster" | "policy";

export interface Route {
  kind: RouteKind;
  /** The webhook entry's name. */
  name: string;
  /** The policy a "policy" route carries. */
  policy?: string;
  namespaceSelector: LabelSelector;
  objectSelector: LabelSelector;
  annotation: AnnotationTest;
}

/** The routing fields of one webhook entry, as the API server stores them. */
export interface EntryRouting {
  name: string;
  namespaceSelector: LabelSelector;
  objectSelector: LabelSelector;
  matchConditions: { name: string; expression: string }[];
}

const DOMAIN = "inject.hookpoint.dev";
export const NAMESPACE_ROUTE = `namespace.${DOMAIN}`;
export const POD_ROUTE = `pod.${DOMAIN}`;
export const CLUSTER_ROUTE = `cluster.${DOMAIN}`;
const POLICY_ROUTE_SUFFIX = `.policy.${DOMAIN}`;

// Annotation keys hold '/' and '.', so CEL needs map index syntax; the `in` test
// keeps a pod without the key from raising an evaluation error.
const ANNOTATION = `object.metadata.annotations['${INJECT_KEY}']`;
const HAS_ANNOTATION = `has(object.metadata.annotations) && '${INJECT_KEY}' in object.metadata.annotations`;
const CONDITIONS: Readonly<Record<AnnotationTest, { name: string; expression: string }>> = {
  "not-opted-out": { name: "not-opted-out", expression: `!(${HAS_ANNOTATION} && ${ANNOTATION} == '${POD_OPT_OUT}')` },
  "opted-in": { name: "pod-opted-in", expression: `${HAS_ANNOTATION} && ${ANNOTATION} == '${POD_OPT_IN}'` },
  "no-opt-in": { name: "no-opt-in-annotation", expression: `!(${HAS_ANNOTATION} && ${ANNOTATION} in ['${POD_OPT_IN}', '${POD_OPT_OUT}'])` },
};

function excludedNamespaces(webhookNamespace: string, extra: readonly string[] = []): LabelSelectorRequirement {
  const values = [...DEFAULT_EXCLUDED_NAMESPACES, webhookNamespace];
  for (const ns of extra) if (!values.includes(ns)) values.push(ns);
  return { key: NAMESPACE_NAME_LABEL, operator: "NotIn", values };
}

const NOT_THE_WEBHOOK: LabelSelectorRequirement = { key: WEBHOOK_APP_LABEL, operator: "NotIn", values: [WEBHOOK_APP] };

/** `selector` AND `requirements`, as one label selector. */
function and(selector: LabelSelector | undefined, ...requirements: LabelSelectorRequirement[]): LabelSelector {
  const out: LabelSelector = {};
  if (selector?.matchLabels && Object.keys(selector.matchLabels).length > 0) out.matchLabels = { ...selector.matchLabels };
  out.matchExpressions = [...(selector?.matchExpressions ?? []).map((r) => ({ ...r, ...(r.values ? { values: [...r.values] } : {}) })), ...requirements];
  return out;
}

/** A route of every pod whose namespace's opt-in label passes `label` and whose annotation passes `annotation`. */
function builtinRoute(kind: RouteKind, name: string, label: LabelSelectorRequirement, annotation: AnnotationTest, webhookNamespace: string): Route {
  return { kind, name, namespaceSelector: and(undefined, label, excludedNamespaces(webhookNamespace)), objectSelector: and(undefined, NOT_THE_WEBHOOK), annotation };
}

/** Rules 6 and 7 (and 8 for labelled namespaces): namespaces labelled enabled, pods not opted out. */
export function namespaceRoute(webhookNamespace: string): Route {
  return builtinRoute("namespace", NAMESPACE_ROUTE, { key: INJECT_KEY, operator: "In", values: [NS_ENABLED] }, "not-opted-out", webhookNamespace);
}

/** Rule 6 with allowPodOptIn (and 8 for annotated pods): pods annotated "true" where the namespace has no opt-in label. */
export function podRoute(webhookNamespace: string): Route {
  return builtinRoute("pod", POD_ROUTE, { key: INJECT_KEY, operator: "NotIn", values: [NS_ENABLED, NS_DISABLED] }, "opted-in", webhookNamespace);
}

/** Every rule: every namespace but vetoing ones, every pod not opted out. */
export function clusterRoute(webhookNamespace: string): Route {
  return builtinRoute("cluster", CLUSTER_ROUTE, { key: INJECT_KEY, operator: "NotIn", values: [NS_DISABLED] }, "not-opted-out", webhookNamespace);
}

/** Webhook entry names are DNS subdomains of at most 253 characters. */
const MAX_NAME = 253;

/** The entry name of a policy's route: `<policy>.policy.inject.hookpoint.dev` (policy names are DNS subdomains). */
export function policyRouteName(policy: string): string {
  const name = `${policy}${POLICY_ROUTE_SUFFIX}`;
  if (name.length <= MAX_NAME) return name;
  // A very long policy name: its start and a checksum, still unique in practice and stable.
  let h = 0x811c9dc5;
  for (let i = 0; i < policy.length; i++) h = Math.imul(h ^ policy.charCodeAt(i), 0x01000193) >>> 0;
  const tag = h.toString(16).padStart(8, "0");
  return `${policy.slice(0, MAX_NAME - POLICY_ROUTE_SUFFIX.length - tag.length - 1).replace(/[.-]+$/, "")}-${tag}${POLICY_ROUTE_SUFFIX}`;
}

/** Rule 8 for one policy: the pods its selectors match, where no other route carries them. */
export function policyRoute(policy: Pick<HookpointPolicy, "metadata" | "spec">, webhookNamespace: string): Route {
  const spec = policy.spec;
  return {
    kind: "policy",
    name: policyRouteName(policy.metadata.name),
    policy: policy.metadata.name,
    namespaceSelector: and(spec.namespaceSelector, { key: INJECT_KEY, operator: "NotIn", values: [NS_ENABLED, NS_DISABLED] }, excludedNamespaces(webhookNamespace, spec.excludedNamespaces)),
    objectSelector: and(spec.podSelector, NOT_THE_WEBHOOK),
    annotation: "no-opt-in",
  };
}

// Kubernetes label syntax (a webhook configuration with anything else is refused).
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function labelKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf("/");
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) return `label key "${key}" has an invalid prefix`;
  if (name.length > 63 || !LABEL_NAME.test(name)) return `label key "${key}" is not a valid label name`;
  return undefined;
}

function labelValueProblem(value: string): string | undefined {
  return value === "" || (value.length <= 63 && LABEL_NAME.test(value)) ? undefined : `label value "${value}" is not a valid label value`;
}

function selectorProblem(selector: LabelSelector | undefined): string | undefined {
  for (const [k, v] of Object.entries(selector?.matchLabels ?? {})) {
    const p = labelKeyProblem(k) ?? labelValueProblem(v);
    if (p) return p;
  }
  for (const r of selector?.matchExpressions ?? []) {
    const p = labelKeyProblem(r.key) ?? (r.values ?? []).map(labelValueProblem).find((x) => x !== undefined);
    if (p) return p;
  }
  return undefined;
}

/** Why a policy's own route cannot be written into a webhook configuration, or undefined. */
export function unroutableSelectors(policy: Pick<HookpointPolicy, "spec">): string | undefined {
  const ns = selectorProblem(policy.spec.namespaceSelector);
  if (ns) return `namespaceSelector: ${ns}`;
  const pod = selectorProblem(policy.spec.podSelector);
  return pod ? `podSelector: ${pod}` : undefined;
}

function selectsEverything(s: LabelSelector | undefined): boolean {
  return s === undefined || ((s.matchExpressions ?? []).length === 0 && Object.keys(s.matchLabels ?? {}).length === 0);
}

/**
 * The routes a policy needs for every pod it can inject to reach the webhook:
 * none for Disabled; the opt-in routes for OptIn; those and its own for Enabled
 * (the cluster route when its selectors select everything).
 */
export function requiredRoutes(policy: Pick<HookpointPolicy, "metadata" | "spec">, webhookNamespace: string): Route[] {
  const mode = policy.spec.mode ?? "OptIn";
  if (mode === "Disabled") return [];
  const optIn = [namespaceRoute(webhookNamespace), podRoute(webhookNamespace)];
  if (mode !== "Enabled") return optIn;
  if (selectsEverything(policy.spec.namespaceSelector) && selectsEverything(policy.spec.podSelector)) return [clusterRoute(webhookNamespace)];
  return [...optIn, policyRoute(policy, webhookNamespace)];
}

/**
 * The routes for a set of policies in force: the cluster route alone when one
 * of them needs it (it carries everything), else the two opt-in routes (the
 * built-in defaults need them even without any policy) and one per Enabled policy.
 */
export function routes(policies: readonly Pick<HookpointPolicy, "metadata" | "spec">[], webhookNamespace: string): Route[] {
  const needed = policies.filter((p) => unroutableSelectors(p) === undefined).flatMap((p) => requiredRoutes(p, webhookNamespace));
  if (needed.some((r) => r.kind === "cluster")) return [clusterRoute(webhookNamespace)];
  const policyRoutes = needed.filter((r) => r.kind === "policy").sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return [namespaceRoute(webhookNamespace), podRoute(webhookNamespace), ...policyRoutes];
}

/** The webhook entry fields of a route. */
export function entryRouting(route: Route): EntryRouting {
  return { name: route.name, namespaceSelector: route.namespaceSelector, objectSelector: route.objectSelector, matchConditions: [{ ...CONDITIONS[route.annotation] }] };
}

/** Entry names hookpoint writes and may remove (others in the configuration are left alone). */
export function isHookpointRoute(name: string): boolean {
  return name === NAMESPACE_ROUTE || name === POD_ROUTE || name === CLUSTER_ROUTE || name.endsWith(POLICY_ROUTE_SUFFIX);
}

/** Whether an entry as stored carries exactly this route. */
export function entryCarries(entry: EntryRouting, route: Route): boolean {
  const want = entryRouting(route);
  return (
    entry.name === want.name &&
    isDeepStrictEqual(entry.namespaceSelector ?? {}, want.namespaceSelector) &&
    isDeepStrictEqual(entry.objectSelector ?? {}, want.objectSelector) &&
    isDeepStrictEqual(entry.matchConditions ?? [], want.matchConditions)
  );
}

/** What a route carries, for messages. */
function describeRoute(route: Route): string {
  switch (route.kind) {
    case "namespace":
      return `pods in namespaces labelled ${INJECT_KEY}=${NS_ENABLED}`;
    case "pod":
      return `pods annotated ${INJECT_KEY}: "${POD_OPT_IN}" in namespaces without that label (allowPodOptIn)`;
    case "cluster":
      return "the pods its mode Enabled selects, in every namespace (the policy has no selectors)";
    case "policy":
      return `the pods its mode Enabled selects in namespaces not labelled ${INJECT_KEY}=${NS_ENABLED}`;
  }
}

export const ROUTED_CONDITION = "Routed";

export interface RoutedCondition {
  type: typeof ROUTED_CONDITION;
  status: "True" | "False" | "Unknown";
  reason: "Routed" | "NotRouted" | "ConfigurationUnknown";
  message: string;
  /** The generation of the policy version judged (set by the writer). */
  observedGeneration?: number;
}

/** The entries in place, or why they are not known. */
export type LiveRouting = { ok: true; entries: readonly EntryRouting[] } | { ok: false; problem: string };

/**
 * Whether every pod `policy` can inject is sent to the webhook by the entries
 * in place: each route it needs is there exactly as routes() writes it, or the
 * cluster route is (it carries everything).
 */
export function routedCondition(policy: Pick<HookpointPolicy, "metadata" | "spec">, live: LiveRouting, webhookNamespace: string, configuration: string): RoutedCondition {
  if (!live.ok) return { type: ROUTED_CONDITION, status: "Unknown", reason: "ConfigurationUnknown", message: live.problem };
  const needed = requiredRoutes(policy, webhookNamespace);
  if (needed.length === 0) return { type: ROUTED_CONDITION, status: "True", reason: "Routed", message: "mode Disabled: the policy injects no pod." };
  const cluster = clusterRoute(webhookNamespace);
  const carriedBy = live.entries.find((e) => entryCarries(e, cluster));
  if (carriedBy) return { type: ROUTED_CONDITION, status: "True", reason: "Routed", message: `every pod this policy can inject is sent to the webhook by MutatingWebhookConfiguration ${configuration} (entry ${carriedBy.name}).` };
  const unroutable = needed.some((r) => r.kind === "policy") ? unroutableSelectors(policy) : undefined;
  if (unroutable) {
    return {
      type: ROUTED_CONDITION,
      status: "False",
      reason: "NotRouted",
      message: `its selectors cannot be written into MutatingWebhookConfiguration ${configuration} (${unroutable}), so the pods its mode Enabled selects in namespaces not labelled ${INJECT_KEY}=${NS_ENABLED} are not sent to the webhook.`,
    };
  }
  const missing = needed.filter((r) => !live.entries.some((e) => entryCarries(e, r)));
  if (missing.length === 0) {
    return { type: ROUTED_CONDITION, status: "True", reason: "Routed", message: `every pod this policy can inject is sent to the webhook by MutatingWebhookConfiguration ${configuration} (entries ${needed.map((r) => r.name).join(", ")}).` };
  }
  const what = missing.map((r) => `${describeRoute(r)} (entry ${r.name})`).join("; ");
  return {
    type: ROUTED_CONDITION,
    status: "False",
    reason: "NotRouted",
    message: `MutatingWebhookConfiguration ${configuration} does not send the webhook ${what}: those pods are admitted untraced. Run the webhook with --manage-routing (every shipped install does) so it writes these entries, or apply deploy/components/cluster-wide.`,
  };
}

/** The route an entry as stored is, when it is one routes() writes (for explain's per-pod answer). */
export function routeOfEntry(entry: EntryRouting, policies: readonly Pick<HookpointPolicy, "metadata" | "spec">[], webhookNamespace: string): Route | undefined {
  const candidates = [namespaceRoute(webhookNamespace), podRoute(webhookNamespace), clusterRoute(webhookNamespace), ...policies.map((p) => policyRoute(p, webhookNamespace))];
  return candidates.find((r) => entryCarries(entry, r));
}

/** The annotation test of a route, on a pod's annotations (what its CEL expression computes). */
export function annotationPasses(test: AnnotationTest, annotations: Readonly<Record<string, string>> | undefined): boolean {
  const v = annotations?.[INJECT_KEY];
  switch (test) {
    case "not-opted-out":
      return v !== POD_OPT_OUT;
    case "opted-in":
      return v === POD_OPT_IN;
    case "no-opt-in":
      return v !== POD_OPT_IN && v !== POD_OPT_OUT;
  }
}

/** Whether a route sends this pod (of a namespace with these labels) to the webhook: its selectors and its CEL condition. */
export function routeSends(route: Route, nsLabels: Readonly<Record<string, string>>, podLabels: Readonly<Record<string, string>>, annotations: Readonly<Record<string, string>> | undefined): boolean {
  return selectorMatches(route.namespaceSelector, nsLabels) && selectorMatches(route.objectSelector, podLabels) && annotationPasses(route.annotation, annotations);
}
