// Would Istio's sidecar injector add its proxy to a pod? Istio's own rules, as
// its default install applies them (checked in istio/istio at 86c9f01, Aug 2026):
// which of its webhooks the API server calls (istio-discovery's
// templates/mutatingwebhook.yaml) and what its handler then decides
// (pkg/kube/inject/inject.go injectRequired, IgnoredNamespaces in initializer.go).
// Pure. What it cannot know (the mesh config's injection policy, its
// never/alwaysInjectSelector, enableNamespacesByDefault, whether a revision is
// installed) is assumed to be Istio's default: docs/webhook.md says so.

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
}

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
