// hookpoint check's verdicts, pure: a healthy snapshot gives these exact lines,
// and each broken part turns exactly its line into ✘ with the fix.
import { describe, expect, it } from "vitest";
import type { Pod } from "../../../src/admission/pod.js";
import type { RoutedCondition } from "../../../src/admission/routing.js";
import { createCertificateAuthority, createServingCertificate } from "../../../src/certs/generate.js";
import { servingSubjectAltNames } from "../../../src/certs/names.js";
import { clusterChecks, type CheckSnapshot, type PolicyState } from "../../../src/check/cluster.js";
import { formatLines, summaryLine } from "../../../src/check/lines.js";
import { buildSnapshot } from "../../../src/policy/snapshot.js";
import type { HookpointPolicy } from "../../../src/policy/types.js";

const DAY = 86_400_000;
const NOW = new Date("2026-03-01T12:00:00Z");
const ca = createCertificateAuthority({ now: NOW });
const otherCa = createCertificateAuthority({ now: new Date(NOW.getTime() + 1000) });
const names = servingSubjectAltNames("hookpoint-webhook", "hookpoint-system");
const serving = createServingCertificate({ ca, commonName: "hookpoint-webhook.hookpoint-system.svc", ...names, now: NOW });
const CA_SUBJECT = `CN=hookpoint-webhook-ca@${NOW.getTime() / 1000}, O=hookpoint`;
const b64 = (s: string) => Buffer.from(s).toString("base64");
const IMAGE = "registry.example.com/hookpoint/proxy-istio:0.1.0-istio1.28.0";
const SETTINGS = { defaultImage: "hookpoint/proxy-istio:0.1.0-istio1.28.0", defaultScripts: [], knownScripts: [], version: "0.1.0", webhookNamespace: "hookpoint-system" };
const ROUTED: RoutedCondition = { type: "Routed", status: "True", reason: "Routed", message: "every pod this policy can inject is sent" };

function policy(name: string, spec: HookpointPolicy["spec"]): HookpointPolicy {
  return { apiVersion: "hookpoint.dev/v1alpha1", kind: "HookpointPolicy", metadata: { name, generation: 1 }, spec };
}
const DEFAULT_POLICY = policy("default", { mode: "OptIn", profiles: { default: { image: IMAGE } } });
const istioPod = (name: string, image = "docker.io/istio/proxyv2:1.28.0", traced = false): Pod => ({
  metadata: { name, labels: traced ? { "hookpoint.dev/injected": "true" } : {} },
  spec: { containers: [{ name: "app", image: "app:1" }, { name: "istio-proxy", image }] },
});
const plainPod = (name: string): Pod => ({ metadata: { name, labels: {} }, spec: { containers: [{ name: "app", image: "app:1" }] } });

function healthy(over: Partial<CheckSnapshot> = {}, opts: { policies?: HookpointPolicy[]; namespaces?: { name: string; labels: Record<string, string> }[] } = {}): CheckSnapshot {
  const policies = opts.policies ?? [DEFAULT_POLICY];
  const namespaces = opts.namespaces ?? [
    { name: "shop", labels: { "hookpoint.dev/inject": "enabled" } },
    { name: "other", labels: {} },
    { name: "gone", labels: { "hookpoint.dev/inject": "enabled" } },
  ];
  return {
    server: "https://127.0.0.1:6443",
    serverVersion: "v1.34.4",
    crd: { installed: true, established: true, versions: [{ name: "v1alpha1", served: true, storage: true }] },
    webhook: {
      found: true,
      name: "zz-hookpoint",
      entries: ["namespace.inject.hookpoint.dev", "pod.inject.hookpoint.dev"].map((name) => ({ name, service: { namespace: "hookpoint-system", name: "hookpoint-webhook", port: 443 }, caBundle: b64(ca.certPem) })),
    },
    endpoints: { kind: "service", service: "hookpoint-system/hookpoint-webhook", found: true, ready: ["10.0.0.5:8443", "10.0.0.6:8443"], notReady: 0 },
    serving: { source: "served", address: "10.0.0.5:8443", pem: serving.certPem },
    policies: policies.map((p): PolicyState => ({ name: p.metadata.name, accepted: true, message: "valid", inForce: "this", inForceGeneration: 1, routed: ROUTED })),
    decision: buildSnapshot(namespaces, policies, SETTINGS),
    terminating: ["gone"],
    pods: new Map([["shop", [istioPod("web-1", undefined, true), istioPod("web-2"), plainPod("job-1")]]]),
    istiod: [{ where: "istio-system", image: "docker.io/istio/pilot:1.28.0" }],
    defaultPodSecurity: { level: "privileged", from: "--default-pod-security of Deployment hookpoint-system/hookpoint-webhook" },
    defaultImage: SETTINGS.defaultImage,
    ...over,
  };
}

const HEALTHY = [
  "✔ API server: https://127.0.0.1:6443 (Kubernetes v1.34.4)",
  "✔ HookpointPolicy CRD: hookpointpolicies.hookpoint.dev installed, versions v1alpha1 (served, storage)",
  "✔ webhook configuration: MutatingWebhookConfiguration zz-hookpoint has 2 entries (namespace.inject.hookpoint.dev, pod.inject.hookpoint.dev)",
  `✔ caBundle: 2 entries, trusting "${CA_SUBJECT}"`,
  "✔ webhook endpoints: Service hookpoint-system/hookpoint-webhook has 2 ready endpoints (10.0.0.5:8443, 10.0.0.6:8443)",
  `✔ serving certificate: issued by "${CA_SUBJECT}" of the caBundle, names hookpoint-webhook.hookpoint-system.svc (served at 10.0.0.5:8443)`,
  "✔ certificate expiry: serving certificate valid until 2027-03-01T12:00:00.000Z (365 days), CA valid until 2036-02-27T12:00:00.000Z (3650 days)",
  "✔ policy default: Accepted, Routed",
  "✔ namespace shop: opted in (label hookpoint.dev/inject=enabled); 2 of 3 pods have istio-proxy, 1 traced",
  "✔ pod security: every opted-in namespace admits privileged pods (cluster default privileged, --default-pod-security of Deployment hookpoint-system/hookpoint-webhook)",
  `✔ tracing image: ${IMAGE} (policy default, profile default)`,
  "✔ Istio version: 1.28.0: the tracing images, istiod in istio-system (docker.io/istio/pilot:1.28.0), 2 proxies in shop",
];

const lines = (s: CheckSnapshot, now = NOW) => formatLines(clusterChecks(s, now)).trimEnd().split("\n");
/** The healthy lines with line `i` replaced by `replacement` (one or more lines). */
const healthyWith = (i: number, ...replacement: string[]) => [...HEALTHY.slice(0, i), ...replacement, ...HEALTHY.slice(i + 1)];
const FIX_CA =
  "self-managed: the webhook sets the caBundle from its Secret at start and every minute (is it running? its log says why not); cert-manager: check the cert-manager.io/inject-ca-from annotation of zz-hookpoint and that cainjector runs; by hand: see the README's development setup";

describe("hookpoint check: a healthy install", () => {
  it("passes every check, one line each", () => {
    expect(lines(healthy())).toEqual(HEALTHY);
    expect(summaryLine(clusterChecks(healthy(), NOW))).toBe("all 12 checks passed\n");
  });

  it("a webhook called by URL: no Service, the certificate must name the URL's address", () => {
    const entries = [{ name: "namespace.inject.hookpoint.dev", url: "https://127.0.0.1:8443/mutate", caBundle: b64(ca.certPem) }];
    const out = lines(healthy({ webhook: { found: true, name: "zz-hookpoint", entries }, endpoints: { kind: "url", urls: ["https://127.0.0.1:8443/mutate"] }, serving: { source: "served", address: "127.0.0.1:8443", pem: serving.certPem } }));
    expect(out.slice(2, 6)).toEqual([
      "✔ webhook configuration: MutatingWebhookConfiguration zz-hookpoint has 1 entry (namespace.inject.hookpoint.dev)",
      `✔ caBundle: 1 entry, trusting "${CA_SUBJECT}"`,
      "✔ webhook endpoints: the API server calls https://127.0.0.1:8443/mutate (a URL, no Service)",
      `✔ serving certificate: issued by "${CA_SUBJECT}" of the caBundle, names 127.0.0.1 (served at 127.0.0.1:8443)`,
    ]);
  });

  it("says when the certificate came from the Secret because no endpoint answered", () => {
    const out = lines(healthy({ serving: { source: "secret", secret: "hookpoint-system/hookpoint-webhook-tls", why: "not reachable from here (10.0.0.5:8443: connection timed out)", pem: serving.certPem } }));
    expect(out[5]).toBe(
      `✔ serving certificate: issued by "${CA_SUBJECT}" of the caBundle, names hookpoint-webhook.hookpoint-system.svc (from Secret hookpoint-system/hookpoint-webhook-tls; not reachable from here (10.0.0.5:8443: connection timed out))`,
    );
  });
});

describe("hookpoint check: each broken part fails its own line, with the fix", () => {
  it("no CRD", () => {
    const out = lines(healthy({ crd: { installed: false }, policies: [] }));
    expect(out.slice(1, 3)).toEqual([
      "✘ HookpointPolicy CRD: hookpointpolicies.hookpoint.dev is not installed: HookpointPolicies cannot be created, and the webhook applies its built-in defaults",
      "  fix: kubectl apply -k deploy/crd",
    ]);
    expect(out.filter((l) => /^. polic/.test(l))).toEqual([]);
  });

  it("a CRD that does not serve v1alpha1", () => {
    expect(lines(healthy({ crd: { installed: true, established: true, versions: [{ name: "v1", served: true, storage: true }] } })).slice(1, 3)).toEqual([
      "✘ HookpointPolicy CRD: hookpointpolicies.hookpoint.dev does not serve v1alpha1, which this hookpoint reads (versions v1 (served, storage))",
      "  fix: kubectl apply -k deploy/crd of this hookpoint version",
    ]);
  });

  it("no webhook configuration: the TLS checks that need it are not run", () => {
    const out = lines(healthy({ webhook: { found: false, name: "zz-hookpoint", problem: "MutatingWebhookConfiguration zz-hookpoint does not exist: no pod is sent to the webhook" } }));
    expect(out.slice(2, 5)).toEqual([
      "✘ webhook configuration: MutatingWebhookConfiguration zz-hookpoint does not exist: no pod is sent to the webhook",
      "  fix: kubectl apply -k deploy/overlays/<yours> (self-managed, cert-manager, ...)",
      HEALTHY[4],
    ]);
    expect(out.some((l) => /caBundle|serving certificate|expiry/.test(l))).toBe(false);
  });

  it("an empty caBundle", () => {
    const s = healthy();
    if (s.webhook.found) s.webhook.entries[1]!.caBundle = "";
    expect(lines(s)).toEqual(
      healthyWith(
        3,
        "✘ caBundle: entry pod.inject.hookpoint.dev: empty: the API server cannot verify the webhook, and failurePolicy Ignore admits those pods untraced",
        `  fix: ${FIX_CA}`,
      ),
    );
  });

  it("a caBundle of another CA: the served certificate does not verify", () => {
    const s = healthy();
    if (s.webhook.found) for (const e of s.webhook.entries) e.caBundle = b64(otherCa.certPem);
    const other = `CN=hookpoint-webhook-ca@${NOW.getTime() / 1000 + 1}, O=hookpoint`;
    const out = lines(s);
    expect(out[3]).toBe(`✔ caBundle: 2 entries, trusting "${other}"`);
    expect(out.slice(5, 8)).toEqual([
      `✘ serving certificate: not issued by the caBundle of entry namespace.inject.hookpoint.dev (the certificate's issuer is "${CA_SUBJECT}", the caBundle holds "${other}"); not issued by the caBundle of entry pod.inject.hookpoint.dev (the certificate's issuer is "${CA_SUBJECT}", the caBundle holds "${other}") (served at 10.0.0.5:8443): the API server refuses the TLS handshake, and failurePolicy Ignore admits pods untraced`,
      `  fix: make the caBundle the CA that issued the serving certificate: ${FIX_CA}`,
      "✔ certificate expiry: serving certificate valid until 2027-03-01T12:00:00.000Z (365 days)",
    ]);
  });

  it("a caBundle that still trusts the old CA next to the new one verifies (rotation)", () => {
    const s = healthy();
    if (s.webhook.found) for (const e of s.webhook.entries) e.caBundle = b64(otherCa.certPem + ca.certPem);
    expect(lines(s)[5]).toBe(HEALTHY[5]);
  });

  it("a serving certificate that does not name the Service", () => {
    const wrong = createServingCertificate({ ca, commonName: "elsewhere", dnsNames: ["elsewhere.example"], now: NOW });
    expect(lines(healthy({ serving: { source: "served", address: "10.0.0.5:8443", pem: wrong.certPem } }))[5]).toBe(
      "✘ serving certificate: does not name hookpoint-webhook.hookpoint-system.svc, which entry namespace.inject.hookpoint.dev calls; does not name hookpoint-webhook.hookpoint-system.svc, which entry pod.inject.hookpoint.dev calls (served at 10.0.0.5:8443): the API server refuses the TLS handshake, and failurePolicy Ignore admits pods untraced",
    );
  });

  it("no readable serving certificate at all", () => {
    expect(lines(healthy({ serving: { source: "none", problem: "the webhook is no endpoint to connect to, and Secret hookpoint-system/hookpoint-webhook-tls cannot be read: HTTP 404: not found" } })).slice(5, 7)).toEqual([
      "✘ serving certificate: cannot read it: the webhook is no endpoint to connect to, and Secret hookpoint-system/hookpoint-webhook-tls cannot be read: HTTP 404: not found",
      "  fix: kubectl -n hookpoint-system get secret hookpoint-webhook-tls; kubectl -n hookpoint-system logs deploy/hookpoint-webhook",
    ]);
  });

  it("no ready endpoints, and no Service", () => {
    expect(lines(healthy({ endpoints: { kind: "service", service: "hookpoint-system/hookpoint-webhook", found: true, ready: [], notReady: 2 } }))).toEqual(
      healthyWith(
        4,
        "✘ webhook endpoints: Service hookpoint-system/hookpoint-webhook has no ready endpoints (2 not ready): the API server cannot call the webhook, and failurePolicy Ignore admits pods untraced",
        "  fix: kubectl -n hookpoint-system get pods -l app.kubernetes.io/name=hookpoint-webhook; kubectl -n hookpoint-system logs deploy/hookpoint-webhook",
      ),
    );
    expect(lines(healthy({ endpoints: { kind: "service", service: "hookpoint-system/hookpoint-webhook", found: false } }))[4]).toBe(
      "✘ webhook endpoints: Service hookpoint-system/hookpoint-webhook does not exist: the API server cannot call the webhook, and failurePolicy Ignore admits pods untraced",
    );
  });

  it("a certificate with less than 7 days left, and an expired one", () => {
    const fix = "  fix: self-managed: restart the webhook (it renews at start; its log names a failed renewal); cert-manager: kubectl -n hookpoint-system describe certificate hookpoint-webhook";
    expect(lines(healthy(), new Date(NOW.getTime() + 360 * DAY)).slice(6, 8)).toEqual([
      "✘ certificate expiry: serving certificate valid until 2027-03-01T12:00:00.000Z (5 days), CA valid until 2036-02-27T12:00:00.000Z (3290 days): serving certificate with less than 7 days left, and its renewal (due with a third of the validity left) has not happened",
      fix,
    ]);
    expect(lines(healthy(), new Date(NOW.getTime() + 366 * DAY))[6]).toBe(
      "✘ certificate expiry: serving certificate expired 2027-03-01T12:00:00.000Z, CA valid until 2036-02-27T12:00:00.000Z (3284 days): serving certificate with less than 7 days left, and its renewal (due with a third of the validity left) has not happened",
    );
  });

  it("a policy not Accepted, one not Routed, one whose routing is unknown", () => {
    const s = healthy({
      policies: [
        { name: "broken", accepted: false, message: "spec.profiles.x.scripts: unknown script nope", inForce: "previous", inForceGeneration: 3 },
        { name: "default", accepted: true, message: "valid", inForce: "this", inForceGeneration: 1, routed: { ...ROUTED, status: "False", reason: "NotRouted", message: "MutatingWebhookConfiguration zz-hookpoint does not send the webhook X." } },
        { name: "third", accepted: true, message: "valid", inForce: "this", inForceGeneration: 1, routed: { ...ROUTED, status: "Unknown", reason: "ConfigurationUnknown", message: "cannot read it" } },
      ],
    });
    expect(lines(s).slice(7, 13)).toEqual([
      "✘ policy broken: not Accepted: spec.profiles.x.scripts: unknown script nope; its last accepted version (generation 3) governs pods instead",
      "  fix: correct its spec (kubectl edit hookpointpolicy broken); kubectl get hookpointpolicy broken -o yaml shows the condition",
      "✘ policy default: Accepted, not Routed: MutatingWebhookConfiguration zz-hookpoint does not send the webhook X.",
      "  fix: run the webhook with --manage-routing (the shipped Deployment does) and the base's RBAC (get/patch on zz-hookpoint), or apply deploy/components/cluster-wide",
      "✘ policy third: Accepted, Routed unknown: cannot read it",
      "  fix: see the webhook configuration check",
    ]);
  });

  it("an opted-in namespace whose pods have no proxy; one with no pods yet", () => {
    const s = healthy({ pods: new Map([["shop", [plainPod("a"), plainPod("b")]]]) });
    expect(lines(s).slice(8, 10)).toEqual([
      "✘ namespace shop: opted in (label hookpoint.dev/inject=enabled), but none of its 2 pods has a container named istio-proxy: hookpoint only rewrites a proxy the mesh added",
      "  fix: enable Istio's injection there (kubectl label namespace shop istio-injection=enabled, or istio.io/rev=REVISION) and restart its workloads",
    ]);
    const istioless = lines(healthy({ pods: new Map() }));
    expect(istioless[8]).toBe("✔ namespace shop: opted in (label hookpoint.dev/inject=enabled); no pods yet");
    expect(istioless[11]).toBe("✔ Istio version: 1.28.0: the tracing images, istiod in istio-system (docker.io/istio/pilot:1.28.0)");
  });

  it("a namespace opted in by a policy with mode Enabled, and one opted in but excluded", () => {
    const enabled = policy("payments", { mode: "Enabled", priority: 10, namespaceSelector: { matchLabels: { team: "payments" } }, profiles: { default: { image: IMAGE } } });
    const s = healthy(
      { pods: new Map([["pay", [istioPod("p")]]]) },
      { policies: [enabled, DEFAULT_POLICY], namespaces: [{ name: "pay", labels: { team: "payments" } }, { name: "kube-system", labels: { "hookpoint.dev/inject": "enabled" } }] },
    );
    const out = lines(s);
    expect(out.slice(7, 13)).toEqual([
      "✔ policy payments: Accepted, Routed",
      "✔ policy default: Accepted, Routed",
      "✘ namespace kube-system: opted in (label hookpoint.dev/inject=enabled), but its pods are not traced: namespace kube-system is excluded by HookpointPolicy default",
      "  fix: hookpoint explain --kubeconfig ... -f a workload of kube-system shows each rule",
      "✔ namespace pay: opted in (HookpointPolicy payments has mode Enabled); 1 of 1 pods have istio-proxy, 0 traced",
      "✔ pod security: every opted-in namespace admits privileged pods (cluster default privileged, --default-pod-security of Deployment hookpoint-system/hookpoint-webhook)",
    ]);
  });

  it("Pod Security: a namespace enforcing restricted, and namespaces without a label under a baseline cluster default", () => {
    const s = healthy({}, { namespaces: [{ name: "shop", labels: { "hookpoint.dev/inject": "enabled", "pod-security.kubernetes.io/enforce": "restricted" } }] });
    expect(lines(s).slice(9, 11)).toEqual([
      '✘ pod security: namespace shop enforces Pod Security "restricted" (label pod-security.kubernetes.io/enforce): hookpoint skips its pods, which would be rejected with the privileged tracing container',
      "  fix: kubectl label namespace shop pod-security.kubernetes.io/enforce=privileged --overwrite, if privileged tracing containers are acceptable there; otherwise opt the namespace out",
    ]);
    const byDefault = lines(healthy({ defaultPodSecurity: { level: "baseline", from: "--default-pod-security of Deployment hookpoint-system/hookpoint-webhook" } }));
    expect(byDefault[9]).toBe(
      '✘ pod security: namespace shop enforces Pod Security "baseline" (the cluster\'s default, --default-pod-security): hookpoint skips its pods, which would be rejected with the privileged tracing container',
    );
  });

  it("the placeholder tracing image, an untagged one, an invalid one", () => {
    const p = policy("default", { mode: "OptIn", profiles: { default: {}, lean: { image: "registry.example.com/proxy" }, bad: { image: "Registry/UPPER:x" } } });
    const out = lines(healthy({}, { policies: [p] }));
    expect(out.slice(10, 16)).toEqual([
      "✘ tracing image: Registry/UPPER:x (policy default, profile bad) is not a valid image reference",
      "  fix: set the profile's image to REGISTRY/hookpoint/proxy-istio:TAG",
      "✘ tracing image: hookpoint/proxy-istio:0.1.0-istio1.28.0 (policy default, profile default) is the placeholder name nobody publishes: traced pods would fail to pull it",
      "  fix: build deploy/images/proxy-istio.Dockerfile, push it to your registry and point the profile at it (kustomize edit set image hookpoint/proxy-istio=REGISTRY/hookpoint/proxy-istio:TAG)",
      "✘ tracing image: registry.example.com/proxy (policy default, profile lean) has no tag: nodes would pull :latest, whatever it is then",
      "  fix: name a tag or digest, e.g. REGISTRY/hookpoint/proxy-istio:0.1.0-istio1.28.0",
    ]);
  });

  it("tracing images behind an IPv6 registry, pinned by digest, and the placeholder under Docker Hub's legacy name", () => {
    const digest = `sha384:${"b".repeat(96)}`;
    const p = policy("default", {
      mode: "OptIn",
      profiles: {
        default: { image: `[fd00::1]:5000/hookpoint/proxy-istio@${digest}` },
        port: { image: "[fd00::1]:5000/hookpoint/proxy-istio" },
        legacy: { image: "index.docker.io/hookpoint/proxy-istio:0.1.0-istio1.28.0" },
      },
    });
    const out = lines(healthy({}, { policies: [p] }));
    expect(out.slice(10, 15)).toEqual([
      `✔ tracing image: [fd00::1]:5000/hookpoint/proxy-istio@${digest} (policy default, profile default)`,
      "✘ tracing image: index.docker.io/hookpoint/proxy-istio:0.1.0-istio1.28.0 (policy default, profile legacy) is the placeholder name nobody publishes: traced pods would fail to pull it",
      "  fix: build deploy/images/proxy-istio.Dockerfile, push it to your registry and point the profile at it (kustomize edit set image hookpoint/proxy-istio=REGISTRY/hookpoint/proxy-istio:TAG)",
      "✘ tracing image: [fd00::1]:5000/hookpoint/proxy-istio (policy default, profile port) has no tag: nodes would pull :latest, whatever it is then",
      "  fix: name a tag or digest, e.g. REGISTRY/hookpoint/proxy-istio:0.1.0-istio1.28.0",
    ]);
  });

  it("istiod's and the proxies' versions behind an IPv6 registry with a port, pinned by digest", () => {
    const pilot = `[fd00::1]:5000/istio/pilot:1.27.1-distroless@sha256:${"a".repeat(64)}`;
    const proxy = `[fd00::1]:5000/istio/proxyv2:1.27.1@sha512:${"c".repeat(128)}`;
    const s = healthy({ istiod: [{ where: "istio-system", image: pilot }], pods: new Map([["shop", [istioPod("a", proxy)]]]) });
    expect(lines(s).slice(11)).toEqual([
      `✘ Istio version: ${IMAGE} is built for Istio 1.28.0, but the cluster runs Istio 1.27.1 (istiod in istio-system (${pilot}), 1 proxy in shop)`,
      "  fix: build deploy/images/proxy-istio.Dockerfile with --build-arg ISTIO_VERSION=1.27.1 and set it as the profiles' image",
    ]);
  });

  it("a tracing image built for another Istio than the cluster runs", () => {
    const s = healthy({ istiod: [{ where: "istio-system", image: "docker.io/istio/pilot:1.27.1" }], pods: new Map([["shop", [istioPod("a", "docker.io/istio/proxyv2:1.27.1")]]]) });
    expect(lines(s).slice(11)).toEqual([
      `✘ Istio version: ${IMAGE} is built for Istio 1.28.0, but the cluster runs Istio 1.27.1 (istiod in istio-system (docker.io/istio/pilot:1.27.1), 1 proxy in shop)`,
      "  fix: build deploy/images/proxy-istio.Dockerfile with --build-arg ISTIO_VERSION=1.27.1 and set it as the profiles' image",
    ]);
    expect(summaryLine(clusterChecks(s, NOW))).toBe("1 of 12 checks failed\n");
  });
});
