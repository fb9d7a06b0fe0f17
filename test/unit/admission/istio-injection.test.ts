// Istio's own injection rules (istio/istio: istio-discovery templates/mutatingwebhook.yaml,
// pkg/kube/inject/inject.go injectRequired, initializer.go IgnoredNamespaces), one test per rule.
import { describe, expect, it } from "vitest";
import { istioInjection, type IstioInjectionInput } from "../../../src/admission/istio-injection.js";

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
