// Istio's injector MutatingWebhookConfigurations as its charts render them
// (istio/istio 86c9f01: istio-discovery templates/mutatingwebhook.yaml and
// revision-tags-mwc.yaml), for the tests of how explain and enable read them.
// Only the selectors matter to hookpoint; the rest is the chart's, with a
// failurePolicy of Ignore and a Service that does not exist, so an API server
// that holds them admits pods without calling anything.
import type { LabelSelector as Selector } from "../../src/policy/types.js";

const REV = "istio.io/rev";
const INJECTION = "istio-injection";
const INJECT = "sidecar.istio.io/inject";

export interface IstioConfiguration {
  apiVersion: "admissionregistration.k8s.io/v1";
  kind: "MutatingWebhookConfiguration";
  metadata: { name: string; labels: Record<string, string> };
  webhooks: { name: string; namespaceSelector: Selector; objectSelector: Selector; [k: string]: unknown }[];
}

function entry(prefix: string, revision: string, namespaceSelector: Selector, objectSelector: Selector) {
  return {
    name: `${prefix}sidecar-injector.istio.io`,
    clientConfig: { service: { name: revision === "" ? "istiod" : `istiod-${revision}`, namespace: "istio-system", path: "/inject", port: 443 } },
    sideEffects: "None",
    rules: [{ operations: ["CREATE"], apiGroups: [""], apiVersions: ["v1"], resources: ["pods"] }],
    failurePolicy: "Ignore",
    reinvocationPolicy: "Never",
    admissionReviewVersions: ["v1"],
    namespaceSelector,
    objectSelector,
  };
}

/** rev.namespace. and rev.object.: a namespace or a pod (in a namespace with neither label) labelled istio.io/rev=`value`. */
function revisionEntries(revision: string, value: string) {
  return [
    entry("rev.namespace.", revision, { matchExpressions: [{ key: REV, operator: "In", values: [value] }, { key: INJECTION, operator: "DoesNotExist" }] }, { matchExpressions: [{ key: INJECT, operator: "NotIn", values: ["false"] }] }),
    entry(
      "rev.object.",
      revision,
      { matchExpressions: [{ key: REV, operator: "DoesNotExist" }, { key: INJECTION, operator: "DoesNotExist" }] },
      { matchExpressions: [{ key: INJECT, operator: "NotIn", values: ["false"] }, { key: REV, operator: "In", values: [value] }] },
    ),
  ];
}

/** namespace. and object.: the default revision's istio-injection=enabled and sidecar.istio.io/inject=true. */
function defaultEntries(revision: string) {
  return [
    entry("namespace.", revision, { matchExpressions: [{ key: INJECTION, operator: "In", values: ["enabled"] }] }, { matchExpressions: [{ key: INJECT, operator: "NotIn", values: ["false"] }] }),
    entry(
      "object.",
      revision,
      { matchExpressions: [{ key: INJECTION, operator: "DoesNotExist" }, { key: REV, operator: "DoesNotExist" }] },
      { matchExpressions: [{ key: INJECT, operator: "In", values: ["true"] }, { key: REV, operator: "DoesNotExist" }] },
    ),
  ];
}

/** An install's configuration: revision "" is the default revision (istio-sidecar-injector), another is istio-sidecar-injector-REV. */
export function istioInstall(revision: string): IstioConfiguration {
  return {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "MutatingWebhookConfiguration",
    metadata: { name: revision === "" ? "istio-sidecar-injector" : `istio-sidecar-injector-${revision}`, labels: { [REV]: revision === "" ? "default" : revision, app: "sidecar-injector" } },
    webhooks: [...revisionEntries(revision, revision === "" ? "default" : revision), ...(revision === "" ? defaultEntries(revision) : [])],
  };
}

/** A revision tag `tag` pointing at `revision` (istio-revision-tag-TAG); the tag "default" also serves the default revision's labels. */
export function istioRevisionTag(tag: string, revision: string): IstioConfiguration {
  return {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "MutatingWebhookConfiguration",
    metadata: { name: `istio-revision-tag-${tag}`, labels: { "istio.io/tag": tag, [REV]: revision === "" ? "default" : revision, app: "sidecar-injector" } },
    webhooks: [...revisionEntries(revision, tag), ...(tag === "default" ? defaultEntries(revision) : [])],
  };
}
