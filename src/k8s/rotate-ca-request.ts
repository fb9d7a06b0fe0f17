// `hookpoint certs rotate-ca`'s cluster side: record a CA rotation request on the
// self-managed Secret. The webhook replicas act on it at their next check, in
// the same two steps as a rotation that is due (self-managed-certs.ts).
import { CoreV1Api, type KubeConfig, type V1Secret } from "@kubernetes/client-node";
import type { Operation } from "fast-json-patch";
import { escapePointerSegment } from "../admission/patch.js";
import { certificateInfo, parseCertificate } from "../certs/inspect.js";
import { errorText, httpStatus, patchLostRace } from "./api-errors.js";
import { ROTATE_CA_ANNOTATION, rotateCaRequest, secretToMaterial } from "./tls-secret.js";

/** Conflicting writes tolerated before giving up (the webhook may be writing the Secret). */
const MAX_ATTEMPTS = 5;

export interface RotateCaRequest {
  namespace: string;
  secretName: string;
  now: Date;
}

export interface RotateCaRequested {
  /** The time the request names: `now` in whole seconds, or just after the current CA's start when `now` is not after it. */
  requestedAt: Date;
  /** The CA in force when the request was made. */
  ca: { fingerprint256: string; notBefore: Date; notAfter: Date };
  /** An earlier request still pending, replaced by this one. */
  pending?: Date;
}

/** What the caller lacks, in RBAC terms, when the API server answers 403. */
function rbacHint(req: RotateCaRequest): string {
  return `rotate-ca needs get and patch on secrets/${req.secretName} in namespace ${req.namespace} (see the README, "hookpoint certs rotate-ca")`;
}

function failure(req: RotateCaRequest, action: string, err: unknown): Error {
  const where = `Secret ${req.namespace}/${req.secretName}`;
  const code = httpStatus(err);
  if (code === 404) {
    return new Error(
      `${where} not found: rotate-ca applies to installs with self-managed certificates (deploy/overlays/self-managed) in that namespace; pass -n for another namespace`,
    );
  }
  if (code === 403) return new Error(`${action} ${where} was refused: ${errorText(err)}; ${rbacHint(req)}`);
  return new Error(`${action} ${where} failed: ${errorText(err)}`);
}

/** The material of a Secret that the self-managed webhook fills, or why rotate-ca cannot apply to it. */
function currentCa(req: RotateCaRequest, secret: V1Secret): RotateCaRequested["ca"] {
  const where = `Secret ${req.namespace}/${req.secretName}`;
  const decoded = secretToMaterial(secret);
  if (!decoded.material) {
    const data = secret.data ?? {};
    if (data["tls.crt"] && !data["ca.key"]) {
      throw new Error(`${where} holds no ca.key: its certificate is not managed by the webhook (cert-manager overlay?); rotate that CA where it is issued`);
    }
    throw new Error(`${where} holds no certificate yet (${decoded.problem}): the webhook fills it when it starts with --self-managed-certs; nothing to rotate`);
  }
  const info = certificateInfo(parseCertificate(`${where} ca.crt`, decoded.material.caBundle));
  return { fingerprint256: info.fingerprint256, notBefore: info.notBefore, notAfter: info.notAfter };
}

/**
 * Sets the rotation request annotation to `now` (a JSON patch guarded by the
 * resourceVersion read, so a certificate the webhook wrote meanwhile is checked too).
 */
export async function requestCaRotation(kubeConfig: KubeConfig, req: RotateCaRequest): Promise<RotateCaRequested> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const now = new Date(Math.floor(req.now.getTime() / 1000) * 1000);
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    let secret: V1Secret;
    try {
      secret = await core.readNamespacedSecret({ name: req.secretName, namespace: req.namespace });
    } catch (err) {
      throw failure(req, "reading", err);
    }
    const ca = currentCa(req, secret);
    // The webhook rotates a CA issued before the request. Dated by a clock that is behind the
    // webhook's (the CA's start is the webhook's clock less 5 minutes), the request would come
    // before the current CA and never be acted on: it is dated just after the CA's start then.
    const requestedAt = now > ca.notBefore ? now : new Date(ca.notBefore.getTime() + 1000);
    const pending = rotateCaRequest(secret).at;
    const annotations = secret.metadata?.annotations;
    const value = requestedAt.toISOString().replace(/\.000Z$/, "Z");
    const ops: Operation[] = [
      { op: "test", path: "/metadata/resourceVersion", value: secret.metadata?.resourceVersion },
      annotations
        ? { op: "add", path: `/metadata/annotations/${escapePointerSegment(ROTATE_CA_ANNOTATION)}`, value }
        : { op: "add", path: "/metadata/annotations", value: { [ROTATE_CA_ANNOTATION]: value } },
    ];
    try {
      await core.patchNamespacedSecret({ name: req.secretName, namespace: req.namespace, body: ops });
    } catch (err) {
      // The Secret changed between the read and the patch (the test op failed): read again. A
      // Secret the API server refuses as invalid (annotations too long, say) is reported at once.
      if (patchLostRace(err)) continue;
      throw failure(req, "patching", err);
    }
    return { requestedAt, ca, ...(pending ? { pending } : {}) };
  }
  throw new Error(`Secret ${req.namespace}/${req.secretName} kept changing under ${MAX_ATTEMPTS} attempts to annotate it; run the command again`);
}
