// `hookpoint enable --workload`'s check before any change, pure: the webhook's own
// decision for each annotated template on given cluster inputs, and the exact refusal.
import { describe, expect, it } from "vitest";
import type { RoutedCondition } from "../../../src/admission/routing.js";
import { istioWebhooksOf } from "../../../src/admission/istio-injection.js";
import { checkOptIn, type TemplateToCheck } from "../../../src/cli/enable-check.js";
import type { LiveInputs } from "../../../src/cli/explain-cluster.js";
import type { IstioWebhooksRead } from "../../../src/k8s/istio-webhooks.js";
import { istioInstall } from "../../support/istio-webhooks.js";
import { buildSnapshot } from "../../../src/policy/snapshot.js";
import type { HookpointPolicy, NamespaceInfo } from "../../../src/policy/types.js";

const SETTINGS = { defaultImage: "hookpoint/proxy-istio:0.1.0-istio1.28.0", defaultScripts: [], knownScripts: [], version: "0.1.0", webhookNamespace: "hookpoint-system" };
const NAMESPACES: NamespaceInfo[] = [
  { name: "shop", labels: {} },
  { name: "open", labels: { "hookpoint.dev/inject": "enabled" } },
  { name: "vetoed", labels: { "hookpoint.dev/inject": "disabled" } },
  { name: "team", labels: { team: "a" } },
  { name: "mesh", labels: { "hookpoint.dev/inject": "enabled", "istio-injection": "enabled" } },
];

function policy(name: string, spec: HookpointPolicy["spec"]): HookpointPolicy {
  return { apiVersion: "hookpoint.dev/v1alpha1", kind: "HookpointPolicy", metadata: { name, generation: 1 }, spec };
}

/** Istio's default install, as the cluster's MutatingWebhookConfigurations list it. */
const DEFAULT_ISTIO: IstioWebhooksRead = { ok: true, webhooks: istioWebhooksOf([istioInstall("")]) };

function live(policies: HookpointPolicy[] = [], routing: { sends?: boolean; routed?: RoutedCondition } = {}, istioWebhooks: IstioWebhooksRead = DEFAULT_ISTIO): LiveInputs {
  return { snapshot: buildSnapshot(NAMESPACES, policies, SETTINGS), routed: () => routing.routed, sends: () => routing.sends, istioWebhooks };
}

const optInRefusal = (...args: Parameters<typeof checkOptIn>) => checkOptIn(...args).refusal;

function template(label: string, over: { annotations?: Record<string, string>; labels?: Record<string, string>; hostNetwork?: boolean; proxy?: boolean } = {}): TemplateToCheck {
  const containers = [{ name: "app", image: "app:1" }, ...(over.proxy === false ? [] : [{ name: "istio-proxy", image: "docker.io/istio/proxyv2:1.28.0" }])];
  const name = label.slice(label.indexOf("/") + 1);
  return { label, name, template: { metadata: { labels: { app: "web", ...over.labels }, ...(over.annotations ? { annotations: over.annotations } : {}) }, spec: { containers, ...(over.hostNetwork ? { hostNetwork: true } : {}) } } };
}

const WEB = (ns: string) => template(`Deployment ${ns}/web`);

describe("checkOptIn: the refusal", () => {
  it("refuses where the built-in defaults govern and the namespace is not labelled, naming both fixes", () => {
    expect(optInRefusal(live(), SETTINGS, "shop", [WEB("shop")])).toBe(
      "not enabled, nothing was changed: Deployment shop/web: pod opt-in is not allowed in namespace shop: it is not labelled hookpoint.dev/inject=enabled and the built-in default policy (no HookpointPolicy selects the pod) has no allowPodOptIn selecting it; " +
        "opt the whole namespace in with hookpoint enable -n shop (label hookpoint.dev/inject=enabled), or add a HookpointPolicy whose allowPodOptIn selects it",
    );
  });

  it("refuses under a policy whose allowPodOptIn does not select the namespace, naming the policy", () => {
    const p = policy("team-a", { namespaceSelector: { matchLabels: { team: "a" } }, allowPodOptIn: { matchLabels: { pods: "allowed" } } });
    expect(optInRefusal(live([p]), SETTINGS, "team", [WEB("team")])).toBe(
      "not enabled, nothing was changed: Deployment team/web: pod opt-in is not allowed in namespace team: it is not labelled hookpoint.dev/inject=enabled and HookpointPolicy team-a has no allowPodOptIn selecting it; " +
        "opt the whole namespace in with hookpoint enable -n team (label hookpoint.dev/inject=enabled), or add an allowPodOptIn in HookpointPolicy team-a that selects it",
    );
  });

  it("lets it through where the policy allows pod opt-in or the namespace is labelled enabled, even over a template annotated \"false\"", () => {
    const p = policy("team-a", { namespaceSelector: { matchLabels: { team: "a" } }, allowPodOptIn: { matchLabels: { team: "a" } } });
    const optedOut = template("Deployment team/web", { annotations: { "hookpoint.dev/inject": "false" } });
    expect(optInRefusal(live([p]), SETTINGS, "team", [optedOut])).toBeUndefined();
    expect(optInRefusal(live(), SETTINGS, "open", [WEB("open")])).toBeUndefined();
  });

  it("gives the decision's own reason when the webhook would skip for another one, and lists only the refused workloads", () => {
    const allowAll = policy("all", { allowPodOptIn: {}, excludedNamespaces: ["shop"] });
    expect(optInRefusal(live([allowAll]), SETTINGS, "team", [WEB("team"), template("DaemonSet team/node", { hostNetwork: true }), template("StatefulSet team/db", { proxy: false })])).toBe(
      "not enabled, nothing was changed: DaemonSet team/node: the webhook would not inject its pods: pod uses hostNetwork (decided by host-network, reason host-network, under HookpointPolicy all); " +
        "StatefulSet team/db: the webhook would not inject its pods: no container named istio-proxy, and Istio's injector would not add one: no installed Istio webhook selects the template: namespace team has no label istio-injection or istio.io/rev, and the template has no label sidecar.istio.io/inject or istio.io/rev (decided by target-container, reason no-target-container, under HookpointPolicy all)",
    );
    expect(optInRefusal(live([allowAll]), SETTINGS, "shop", [WEB("shop")])).toBe(
      "not enabled, nothing was changed: Deployment shop/web: the webhook would not inject its pods: namespace shop is excluded by HookpointPolicy all (decided by excluded-namespace, reason namespace-excluded, under HookpointPolicy all)",
    );
    expect(optInRefusal(live(), SETTINGS, "vetoed", [WEB("vetoed")])).toBe(
      "not enabled, nothing was changed: Deployment vetoed/web: the webhook would not inject its pods: namespace vetoed is labelled hookpoint.dev/inject=disabled (decided by namespace-label, reason namespace-disabled, under the built-in default policy (no HookpointPolicy selects the pod))",
    );
  });

  it("a template without istio-proxy (Istio's automatic injection): decided on the pod Istio hands over, else says why Istio adds none", () => {
    const plain = (ns: string, labels?: Record<string, string>) => template(`Deployment ${ns}/web`, { proxy: false, ...(labels ? { labels } : {}) });
    expect(optInRefusal(live(), SETTINGS, "mesh", [plain("mesh")])).toBeUndefined();
    expect(optInRefusal(live(), SETTINGS, "open", [plain("open")])).toBe(
      "not enabled, nothing was changed: Deployment open/web: the webhook would not inject its pods: no container named istio-proxy, and Istio's injector would not add one: " +
        "no installed Istio webhook selects the template: namespace open has no label istio-injection or istio.io/rev, and the template has no label sidecar.istio.io/inject or istio.io/rev " +
        "(decided by target-container, reason no-target-container, under the built-in default policy (no HookpointPolicy selects the pod))",
    );
    expect(optInRefusal(live(), SETTINGS, "mesh", [plain("mesh", { "sidecar.istio.io/inject": "false" })])).toBe(
      "not enabled, nothing was changed: Deployment mesh/web: the webhook would not inject its pods: no container named istio-proxy, and Istio's injector would not add one: " +
        "the template is labelled sidecar.istio.io/inject=false (decided by target-container, reason no-target-container, under the built-in default policy (no HookpointPolicy selects the pod))",
    );
    // Opted in by its own label where the namespace has no Istio label: Istio's object webhook adds the proxy.
    expect(optInRefusal(live(), SETTINGS, "open", [plain("open", { "sidecar.istio.io/inject": "true" })])).toBeUndefined();
  });

  it("refuses a template the webhook would deny, and one the webhook configuration does not send", () => {
    const asksImage = template("Deployment open/web", { annotations: { "hookpoint.dev/image": "evil.example.com/x:1" } });
    expect(optInRefusal(live(), SETTINGS, "open", [asksImage])).toBe(
      'not enabled, nothing was changed: Deployment open/web: the webhook would refuse to admit its pods: image "evil.example.com/x:1" from annotation hookpoint.dev/image is not allowed by the built-in default policy: it allows no image by annotation (allowedImages is empty)',
    );
    const routed: RoutedCondition = { type: "Routed", status: "False", reason: "NotRouted", message: "no entry of zz-hookpoint sends annotated pods" };
    expect(optInRefusal(live([], { sends: false, routed }), SETTINGS, "open", [WEB("open")])).toBe(
      "not enabled, nothing was changed: Deployment open/web: the webhook would inject its pods, but MutatingWebhookConfiguration zz-hookpoint does not send them to it: no entry of zz-hookpoint sends annotated pods",
    );
    // Routing unknown (the user may not read the configuration): not a refusal.
    expect(optInRefusal(live([], {}), SETTINGS, "open", [WEB("open")])).toBeUndefined();
  });
});

describe("checkOptIn: templates Istio's injector completes", () => {
  const plain = (ns: string) => template(`Deployment ${ns}/web`, { proxy: false });

  it("accepted because Istio adds the proxy: one line saying so and why; none for a template that has its proxy", () => {
    expect(checkOptIn(live(), SETTINGS, "mesh", [plain("mesh"), template("StatefulSet mesh/db")])).toEqual({
      refusal: undefined,
      istioAdds: [
        "Deployment mesh/web: Istio's injector adds its istio-proxy container (Istio's default sidecar template) to its pods: namespace mesh is labelled istio-injection=enabled (Istio's webhook namespace.sidecar-injector.istio.io of MutatingWebhookConfiguration istio-sidecar-injector selects it)",
      ],
    });
  });

  it("webhooks not listable (RBAC): Istio's default install is assumed, and the line says so", () => {
    const forbidden: IstioWebhooksRead = { ok: false, problem: "cannot list MutatingWebhookConfigurations: HTTP 403: forbidden" };
    expect(checkOptIn(live([], {}, forbidden), SETTINGS, "mesh", [plain("mesh")])).toEqual({
      refusal: undefined,
      istioAdds: [
        "Deployment mesh/web: Istio's injector adds its istio-proxy container (Istio's default sidecar template) to its pods: namespace mesh is labelled istio-injection=enabled (assumed: Istio's webhooks are those of its default install: cannot list MutatingWebhookConfigurations: HTTP 403: forbidden)",
      ],
    });
  });

  it("no Istio in the cluster: refused, saying so", () => {
    expect(checkOptIn(live([], {}, { ok: true, webhooks: [] }), SETTINGS, "mesh", [plain("mesh")])).toEqual({
      refusal:
        "not enabled, nothing was changed: Deployment mesh/web: the webhook would not inject its pods: no container named istio-proxy, and Istio's injector would not add one: " +
        "no Istio sidecar injector is installed: no MutatingWebhookConfiguration has a webhook named *.sidecar-injector.istio.io (decided by target-container, reason no-target-container, under the built-in default policy (no HookpointPolicy selects the pod))",
      istioAdds: [],
    });
  });
});
