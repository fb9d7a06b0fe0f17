// The route schema for POST /mutate, compiled once by Fastify (Ajv): it rejects
// malformed reviews with a 400 that names the field. (Answers are serialized by
// answer-json.ts.)
import { ADMISSION_API_VERSIONS, ADMISSION_OPERATIONS } from "./review-types.js";

const str = { type: "string" } as const;

export const admissionReviewBodySchema = {
  type: "object",
  required: ["apiVersion", "kind", "request"],
  properties: {
    apiVersion: { type: "string", enum: [...ADMISSION_API_VERSIONS] },
    kind: { type: "string", enum: ["AdmissionReview"] },
    request: {
      type: "object",
      required: ["uid", "kind", "resource", "operation"],
      properties: {
        uid: { type: "string", minLength: 1 },
        kind: { type: "object", required: ["kind"], properties: { group: str, version: str, kind: str } },
        resource: { type: "object", required: ["resource"], properties: { group: str, version: str, resource: str } },
        subResource: str,
        name: str,
        namespace: str,
        operation: { type: "string", enum: [...ADMISSION_OPERATIONS] },
        dryRun: { type: "boolean" },
      },
    },
  },
} as const;

/** Ajv's error, as much of it as the message needs. */
export interface SchemaError {
  keyword: string;
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
  data?: unknown;
}

/** Where (a JSON Pointer below the data checked) and what is wrong, from Ajv's first error. */
export interface SchemaProblem {
  path: string;
  detail: string;
}

export function schemaProblem(errors: readonly SchemaError[]): SchemaProblem {
  const e = errors[0];
  if (!e) return { path: "", detail: "is invalid" };
  const path = e.instancePath;
  switch (e.keyword) {
    case "required":
      return { path: `${path}/${String(e.params.missingProperty)}`, detail: "is required" };
    case "enum": {
      const allowed = (e.params.allowedValues as unknown[] | undefined) ?? [];
      return { path, detail: `must be ${allowed.length === 1 ? "" : "one of "}${allowed.map((v) => JSON.stringify(v)).join(", ")} (got ${describe(e.data)})` };
    }
    case "minLength":
      return { path, detail: "must not be empty" };
    case "type":
      if (path === "" && (e.data === null || e.data === undefined)) return { path, detail: "is missing; expected an AdmissionReview as JSON" };
      return { path, detail: `must be ${String(e.params.type).split(",").map(article).join(" or ")} (got ${describe(e.data)})` };
    default:
      return { path, detail: e.message ?? "is invalid" };
  }
}

/** One line naming the field and what is wrong with it, e.g. `body/apiVersion must be one of ... (got "v2")`. */
export function formatSchemaError(errors: readonly SchemaError[], dataVar: string): string {
  const p = schemaProblem(errors);
  return `${dataVar}${p.path} ${p.detail}`;
}

function article(type: string): string {
  if (type === "null") return "null";
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

/** What a value is, briefly; never serializes a structure (a hostile one may be huge or deep). */
function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  if (typeof value === "string") {
    const s = JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
    return s;
  }
  return `${typeof value} ${String(value)}`;
}
