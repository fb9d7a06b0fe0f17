// The hand-written serializer gives exactly what JSON.stringify would.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { answerJson } from "../../../src/server/answer-json.js";
import type { AdmissionReviewAnswer } from "../../../src/server/review-types.js";

describe("answerJson", () => {
  it("matches JSON.stringify for every shape of answer", () => {
    const answer = fc.record(
      {
        apiVersion: fc.constantFrom("admission.k8s.io/v1" as const, "admission.k8s.io/v1beta1" as const),
        kind: fc.constant("AdmissionReview" as const),
        response: fc.record(
          {
            uid: fc.string(),
            allowed: fc.boolean(),
            patchType: fc.constant("JSONPatch" as const),
            patch: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString("base64")),
            warnings: fc.array(fc.string({ unit: "grapheme" })),
            auditAnnotations: fc.record({ "decided-by": fc.string(), reason: fc.string() }),
            status: fc.record({ code: fc.integer({ min: 100, max: 599 }), message: fc.string({ unit: "binary" }) }),
          },
          { requiredKeys: ["uid", "allowed"] },
        ),
      },
      { requiredKeys: ["apiVersion", "kind", "response"] },
    );
    fc.assert(
      fc.property(answer, (a) => {
        expect(answerJson(a as AdmissionReviewAnswer)).toBe(JSON.stringify(a));
      }),
      { numRuns: 500 },
    );
  });
});
