// What a review leaves for people: one info line per reviewed pod, and the
// answer's warnings handed to a sink that shows them on the pod's owner
// (Kubernetes Events): the API server shows AdmissionReview warnings only to
// whoever sent the request, and for a pod made by a ReplicaSet or a Job that is
// a controller, never a human.
import type { FastifyBaseLogger } from "fastify";
import type { Answer } from "./answer.js";
import type { OwnerRef, WarningSink } from "../owner-warning.js";
import type { AdmissionRequest } from "./review-types.js";

export type { WarningSink } from "../owner-warning.js";

interface PodMeta {
  name?: string;
  generateName?: string;
  ownerReferences?: { apiVersion?: string; kind: string; name: string; uid?: string; controller?: boolean }[] | null;
}

/** The pod's controller (ownerReferences with controller: true), else its first owner; undefined for a bare pod. */
export function ownerOf(meta: PodMeta | undefined): OwnerRef | undefined {
  const refs = meta?.ownerReferences;
  if (!refs || refs.length === 0) return undefined;
  const ref = refs.find((r) => r.controller === true) ?? refs[0];
  if (!ref?.uid) return undefined;
  return { apiVersion: ref.apiVersion ?? "", kind: ref.kind, name: ref.name, uid: ref.uid };
}

/** Who the request is about, for log lines: uid, namespace, pod name (or generateName), owner. */
export function reviewSubject(request: AdmissionRequest, namespace: string | undefined): { fields: Record<string, unknown>; owner: OwnerRef | undefined } {
  const meta = (request.object as { metadata?: PodMeta } | null | undefined)?.metadata;
  const owner = ownerOf(meta);
  return { fields: { uid: request.uid, namespace, pod: meta?.name || meta?.generateName, owner: owner ? `${owner.kind}/${owner.name}` : null }, owner };
}

/** The warnings to `events`, when the pod has an owner and the request is real (a dry run has no side effects). */
export function reportWarnings(events: WarningSink | undefined, owner: OwnerRef | undefined, namespace: string | undefined, answer: Answer, dryRun: boolean): void {
  const { warnings } = answer.response;
  if (!events || !warnings || !owner || !namespace || dryRun) return;
  for (const message of warnings) events.warn({ namespace, owner, message });
}

/**
 * One line per reviewed pod (info) and its warnings to `events`. Requests that are not a
 * Pod CREATE are answered without review and logged at debug only.
 */
export function recordReview(
  log: FastifyBaseLogger,
  events: WarningSink | undefined,
  request: AdmissionRequest,
  namespace: string | undefined,
  answer: Answer,
  dryRun: boolean,
): void {
  const { outcome, decidedBy, reason } = answer.labels;
  if (outcome === "ignored") {
    log.debug({ uid: request.uid, namespace: request.namespace, operation: request.operation, resource: request.resource.resource }, "request allowed without review");
    return;
  }
  const { fields: line, owner } = reviewSubject(request, namespace);
  const { warnings, status } = answer.response;
  // Added to the subject's object, no spreads: this runs for every review.
  line.decision = outcome;
  line.decidedBy = decidedBy;
  line.reason = reason;
  line.dryRun = dryRun;
  if (warnings) line.warnings = warnings;
  if (status) line.message = status.message;
  log.info(line, "pod reviewed");
  reportWarnings(events, owner, namespace, answer, dryRun);
}
