// The API server calls hookpoint for real: pods created through a real
// kube-apiserver, admitted by `hookpoint webhook` (a local process running as
// ServiceAccount hookpoint-system/hookpoint-webhook with only deploy/'s RBAC,
// registered with deploy/'s MutatingWebhookConfiguration), read back as stored.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { canI, describeAccess, type Access } from "./support/access.js";
import { BASE_POLICY_IMAGE, DEFAULT_SCRIPTS, TRACING_SECURITY_CONTEXT, tracedPod, withoutOriginal } from "./support/expected.js";
import { apply, ok, remove, statusOf } from "./support/kube-http.js";
import { container, createPod, fixturePod, postPod, readPod, withoutGeneratedNames, type Pod } from "./support/pods.js";
import { pollUntil } from "./support/poll.js";
import { useCluster } from "./support/e2e.js";
import { INJECT, STATUS, useHookpoint } from "./support/webhook.js";

const e2e = useCluster();
const hp = useHookpoint(e2e);

const PSA_ENFORCE = "pod-security.kubernetes.io/enforce";
const RUN_LABEL = "e2e.hookpoint.dev/run";

/** The parts of a stored pod hookpoint may change, with the token volume's generated name masked. */
const traced = (pod: Pod) => withoutGeneratedNames({ labels: pod.metadata?.labels, annotations: pod.metadata?.annotations, spec: pod.spec });

/** Creates `pod` in `control` (no opt-in: stored as sent) and in `ns`; both as stored. */
async function createWithControl(admin: Parameters<typeof createPod>[0], ns: string, control: string, pod: Pod) {
  const name = pod.metadata?.name ?? "";
  const created = await createPod(admin, ns, pod);
  await createPod(admin, control, pod);
  const stored = await readPod(admin, ns, name);
  const unmutated = await readPod(admin, control, name);
  if (!stored || !unmutated) throw new Error(`pod ${name} was not stored`);
  return { created, stored, unmutated };
}

describe("a. namespace labelled hookpoint.dev/inject=enabled", () => {
  it("a classic istio-proxy (last of spec.containers) is stored traced; nothing else changes", async (ctx) => {
    const { admin, settle } = hp.require(ctx);
    const ns = await e2e.namespace("a-classic", { labels: { [INJECT]: "enabled" } });
    const control = await e2e.namespace("a-classic-control");
    await settle();

    const { created, stored, unmutated } = await createWithControl(admin, ns, control, fixturePod("classic-sidecar", "reviews-v1"));

    expect(created.warnings).toEqual([]);
    const expected = tracedPod(unmutated, { image: BASE_POLICY_IMAGE, profile: "default", scripts: DEFAULT_SCRIPTS, decidedBy: "namespace-label", location: "containers" });
    expect(withoutOriginal(stored.metadata?.annotations?.[STATUS])).toBe(
      '{"version":"0.1.0","container":"istio-proxy","location":"containers","image":"hookpoint/proxy-istio:0.1.0-istio1.28.0","profile":"default",' +
        '"scripts":["envoy-event-loop","envoy-request-flow","hookpoint-pairs"],"decidedBy":"namespace-label","proxyUid":1337,"proxyGid":1337}',
    );
    expect(stored.metadata?.labels?.["hookpoint.dev/injected"]).toBe("true");
    const proxy = container(stored, "istio-proxy");
    expect(proxy.image).toBe("hookpoint/proxy-istio:0.1.0-istio1.28.0");
    expect(proxy.command).toEqual(["hookpoint", "agent", "--proxy-uid", "1337", "--proxy-gid", "1337", "--", "/usr/local/bin/pilot-agent"]);
    expect(proxy.args).toEqual(container(unmutated, "istio-proxy").args);
    expect(proxy.securityContext).toEqual(TRACING_SECURITY_CONTEXT);
    expect(withoutGeneratedNames(proxy.volumeMounts?.slice(-5))).toEqual([
      { name: "kube-api-access-GENERATED", mountPath: "/var/run/secrets/kubernetes.io/serviceaccount", readOnly: true },
      { name: "hookpoint-lib-modules", mountPath: "/lib/modules", readOnly: true },
      { name: "hookpoint-usr-src", mountPath: "/usr/src", readOnly: true },
      { name: "hookpoint-tracefs", mountPath: "/sys/kernel/tracing" },
      { name: "hookpoint-tmp", mountPath: "/tmp" },
    ]);
    expect(stored.spec.volumes?.slice(-4)).toEqual([
      { name: "hookpoint-lib-modules", hostPath: { path: "/lib/modules", type: "" } },
      { name: "hookpoint-usr-src", hostPath: { path: "/usr/src", type: "" } },
      { name: "hookpoint-tracefs", hostPath: { path: "/sys/kernel/tracing", type: "" } },
      { name: "hookpoint-tmp", emptyDir: { sizeLimit: "512Mi" } },
    ]);
    // Everything else exactly as the API server stores the pod without hookpoint.
    expect(withoutGeneratedNames({ labels: stored.metadata?.labels, annotations: stored.metadata?.annotations, spec: stored.spec })).toEqual(
      withoutGeneratedNames(expected),
    );
  });

  it("a native-sidecar istio-proxy (spec.initContainers, restartPolicy Always) is stored traced", async (ctx) => {
    const { admin, settle } = hp.require(ctx);
    const ns = await e2e.namespace("a-native", { labels: { [INJECT]: "enabled" } });
    const control = await e2e.namespace("a-native-control");
    await settle();

    const { created, stored, unmutated } = await createWithControl(admin, ns, control, fixturePod("native-sidecar", "ratings-v1"));

    expect(created.warnings).toEqual([]);
    expect(stored.spec.initContainers?.map((c) => [c.name, c.restartPolicy])).toEqual([
      ["istio-init", undefined],
      ["istio-proxy", "Always"],
    ]);
    expect(withoutOriginal(stored.metadata?.annotations?.[STATUS])).toBe(
      '{"version":"0.1.0","container":"istio-proxy","location":"initContainers","image":"hookpoint/proxy-istio:0.1.0-istio1.28.0","profile":"default",' +
        '"scripts":["envoy-event-loop","envoy-request-flow","hookpoint-pairs"],"decidedBy":"namespace-label","proxyUid":1337,"proxyGid":1337}',
    );
    const expected = tracedPod(unmutated, { image: BASE_POLICY_IMAGE, profile: "default", scripts: DEFAULT_SCRIPTS, decidedBy: "namespace-label", location: "initContainers" });
    expect(withoutGeneratedNames({ labels: stored.metadata?.labels, annotations: stored.metadata?.annotations, spec: stored.spec })).toEqual(
      withoutGeneratedNames(expected),
    );
  });
});

describe("b. unlabelled namespace, pod annotated hookpoint.dev/inject: \"true\"", () => {
  it("is injected where a HookpointPolicy's allowPodOptIn selects the namespace, and skipped with a warning to the client where it does not", async (ctx) => {
    const { admin, settle } = hp.require(ctx);
    const run = randomBytes(3).toString("hex");
    const policyName = `e2e-opt-in-${run}`;
    const policy = {
      apiVersion: "hookpoint.dev/v1alpha1",
      kind: "HookpointPolicy",
      metadata: { name: policyName },
      spec: {
        priority: 10,
        namespaceSelector: { matchLabels: { [RUN_LABEL]: run } },
        allowPodOptIn: { matchLabels: { "e2e.hookpoint.dev/pod-opt-in": "allowed" } },
        allowedImages: ["hookpoint/proxy-istio:*"],
        defaultProfile: "requests",
        profiles: { requests: { image: "hookpoint/proxy-istio:0.1.0-e2e", scripts: ["envoy-request-flow", "envoy-filter-chain"] } },
      },
    };
    const allowed = await e2e.namespace("b-allowed", { labels: { [RUN_LABEL]: run, "e2e.hookpoint.dev/pod-opt-in": "allowed" } });
    const refused = await e2e.namespace("b-refused", { labels: { [RUN_LABEL]: run } });
    // The webhook is never called for a disabled namespace: the pod is stored as sent.
    const control = await e2e.namespace("b-control", { labels: { [INJECT]: "disabled" } });
    ok(await apply(admin, policy), `apply HookpointPolicy ${policyName}`);
    try {
      await settle();
      const pod = fixturePod("classic-sidecar", "reviews-v1", { [INJECT]: "true" });
      // The policy reaches the webhook's informer (≤ 2 s by design): wait for its first decision.
      await pollUntil(
        () => createPod(admin, allowed, pod, { dryRun: true }),
        (r) => r.pod.metadata?.annotations?.[STATUS] !== undefined,
        { what: `HookpointPolicy ${policyName} in force in the webhook` },
      );

      const inAllowed = await createPod(admin, allowed, pod);
      const inRefused = await createPod(admin, refused, pod);
      await createPod(admin, control, pod);
      const unmutated = (await readPod(admin, control, "reviews-v1")) as Pod;

      expect(inAllowed.warnings).toEqual([]);
      const stored = (await readPod(admin, allowed, "reviews-v1")) as Pod;
      expect(withoutOriginal(stored.metadata?.annotations?.[STATUS])).toBe(
        '{"version":"0.1.0","container":"istio-proxy","location":"containers","image":"hookpoint/proxy-istio:0.1.0-e2e","profile":"requests",' +
          '"scripts":["envoy-request-flow","envoy-filter-chain"],"decidedBy":"pod-annotation","proxyUid":1337,"proxyGid":1337}',
      );
      expect(traced(stored)).toEqual(
        withoutGeneratedNames(
          tracedPod(unmutated, { image: "hookpoint/proxy-istio:0.1.0-e2e", profile: "requests", scripts: ["envoy-request-flow", "envoy-filter-chain"], decidedBy: "pod-annotation", location: "containers" }),
        ),
      );

      expect(inRefused.warnings).toEqual([
        `hookpoint: annotation hookpoint.dev/inject="true" ignored: namespace ${refused} is not labelled hookpoint.dev/inject=enabled and HookpointPolicy ${policyName} has no allowPodOptIn selecting it`,
      ]);
      expect(traced((await readPod(admin, refused, "reviews-v1")) as Pod)).toEqual(traced(unmutated));
    } finally {
      await remove(admin, policy);
    }
  });
});

describe("c. what does not reach the webhook", () => {
  it("a namespace labelled disabled beats a pod's opt-in, and pods that did not opt in are never sent to the webhook", async (ctx) => {
    const { admin, webhook, settle } = hp.require(ctx);
    const disabled = await e2e.namespace("c-disabled", { labels: { [INJECT]: "disabled" } });
    const unlabelled = await e2e.namespace("c-unlabelled");
    const enabled = await e2e.namespace("c-enabled", { labels: { [INJECT]: "enabled" } });
    await settle();
    const before = await webhook.requests();

    const optedIn = fixturePod("classic-sidecar", "opted-in", { [INJECT]: "true" });
    const plain = fixturePod("classic-sidecar", "plain");
    const optedOut = fixturePod("classic-sidecar", "opted-out", { [INJECT]: "false" });
    const created = [
      await createPod(admin, disabled, optedIn),
      await createPod(admin, unlabelled, plain),
      await createPod(admin, enabled, optedOut),
    ];

    expect(created.map((c) => c.warnings)).toEqual([[], [], []]);
    for (const [ns, name] of [[disabled, "opted-in"], [unlabelled, "plain"], [enabled, "opted-out"]] as const) {
      const stored = (await readPod(admin, ns, name)) as Pod;
      expect(stored.metadata?.annotations?.[STATUS], `${ns}/${name}`).toBeUndefined();
      expect(container(stored, "istio-proxy").image, `${ns}/${name}`).toBe(container(optedIn, "istio-proxy").image);
    }
    // Admission is synchronous: had the API server called the webhook, the counter would have moved by now.
    expect(await webhook.requests()).toBe(before);

    // The counter does count: one pod that opted in (through its namespace) is one request.
    await createPod(admin, enabled, plain);
    expect(await webhook.requests()).toBe(before + 1);
    expect((await readPod(admin, enabled, "plain"))?.metadata?.annotations?.[STATUS]).toBeDefined();
  });
});

describe("g. a namespace enforcing Pod Security baseline", () => {
  it("gets the pod unmutated (the privileged proxy would be rejected), with hookpoint's warning to the client", async (ctx) => {
    const { admin, webhook, settle } = hp.require(ctx);
    const ns = await e2e.namespace("g-baseline", { labels: { [INJECT]: "enabled", [PSA_ENFORCE]: "baseline" } });
    const control = await e2e.namespace("g-control", { labels: { [PSA_ENFORCE]: "baseline" } });
    await settle();
    const skipped = await webhook.requests({ outcome: "skipped", reason: "pod-security-enforced" });

    // Istio CNI mode: no NET_ADMIN init container, so the pod meets baseline as Istio shapes it.
    const { created, stored, unmutated } = await createWithControl(admin, ns, control, fixturePod("cni-mode", "details-v1"));

    expect(created.warnings).toEqual([
      `hookpoint: not injected: namespace ${ns} enforces Pod Security "baseline" (label pod-security.kubernetes.io/enforce), which would reject the privileged tracing container; use a namespace with pod-security.kubernetes.io/enforce=privileged`,
    ]);
    expect(traced(stored)).toEqual(traced(unmutated));
    expect(await webhook.requests({ outcome: "skipped", reason: "pod-security-enforced" })).toBe(skipped + 1);
  });
});

describe("h. server-side dry-run", () => {
  it("answers with the same mutation as a real create, and stores nothing", async (ctx) => {
    const { admin, webhook, settle } = hp.require(ctx);
    const ns = await e2e.namespace("h-dry-run", { labels: { [INJECT]: "enabled" } });
    await settle();
    const dryRuns = await webhook.requests({ outcome: "injected", dry_run: "true" });
    const pod = fixturePod("classic-sidecar", "reviews-v1");

    const answer = await createPod(admin, ns, pod, { dryRun: true });

    expect(answer.warnings).toEqual([]);
    expect(withoutOriginal(answer.pod.metadata?.annotations?.[STATUS])).toBe(
      '{"version":"0.1.0","container":"istio-proxy","location":"containers","image":"hookpoint/proxy-istio:0.1.0-istio1.28.0","profile":"default",' +
        '"scripts":["envoy-event-loop","envoy-request-flow","hookpoint-pairs"],"decidedBy":"namespace-label","proxyUid":1337,"proxyGid":1337}',
    );
    expect(await readPod(admin, ns, "reviews-v1")).toBeUndefined();
    expect(await webhook.requests({ outcome: "injected", dry_run: "true" })).toBe(dryRuns + 1);

    await createPod(admin, ns, pod);
    expect(traced(answer.pod)).toEqual(traced((await readPod(admin, ns, "reviews-v1")) as Pod));
  });
});

describe("i. an image annotation", () => {
  it("naming an image the policy does not allow: the create is refused with hookpoint's message, nothing stored", async (ctx) => {
    const { admin, settle } = hp.require(ctx);
    const ns = await e2e.namespace("i-image", { labels: { [INJECT]: "enabled" } });
    await settle();

    const res = await postPod(admin, ns, fixturePod("classic-sidecar", "reviews-v1", { "hookpoint.dev/image": "registry.example/attacker/proxy:1" }));

    expect(statusOf(res)).toEqual({
      code: 403,
      reason: "",
      message:
        'admission webhook "namespace.inject.hookpoint.dev" denied the request: hookpoint: image "registry.example/attacker/proxy:1" from annotation hookpoint.dev/image is not allowed by HookpointPolicy default: allowedImages is hookpoint/proxy-istio:*',
    });
    expect(await readPod(admin, ns, "reviews-v1")).toBeUndefined();
  });

  it("naming an allowed image: the proxy runs that image", async (ctx) => {
    const { admin, settle } = hp.require(ctx);
    const ns = await e2e.namespace("i-allowed", { labels: { [INJECT]: "enabled" } });
    await settle();

    await createPod(admin, ns, fixturePod("classic-sidecar", "reviews-v1", { "hookpoint.dev/image": "hookpoint/proxy-istio:0.2.0-istio1.28.0" }));

    const stored = (await readPod(admin, ns, "reviews-v1")) as Pod;
    expect(container(stored, "istio-proxy").image).toBe("hookpoint/proxy-istio:0.2.0-istio1.28.0");
    expect(JSON.parse(stored.metadata?.annotations?.[STATUS] ?? "{}")).toMatchObject({ image: "hookpoint/proxy-istio:0.2.0-istio1.28.0", decidedBy: "namespace-label" });
  });
});

describe("the webhook's identity: deploy/'s RBAC is enough, and no more", () => {
  const needed: Access[] = [
    { verb: "list", group: "", resource: "namespaces" },
    { verb: "watch", group: "", resource: "namespaces" },
    { verb: "list", group: "hookpoint.dev", resource: "hookpointpolicies" },
    { verb: "watch", group: "hookpoint.dev", resource: "hookpointpolicies" },
    { verb: "update", group: "hookpoint.dev", resource: "hookpointpolicies", subresource: "status" },
    { verb: "get", group: "apiextensions.k8s.io", resource: "customresourcedefinitions", name: "hookpointpolicies.hookpoint.dev" },
  ];
  const notGranted: Access[] = [
    { verb: "get", group: "", resource: "pods", namespace: "default" },
    { verb: "create", group: "", resource: "pods", namespace: "default" },
    { verb: "list", group: "", resource: "secrets", namespace: "hookpoint-system" },
    // Informers list and watch; status is written with update: nothing gets one object or patches status.
    { verb: "get", group: "", resource: "namespaces" },
    { verb: "get", group: "hookpoint.dev", resource: "hookpointpolicies" },
    { verb: "patch", group: "hookpoint.dev", resource: "hookpointpolicies", subresource: "status" },
    { verb: "get", group: "apiextensions.k8s.io", resource: "customresourcedefinitions", name: "other.example.com" },
    { verb: "update", group: "", resource: "namespaces" },
    { verb: "update", group: "hookpoint.dev", resource: "hookpointpolicies" },
    { verb: "create", group: "hookpoint.dev", resource: "hookpointpolicies" },
    { verb: "delete", group: "hookpoint.dev", resource: "hookpointpolicies" },
    { verb: "patch", group: "admissionregistration.k8s.io", resource: "mutatingwebhookconfigurations" },
  ];

  it("runs synced and serving as system:serviceaccount:hookpoint-system:hookpoint-webhook, which may read what it decides with and nothing else", async (ctx) => {
    const { serviceAccount, webhook } = hp.require(ctx);
    expect(serviceAccount.username).toBe("system:serviceaccount:hookpoint-system:hookpoint-webhook");
    const answers = async (list: Access[]) => Object.fromEntries(await Promise.all(list.map(async (a) => [describeAccess(a), await canI(serviceAccount.kubeConfig, a)])));
    expect(await answers(needed)).toEqual(Object.fromEntries(needed.map((a) => [describeAccess(a), true])));
    expect(await answers(notGranted)).toEqual(Object.fromEntries(notGranted.map((a) => [describeAccess(a), false])));
    // With only those grants the informers synced (readyz) and nothing was refused.
    expect(webhook.logLines().filter((l) => l.level >= 40)).toEqual([]);
  });
});

describe("j. a negative terminationGracePeriodSeconds", () => {
  it("reaches the webhook as the 1 the API server makes of it (Kubernetes 1.27+, before admission): the pod is traced and the agent told 1 s; a fractional one is refused at decoding", async (ctx) => {
    const { admin, webhook, settle } = hp.require(ctx);
    const ns = await e2e.namespace("j-negative-grace", { labels: { [INJECT]: "enabled" } });
    const control = await e2e.namespace("j-negative-grace-control");
    await settle();
    const injected = await webhook.requests({ outcome: "injected" });
    const pod = fixturePod("classic-sidecar", "reviews-v1");
    pod.spec.terminationGracePeriodSeconds = -5;

    const { created, stored, unmutated } = await createWithControl(admin, ns, control, pod);

    expect(created.warnings).toEqual([]);
    expect([unmutated.spec.terminationGracePeriodSeconds, stored.spec.terminationGracePeriodSeconds]).toEqual([1, 1]);
    expect(stored.metadata?.labels?.["hookpoint.dev/injected"]).toBe("true");
    expect(container(stored, "istio-proxy").env?.find((e) => e.name === "HOOKPOINT_TERMINATION_GRACE_SECONDS")).toEqual({ name: "HOOKPOINT_TERMINATION_GRACE_SECONDS", value: "1" });
    expect(await webhook.requests({ outcome: "injected" })).toBe(injected + 1);

    const fractional = fixturePod("classic-sidecar", "reviews-v2");
    fractional.spec.terminationGracePeriodSeconds = 2.5;
    const out = await postPod(admin, ns, fractional, { dryRun: true });
    // What `hookpoint inject` and `explain` refuse such a manifest for, too.
    expect([out.status, (out.body as unknown as { message: string }).message]).toEqual([
      400,
      'Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal number 2.5 into Go struct field PodSpec.spec.terminationGracePeriodSeconds of type int64',
    ]);
  });
});
