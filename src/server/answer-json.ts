// The AdmissionReview answer as JSON text, written by hand: the patch is base64
// (Buffer#toString("base64") in answer.ts: letters, digits, +, / and =, nothing
// to escape), so it is copied as is instead of being scanned by a generic
// serializer; every other string goes through JSON.stringify.
import type { AdmissionReviewAnswer } from "./review-types.js";

export function answerJson(answer: AdmissionReviewAnswer): string {
  const r = answer.response;
  let s = `{"apiVersion":${JSON.stringify(answer.apiVersion)},"kind":${JSON.stringify(answer.kind)},"response":{"uid":${JSON.stringify(r.uid)},"allowed":${r.allowed ? "true" : "false"}`;
  if (r.patchType !== undefined) s += `,"patchType":${JSON.stringify(r.patchType)}`;
  if (r.patch !== undefined) s += `,"patch":"${r.patch}"`;
  if (r.warnings !== undefined) s += `,"warnings":${JSON.stringify(r.warnings)}`;
  if (r.auditAnnotations !== undefined) s += `,"auditAnnotations":${JSON.stringify(r.auditAnnotations)}`;
  if (r.status !== undefined) s += `,"status":${JSON.stringify({ code: r.status.code, message: r.status.message })}`;
  return `${s}}}`;
}
