// The bad-input corpus: every malformed request gets its exact status and a message
// naming what is wrong, and the server answers normally afterwards.
import { describe, expect, it } from "vitest";
import { BODY_LIMIT } from "../../../src/server/app.js";
import { loadPod } from "../../support/pods.js";
import { atCreate, harness, podReview } from "./harness.js";

const JSON_TYPE = { "content-type": "application/json" };
const valid = () => podReview(atCreate(loadPod("classic-sidecar"))) as { apiVersion: string; kind: string; request: Record<string, unknown> };

/** A valid review with `edit` applied to a copy. */
function review(edit: (r: ReturnType<typeof valid>) => void): string {
  const r = valid();
  edit(r);
  return JSON.stringify(r);
}

/** JSON text nesting `depth` objects (built as text: JSON.stringify itself would overflow the stack). */
const nested = (depth: number) => '{"inner":'.repeat(depth) + '"bottom"' + "}".repeat(depth);

interface Case {
  name: string;
  headers?: Record<string, string>;
  payload?: string;
  method?: "POST" | "GET" | "PUT";
  status: number;
  message: string;
}

const validText = JSON.stringify(valid());

const cases: Case[] = [
  { name: "not JSON", headers: JSON_TYPE, payload: "not json", status: 400, message: `body is not valid JSON: Unexpected token 'o', "not json" is not valid JSON` },
  { name: "a body that stops half-way", headers: JSON_TYPE, payload: '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionRev', status: 400, message: "body is not valid JSON: Unterminated string in JSON at position 56" },
  { name: "a body shorter than its Content-Length", headers: { ...JSON_TYPE, "content-length": String(validText.length) }, payload: validText.slice(0, 200), status: 400, message: "body length does not match its Content-Length (request cut off?)" },
  { name: "wrong content-type (text/plain)", headers: { "content-type": "text/plain" }, payload: validText, status: 415, message: 'Content-Type must be application/json (got "text/plain")' },
  { name: "wrong content-type (form)", headers: { "content-type": "application/x-www-form-urlencoded" }, payload: "apiVersion=v1", status: 415, message: 'Content-Type must be application/json (got "application/x-www-form-urlencoded")' },
  { name: "a Latin-1 body", headers: { "content-type": "application/json; charset=ISO-8859-1" }, payload: validText, status: 415, message: 'Content-Type charset must be utf-8 (got "iso-8859-1")' },
  { name: "a UTF-16 body", headers: { "content-type": 'application/json;charset="utf-16"' }, payload: validText, status: 415, message: 'Content-Type charset must be utf-8 (got "utf-16")' },
  { name: "an empty JSON body", headers: JSON_TYPE, payload: "", status: 400, message: "body is empty; expected an AdmissionReview" },
  { name: "no body at all", status: 400, message: "body is missing; expected an AdmissionReview as JSON" },
  { name: "a JSON array", headers: JSON_TYPE, payload: "[]", status: 400, message: "body must be an object (got an array)" },
  { name: "a JSON number", headers: JSON_TYPE, payload: "42", status: 400, message: "body must be an object (got number 42)" },
  { name: "missing apiVersion", headers: JSON_TYPE, payload: review((r) => delete (r as Partial<typeof r>).apiVersion), status: 400, message: "body/apiVersion is required" },
  { name: "wrong apiVersion", headers: JSON_TYPE, payload: review((r) => (r.apiVersion = "admission.k8s.io/v2")), status: 400, message: 'body/apiVersion must be one of "admission.k8s.io/v1", "admission.k8s.io/v1beta1" (got "admission.k8s.io/v2")' },
  { name: "wrong kind", headers: JSON_TYPE, payload: review((r) => (r.kind = "Pod")), status: 400, message: 'body/kind must be "AdmissionReview" (got "Pod")' },
  { name: "missing request", headers: JSON_TYPE, payload: review((r) => delete (r as Partial<typeof r>).request), status: 400, message: "body/request is required" },
  { name: "request is null", headers: JSON_TYPE, payload: review((r) => ((r as { request: unknown }).request = null)), status: 400, message: "body/request must be an object (got null)" },
  { name: "missing uid", headers: JSON_TYPE, payload: review((r) => delete r.request.uid), status: 400, message: "body/request/uid is required" },
  { name: "empty uid", headers: JSON_TYPE, payload: review((r) => (r.request.uid = "")), status: 400, message: "body/request/uid must not be empty" },
  { name: "uid not a string", headers: JSON_TYPE, payload: review((r) => (r.request.uid = 42)), status: 400, message: "body/request/uid must be a string (got number 42)" },
  { name: "missing request.kind", headers: JSON_TYPE, payload: review((r) => delete r.request.kind), status: 400, message: "body/request/kind is required" },
  { name: "missing operation", headers: JSON_TYPE, payload: review((r) => delete r.request.operation), status: 400, message: "body/request/operation is required" },
  { name: "unknown operation", headers: JSON_TYPE, payload: review((r) => (r.request.operation = "PATCH")), status: 400, message: 'body/request/operation must be one of "CREATE", "UPDATE", "DELETE", "CONNECT" (got "PATCH")' },
  { name: "dryRun not a boolean", headers: JSON_TYPE, payload: review((r) => (r.request.dryRun = "yes")), status: 400, message: 'body/request/dryRun must be a boolean (got "yes")' },
  { name: "missing object on a Pod CREATE", headers: JSON_TYPE, payload: review((r) => delete r.request.object), status: 400, message: "body/request/object is required for a Pod CREATE" },
  { name: "object not a Pod (a Service)", headers: JSON_TYPE, payload: review((r) => (r.request.object = { apiVersion: "v1", kind: "Service", metadata: { name: "reviews" }, spec: { ports: [{ port: 9080 }] } })), status: 400, message: 'body/request/object/kind must be "Pod" (got "Service")' },
  { name: "object is an array", headers: JSON_TYPE, payload: review((r) => (r.request.object = [])), status: 400, message: "body/request/object must be a Pod object" },
  { name: "object without spec", headers: JSON_TYPE, payload: review((r) => (r.request.object = { apiVersion: "v1", kind: "Pod", metadata: { name: "x" } })), status: 400, message: "body/request/object/spec is required" },
  { name: "containers not an array", headers: JSON_TYPE, payload: review((r) => ((r.request.object as { spec: Record<string, unknown> }).spec.containers = { name: "app" })), status: 400, message: "body/request/object/spec/containers must be an array (got an object)" },
  { name: "a container without a name", headers: JSON_TYPE, payload: review((r) => delete (r.request.object as { spec: { containers: Array<Record<string, unknown>> } }).spec.containers[1]?.name), status: 400, message: "body/request/object/spec/containers/1/name is required" },
  { name: "an annotation that is not a string", headers: JSON_TYPE, payload: review((r) => ((r.request.object as { metadata: { annotations: Record<string, unknown> } }).metadata.annotations["hookpoint.dev/inject"] = true)), status: 400, message: "body/request/object/metadata/annotations/hookpoint.dev~1inject must be a string (got boolean true)" },
  { name: "no namespace anywhere", headers: JSON_TYPE, payload: review((r) => delete r.request.namespace), status: 400, message: "body/request/namespace is required for a Pod CREATE" },
  { name: "a deeply nested object (10,000 levels)", headers: JSON_TYPE, payload: validText.replace('"spec":{', `"spec":{"affinity":${nested(10_000)},`), status: 400, message: "body/request/object is nested deeper than 64 levels" },
  { name: "a deeply nested body (1,000,000 arrays)", headers: JSON_TYPE, payload: "[".repeat(1_000_000) + "]".repeat(1_000_000), status: 400, message: "body must be an object (got an array)" },
  { name: "a body over the 10 MiB limit", headers: JSON_TYPE, payload: review((r) => ((r.request.object as { metadata: { annotations: Record<string, string> } }).metadata.annotations.padding = "x".repeat(BODY_LIMIT))), status: 413, message: `body is larger than the limit of ${BODY_LIMIT} bytes` },
  { name: "a __proto__ key", headers: JSON_TYPE, payload: validText.replace('"request":{', '"request":{"__proto__":{"allowed":true},'), status: 400, message: "body contains a forbidden __proto__ or constructor.prototype key" },
  { name: "a __proto__ key spelled with \\u escapes", headers: JSON_TYPE, payload: validText.replace('"request":{', '"request":{"\\u005f_proto__":{"allowed":true},'), status: 400, message: "body contains a forbidden __proto__ or constructor.prototype key" },
  { name: "a constructor.prototype key", headers: JSON_TYPE, payload: validText.replace('"request":{', '"request":{"constructor":{"prototype":{"allowed":true}},'), status: 400, message: "body contains a forbidden __proto__ or constructor.prototype key" },
  { name: "GET instead of POST", method: "GET", status: 404, message: "Route GET:/mutate not found" },
];

describe("bad input corpus", () => {
  it("has at least 20 cases", () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
  });

  const h = harness();

  it.each(cases.map((c) => [c.name, c] as const))("%s → exact status and message", async (_name, c) => {
    const res = await h.app.inject({ method: c.method ?? "POST", url: "/mutate", ...(c.headers ? { headers: c.headers } : {}), ...(c.payload !== undefined ? { payload: c.payload } : {}) });
    expect({ status: res.statusCode, message: (res.json() as { message: string }).message }).toEqual({ status: c.status, message: c.message });
  });

  it.each(["application/json; charset=utf-8", "application/json;charset=UTF-8", 'application/json; charset="utf8"'])("accepts %s", async (type) => {
    const res = await h.app.inject({ method: "POST", url: "/mutate", headers: { "content-type": type }, payload: validText });
    expect([res.statusCode, (res.json() as { response: { patchType: string } }).response.patchType]).toEqual([200, "JSONPatch"]);
  });

  it.each([
    ["the word constructor as a value", validText.replace('"annotations":{', '"annotations":{"note":"constructor",')],
    ["\\u escapes as Go writes them (HTML characters)", validText.replace('"annotations":{', '"annotations":{"link":"https://example.com/?a=1\\u0026b=\\u003cc\\u003e",')],
    ["a byte order mark", `\ufeff${validText}`],
  ])("reviews a body with %s", async (_what, payload) => {
    const res = await h.app.inject({ method: "POST", url: "/mutate", headers: JSON_TYPE, payload });
    expect([res.statusCode, (res.json() as { response: { patchType: string } }).response.patchType]).toEqual([200, "JSONPatch"]);
  });

  it("is healthy afterwards: a valid review is answered and every bad one was counted", async () => {
    const res = await h.app.inject({ method: "POST", url: "/mutate", headers: JSON_TYPE, payload: validText });
    expect(res.statusCode).toBe(200);
    expect((res.json() as { response: { allowed: boolean; patchType: string } }).response).toMatchObject({ allowed: true, patchType: "JSONPatch" });
    expect((await h.app.inject({ url: "/healthz" })).statusCode).toBe(200);
    const metrics = (await h.app.inject({ url: "/metrics" })).body;
    const routed = cases.filter((c) => (c.method ?? "POST") === "POST").length;
    expect(metrics).toContain(`hookpoint_admission_requests_total{outcome="invalid",decided_by="none",reason="invalid-request",dry_run="false"} ${routed}`);
    expect(metrics).toContain("hookpoint_admission_errors_total 0");
  });
});
