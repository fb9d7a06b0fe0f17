// POST /mutate through inject(): what the API server gets back for each kind of request.
import jsonpatch from "fast-json-patch";
import { describe, expect, it } from "vitest";
import type { Pod } from "../../../src/admission/pod.js";
import { loadPod, policy, snapshot } from "../../support/pods.js";
import { atCreate, decodePatch, harness, NAMESPACES, podReview, staticSource } from "./harness.js";

const UID = "705ab4f5-6393-11e8-b7cc-42010a800002";

async function mutate(h: ReturnType<typeof harness>, body: unknown) {
  const res = await h.app.inject({ method: "POST", url: "/mutate", payload: body as Record<string, unknown> });
  return { status: res.statusCode, json: res.json() as { apiVersion: string; kind: string; response: Record<string, unknown> } };
}

function withAnnotations(pod: Pod, annotations: Record<string, string>): Pod {
  return { ...pod, metadata: { ...pod.metadata, annotations: { ...pod.metadata?.annotations, ...annotations } } };
}

describe("POST /mutate", () => {
  it("answers an admission.k8s.io/v1 Pod CREATE in an enabled namespace with a JSON Patch that injects the proxy", async () => {
    const h = harness();
    const pod = atCreate(loadPod("classic-sidecar"));
    const { status, json } = await mutate(h, podReview(pod, { namespace: "bookinfo" }));
    expect(status).toBe(200);
    expect(json.apiVersion).toBe("admission.k8s.io/v1");
    expect(json.kind).toBe("AdmissionReview");
    expect(Object.keys(json.response).sort()).toEqual(["allowed", "auditAnnotations", "patch", "patchType", "uid"]);
    expect(json.response.uid).toBe(UID);
    expect(json.response.allowed).toBe(true);
    expect(json.response.patchType).toBe("JSONPatch");
    expect(json.response.auditAnnotations).toEqual({ "decided-by": "namespace-label", reason: "namespace-enabled" });

    // What the API server does with the answer: apply the patch to the object it sent.
    const patched = jsonpatch.applyPatch(structuredClone(pod), decodePatch(json.response.patch as string) as jsonpatch.Operation[]).newDocument;
    const proxy = patched.spec.containers.find((c) => c.name === "istio-proxy");
    expect(proxy?.image).toBe("docker.io/hookpoint/proxyv2:1.24.2-hookpoint.0.1.0");
    expect(proxy?.command).toEqual(["hookpoint", "agent", "--proxy-uid", "1337", "--proxy-gid", "1337", "--", "/usr/local/bin/pilot-agent"]);
    expect(proxy?.securityContext).toMatchObject({ privileged: true, allowPrivilegeEscalation: true, runAsUser: 0, runAsGroup: 1337, runAsNonRoot: false });
    expect(patched.metadata?.labels?.["hookpoint.dev/injected"]).toBe("true");
    expect(patched.spec.volumes?.map((v) => v.name).filter((n) => n.startsWith("hookpoint-"))).toEqual([
      "hookpoint-lib-modules",
      "hookpoint-usr-src",
      "hookpoint-tracefs",
      "hookpoint-tmp",
    ]);
    // Every other container is untouched.
    expect(patched.spec.containers.filter((c) => c.name !== "istio-proxy")).toEqual(pod.spec.containers.filter((c) => c.name !== "istio-proxy"));
  });

  it("encodes a patch holding non-ASCII text as UTF-8, so the API server reads back exactly that text", async () => {
    const h = harness();
    const base = atCreate(loadPod("classic-sidecar"));
    const args = ["/usr/local/bin/pilot-agent", "proxy", "--serviceCluster", "café-☕-𝄞"];
    const pod: Pod = { ...base, spec: { ...base.spec, containers: base.spec.containers.map((c) => (c.name === "istio-proxy" ? { ...c, command: args } : c)) } };
    const { status, json } = await mutate(h, podReview(pod, { namespace: "bookinfo" }));
    expect(status).toBe(200);
    const patched = jsonpatch.applyPatch(structuredClone(pod), decodePatch(json.response.patch as string) as jsonpatch.Operation[]).newDocument;
    const proxy = patched.spec.containers.find((c) => c.name === "istio-proxy");
    expect(proxy?.command).toEqual(["hookpoint", "agent", "--proxy-uid", "1337", "--proxy-gid", "1337", "--", ...args]);
    const recorded = JSON.parse(patched.metadata?.annotations?.["hookpoint.dev/status"] ?? "{}") as { original?: { fields?: { command?: unknown } } };
    expect(recorded.original?.fields?.command).toEqual(args);
  });

  it("answers admission.k8s.io/v1beta1 with v1beta1 and the same uid", async () => {
    const h = harness();
    const { status, json } = await mutate(h, podReview(atCreate(loadPod("native-sidecar")), { apiVersion: "admission.k8s.io/v1beta1", uid: "b3f0-old-cluster" }));
    expect(status).toBe(200);
    expect(json.apiVersion).toBe("admission.k8s.io/v1beta1");
    expect(json.kind).toBe("AdmissionReview");
    expect(json.response.uid).toBe("b3f0-old-cluster");
    expect(json.response.patchType).toBe("JSONPatch");
  });

  it("skips a pod whose namespace did not opt in: allowed, no patch, audit annotations saying why", async () => {
    const h = harness();
    const { json } = await mutate(h, podReview(atCreate(loadPod("classic-sidecar")), { namespace: "plain" }));
    expect(json.response).toEqual({ uid: UID, allowed: true, auditAnnotations: { "decided-by": "default", reason: "not-opted-in" } });
  });

  it("skips a pod without a proxy container", async () => {
    const h = harness();
    const { json } = await mutate(h, podReview(atCreate(loadPod("no-proxy"))));
    expect(json.response).toEqual({ uid: UID, allowed: true, auditAnnotations: { "decided-by": "target-container", reason: "no-target-container" } });
  });

  it("carries the decision's warnings", async () => {
    const h = harness();
    const pod = withAnnotations(atCreate(loadPod("classic-sidecar")), { "hookpoint.dev/inject": "true" });
    const { json } = await mutate(h, podReview(pod, { namespace: "plain" }));
    expect(json.response).toEqual({
      uid: UID,
      allowed: true,
      warnings: [
        'hookpoint: annotation hookpoint.dev/inject="true" ignored: namespace plain is not labelled hookpoint.dev/inject=enabled and the built-in default policy has no allowPodOptIn selecting it',
      ],
      auditAnnotations: { "decided-by": "pod-annotation", reason: "pod-opt-in-not-allowed" },
    });
  });

  it("denies a disallowed image with a 403 status naming the image and the rule", async () => {
    const snap = snapshot(NAMESPACES, [policy("prod", { allowedImages: ["registry.example.com/hookpoint/*"] })]);
    const h = harness({ source: staticSource(snap) });
    const pod = withAnnotations(atCreate(loadPod("classic-sidecar")), { "hookpoint.dev/image": "evil.example.com/proxy:latest" });
    const { status, json } = await mutate(h, podReview(pod));
    expect(status).toBe(200);
    expect(json.response).toEqual({
      uid: UID,
      allowed: false,
      status: {
        code: 403,
        message: 'hookpoint: image "evil.example.com/proxy:latest" from annotation hookpoint.dev/image is not allowed by HookpointPolicy prod: allowedImages is registry.example.com/hookpoint/*',
      },
      // The reason is the rule that refused it, in the audit log and the metric alike.
      auditAnnotations: { "decided-by": "namespace-label", reason: "image-not-allowed" },
    });
    expect(h.logs.filter((l) => l.msg === "pod reviewed").map((l) => [l.uid, l.namespace, l.pod, l.decision, l.reason, l.message])).toEqual([
      [UID, "bookinfo", "reviews-v1-7598cc9867-x2k8p", "denied", "image-not-allowed", (json.response.status as { message: string }).message],
    ]);
    const metrics = (await h.app.inject({ url: "/metrics" })).body;
    expect(metrics).toContain('hookpoint_admission_requests_total{outcome="denied",decided_by="namespace-label",reason="image-not-allowed",dry_run="false"} 1');
  });

  it("answers a pod that is already injected (reinvocation) with no patch", async () => {
    const h = harness();
    const pod = atCreate(loadPod("classic-sidecar"));
    const first = await mutate(h, podReview(pod));
    const injected = jsonpatch.applyPatch(structuredClone(pod), decodePatch(first.json.response.patch as string) as jsonpatch.Operation[]).newDocument;
    const again = await mutate(h, podReview(injected));
    expect(again.json.response).toEqual({ uid: UID, allowed: true, auditAnnotations: { "decided-by": "namespace-label", reason: "namespace-enabled" } });
    const metrics = (await h.app.inject({ url: "/metrics" })).body;
    expect(metrics).toContain('hookpoint_admission_requests_total{outcome="unchanged",decided_by="namespace-label",reason="namespace-enabled",dry_run="false"} 1');
  });

  it("uses request.namespace, since pods at CREATE often have no metadata.namespace", async () => {
    const h = harness();
    const pod = loadPod("classic-sidecar"); // metadata.namespace: bookinfo
    const { json } = await mutate(h, podReview(pod, { namespace: "vetoed" }));
    expect(json.response.auditAnnotations).toEqual({ "decided-by": "namespace-label", reason: "namespace-disabled" });
  });

  const passThrough: Array<[string, Parameters<typeof podReview>[1], unknown]> = [
    ["an UPDATE of a pod", { operation: "UPDATE" }, undefined],
    ["a DELETE of a pod (no object)", { operation: "DELETE" }, null],
    ["a CONNECT to pods/exec", { operation: "CONNECT", subResource: "exec" }, undefined],
    ["a CREATE of the pods/binding subresource", { subResource: "binding" }, undefined],
    ["a CREATE of pods/eviction", { subResource: "eviction", kind: { group: "policy", version: "v1", kind: "Eviction" } }, undefined],
    ["a CREATE of a Deployment", { kind: { group: "apps", version: "v1", kind: "Deployment" }, resource: { group: "apps", version: "v1", resource: "deployments" } }, undefined],
    ["a CREATE of a resource named pods in another group", { resource: { group: "metrics.k8s.io", version: "v1beta1", resource: "pods" } }, undefined],
  ];
  it.each(passThrough)("allows %s with no patch and no review", async (_name, options, object) => {
    const h = harness();
    const pod = atCreate(loadPod("classic-sidecar"));
    const { status, json } = await mutate(h, podReview(object === undefined ? pod : object, options));
    expect(status).toBe(200);
    expect(json.response).toEqual({ uid: UID, allowed: true });
    const metrics = (await h.app.inject({ url: "/metrics" })).body;
    expect(metrics).toContain('hookpoint_admission_requests_total{outcome="ignored",decided_by="none",reason="not-pod-create",dry_run="false"} 1');
  });

  it("gives a dry run the same answer, counted as dry_run", async () => {
    const h = harness();
    const pod = atCreate(loadPod("classic-sidecar"));
    const real = await mutate(h, podReview(pod));
    const dry = await mutate(h, podReview(pod, { dryRun: true }));
    expect(dry).toEqual(real);
    const metrics = (await h.app.inject({ url: "/metrics" })).body;
    expect(metrics).toContain('hookpoint_admission_requests_total{outcome="injected",decided_by="namespace-label",reason="namespace-enabled",dry_run="false"} 1');
    expect(metrics).toContain('hookpoint_admission_requests_total{outcome="injected",decided_by="namespace-label",reason="namespace-enabled",dry_run="true"} 1');
    expect(h.logs.filter((l) => l.msg === "pod reviewed").map((l) => l.dryRun)).toEqual([false, true]);
  });

  it("fails open on an internal error: allowed with a warning, logged with the uid, counted", async () => {
    const h = harness({ source: staticSource(snapshot(NAMESPACES), { fail: true }) });
    const { status, json } = await mutate(h, podReview(atCreate(loadPod("classic-sidecar")), { uid: "uid-of-the-failure" }));
    expect(status).toBe(200);
    expect(json.response).toEqual({
      uid: "uid-of-the-failure",
      allowed: true,
      warnings: ["hookpoint: internal error while reviewing this pod; it was admitted without tracing (webhook log, uid uid-of-the-failure)"],
    });
    const errors = h.logs.filter((l) => l.level === 50);
    expect(errors.map((l) => [l.msg, l.uid, (l.err as { message: string }).message])).toEqual([
      ["admission review failed; pod allowed unchanged", "uid-of-the-failure", "snapshot unavailable (test)"],
    ]);
    const metrics = (await h.app.inject({ url: "/metrics" })).body;
    expect(metrics).toContain("hookpoint_admission_errors_total 1");
    expect(metrics).toContain('hookpoint_admission_requests_total{outcome="error",decided_by="none",reason="internal-error",dry_run="false"} 1');
  });

  it("fails open on an error after the review (here: the log line), with the same answer shape", async () => {
    const h = harness({ failOnLog: "pod reviewed" });
    const { status, json } = await mutate(h, podReview(atCreate(loadPod("classic-sidecar")), { uid: "uid-2" }));
    expect([status, json.apiVersion, json.kind]).toEqual([200, "admission.k8s.io/v1", "AdmissionReview"]);
    expect(json.response).toEqual({
      uid: "uid-2",
      allowed: true,
      warnings: ["hookpoint: internal error while reviewing this pod; it was admitted without tracing (webhook log, uid uid-2)"],
    });
    expect(h.logs.filter((l) => l.level === 50).map((l) => [l.msg, l.uid])).toEqual([["admission review failed; pod allowed unchanged", "uid-2"]]);
    const metrics = (await h.app.inject({ url: "/metrics" })).body;
    expect(metrics).toContain("hookpoint_admission_errors_total 1");
    expect(metrics.split("\n").filter((l) => l.startsWith("hookpoint_admission_requests_total"))).toEqual([
      'hookpoint_admission_requests_total{outcome="error",decided_by="none",reason="internal-error",dry_run="false"} 1',
    ]);
  });

  it("logs one info line per reviewed pod, whatever the decision, with its owner; none at info for requests it does not review", async () => {
    const h = harness();
    const { metadata: { name: _name, ...meta } = {}, ...rest } = atCreate(loadPod("classic-sidecar"));
    const generated = { ...rest, metadata: { ...meta, generateName: "reviews-v1-7598cc9867-" } } as Pod;
    await mutate(h, podReview(generated, { namespace: "plain", uid: "u1" }));
    await mutate(h, podReview(atCreate(loadPod("classic-sidecar")), { namespace: "bookinfo", uid: "u2" }));
    await mutate(h, podReview(withAnnotations(atCreate(loadPod("classic-sidecar")), { "hookpoint.dev/inject": "true" }), { namespace: "plain", uid: "u3" }));
    await mutate(h, podReview(atCreate(loadPod("no-proxy")), { namespace: "bookinfo", uid: "u4", dryRun: true }));
    await mutate(h, podReview(atCreate(loadPod("classic-sidecar")), { operation: "UPDATE", uid: "u5" }));
    expect(h.logs.map(({ time: _t, pid: _p, hostname: _h, ...l }) => l)).toEqual([
      { level: 30, msg: "pod reviewed", uid: "u1", namespace: "plain", pod: "reviews-v1-7598cc9867-", owner: "ReplicaSet/reviews-v1-7598cc9867", decision: "skipped", decidedBy: "default", reason: "not-opted-in", dryRun: false },
      { level: 30, msg: "pod reviewed", uid: "u2", namespace: "bookinfo", pod: "reviews-v1-7598cc9867-x2k8p", owner: "ReplicaSet/reviews-v1-7598cc9867", decision: "injected", decidedBy: "namespace-label", reason: "namespace-enabled", dryRun: false },
      {
        level: 30,
        msg: "pod reviewed",
        uid: "u3",
        namespace: "plain",
        pod: "reviews-v1-7598cc9867-x2k8p",
        owner: "ReplicaSet/reviews-v1-7598cc9867",
        decision: "skipped",
        decidedBy: "pod-annotation",
        reason: "pod-opt-in-not-allowed",
        dryRun: false,
        warnings: [
          'hookpoint: annotation hookpoint.dev/inject="true" ignored: namespace plain is not labelled hookpoint.dev/inject=enabled and the built-in default policy has no allowPodOptIn selecting it',
        ],
      },
      { level: 30, msg: "pod reviewed", uid: "u4", namespace: "bookinfo", pod: "batch-worker", owner: null, decision: "skipped", decidedBy: "target-container", reason: "no-target-container", dryRun: true },
    ]);
  });

  it("hands warnings about an owned pod to the event sink at once (not for a dry run or a bare pod), and answers without waiting for it", async () => {
    const warned: unknown[] = [];
    const h = harness({ events: { warn: (w) => void warned.push(w) } });
    const optIn = withAnnotations(atCreate(loadPod("classic-sidecar")), { "hookpoint.dev/inject": "true" });
    const { json } = await mutate(h, podReview(optIn, { namespace: "plain" }));
    await mutate(h, podReview(optIn, { namespace: "plain", dryRun: true }));
    const { ownerReferences: _o, ...bareMeta } = optIn.metadata ?? {};
    await mutate(h, podReview({ ...optIn, metadata: bareMeta }, { namespace: "plain" }));
    await mutate(h, podReview(atCreate(loadPod("classic-sidecar")), { namespace: "bookinfo" })); // no warning
    expect(warned).toEqual([
      {
        namespace: "plain",
        owner: { apiVersion: "apps/v1", kind: "ReplicaSet", name: "reviews-v1-7598cc9867", uid: "2f1e0c6a-6f52-4d1b-9a43-7c1f6e2d9b10" },
        message: (json.response.warnings as string[])[0],
      },
    ]);
  });
});
