// The pure pieces of the self-managed certificate module: the Secret's
// encoding and the caBundle JSON Patch.
import { describe, expect, it } from "vitest";
import { caBundlePatch } from "../../../src/k8s/ca-bundle-patch.js";
import { materialToSecret, secretToMaterial } from "../../../src/k8s/tls-secret.js";

const material = { caBundle: "CA PEM\n", caKey: "CA KEY\n", tlsCert: "TLS PEM\n", tlsKey: "TLS KEY\n" };
const b64 = (s: string) => Buffer.from(s).toString("base64");

describe("the TLS Secret", () => {
  it("is a kubernetes.io/tls Secret with tls.crt, tls.key, ca.crt and ca.key, base64-encoded", () => {
    expect(materialToSecret(material, { name: "hookpoint-webhook-tls", namespace: "hookpoint-system", resourceVersion: "7" })).toEqual({
      apiVersion: "v1",
      kind: "Secret",
      metadata: {
        name: "hookpoint-webhook-tls",
        namespace: "hookpoint-system",
        resourceVersion: "7",
        labels: { "app.kubernetes.io/part-of": "hookpoint", "app.kubernetes.io/managed-by": "hookpoint-webhook" },
      },
      type: "kubernetes.io/tls",
      data: { "ca.crt": b64("CA PEM\n"), "ca.key": b64("CA KEY\n"), "tls.crt": b64("TLS PEM\n"), "tls.key": b64("TLS KEY\n") },
    });
  });

  it("reads back what it wrote, and names the keys a foreign Secret lacks", () => {
    expect(secretToMaterial(materialToSecret(material, { name: "s", namespace: "n" }))).toEqual({ material });
    // A cert-manager Secret of the same name has no ca.key.
    expect(secretToMaterial({ data: { "tls.crt": "eA==", "tls.key": "eA==", "ca.crt": "eA==" } })).toEqual({ problem: "the Secret has no ca.key" });
    expect(secretToMaterial({})).toEqual({ problem: "the Secret has no ca.crt, ca.key, tls.crt, tls.key" });
  });
});

describe("caBundlePatch", () => {
  const config = {
    webhooks: [
      { name: "namespace.inject.hookpoint.dev", clientConfig: {} },
      { name: "pod.inject.hookpoint.dev", clientConfig: { caBundle: "OLD" } },
      { name: "third.inject.hookpoint.dev", clientConfig: { caBundle: "NEW" } },
    ],
  };

  it("sets the bundle on every entry that differs, each guarded by a test of the entry's name", () => {
    expect(caBundlePatch(config, "NEW")).toEqual([
      { op: "test", path: "/webhooks/0/name", value: "namespace.inject.hookpoint.dev" },
      { op: "add", path: "/webhooks/0/clientConfig/caBundle", value: "NEW" },
      { op: "test", path: "/webhooks/1/name", value: "pod.inject.hookpoint.dev" },
      { op: "add", path: "/webhooks/1/clientConfig/caBundle", value: "NEW" },
    ]);
  });

  it("is empty when every entry already has the bundle, or there are no entries", () => {
    expect(caBundlePatch({ webhooks: [{ name: "a.b.c", clientConfig: { caBundle: "X" } }] }, "X")).toEqual([]);
    expect(caBundlePatch({}, "X")).toEqual([]);
  });
});
