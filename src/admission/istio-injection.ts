// Would Istio's sidecar injector add its proxy to a pod? Istio's own rules
// (checked in istio/istio at 86c9f01, Aug 2026): which of its webhooks the API
// server calls and what its handler then decides (pkg/kube/inject/inject.go
// injectRequired, IgnoredNamespaces in initializer.go). Which webhooks are called
// is read from the cluster's own MutatingWebhookConfigurations where the caller
// has them (their *.sidecar-injector.istio.io entries), else taken from Istio's
// default install (istio-discovery's templates/mutatingwebhook.yaml). Pure. What it
// cannot know (the mesh config's injection policy, its never/alwaysInjectSelector)
// is assumed to be Istio's default: docs/webhook.md says so.
import { optionalSelectorMatches } from "../policy/selector.js";
import type { LabelSelector } from "../policy/types.js";

export const ISTIO_INJECTION_LABEL = "istio-injection";
export const ISTIO_REV_LABEL = "istio.io/rev";
/** The pod label, and Istio's older annotation of the same name. */
export const SIDECAR_INJECT_KEY = "sidecar.istio.io/inject";
/** Namespaces Istio's handler never injects in (IgnoredNamespaces). */
export const ISTIO_IGNORED_NAMESPACES: readonly string[] = ["kube-system", "kube-public", "kube-node-lease", "local-path-storage"];

export interface IstioInjectionInput {
  namespace: string;
  /** The namespace's labels; undefined when they are not known (offline, no Namespace object given). */
  namespaceLabels: Readonly<Record<string, string>> | undefined;
  labels: Readonly<Record<string, string>> | undefined;
  annotations: Readonly<Record<string, string>> | undefined;
  hostNetwork: unknown;
  /** How the reasons name the pod: "the pod", "the template". */
  subject?: string;
  /**
   * The cluster's Istio injector webhooks in the order the API server calls them;
   * undefined when they are not known (offline, or not readable): Istio's default install is assumed.
   */
  webhooks?: readonly IstioWebhook[];
}

/** Istio names every injector webhook so (rev.namespace., object., ...; a revision tag's too). */
export const ISTIO_INJECTOR_WEBHOOK_SUFFIX = "sidecar-injector.istio.io";

/** One of Istio's injector webhooks as a cluster has it. */
export interface IstioWebhook {
  /** The MutatingWebhookConfiguration holding it. */
  configuration: string;
  name: string;
  namespaceSelector?: LabelSelector;
  objectSelector?: LabelSelector;
}

export interface ConfigurationLike {
  metadata?: { name?: string };
  webhooks?: readonly { name: string; namespaceSelector?: LabelSelector; objectSelector?: LabelSelector }[];
}

/** Istio's injector webhooks among a cluster's MutatingWebhookConfigurations, in the order the API server calls them (configurations by name). */
export function istioWebhooksOf(configurations: readonly ConfigurationLike[]): IstioWebhook[] {
  const byName = [...configurations].sort((a, b) => compare(a.metadata?.name ?? "", b.metadata?.name ?? ""));
  return byName.flatMap((c) =>
    (c.webhooks ?? [])
      .filter((w) => w.name === ISTIO_INJECTOR_WEBHOOK_SUFFIX || w.name.endsWith(`.${ISTIO_INJECTOR_WEBHOOK_SUFFIX}`))
      .map((w) => ({
        configuration: c.metadata?.name ?? "",
        name: w.name,
        ...(w.namespaceSelector ? { namespaceSelector: w.namespaceSelector } : {}),
        ...(w.objectSelector ? { objectSelector: w.objectSelector } : {}),
      })),
  );
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export interface IstioInjection {
  inject: "yes" | "no" | "unknown";
  /** Why, in words a user can act on. */
  reason: string;
}

export function istioInjection(input: IstioInjectionInput): IstioInjection {
  const { namespace } = input;
  const subject = input.subject ?? "the pod";
  const labels = input.labels ?? {};
  const annotations = input.annotations ?? {};
  const no = (reason: string): IstioInjection => ({ inject: "no", reason });
  const yes = (reason: string): IstioInjection => ({ inject: "yes", reason });

  // injectRequired, first: whatever selected the pod.
  if (input.hostNetwork === true) return no(`${subject} uses hostNetwork, where Istio's injector never adds its proxy`);
  if (ISTIO_IGNORED_NAMESPACES.includes(namespace)) return no(`Istio's injector never adds its proxy in namespace ${namespace} (it ignores ${ISTIO_IGNORED_NAMESPACES.join(", ")})`);

  const label = labels[SIDECAR_INJECT_KEY];
  const annotation = annotations[SIDECAR_INJECT_KEY];
  // Every webhook's objectSelector excludes the label "false"; injectRequired reads the label, else the annotation.
  if (label === "false") return no(`${subject} is labelled ${SIDECAR_INJECT_KEY}=false`);
  // The label wins over the annotation, also when it is empty.
  const setting = label ?? annotation ?? "";
  const annotated = label === undefined && annotation !== undefined;
  // Sent or not, "false" from the annotation ends it: the namespace webhooks send it and injectRequired says no; the object ones need the label "true".
  if (setting === "false") return no(`${subject} is annotated ${SIDECAR_INJECT_KEY}=false (Istio's older switch, still read)`);

  if (input.webhooks !== undefined) return selectedByCluster(input.webhooks, namespace, input.namespaceLabels ?? {}, labels, subject);

  const ns = input.namespaceLabels;
  if (ns === undefined) return { inject: "unknown", reason: `Istio's decision needs namespace ${namespace}'s labels (${ISTIO_INJECTION_LABEL}, ${ISTIO_REV_LABEL}), which are not known` };

  // Which webhook sends the pod: the namespace's istio-injection label first, then its istio.io/rev, then the pod's own labels.
  const nsInjection = ns[ISTIO_INJECTION_LABEL];
  if (nsInjection !== undefined) {
    if (nsInjection !== "enabled") return no(`namespace ${namespace} is labelled ${ISTIO_INJECTION_LABEL}=${nsInjection}, and only ${ISTIO_INJECTION_LABEL}=enabled has Istio inject there (it also overrides ${subject}'s own labels)`);
    return yes(`namespace ${namespace} is labelled ${ISTIO_INJECTION_LABEL}=enabled`);
  }
  // An empty istio.io/rev names no revision (the rev webhooks select `In [REV]`), yet it is present, so the webhooks that want it absent (`DoesNotExist`) skip the pod too.
  const nsRev = ns[ISTIO_REV_LABEL];
  if (nsRev === "") return no(`namespace ${namespace} is labelled ${ISTIO_REV_LABEL} with an empty value, which names no revision, so none of Istio's webhooks selects its pods`);
  if (nsRev !== undefined) return yes(`namespace ${namespace} is labelled ${ISTIO_REV_LABEL}=${nsRev}`);
  const podRev = labels[ISTIO_REV_LABEL];
  if (podRev === "") return no(`${subject} is labelled ${ISTIO_REV_LABEL} with an empty value, which names no revision, so none of Istio's webhooks selects it (namespace ${namespace} has neither ${ISTIO_INJECTION_LABEL} nor ${ISTIO_REV_LABEL})`);
  if (podRev !== undefined) return yes(`${subject} is labelled ${ISTIO_REV_LABEL}=${podRev} (namespace ${namespace} has neither ${ISTIO_INJECTION_LABEL} nor ${ISTIO_REV_LABEL})`);
  if (label === "true") return yes(`${subject} is labelled ${SIDECAR_INJECT_KEY}=true (namespace ${namespace} has neither ${ISTIO_INJECTION_LABEL} nor ${ISTIO_REV_LABEL})`);
  const why =
    label !== undefined
      ? `its label ${SIDECAR_INJECT_KEY} is "${label}", not "true"`
      : annotated && setting === "true"
        ? `the annotation ${SIDECAR_INJECT_KEY}=true does not select a pod for injection, only the label does`
        : `${subject} has no ${SIDECAR_INJECT_KEY}=true label`;
  return no(`Istio's injection is not enabled for its pods: namespace ${namespace} has neither ${ISTIO_INJECTION_LABEL}=enabled nor ${ISTIO_REV_LABEL}, and ${why}`);
}

/** The namespace's own name label: every namespace has it, and the reasons name the namespace anyway. */
const NAME_LABEL = "kubernetes.io/metadata.name";

/** Which of the cluster's Istio webhooks the API server calls for the pod: the first whose selectors match it, else none. */
function selectedByCluster(webhooks: readonly IstioWebhook[], namespace: string, nsLabels: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>>, subject: string): IstioInjection {
  if (webhooks.length === 0) return { inject: "no", reason: `no Istio sidecar injector is installed: no MutatingWebhookConfiguration has a webhook named *.${ISTIO_INJECTOR_WEBHOOK_SUFFIX}` };
  const ns = `namespace ${namespace}`;
  const hit = webhooks.find((w) => optionalSelectorMatches(w.namespaceSelector, nsLabels) && optionalSelectorMatches(w.objectSelector, labels));
  if (hit) {
    const nsKeys = selectorKeys([hit.namespaceSelector]);
    const podKeys = selectorKeys([hit.objectSelector]);
    const present = [labelled(ns, nsLabels, nsKeys), labelled(subject, labels, podKeys)].filter((p): p is string => p !== undefined);
    const what = present.length > 0 ? present.join(" and ") : nsKeys.length > 0 ? lacks(ns, nsKeys) : podKeys.length > 0 ? lacks(subject, podKeys) : `${ns} holds the pod`;
    return { inject: "yes", reason: `${what} (Istio's webhook ${hit.name} of MutatingWebhookConfiguration ${hit.configuration} selects it)` };
  }
  // istioctl tag set default deactivates the old default revision's webhooks with a label no object has: they select nothing, so their keys are no advice.
  const active = webhooks.filter((w) => !deactivated(w));
  if (active.length === 0) return { inject: "no", reason: `no installed Istio webhook selects ${subject}: every one is deactivated (its selectors require the label ${DEACTIVATED_LABEL}=never-match)` };
  const nsKeys = selectorKeys(active.map((w) => w.namespaceSelector));
  const podKeys = selectorKeys(active.map((w) => w.objectSelector));
  const parts = [labelled(ns, nsLabels, nsKeys) ?? lacks(ns, nsKeys), labelled(subject, labels, podKeys) ?? lacks(subject, podKeys)].filter((p) => p !== "");
  // A revision (or tag) a label names that no webhook selects on is the usual cause: name it and what is installed.
  const installed = revisionsOf(active);
  const named = [nsLabels[ISTIO_REV_LABEL], labels[ISTIO_REV_LABEL]].filter((r): r is string => r !== undefined && r !== "");
  // Not where the namespace is labelled istio-injection=disabled: that turns every webhook away, installed or not.
  const missing = nsLabels[ISTIO_INJECTION_LABEL] === "disabled" ? [] : [...new Set(named)].filter((r) => !installed.includes(r));
  const revision = missing.length > 0 ? `; no revision or tag ${missing.join(" or ")} is installed (installed: ${installed.length > 0 ? installed.join(", ") : "none"})` : "";
  // Selectors on the namespace's name alone leave no label to name.
  const why = parts.length > 0 ? parts.join(", and ") : `their selectors do not select namespace ${namespace}`;
  return { inject: "no", reason: `no installed Istio webhook selects ${subject}: ${why}${revision}` };
}

/** The label istioctl's never-match selector requires (istioctl/pkg/util NeverMatch). */
const DEACTIVATED_LABEL = "istio.io/deactivated";
const deactivated = (w: IstioWebhook) => [w.namespaceSelector, w.objectSelector].some((s) => s?.matchLabels?.[DEACTIVATED_LABEL] !== undefined);

/** Istio's own labels first, in the order its docs name them; others after, as the selectors have them. */
const KEY_ORDER = [ISTIO_INJECTION_LABEL, SIDECAR_INJECT_KEY, ISTIO_REV_LABEL];
const rank = (k: string) => (KEY_ORDER.includes(k) ? KEY_ORDER.indexOf(k) : KEY_ORDER.length);

/** The label keys the selectors test, but the namespace's own name label. */
function selectorKeys(selectors: readonly (LabelSelector | undefined)[]): string[] {
  const keys = selectors.flatMap((s) => [...Object.keys(s?.matchLabels ?? {}), ...(s?.matchExpressions ?? []).map((r) => r.key)]);
  return [...new Set(keys)].filter((k) => k !== NAME_LABEL).sort((a, b) => rank(a) - rank(b));
}

/** "namespace shop is labelled istio.io/rev=canary", or undefined when it has none of the keys. */
function labelled(who: string, labels: Readonly<Record<string, string>>, keys: readonly string[]): string | undefined {
  const present = keys.filter((k) => Object.prototype.hasOwnProperty.call(labels, k)).map((k) => `${k}=${labels[k] === "" ? '""' : labels[k]}`);
  return present.length > 0 ? `${who} is labelled ${present.join(", ")}` : undefined;
}

/** "the template has no label sidecar.istio.io/inject or istio.io/rev"; "" without keys. */
function lacks(who: string, keys: readonly string[]): string {
  return keys.length === 0 ? "" : `${who} has no label ${keys.join(" or ")}`;
}

/** The revisions and tags the webhooks select on (their istio.io/rev values), in order. */
function revisionsOf(webhooks: readonly IstioWebhook[]): string[] {
  const values = webhooks.flatMap((w) =>
    [w.namespaceSelector, w.objectSelector].flatMap((s) => [
      ...(s?.matchLabels?.[ISTIO_REV_LABEL] !== undefined ? [s.matchLabels[ISTIO_REV_LABEL]] : []),
      ...(s?.matchExpressions ?? []).filter((r) => r.key === ISTIO_REV_LABEL && r.operator === "In").flatMap((r) => r.values ?? []),
    ]),
  );
  return [...new Set(values)];
}
