// The Secret that holds the webhook's self-managed TLS material. Same name and
// keys as the one cert-manager writes in the cert-manager overlay, plus ca.key.
import type { V1Secret } from "@kubernetes/client-node";
import type { TlsMaterial } from "../certs/renewal.js";

/**
 * Set by `hookpoint certs rotate-ca` (RFC 3339 time of the request); the webhook
 * removes it in the same write that stores the new CA.
 */
export const ROTATE_CA_ANNOTATION = "hookpoint.dev/rotate-ca-requested-at";

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

/** The pending CA rotation request of a Secret: its time, or what is wrong with the annotation. */
export function rotateCaRequest(secret: V1Secret): { at?: Date; problem?: string } {
  const raw = secret.metadata?.annotations?.[ROTATE_CA_ANNOTATION];
  if (raw === undefined) return {};
  const at = new Date(raw);
  // RFC 3339 with a zone, as the command writes it; anything else is not acted on.
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(raw) || Number.isNaN(at.getTime())) {
    return { problem: `annotation ${ROTATE_CA_ANNOTATION} is not an RFC 3339 time: ${JSON.stringify(raw)}` };
  }
  return { at };
}

/**
 * The Secret for `material`; pass the resourceVersion read last to replace it (optimistic
 * concurrency), and its type, which the API server does not let an update change.
 */
export function materialToSecret(
  material: TlsMaterial,
  ref: {
    name: string;
    namespace: string;
    resourceVersion?: string;
    type?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  },
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
      ...(ref.annotations && Object.keys(ref.annotations).length > 0 ? { annotations: ref.annotations } : {}),
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
