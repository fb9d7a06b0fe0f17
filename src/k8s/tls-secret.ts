// The Secret that holds the webhook's self-managed TLS material. Same name and
// keys as the one cert-manager writes in the cert-manager overlay, plus ca.key.
import type { V1Secret } from "@kubernetes/client-node";
import type { TlsMaterial } from "../certs/renewal.js";

const KEYS = { caBundle: "ca.crt", caKey: "ca.key", tlsCert: "tls.crt", tlsKey: "tls.key" } as const;

export type DecodedSecret = { material: TlsMaterial; problem?: undefined } | { material?: undefined; problem: string };

/** Reads the material out of a Secret; `problem` says what is missing when it cannot. */
export function secretToMaterial(secret: V1Secret): DecodedSecret {
  const data = secret.data ?? {};
  const missing = Object.values(KEYS).filter((k) => !data[k]);
  if (missing.length > 0) return { problem: `the Secret has no ${missing.join(", ")}` };
  const text = (k: string) => Buffer.from(data[k] ?? "", "base64").toString("utf8");
  return {
    material: { caBundle: text(KEYS.caBundle), caKey: text(KEYS.caKey), tlsCert: text(KEYS.tlsCert), tlsKey: text(KEYS.tlsKey) },
  };
}

/**
 * The Secret for `material`; pass the resourceVersion read last to replace it (optimistic
 * concurrency), and its type, which the API server does not let an update change.
 */
export function materialToSecret(
  material: TlsMaterial,
  ref: { name: string; namespace: string; resourceVersion?: string; type?: string; labels?: Record<string, string> },
): V1Secret {
  const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name: ref.name,
      namespace: ref.namespace,
      ...(ref.resourceVersion ? { resourceVersion: ref.resourceVersion } : {}),
      labels: { "app.kubernetes.io/part-of": "hookpoint", "app.kubernetes.io/managed-by": "hookpoint-webhook", ...ref.labels },
    },
    type: ref.type ?? "kubernetes.io/tls",
    data: {
      [KEYS.caBundle]: b64(material.caBundle),
      [KEYS.caKey]: b64(material.caKey),
      [KEYS.tlsCert]: b64(material.tlsCert),
      [KEYS.tlsKey]: b64(material.tlsKey),
    },
  };
}
