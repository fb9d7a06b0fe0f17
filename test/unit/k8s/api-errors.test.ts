// patchLostRace on the errors client-node throws for the API server's answers, with the
// Status bodies recorded from the real kube-apiserver (test/fixtures/k8s/README.md).
import { readFileSync } from "node:fs";
import { ApiException } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { errorText, patchLostRace } from "../../../src/k8s/api-errors.js";

/** What client-node throws for a refused call: the code and the body text as the server sent it. */
function refused(code: number, fixture: string): ApiException<string> {
  const body = readFileSync(new URL(`../../fixtures/k8s/${fixture}`, import.meta.url), "utf8");
  return new ApiException(code, "Unknown API Status Code!", body, { "content-type": "application/json" });
}

describe("patchLostRace", () => {
  it("a JSON patch whose test op failed (422 Invalid, empty details) lost a race: read again", () => {
    const err = refused(422, "patch-test-failed.json");
    expect([patchLostRace(err), errorText(err)]).toEqual([true, "HTTP 422: the server rejected our request due to an error in our request"]);
  });

  it("a write refused with 409 Conflict lost a race", () => {
    expect(patchLostRace(refused(409, "update-conflict-secret.json"))).toBe(true);
  });

  it("a patched object that fails validation (422 Invalid with causes) did not: retrying cannot fix it", () => {
    const secret = refused(422, "patch-invalid-secret.json");
    const config = refused(422, "patch-invalid-webhook-configuration.json");
    expect([patchLostRace(secret), errorText(secret)]).toEqual([false, 'HTTP 422: Secret "hookpoint-webhook-tls" is invalid: metadata.annotations: Too long: may not be more than 262144 bytes']);
    expect([patchLostRace(config), errorText(config)]).toEqual([
      false,
      `HTTP 422: MutatingWebhookConfiguration.admissionregistration.k8s.io "zz-hookpoint" is invalid: webhooks[2].namespaceSelector.matchExpressions[0].values[0]: Invalid value: "perf team": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
    ]);
  });

  it("other failures are no race: 403, 404, a network error", () => {
    expect([
      patchLostRace(new ApiException(403, "Forbidden", '{"kind":"Status","reason":"Forbidden","code":403}', {})),
      patchLostRace(new ApiException(404, "Not Found", '{"kind":"Status","reason":"NotFound","code":404}', {})),
      patchLostRace(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:6443"), { code: "ECONNREFUSED" })),
    ]).toEqual([false, false, false]);
  });

  it("a 422 whose body is no Status (a proxy's page) is taken as a lost race, as every 422 was before", () => {
    expect(patchLostRace(new ApiException(422, "Unknown API Status Code!", "<html>Unprocessable</html>", {}))).toBe(true);
  });
});
