// Istio's own injection rules (istio/istio: istio-discovery templates/mutatingwebhook.yaml,
// pkg/kube/inject/inject.go injectRequired, initializer.go IgnoredNamespaces), one test per rule.
import { describe, expect, it } from "vitest";
import { istioInjection, istioWebhooksOf, type IstioInjectionInput } from "../../../src/admission/istio-injection.js";
import { istioInstall, istioRevisionTag } from "../../support/istio-webhooks.js";

const ENABLED = { "istio-injection": "enabled" };
const NONE = {};
const NOT_ENABLED = "Istio's injection is not enabled for its pods: namespace shop has neither istio-injection=enabled nor istio.io/rev, and";

function istio(over: Partial<IstioInjectionInput> = {}) {
  return istioInjection({ namespace: "shop", namespaceLabels: NONE, labels: undefined, annotations: undefined, hostNetwork: undefined, subject: "the template", ...over });
}

describe("istioInjection: which webhook of Istio's configuration sends the pod", () => {
  it("namespace.sidecar-injector: namespace labelled istio-injection=enabled", () => {
    expect(istio({ namespaceLabels: ENABLED })).toEqual({ inject: "yes", reason: "namespace shop is labelled istio-injection=enabled" });
  });

  it("istio-injection with another value: no webhook selects the namespace, whatever the pod says", () => {
    const off = { "istio-injection": "disabled", "istio.io/rev": "canary" };
    expect(istio({ namespaceLabels: off, labels: { "sidecar.istio.io/inject": "true" } })).toEqual({
      inject: "no",
      reason: "namespace shop is labelled istio-injection=disabled, and only istio-injection=enabled has Istio inject there (it also overrides the template's own labels)",
    });
  });

  it("rev.namespace.sidecar-injector: namespace labelled istio.io/rev (istio-injection absent)", () => {
    expect(istio({ namespaceLabels: { "istio.io/rev": "canary" } })).toEqual({ inject: "yes", reason: "namespace shop is labelled istio.io/rev=canary" });
  });

  it("rev.object.sidecar-injector: the pod's istio.io/rev label in a namespace with neither label", () => {
    expect(istio({ labels: { "istio.io/rev": "default" } })).toEqual({ inject: "yes", reason: "the template is labelled istio.io/rev=default (namespace shop has neither istio-injection nor istio.io/rev)" });
  });

  it("an empty istio.io/rev names no revision (In [REV] fails) and is present (DoesNotExist fails): no webhook sends the pod", () => {
    expect(istio({ namespaceLabels: { "istio.io/rev": "" } })).toEqual({
      inject: "no",
      reason: "namespace shop is labelled istio.io/rev with an empty value, which names no revision, so none of Istio's webhooks selects its pods",
    });
    expect(istio({ labels: { "istio.io/rev": "", "sidecar.istio.io/inject": "true" } })).toEqual({
      inject: "no",
      reason: "the template is labelled istio.io/rev with an empty value, which names no revision, so none of Istio's webhooks selects it (namespace shop has neither istio-injection nor istio.io/rev)",
    });
    // namespace.sidecar-injector selects on istio-injection=enabled alone: an empty istio.io/rev beside it does not matter.
    expect(istio({ namespaceLabels: { ...ENABLED, "istio.io/rev": "" }, labels: { "istio.io/rev": "" } }).inject).toBe("yes");
  });

  it("object.sidecar-injector: the pod label sidecar.istio.io/inject=true in a namespace with neither label", () => {
    expect(istio({ labels: { "sidecar.istio.io/inject": "true" } })).toEqual({ inject: "yes", reason: "the template is labelled sidecar.istio.io/inject=true (namespace shop has neither istio-injection nor istio.io/rev)" });
  });

  it("none: a namespace with neither label and a pod without the label", () => {
    expect(istio()).toEqual({ inject: "no", reason: `${NOT_ENABLED} the template has no sidecar.istio.io/inject=true label` });
    // The object webhook's selector is `In ["true"]`: another value does not select it.
    expect(istio({ labels: { "sidecar.istio.io/inject": "True" } })).toEqual({ inject: "no", reason: `${NOT_ENABLED} its label sidecar.istio.io/inject is "True", not "true"` });
    // Objects are selected by labels: the older annotation does not opt a pod in.
    expect(istio({ annotations: { "sidecar.istio.io/inject": "true" } })).toEqual({
      inject: "no",
      reason: `${NOT_ENABLED} the annotation sidecar.istio.io/inject=true does not select a pod for injection, only the label does`,
    });
  });
});

describe("istioInjection: injectRequired on a pod a webhook sent", () => {
  it("hostNetwork: never", () => {
    expect(istio({ namespaceLabels: ENABLED, hostNetwork: true })).toEqual({ inject: "no", reason: "the template uses hostNetwork, where Istio's injector never adds its proxy" });
  });

  it("Istio's ignored namespaces: never, even labelled", () => {
    for (const ns of ["kube-system", "kube-public", "kube-node-lease", "local-path-storage"]) {
      expect(istio({ namespace: ns, namespaceLabels: ENABLED })).toEqual({
        inject: "no",
        reason: `Istio's injector never adds its proxy in namespace ${ns} (it ignores kube-system, kube-public, kube-node-lease, local-path-storage)`,
      });
    }
    expect(istio({ namespace: "istio-system", namespaceLabels: ENABLED }).inject).toBe("yes");
  });

  it("the pod label sidecar.istio.io/inject=false, and the older annotation where no label is set", () => {
    expect(istio({ namespaceLabels: ENABLED, labels: { "sidecar.istio.io/inject": "false" } })).toEqual({ inject: "no", reason: "the template is labelled sidecar.istio.io/inject=false" });
    expect(istio({ namespaceLabels: ENABLED, annotations: { "sidecar.istio.io/inject": "false" } })).toEqual({
      inject: "no",
      reason: "the template is annotated sidecar.istio.io/inject=false (Istio's older switch, still read)",
    });
  });

  it("the label wins over the annotation, also an empty one; a value other than true/false falls back to the default (inject)", () => {
    expect(istio({ namespaceLabels: ENABLED, labels: { "sidecar.istio.io/inject": "" }, annotations: { "sidecar.istio.io/inject": "false" } }).inject).toBe("yes");
    expect(istio({ labels: { "sidecar.istio.io/inject": "true" }, annotations: { "sidecar.istio.io/inject": "false" } }).inject).toBe("yes");
    expect(istio({ namespaceLabels: ENABLED, labels: { "sidecar.istio.io/inject": "yes" } }).inject).toBe("yes");
  });
});

describe("istioInjection: namespace labels not known", () => {
  it("unknown, unless the pod alone decides no", () => {
    const reason = "Istio's decision needs namespace shop's labels (istio-injection, istio.io/rev), which are not known";
    expect(istio({ namespaceLabels: undefined })).toEqual({ inject: "unknown", reason });
    expect(istio({ namespaceLabels: undefined, labels: { "sidecar.istio.io/inject": "true" } })).toEqual({ inject: "unknown", reason });
    expect(istio({ namespaceLabels: undefined, labels: { "sidecar.istio.io/inject": "false" } }).inject).toBe("no");
    expect(istio({ namespaceLabels: undefined, annotations: { "sidecar.istio.io/inject": "false" } }).inject).toBe("no");
    expect(istio({ namespaceLabels: undefined, hostNetwork: true }).inject).toBe("no");
    expect(istio({ namespace: "kube-system", namespaceLabels: undefined }).inject).toBe("no");
  });
});

describe("istioWebhooksOf: Istio's injector webhooks among a cluster's configurations", () => {
  it("keeps only *.sidecar-injector.istio.io entries, configurations in name order (the API server's calling order)", () => {
    const hookpoint = { metadata: { name: "zz-hookpoint" }, webhooks: [{ name: "namespace.inject.hookpoint.dev", namespaceSelector: {}, objectSelector: {} }] };
    expect(istioWebhooksOf([istioInstall("canary"), hookpoint, istioRevisionTag("prod", "canary"), istioInstall("")]).map((w) => `${w.configuration} ${w.name}`)).toEqual([
      "istio-revision-tag-prod rev.namespace.sidecar-injector.istio.io",
      "istio-revision-tag-prod rev.object.sidecar-injector.istio.io",
      "istio-sidecar-injector rev.namespace.sidecar-injector.istio.io",
      "istio-sidecar-injector rev.object.sidecar-injector.istio.io",
      "istio-sidecar-injector namespace.sidecar-injector.istio.io",
      "istio-sidecar-injector object.sidecar-injector.istio.io",
      "istio-sidecar-injector-canary rev.namespace.sidecar-injector.istio.io",
      "istio-sidecar-injector-canary rev.object.sidecar-injector.istio.io",
    ]);
  });
});

describe("istioInjection with the cluster's webhooks: the first whose selectors match the pod sends it", () => {
  const DEFAULT = istioWebhooksOf([istioInstall("")]);
  const WITH_CANARY = istioWebhooksOf([istioInstall(""), istioInstall("canary")]);
  const TAGGED = istioWebhooksOf([istioInstall("1-28"), istioRevisionTag("prod", "1-28")]);
  const NO_SELECTION = "no installed Istio webhook selects the template:";

  it("the default revision: istio-injection=enabled is sent by its namespace. webhook, named with its configuration", () => {
    expect(istio({ webhooks: DEFAULT, namespaceLabels: ENABLED })).toEqual({
      inject: "yes",
      reason: "namespace shop is labelled istio-injection=enabled (Istio's webhook namespace.sidecar-injector.istio.io of MutatingWebhookConfiguration istio-sidecar-injector selects it)",
    });
    expect(istio({ webhooks: DEFAULT, labels: { "sidecar.istio.io/inject": "true" } })).toEqual({
      inject: "yes",
      reason: "the template is labelled sidecar.istio.io/inject=true (Istio's webhook object.sidecar-injector.istio.io of MutatingWebhookConfiguration istio-sidecar-injector selects it)",
    });
  });

  it("istio.io/rev=canary: no, naming the labels and the missing revision, where only the default revision is installed; yes once canary is", () => {
    const canary = { "istio.io/rev": "canary" };
    expect(istio({ webhooks: DEFAULT, namespaceLabels: canary })).toEqual({
      inject: "no",
      reason: `${NO_SELECTION} namespace shop is labelled istio.io/rev=canary, and the template has no label sidecar.istio.io/inject or istio.io/rev; no revision or tag canary is installed (installed: default)`,
    });
    expect(istio({ webhooks: WITH_CANARY, namespaceLabels: canary })).toEqual({
      inject: "yes",
      reason: "namespace shop is labelled istio.io/rev=canary (Istio's webhook rev.namespace.sidecar-injector.istio.io of MutatingWebhookConfiguration istio-sidecar-injector-canary selects it)",
    });
    // Offline the same namespace is taken as injecting: the chart's webhooks for every revision are assumed.
    expect(istio({ namespaceLabels: canary }).inject).toBe("yes");
  });

  it("a revision tag selects like a revision; without a default revision istio-injection=enabled injects nothing", () => {
    expect(istio({ webhooks: TAGGED, namespaceLabels: { "istio.io/rev": "prod" } })).toEqual({
      inject: "yes",
      reason: "namespace shop is labelled istio.io/rev=prod (Istio's webhook rev.namespace.sidecar-injector.istio.io of MutatingWebhookConfiguration istio-revision-tag-prod selects it)",
    });
    expect(istio({ webhooks: TAGGED, labels: { "istio.io/rev": "prod" } })).toEqual({
      inject: "yes",
      reason: "the template is labelled istio.io/rev=prod (Istio's webhook rev.object.sidecar-injector.istio.io of MutatingWebhookConfiguration istio-revision-tag-prod selects it)",
    });
    expect(istio({ webhooks: TAGGED, labels: { "istio.io/rev": "canary" } })).toEqual({
      inject: "no",
      reason: `${NO_SELECTION} namespace shop has no label istio-injection or istio.io/rev, and the template is labelled istio.io/rev=canary; no revision or tag canary is installed (installed: prod, 1-28)`,
    });
    expect(istio({ webhooks: TAGGED, namespaceLabels: ENABLED })).toEqual({
      inject: "no",
      reason: `${NO_SELECTION} namespace shop is labelled istio-injection=enabled, and the template has no label sidecar.istio.io/inject or istio.io/rev`,
    });
  });

  it("istio-injection=disabled: no webhook selects the namespace, whatever the template's labels", () => {
    expect(istio({ webhooks: WITH_CANARY, namespaceLabels: { "istio-injection": "disabled" }, labels: { "sidecar.istio.io/inject": "true" } })).toEqual({
      inject: "no",
      reason: `${NO_SELECTION} namespace shop is labelled istio-injection=disabled, and the template is labelled sidecar.istio.io/inject=true`,
    });
    // Installing the revision the template names would not help: the namespace label turns every webhook away.
    expect(istio({ webhooks: WITH_CANARY, namespaceLabels: { "istio-injection": "disabled" }, labels: { "istio.io/rev": "foo" } })).toEqual({
      inject: "no",
      reason: `${NO_SELECTION} namespace shop is labelled istio-injection=disabled, and the template is labelled istio.io/rev=foo`,
    });
  });

  it("no Istio webhook in the cluster: no, and says so", () => {
    expect(istio({ webhooks: [], namespaceLabels: ENABLED })).toEqual({
      inject: "no",
      reason: "no Istio sidecar injector is installed: no MutatingWebhookConfiguration has a webhook named *.sidecar-injector.istio.io",
    });
  });

  it("the handler's own rules still apply to a pod a webhook selects", () => {
    const canary = { "istio.io/rev": "canary" };
    expect(istio({ webhooks: WITH_CANARY, namespaceLabels: canary, hostNetwork: true })).toEqual({ inject: "no", reason: "the template uses hostNetwork, where Istio's injector never adds its proxy" });
    expect(istio({ webhooks: WITH_CANARY, namespace: "kube-system", namespaceLabels: canary }).reason).toBe(
      "Istio's injector never adds its proxy in namespace kube-system (it ignores kube-system, kube-public, kube-node-lease, local-path-storage)",
    );
    expect(istio({ webhooks: WITH_CANARY, namespaceLabels: canary, annotations: { "sidecar.istio.io/inject": "false" } })).toEqual({
      inject: "no",
      reason: "the template is annotated sidecar.istio.io/inject=false (Istio's older switch, still read)",
    });
  });
});

describe("istioInjection with webhooks that select namespaces by name only", () => {
  it("no label to name: says their selectors do not select the namespace", () => {
    const byName = istioWebhooksOf([
      { metadata: { name: "istio-sidecar-injector" }, webhooks: [{ name: "namespace.sidecar-injector.istio.io", namespaceSelector: { matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "In", values: ["mesh"] }] } }] },
    ]);
    expect(istio({ webhooks: byName, namespaceLabels: { "kubernetes.io/metadata.name": "shop" } })).toEqual({
      inject: "no",
      reason: "no installed Istio webhook selects the template: their selectors do not select namespace shop",
    });
    expect(istio({ namespace: "mesh", webhooks: byName, namespaceLabels: { "kubernetes.io/metadata.name": "mesh" } })).toEqual({
      inject: "yes",
      reason: "namespace mesh holds the pod (Istio's webhook namespace.sidecar-injector.istio.io of MutatingWebhookConfiguration istio-sidecar-injector selects it)",
    });
  });
});

describe("istioInjection with the default revision's webhooks deactivated by istioctl tag set default", () => {
  // istioctl (DeactivateIstioInjectionWebhook) sets both selectors of every webhook of the old default revision to istio.io/deactivated=never-match.
  const never = { matchLabels: { "istio.io/deactivated": "never-match" } };
  const old = istioInstall("");
  const deactivated = { ...old, webhooks: old.webhooks.map((w) => ({ ...w, namespaceSelector: never, objectSelector: never })) };

  it("their label is not named as one the template could carry", () => {
    const webhooks = istioWebhooksOf([deactivated, istioInstall("canary"), istioRevisionTag("default", "canary")]);
    expect(istio({ webhooks, namespaceLabels: { "istio.io/rev": "foo" } })).toEqual({
      inject: "no",
      reason: "no installed Istio webhook selects the template: namespace shop is labelled istio.io/rev=foo, and the template has no label sidecar.istio.io/inject or istio.io/rev; no revision or tag foo is installed (installed: default, canary)",
    });
  });

  it("all of them deactivated: says so", () => {
    expect(istio({ webhooks: istioWebhooksOf([deactivated]), namespaceLabels: ENABLED })).toEqual({
      inject: "no",
      reason: "no installed Istio webhook selects the template: every one is deactivated (its selectors require the label istio.io/deactivated=never-match)",
    });
  });
});
