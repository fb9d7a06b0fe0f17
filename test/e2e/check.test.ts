// `hookpoint check` against the real API server: an install as deploy/base
// makes it (CRD, default policy, Service, Deployment, zz-hookpoint calling the
// Service), its certificate served over TLS by a process at the Service's one
// endpoint (an address of a network namespace this test creates, as the
// API server refuses loopback endpoints), an opted-in namespace with an Istio
// pod and an istiod Deployment. Healthy, every line passes and the exit code is
// 0; then each part is broken in turn (and restored), and exactly its line
// fails, with its fix, and the exit code is 1.
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { X509Certificate } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, type TestContext } from "vitest";
import type { KubeConfig } from "@kubernetes/client-node";
import { createCertificateAuthority, createServingCertificate, type KeyPairPem } from "../../src/certs/generate.js";
import { servingSubjectAltNames } from "../../src/certs/names.js";
import { loadCatalog } from "../../src/catalog/catalog.js";
import { runCliAsync, type CliResult } from "../support/cli.js";
import { applyCrd, applyServed, CRD_NAME, installBase, pick, registerWebhookConfiguration, renderOrSkip, WEBHOOK_CONFIGURATION, WEBHOOK_NAMESPACE, type K8sObject } from "./support/deploy.js";
import { useCluster } from "./support/e2e.js";
import { apply, kubeRequest, ok, remove } from "./support/kube-http.js";
import { createPodNetwork, type PodNetwork } from "./support/netns.js";
import { createPod, probePod } from "./support/pods.js";
import { pollUntil } from "./support/poll.js";
import { freePort } from "./support/webhook.js";

const e2e = useCluster();
const IMAGE = "registry.example.com/hookpoint/proxy-istio:0.1.0-istio1.28.0";
const SECRET = "hookpoint-webhook-tls";
const b64 = (s: string) => Buffer.from(s).toString("base64");
const clone = <T>(o: T): T => structuredClone(o);
const subject = (pem: string) => new X509Certificate(pem).subject.split("\n").join(", ");
const until = (pem: string) => new Date(new X509Certificate(pem).validTo).toISOString();

/** A TLS server in the network namespace, serving `cert` at address:8443 (what the webhook pod would serve). */
function serveTls(net: PodNetwork, address: string, dir: string, cert: KeyPairPem): Promise<ChildProcess> {
  writeFileSync(join(dir, "served.crt"), cert.certPem);
  writeFileSync(join(dir, "served.key"), cert.keyPem);
  const script = `const fs=require("fs");require("tls").createServer({cert:fs.readFileSync(process.argv[1]+"/served.crt"),key:fs.readFileSync(process.argv[1]+"/served.key")},(s)=>s.end()).listen(8443,process.argv[2],()=>console.log("listening"));`;
  const child = net.spawn(process.execPath, ["-e", script, dir, address]);
  return new Promise((resolve, reject) => {
    let err = "";
    child.stderr?.on("data", (d: Buffer) => (err += d.toString()));
    child.stdout?.on("data", (d: Buffer) => d.toString().includes("listening") && resolve(child));
    child.once("exit", (code) => reject(new Error(`TLS server exited ${code}: ${err}`)));
  });
}

interface Install {
  admin: KubeConfig;
  kubeconfig: string;
  server: string;
  serverVersion: string;
  net: PodNetwork;
  dir: string;
  ca: KeyPairPem;
  serving: KeyPairPem;
  tls: ChildProcess;
  configuration: K8sObject;
  policy: K8sObject;
  slice: K8sObject;
  istiod: K8sObject;
  shop: string;
  istioNs: string;
  /** The lines of the healthy install, in order. */
  healthy: string[];
}

let install: Install | undefined;
let pending: Promise<Install> | undefined;
const cleanup: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step();
});

const check = (i: Install, ...extra: string[]): Promise<CliResult> => runCliAsync(["check", "--kubeconfig", i.kubeconfig, ...extra]);
const out = (r: CliResult) => r.stdout.trimEnd().split("\n");

async function setUp(ctx: TestContext): Promise<Install> {
  const { admin, cluster } = e2e.require(ctx);
  const objs = renderOrSkip(ctx, "base");
  const net = createPodNetwork(1);
  if (typeof net === "string") return ctx.skip(net);
  cleanup.push(() => net.close());
  const dir = mkdtempSync(join(tmpdir(), "hookpoint-e2e-check-"));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));

  await installBase(admin);
  // Policies other files left behind would add their own lines: this file starts from the default policy alone.
  const policies = ok(await kubeRequest<{ items: K8sObject[] }>(admin, { method: "GET", path: "/apis/hookpoint.dev/v1alpha1/hookpointpolicies" }), "list policies").body.items;
  for (const p of policies) if (p.metadata.name !== "default") await remove(admin, { apiVersion: "hookpoint.dev/v1alpha1", kind: "HookpointPolicy", metadata: { name: p.metadata.name } });
  const basePolicy = pick(objs, "HookpointPolicy", "default");
  const policy = clone(basePolicy);
  policy.spec.profiles.default.image = IMAGE;
  ok(await applyServed(admin, policy), "apply the default policy with a pullable image");
  cleanup.push(async () => void (await applyServed(admin, basePolicy)));

  const ca = createCertificateAuthority();
  const serving = createServingCertificate({ ca, commonName: "hookpoint-webhook.hookpoint-system.svc", ...servingSubjectAltNames("hookpoint-webhook", WEBHOOK_NAMESPACE) });
  const secret = { apiVersion: "v1", kind: "Secret", metadata: { name: SECRET, namespace: WEBHOOK_NAMESPACE }, type: "kubernetes.io/tls", data: { "tls.crt": b64(serving.certPem), "tls.key": b64(serving.keyPem), "ca.crt": b64(ca.certPem) } };
  ok(await apply(admin, secret), "apply the TLS Secret");
  cleanup.push(() => remove(admin, secret));
  const service = clone(pick(objs, "Service", "hookpoint-webhook"));
  ok(await apply(admin, service), "apply the Service");
  cleanup.push(() => remove(admin, service));
  const deployment = clone(pick(objs, "Deployment", "hookpoint-webhook"));
  ok(await apply(admin, deployment), "apply the Deployment");
  cleanup.push(() => remove(admin, deployment));
  const address = net.addresses[0]!;
  const slice: K8sObject = {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { name: "hookpoint-webhook-e2e", namespace: WEBHOOK_NAMESPACE, labels: { "kubernetes.io/service-name": "hookpoint-webhook" } },
    addressType: "IPv4",
    ports: [{ name: "https", port: 8443, protocol: "TCP" }],
    endpoints: [{ addresses: [address], conditions: { ready: true } }],
  } as K8sObject;
  ok(await apply(admin, slice), "apply the EndpointSlice");
  cleanup.push(() => remove(admin, slice));
  const tls = await serveTls(net, address, dir, serving);

  // Pods first, while no configuration sends them anywhere; then the opt-in label.
  const shop = await e2e.namespace("check-shop");
  await createPod(admin, shop, probePod("web"));
  ok(await kubeRequest(admin, { method: "PATCH", path: `/api/v1/namespaces/${shop}`, contentType: "application/merge-patch+json", body: { metadata: { labels: { "hookpoint.dev/inject": "enabled" } } } }), "label the namespace");
  const istioNs = await e2e.namespace("check-istio");
  const istiod: K8sObject = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "istiod", namespace: istioNs, labels: { app: "istiod" } },
    spec: { replicas: 1, selector: { matchLabels: { app: "istiod" } }, template: { metadata: { labels: { app: "istiod" } }, spec: { containers: [{ name: "discovery", image: "docker.io/istio/pilot:1.28.0" }] } } },
  } as K8sObject;
  ok(await apply(admin, istiod), "apply istiod");
  cleanup.push(() => remove(admin, istiod));

  const configuration = clone(pick(objs, "MutatingWebhookConfiguration", WEBHOOK_CONFIGURATION));
  for (const w of configuration.webhooks as { clientConfig: { caBundle?: string } }[]) w.clientConfig.caBundle = b64(ca.certPem);
  await registerWebhookConfiguration(admin, configuration);
  cleanup.push(() => remove(admin, configuration));

  const version = ok(await kubeRequest<{ gitVersion: string }>(admin, { method: "GET", path: "/version" }), "get /version").body.gitVersion;
  const caSubject = subject(ca.certPem);
  const healthy = [
    `✔ API server: ${cluster.server} (Kubernetes ${version})`,
    "✔ HookpointPolicy CRD: hookpointpolicies.hookpoint.dev installed, versions v1alpha1 (served, storage)",
    "✔ webhook configuration: MutatingWebhookConfiguration zz-hookpoint has 2 entries (namespace.inject.hookpoint.dev, pod.inject.hookpoint.dev)",
    `✔ caBundle: 2 entries, trusting "${caSubject}"`,
    `✔ webhook endpoints: Service hookpoint-system/hookpoint-webhook has 1 ready endpoint (${address}:8443)`,
    `✔ serving certificate: issued by "${caSubject}" of the caBundle, names hookpoint-webhook.hookpoint-system.svc (served at ${address}:8443)`,
    `✔ certificate expiry: serving certificate valid until ${until(serving.certPem)} (364 days), CA valid until ${until(ca.certPem)} (3649 days)`,
    "✔ policy default: Accepted, Routed",
    `✔ namespace ${shop}: opted in (label hookpoint.dev/inject=enabled); 1 of 1 pods have istio-proxy, 0 traced`,
    "✔ pod security: every opted-in namespace admits privileged pods (cluster default privileged, --default-pod-security of Deployment hookpoint-system/hookpoint-webhook)",
    `✔ tracing image: ${IMAGE} (policy default, profile default)`,
    `✔ Istio version: 1.28.0: the tracing images, istiod in ${istioNs} (docker.io/istio/pilot:1.28.0), 1 proxy in ${shop}`,
  ];
  return { admin, kubeconfig: cluster.kubeconfigPath, server: cluster.server, serverVersion: version, net, dir, ca, serving, tls, configuration, policy, slice, istiod, shop, istioNs, healthy };
}

/** The install, set up once for the file (the first test that runs sets it up). */
async function healthyInstall(ctx: TestContext): Promise<Install> {
  if (install) return install;
  pending ??= setUp(ctx);
  install = await pending;
  return install;
}

/** The healthy lines with those starting like `replace`'s keys replaced (by zero or more lines). */
function healthyWith(i: Install, replace: Record<string, string[]>): string[] {
  return i.healthy.flatMap((l) => {
    const key = Object.keys(replace).find((k) => l.startsWith(k));
    return key ? (replace[key] ?? []) : [l];
  });
}

/** Runs check: the healthy lines with `replace` applied, then `summary`, and the exit code. */
async function expectCheck(i: Install, replace: Record<string, string[]>, summary: string, code: number): Promise<void> {
  const r = await check(i);
  expect(out(r)).toEqual([...healthyWith(i, replace), summary]);
  expect(r.code).toBe(code);
}

async function patchSlice(i: Install, endpoints: unknown[]): Promise<void> {
  ok(await apply(i.admin, { ...clone(i.slice), endpoints } as K8sObject), "apply the EndpointSlice");
}

describe("hookpoint check against the real API server", () => {
  it("a healthy install: every check passes, exit code 0", async (ctx) => {
    const i = await healthyInstall(ctx);
    const r = await check(i);
    expect(r.stderr).toBe("");
    expect(out(r)).toEqual([...i.healthy, "all 12 checks passed"]);
    expect(r.code).toBe(0);
    const json = JSON.parse((await check(i, "-o", "json")).stdout) as { ok: boolean; checks: { name: string; ok: boolean }[] };
    expect(json.ok).toBe(true);
    expect(json.checks.map((c) => c.name)).toEqual(i.healthy.map((l) => l.slice(2, l.indexOf(":"))));
  });

  it("no webhook configuration", async (ctx) => {
    const i = await healthyInstall(ctx);
    await remove(i.admin, i.configuration);
    try {
      await expectCheck(i, {
          "✔ webhook configuration": [
            "✘ webhook configuration: MutatingWebhookConfiguration zz-hookpoint does not exist: no pod is sent to the webhook",
            "  fix: kubectl apply -k deploy/overlays/<yours> (self-managed, cert-manager, ...)",
          ],
          "✔ caBundle": [],
          "✔ serving certificate": [],
          "✔ certificate expiry": [],
          "✔ policy default": [
            "✘ policy default: Accepted, Routed unknown: MutatingWebhookConfiguration zz-hookpoint does not exist: no pod is sent to the webhook",
            "  fix: see the webhook configuration check",
          ],
      }, "2 of 9 checks failed", 1);
    } finally {
      await registerWebhookConfiguration(i.admin, i.configuration);
    }
  });

  it("an empty caBundle, and one of another CA", async (ctx) => {
    const i = await healthyInstall(ctx);
    const empty = clone(i.configuration);
    for (const w of empty.webhooks as { clientConfig: { caBundle?: string } }[]) delete w.clientConfig.caBundle;
    await registerWebhookConfiguration(i.admin, empty);
    const other = createCertificateAuthority({ now: new Date(Date.now() + 2000) });
    const mismatched = clone(i.configuration);
    for (const w of mismatched.webhooks as { clientConfig: { caBundle?: string } }[]) w.clientConfig.caBundle = b64(other.certPem);
    try {
      const r = await check(i);
      const address = `${i.net.addresses[0]}:8443`;
      expect(out(r)).toEqual([
        ...healthyWith(i, {
          "✔ caBundle": [
            "✘ caBundle: entry namespace.inject.hookpoint.dev: empty; entry pod.inject.hookpoint.dev: empty: the API server cannot verify the webhook, and failurePolicy Ignore admits those pods untraced",
            "  fix: self-managed: the webhook sets the caBundle from its Secret at start and every minute (is it running? its log says why not); cert-manager: check the cert-manager.io/inject-ca-from annotation of zz-hookpoint and that cainjector runs; by hand: see the README's development setup",
          ],
          "✔ serving certificate": [`✔ serving certificate: not verified: no entry has a readable caBundle (served at ${address})`],
          "✔ certificate expiry": [`✔ certificate expiry: serving certificate valid until ${until(i.serving.certPem)} (364 days)`],
        }),
        "1 of 12 checks failed",
      ]);
      expect(r.code).toBe(1);

      await registerWebhookConfiguration(i.admin, mismatched);
      const m = await check(i);
      const [ours, theirs] = [subject(i.ca.certPem), subject(other.certPem)];
      expect(out(m)).toEqual([
        ...healthyWith(i, {
          "✔ caBundle": [`✔ caBundle: 2 entries, trusting "${theirs}"`],
          "✔ serving certificate": [
            `✘ serving certificate: not issued by the caBundle of entry namespace.inject.hookpoint.dev (the certificate's issuer is "${ours}", the caBundle holds "${theirs}"); not issued by the caBundle of entry pod.inject.hookpoint.dev (the certificate's issuer is "${ours}", the caBundle holds "${theirs}") (served at ${address}): the API server refuses the TLS handshake, and failurePolicy Ignore admits pods untraced`,
            "  fix: make the caBundle the CA that issued the serving certificate: self-managed: the webhook sets the caBundle from its Secret at start and every minute (is it running? its log says why not); cert-manager: check the cert-manager.io/inject-ca-from annotation of zz-hookpoint and that cainjector runs; by hand: see the README's development setup",
          ],
          "✔ certificate expiry": [`✔ certificate expiry: serving certificate valid until ${until(i.serving.certPem)} (364 days)`],
        }),
        "1 of 12 checks failed",
      ]);
      expect(m.code).toBe(1);
    } finally {
      await registerWebhookConfiguration(i.admin, i.configuration);
    }
  });

  it("no ready endpoints; an endpoint that does not answer: the certificate is read from the Secret, and the line says so", async (ctx) => {
    const i = await healthyInstall(ctx);
    const address = i.net.addresses[0]!;
    await patchSlice(i, [{ addresses: [address], conditions: { ready: false } }]);
    try {
      await expectCheck(i, {
          "✔ webhook endpoints": [
            "✘ webhook endpoints: Service hookpoint-system/hookpoint-webhook has no ready endpoints (1 not ready): the API server cannot call the webhook, and failurePolicy Ignore admits pods untraced",
            "  fix: kubectl -n hookpoint-system get pods -l app.kubernetes.io/name=hookpoint-webhook; kubectl -n hookpoint-system logs deploy/hookpoint-webhook",
          ],
          "✔ serving certificate": [i.healthy[5]!.replace(`(served at ${address}:8443)`, "(from Secret hookpoint-system/hookpoint-webhook-tls; no endpoint to connect to)")],
      }, "1 of 12 checks failed", 1);

      await patchSlice(i, [{ addresses: [i.net.unused], conditions: { ready: true } }]);
      await expectCheck(i, {
          "✔ webhook endpoints": [`✔ webhook endpoints: Service hookpoint-system/hookpoint-webhook has 1 ready endpoint (${i.net.unused}:8443)`],
          "✔ serving certificate": [
            i.healthy[5]!.replace(`(served at ${address}:8443)`, `(from Secret hookpoint-system/hookpoint-webhook-tls; not reachable from here (${i.net.unused}:8443: connection refused))`),
          ],
      }, "all 12 checks passed", 0);
    } finally {
      await patchSlice(i, [{ addresses: [address], conditions: { ready: true } }]);
    }
  });

  it("a serving certificate with less than 7 days left", async (ctx) => {
    const i = await healthyInstall(ctx);
    const address = i.net.addresses[0]!;
    const short = createServingCertificate({ ca: i.ca, commonName: "hookpoint-webhook.hookpoint-system.svc", ...servingSubjectAltNames("hookpoint-webhook", WEBHOOK_NAMESPACE), days: 3 });
    i.tls.kill();
    let tls = await serveTls(i.net, address, i.dir, short);
    try {
      await expectCheck(i, {
          "✔ certificate expiry": [
            `✘ certificate expiry: serving certificate valid until ${until(short.certPem)} (2 days), CA valid until ${until(i.ca.certPem)} (3649 days): serving certificate with less than 7 days left, and its renewal (due with a third of the validity left) has not happened`,
            "  fix: self-managed: restart the webhook (it renews at start; its log names a failed renewal); cert-manager: kubectl -n hookpoint-system describe certificate hookpoint-webhook",
          ],
      }, "1 of 12 checks failed", 1);
    } finally {
      tls.kill();
      tls = await serveTls(i.net, address, i.dir, i.serving);
      i.tls = tls;
    }
  });

  it("a policy that is not Accepted, and one that is not Routed", async (ctx) => {
    const i = await healthyInstall(ctx);
    const broken = { apiVersion: "hookpoint.dev/v1alpha1", kind: "HookpointPolicy", metadata: { name: "e2e-check-broken" }, spec: { mode: "OptIn", profiles: { default: { image: IMAGE, scripts: ["no-such-script"] } } } };
    const enabled = {
      apiVersion: "hookpoint.dev/v1alpha1",
      kind: "HookpointPolicy",
      metadata: { name: "e2e-check-enabled" },
      spec: { mode: "Enabled", priority: 5, namespaceSelector: { matchLabels: { "e2e-check": "nothing-has-this" } }, profiles: { default: { image: IMAGE } } },
    };
    ok(await applyServed(i.admin, broken), "apply a broken policy");
    ok(await applyServed(i.admin, enabled), "apply a policy with mode Enabled");
    try {
      await expectCheck(i, {
          "✔ policy default": [
            "✔ policy default: Accepted, Routed",
            `✘ policy e2e-check-broken: not Accepted: spec.profiles.default.scripts[0]: unknown script "no-such-script"; available: ${(await loadCatalog()).map((c) => c.header.name).sort().join(", ")}; it governs no pods`,
            "  fix: correct its spec (kubectl edit hookpointpolicy e2e-check-broken); kubectl get hookpointpolicy e2e-check-broken -o yaml shows the condition",
            "✘ policy e2e-check-enabled: Accepted, not Routed: MutatingWebhookConfiguration zz-hookpoint does not send the webhook the pods its mode Enabled selects in namespaces not labelled hookpoint.dev/inject=enabled (entry e2e-check-enabled.policy.inject.hookpoint.dev): those pods are admitted untraced. Run the webhook with --manage-routing (every shipped install does) so it writes these entries, or apply deploy/components/cluster-wide.",
            "  fix: run the webhook with --manage-routing (the shipped Deployment does) and the base's RBAC (get/patch on zz-hookpoint), or apply deploy/components/cluster-wide",
          ],
          "✔ tracing image": [`✔ tracing image: ${IMAGE} (policy e2e-check-enabled, profile default; policy default, profile default)`],
      }, "2 of 14 checks failed", 1);
    } finally {
      await remove(i.admin, broken);
      await remove(i.admin, enabled);
    }
  });

  it("an opted-in namespace enforcing Pod Security restricted", async (ctx) => {
    const i = await healthyInstall(ctx);
    const label = (value: string | null) =>
      kubeRequest(i.admin, { method: "PATCH", path: `/api/v1/namespaces/${i.shop}`, contentType: "application/merge-patch+json", body: { metadata: { labels: { "pod-security.kubernetes.io/enforce": value } } } });
    ok(await label("restricted"), "label the namespace restricted");
    try {
      await expectCheck(i, {
          "✔ pod security": [
            `✘ pod security: namespace ${i.shop} enforces Pod Security "restricted" (label pod-security.kubernetes.io/enforce): hookpoint skips its pods, which would be rejected with the privileged tracing container`,
            `  fix: kubectl label namespace ${i.shop} pod-security.kubernetes.io/enforce=privileged --overwrite, if privileged tracing containers are acceptable there; otherwise opt the namespace out`,
          ],
      }, "1 of 12 checks failed", 1);
    } finally {
      ok(await label(null), "remove the restricted label");
    }
  });

  it("the webhook's default Pod Security set through HOOKPOINT_DEFAULT_POD_SECURITY, not the flag: its last entry, the one the container gets", async (ctx) => {
    const i = await healthyInstall(ctx);
    const deployment = clone(pick(renderOrSkip(ctx, "base"), "Deployment", "hookpoint-webhook"));
    const viaEnv = clone(deployment) as K8sObject & { spec: { template: { spec: { containers: { args: string[]; env: { name: string; value?: string }[] }[] } } } };
    const container = viaEnv.spec.template.spec.containers[0]!;
    const at = container.args.indexOf("--default-pod-security");
    container.args.splice(at, 2);
    container.env.push({ name: "HOOKPOINT_DEFAULT_POD_SECURITY", value: "baseline" });
    ok(await apply(i.admin, viaEnv), "the Deployment with the environment variable instead of the flag");
    // A second entry of the name before it: an update keeps both (server-side apply refuses
    // them), and the kubelet passes the last, baseline.
    const path = `/apis/apps/v1/namespaces/${WEBHOOK_NAMESPACE}/deployments/hookpoint-webhook`;
    const first = `/spec/template/spec/containers/0/env/${container.env.length - 1}`;
    const jsonPatch = (op: unknown) => kubeRequest(i.admin, { method: "PATCH", path, contentType: "application/json-patch+json", body: [op] });
    ok(await jsonPatch({ op: "add", path: first, value: { name: "HOOKPOINT_DEFAULT_POD_SECURITY", value: "privileged" } }), "a first HOOKPOINT_DEFAULT_POD_SECURITY entry");
    try {
      await expectCheck(i, {
          "✔ pod security": [
            `✘ pod security: namespace ${i.shop} enforces Pod Security "baseline" (the cluster's default, --default-pod-security): hookpoint skips its pods, which would be rejected with the privileged tracing container`,
            `  fix: kubectl label namespace ${i.shop} pod-security.kubernetes.io/enforce=privileged --overwrite, if privileged tracing containers are acceptable there; otherwise opt the namespace out`,
          ],
      }, "1 of 12 checks failed", 1);
    } finally {
      ok(await jsonPatch({ op: "remove", path: first }), "remove the first entry");
      ok(await apply(i.admin, deployment), "the Deployment as shipped");
    }
  });

  it("an opted-in namespace whose pods have no proxy", async (ctx) => {
    const i = await healthyInstall(ctx);
    const bare = await e2e.namespace("check-bare");
    await createPod(i.admin, bare, { apiVersion: "v1", kind: "Pod", metadata: { name: "app" }, spec: { containers: [{ name: "app", image: "registry.example.com/app:1" }] } });
    ok(await kubeRequest(i.admin, { method: "PATCH", path: `/api/v1/namespaces/${bare}`, contentType: "application/merge-patch+json", body: { metadata: { labels: { "hookpoint.dev/inject": "enabled" } } } }), "label the namespace");
    try {
      const r = await check(i);
      const first = [bare, i.shop].sort()[0];
      const bareLines = [
        `✘ namespace ${bare}: opted in (label hookpoint.dev/inject=enabled), but none of its 1 pod has a container named istio-proxy: hookpoint only rewrites a proxy the mesh added`,
        `  fix: enable Istio's injection there (kubectl label namespace ${bare} istio-injection=enabled, or istio.io/rev=REVISION) and restart its workloads`,
      ];
      const shopLine = i.healthy[8]!;
      expect(out(r)).toEqual([
        ...healthyWith(i, { "✔ namespace": first === bare ? [...bareLines, shopLine] : [shopLine, ...bareLines] }),
        "1 of 13 checks failed",
      ]);
      expect(r.code).toBe(1);
    } finally {
      // Terminating namespaces are left out of the checks.
      ok(await kubeRequest(i.admin, { method: "DELETE", path: `/api/v1/namespaces/${bare}` }), "delete the namespace");
      await pollUntil(() => check(i), (r) => r.code === 0, { what: "check passing once the namespace is Terminating", timeoutMs: 20_000 });
    }
  });

  it("a tracing image nobody publishes, and one built for another Istio than the cluster runs", async (ctx) => {
    const i = await healthyInstall(ctx);
    const placeholder = clone(i.policy);
    placeholder.spec.profiles.default.image = "hookpoint/proxy-istio:0.1.0-istio1.28.0";
    ok(await applyServed(i.admin, placeholder), "apply the default policy with the placeholder image");
    try {
      await expectCheck(i, {
          "✔ tracing image": [
            "✘ tracing image: hookpoint/proxy-istio:0.1.0-istio1.28.0 (policy default, profile default) is the placeholder name nobody publishes: traced pods would fail to pull it",
            "  fix: build deploy/images/proxy-istio.Dockerfile, push it to your registry and point the profile at it (kustomize edit set image hookpoint/proxy-istio=REGISTRY/hookpoint/proxy-istio:TAG)",
          ],
          "✔ Istio version": [i.healthy[11]!],
      }, "1 of 12 checks failed", 1);
    } finally {
      ok(await applyServed(i.admin, i.policy), "restore the default policy");
    }
    const older = clone(i.istiod);
    older.spec.template.spec.containers[0].image = "docker.io/istio/pilot:1.27.1";
    ok(await apply(i.admin, older), "istiod on 1.27.1");
    try {
      await expectCheck(i, {
          "✔ Istio version": [
            `✘ Istio version: ${IMAGE} is built for Istio 1.28.0, but the cluster runs Istio 1.27.1 (istiod in ${i.istioNs} (docker.io/istio/pilot:1.27.1)) and Istio 1.28.0 (1 proxy in ${i.shop})`,
            "  fix: build deploy/images/proxy-istio.Dockerfile with --build-arg ISTIO_VERSION=1.28.0 and set it as the profiles' image",
          ],
      }, "1 of 12 checks failed", 1);
    } finally {
      ok(await apply(i.admin, i.istiod), "istiod back on 1.28.0");
    }
  });

  it("an API server that does not answer: one failing line, exit code 1", async (ctx) => {
    const i = await healthyInstall(ctx);
    const port = await freePort();
    const kubeconfig = join(i.dir, "closed.kubeconfig");
    writeFileSync(
      kubeconfig,
      `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n`,
    );
    const r = await runCliAsync(["check", "--kubeconfig", kubeconfig]);
    expect(r.stdout).toBe(
      `✘ API server: cannot reach https://127.0.0.1:${port}: connection refused\n  fix: check --kubeconfig/--context and that the cluster is up (kubectl cluster-info)\n1 of 1 checks failed\n`,
    );
    expect(r.code).toBe(1);
  });

  // Last: it takes the CRD and with it every policy away.
  it("no HookpointPolicy CRD", async (ctx) => {
    const i = await healthyInstall(ctx);
    const crd = clone(pick(renderOrSkip(ctx, "base"), "CustomResourceDefinition", CRD_NAME));
    ok(await kubeRequest(i.admin, { method: "DELETE", path: `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${CRD_NAME}` }), "delete the CRD");
    try {
      await pollUntil(() => kubeRequest(i.admin, { method: "GET", path: `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${CRD_NAME}` }), (res) => res.status === 404, { what: "the CRD gone", timeoutMs: 60_000 });
      await expectCheck(i, {
          "✔ HookpointPolicy CRD": [
            "✘ HookpointPolicy CRD: hookpointpolicies.hookpoint.dev is not installed: HookpointPolicies cannot be created, and the webhook applies its built-in defaults",
            "  fix: kubectl apply -k deploy/crd",
          ],
          "✔ policy default": [],
          "✔ tracing image": [
            "✘ tracing image: hookpoint/proxy-istio:0.1.0-istio1.28.0 (built-in defaults, profile default) is the placeholder name nobody publishes: traced pods would fail to pull it",
            "  fix: build deploy/images/proxy-istio.Dockerfile, push it to your registry and point the profile at it (kustomize edit set image hookpoint/proxy-istio=REGISTRY/hookpoint/proxy-istio:TAG)",
          ],
      }, "2 of 11 checks failed", 1);
    } finally {
      await applyCrd(i.admin, crd);
      ok(await applyServed(i.admin, i.policy), "restore the default policy");
    }
  });
});
