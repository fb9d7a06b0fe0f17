// Every manifest in deploy/ parses and validates against the Kubernetes schemas,
// and so does the output of the base and of each overlay, which is also kept as
// a reviewed golden file.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { checkGolden } from "./golden.js";
import { find, render, TARGETS, type Target } from "./render.js";
import { DEPLOY, isBuiltin, KUSTOMIZE_MISSING, kustomizeBinary, kustomizeBuild, manifestFiles, readDocs, validateBuiltin, type K8sObject } from "./support.js";
import { stringify } from "yaml";
import { DEFAULT_IMAGE } from "../../../src/defaults.js";

const CERT_MANAGER = "cert-manager.io/v1";

describe("deploy/ manifest files", () => {
  it("are exactly these", () => {
    expect(manifestFiles()).toEqual([
      "deploy/base/default-policy.yaml",
      "deploy/base/deployment.yaml",
      "deploy/base/kustomization.yaml",
      "deploy/base/kustomizeconfig.yaml",
      "deploy/base/mutatingwebhookconfiguration.yaml",
      "deploy/base/namespace.yaml",
      "deploy/base/poddisruptionbudget.yaml",
      "deploy/base/rbac.yaml",
      "deploy/base/service.yaml",
      "deploy/base/serviceaccount.yaml",
      "deploy/components/cluster-wide/kustomization.yaml",
      "deploy/crd/hookpointpolicies.hookpoint.dev.yaml",
      "deploy/crd/kustomization.yaml",
      "deploy/examples/hookpoint-collector-rbac.yaml",
      "deploy/examples/hookpointpolicy-payments.yaml",
      "deploy/overlays/cert-manager/certificates.yaml",
      "deploy/overlays/cert-manager/issuers.yaml",
      "deploy/overlays/cert-manager/kustomization.yaml",
      "deploy/overlays/cluster-wide/kustomization.yaml",
      "deploy/overlays/cluster-wide-cert-manager/kustomization.yaml",
      "deploy/overlays/self-managed/deployment-patch.yaml",
      "deploy/overlays/self-managed/kustomization.yaml",
      "deploy/overlays/self-managed/rbac.yaml",
      "deploy/overlays/self-managed/secret.yaml",
    ]);
  });

  it("parse, and every complete built-in object in them validates against the Kubernetes schemas", () => {
    const seen: string[] = [];
    for (const file of manifestFiles()) {
      for (const doc of readDocs(file) as K8sObject[]) {
        // kustomize's transformer configuration is not an object of any API.
        if (file.endsWith("/kustomizeconfig.yaml")) {
          expect(Object.keys(doc)).toEqual(["images"]);
          continue;
        }
        expect(doc.apiVersion, `${file}: apiVersion`).toBeTypeOf("string");
        expect(doc.kind, `${file}: kind`).toBeTypeOf("string");
        // A strategic-merge patch is a partial object: the rendered overlay is validated instead.
        if (file.endsWith("-patch.yaml")) continue;
        if (isBuiltin(doc)) validateBuiltin(doc);
        seen.push(`${doc.kind}/${doc.metadata?.name ?? ""}`);
      }
    }
    expect(seen.filter((s) => s.startsWith("Kustomization") || s.startsWith("Component"))).toHaveLength(7);
    expect(seen).toContain("HookpointPolicy/default");
    expect(seen).toContain("HookpointPolicy/payments");
  });
});

const EXPECTED: Record<Target, string[]> = {
  base: [
    "Namespace hookpoint-system",
    "CustomResourceDefinition hookpointpolicies.hookpoint.dev",
    "ServiceAccount hookpoint-system/hookpoint-webhook",
    "ClusterRole hookpoint-webhook",
    "ClusterRoleBinding hookpoint-webhook",
    "Service hookpoint-system/hookpoint-webhook",
    "Deployment hookpoint-system/hookpoint-webhook",
    "PodDisruptionBudget hookpoint-system/hookpoint-webhook",
    "HookpointPolicy default",
    "MutatingWebhookConfiguration zz-hookpoint",
  ],
  "cert-manager": [
    "Issuer hookpoint-system/hookpoint-ca",
    "Issuer hookpoint-system/hookpoint-selfsigned",
    "Certificate hookpoint-system/hookpoint-ca",
    "Certificate hookpoint-system/hookpoint-webhook",
  ],
  "self-managed": ["Secret hookpoint-system/hookpoint-webhook-tls", "Role hookpoint-system/hookpoint-webhook-certs", "RoleBinding hookpoint-system/hookpoint-webhook-certs"],
  "cluster-wide": [],
  "cluster-wide-cert-manager": [],
};

function ids(objs: K8sObject[]): string[] {
  return objs.map((o) => `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ""}${o.metadata.name}`);
}

describe.each(TARGETS)("kustomize build of %s", (target) => {
  it("renders exactly the expected objects, each labelled part-of hookpoint", (ctx) => {
    const objs = render(ctx, target);
    const extra = target === "cluster-wide" ? EXPECTED["self-managed"] : target === "cluster-wide-cert-manager" ? EXPECTED["cert-manager"] : EXPECTED[target];
    const expected = target === "base" ? EXPECTED.base : [...EXPECTED.base, ...extra];
    expect([...ids(objs)].sort()).toEqual([...expected].sort());
    for (const o of objs) expect(o.metadata.labels?.["app.kubernetes.io/part-of"], ids([o])[0]).toBe("hookpoint");
  });

  it("validates against the Kubernetes schemas", (ctx) => {
    const objs = render(ctx, target);
    const builtins = objs.filter(isBuiltin);
    for (const o of builtins) validateBuiltin(o);
    // Everything else is a HookpointPolicy (crd.test.ts) or cert-manager's (below).
    expect(objs.filter((o) => !isBuiltin(o)).map((o) => o.apiVersion).sort()).toEqual(
      [...(target.includes("cert-manager") ? [CERT_MANAGER, CERT_MANAGER, CERT_MANAGER, CERT_MANAGER] : []), "hookpoint.dev/v1alpha1"].sort(),
    );
  });

  it("matches its reviewed golden file", (ctx) => {
    const objs = render(ctx, target);
    const text = objs.map((o) => stringify(o, { lineWidth: 0 })).join("---\n");
    const result = checkGolden(join(import.meta.dirname, "golden", `${target}.yaml`), text);
    expect(["matched", "written"]).toContain(result);
    if (result === "written") console.warn(`wrote golden/${target}.yaml: review it`);
  });
});

describe("cert-manager overlay", () => {
  it("chains a self-signed root, a 10-year CA and a 1-year serving certificate into the Secret the Deployment mounts", (ctx) => {
    const objs = render(ctx, "cert-manager");
    expect(find(objs, "Issuer", "hookpoint-selfsigned").spec).toEqual({ selfSigned: {} });
    expect(find(objs, "Issuer", "hookpoint-ca").spec).toEqual({ ca: { secretName: "hookpoint-ca" } });
    expect(find(objs, "Certificate", "hookpoint-ca").spec).toEqual({
      isCA: true,
      commonName: "hookpoint-webhook-ca",
      secretName: "hookpoint-ca",
      duration: "87600h",
      renewBefore: "8760h",
      // A renewal keeps the CA's key: serving certificates it issued before stay trusted.
      privateKey: { algorithm: "ECDSA", size: 256, rotationPolicy: "Never" },
      issuerRef: { kind: "Issuer", name: "hookpoint-selfsigned" },
    });
    expect(find(objs, "Certificate", "hookpoint-webhook").spec).toEqual({
      secretName: "hookpoint-webhook-tls",
      commonName: "hookpoint-webhook.hookpoint-system.svc",
      dnsNames: [
        "hookpoint-webhook",
        "hookpoint-webhook.hookpoint-system",
        "hookpoint-webhook.hookpoint-system.svc",
        "hookpoint-webhook.hookpoint-system.svc.cluster.local",
      ],
      duration: "8760h",
      renewBefore: "2920h",
      usages: ["server auth", "digital signature", "key encipherment"],
      privateKey: { algorithm: "RSA", size: 2048, rotationPolicy: "Always" },
      issuerRef: { kind: "Issuer", name: "hookpoint-ca" },
    });
    const deployment = find(objs, "Deployment", "hookpoint-webhook");
    expect(deployment.spec.template.spec.volumes[0]).toEqual({ name: "tls", secret: { secretName: "hookpoint-webhook-tls", defaultMode: 0o440 } });
  });

  it("has cert-manager inject the CA into the webhook configuration", (ctx) => {
    const mwc = find(render(ctx, "cert-manager"), "MutatingWebhookConfiguration", "zz-hookpoint");
    expect(mwc.metadata.annotations).toEqual({ "cert-manager.io/inject-ca-from": "hookpoint-system/hookpoint-ca" });
  });
});

describe("the tracing image", () => {
  it("is named once, in the default policy's profile, and kustomize's images transformer rewrites it from an overlay", (ctx) => {
    const bin = kustomizeBinary();
    if (!bin) return ctx.skip(KUSTOMIZE_MISSING);
    const dir = mkdtempSync(join(tmpdir(), "hookpoint-images-"));
    try {
      writeFileSync(
        join(dir, "kustomization.yaml"),
        stringify({
          // kustomize takes relative paths only.
          resources: [relative(dir, join(DEPLOY, "overlays", "self-managed"))],
          images: [{ name: "hookpoint/proxy-istio", newName: "registry.example.com/mesh/hookpoint-proxy", newTag: "0.1.0-istio1.24.2" }],
        }),
      );
      const objs = kustomizeBuild(bin, dir);
      expect(find(objs, "HookpointPolicy", "default").spec.profiles.default.image).toBe("registry.example.com/mesh/hookpoint-proxy:0.1.0-istio1.24.2");
      expect(find(render(ctx, "base"), "HookpointPolicy", "default").spec.profiles.default.image).toBe("hookpoint/proxy-istio:0.1.0-istio1.28.0");
      // inject/explain without a policy assume the same image the base ships.
      expect(DEFAULT_IMAGE).toBe("hookpoint/proxy-istio:0.1.0-istio1.28.0");
      // Named once: no other object of any install mentions the tracing image.
      for (const target of TARGETS) {
        const mentions = render(ctx, target).filter((o) => JSON.stringify(o).includes("hookpoint/proxy-istio"));
        expect(mentions.map((o) => `${o.kind}/${o.metadata.name}`), target).toEqual(["HookpointPolicy/default"]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("self-managed overlay", () => {
  it("creates the TLS Secret empty (no data: a re-apply must not wipe what the webhook wrote; no type: it is immutable)", (ctx) => {
    const secret = find(render(ctx, "self-managed"), "Secret", "hookpoint-webhook-tls");
    expect(secret).toEqual({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "hookpoint-webhook-tls", namespace: "hookpoint-system", labels: { "app.kubernetes.io/name": "hookpoint-webhook", "app.kubernetes.io/part-of": "hookpoint" } },
    });
  });

  it("runs the webhook with --self-managed-certs and a writable in-memory volume where --cert/--key point", (ctx) => {
    const deployment = find(render(ctx, "self-managed"), "Deployment", "hookpoint-webhook");
    const pod = deployment.spec.template.spec;
    expect(pod.containers[0].args).toEqual([
      "webhook",
      "--port",
      "8443",
      "--cert",
      "/etc/hookpoint/tls/tls.crt",
      "--key",
      "/etc/hookpoint/tls/tls.key",
      "--manage-routing",
      "--default-pod-security",
      "privileged",
      "--self-managed-certs",
    ]);
    expect(pod.volumes).toEqual([
      { name: "tls", emptyDir: { medium: "Memory", sizeLimit: "1Mi" } },
      { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
    ]);
    expect(pod.containers[0].volumeMounts).toEqual([
      { name: "tls", mountPath: "/etc/hookpoint/tls", readOnly: false },
      { name: "tmp", mountPath: "/tmp" },
    ]);
  });
});
