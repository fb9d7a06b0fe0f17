// Just enough checking of request.object to hand it to the admission core: the
// core trusts the Pod's structure, the route schema does not reach that far,
// and a hostile body must get a 400 naming the field, not a TypeError inside the
// review (which would fail open). The schema lists every field the core and the
// server read, with the type they expect; everything else passes untouched.
// (A test replaces every value of real pods by every wrong type and checks that
// either this refuses it or the review does not throw.)
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { isObject } from "../is-object.js";
import { schemaProblem, type SchemaError, type SchemaProblem } from "./review-schema.js";

/** Deeper than any real Pod (about 12 levels) and shallow enough for recursive code to be safe. */
export const MAX_OBJECT_DEPTH = 64;

const str = { type: "string" } as const;
const bool = { type: "boolean" } as const;
const int = { type: "integer" } as const;
const strings = { type: "array", items: str } as const;
/** Optional lists and maps the API server omits when empty; the core treats null like absent. */
const orNull = <T extends { type: string }>(s: T) => ({ ...s, type: [s.type, "null"] });
const stringMap = orNull({ type: "object", additionalProperties: str });
/** Quantities as the API server writes them (strings), or numbers as YAML users write them. */
const quantities = orNull({ type: "object", additionalProperties: { type: ["string", "number"] } });

const container = {
  type: "object",
  required: ["name"],
  properties: {
    name: str,
    image: str,
    command: orNull(strings),
    args: orNull(strings),
    restartPolicy: str,
    env: orNull({ type: "array", items: { type: "object", required: ["name"], properties: { name: str, value: str } } }),
    volumeMounts: orNull({
      type: "array",
      items: { type: "object", required: ["name", "mountPath"], properties: { name: str, mountPath: str, readOnly: bool } },
    }),
    securityContext: orNull({
      type: "object",
      properties: {
        privileged: bool,
        allowPrivilegeEscalation: bool,
        runAsUser: int,
        runAsGroup: int,
        runAsNonRoot: bool,
        capabilities: orNull({ type: "object", properties: { add: orNull(strings), drop: orNull(strings) } }),
      },
    }),
    resources: orNull({ type: "object", properties: { limits: quantities, requests: quantities } }),
  },
} as const;

const containers = orNull({ type: "array", items: container });

export const podSchema = {
  type: "object",
  required: ["spec"],
  properties: {
    metadata: {
      type: "object",
      properties: {
        name: str,
        generateName: str,
        namespace: str,
        labels: stringMap,
        annotations: stringMap,
        ownerReferences: orNull({
          type: "array",
          items: { type: "object", required: ["kind", "name"], properties: { apiVersion: str, kind: str, name: str, uid: str, controller: bool } },
        }),
      },
    },
    spec: {
      type: "object",
      required: ["containers"],
      properties: {
        containers: { type: "array", items: container },
        initContainers: containers,
        volumes: orNull({ type: "array", items: { type: "object", required: ["name"], properties: { name: str } } }),
        hostNetwork: bool,
        securityContext: orNull({ type: "object", properties: { runAsUser: int, runAsGroup: int } }),
        // int64 to the API server: a fraction (from a manifest) fails its decoding.
        terminationGracePeriodSeconds: int,
      },
    },
  },
} as const;

const ajv = new Ajv({ allErrors: false, verbose: true, strict: true, allowUnionTypes: true });
// One compiled validator for the process: stops at the first error, keeps the offending value for the message.
const validatePod = ajv.compile(podSchema);

/**
 * The schema with every scalar also allowed to be null, for manifests: YAML writes an
 * empty value as null (`value:`, a Helm value left out) and the API server reads a null
 * scalar as unset, so kubectl accepts it; the API server never sends one to the webhook.
 */
function nullableScalars(schema: Record<string, unknown>, required = false): Record<string, unknown> {
  const out: Record<string, unknown> = { ...schema };
  const types = ([] as unknown[]).concat(schema.type ?? []);
  // A required field (a name, a mount path) stays required: Kubernetes refuses it null too.
  if (!required && types.length > 0 && types.every((t) => t === "string" || t === "boolean" || t === "integer" || t === "number")) out.type = [...types, "null"];
  if (isObject(schema.items)) out.items = nullableScalars(schema.items);
  if (isObject(schema.additionalProperties)) out.additionalProperties = nullableScalars(schema.additionalProperties);
  const names = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  if (isObject(schema.properties)) out.properties = Object.fromEntries(Object.entries(schema.properties).map(([k, v]) => [k, nullableScalars(v as Record<string, unknown>, names.has(k))]));
  return out;
}

// Compiled on first use: the webhook never needs it.
let validateManifestPod: ValidateFunction | undefined;

/**
 * True when `value` nests objects/arrays deeper than `max` (a scalar is depth 0).
 * The recursion itself stops at `max`, so a hostile body cannot overflow the stack here.
 */
export function deeperThan(value: unknown, max: number): boolean {
  if (typeof value !== "object" || value === null) return false;
  if (max <= 0) return true;
  // Scalars (most of a pod) are skipped here rather than in a call each.
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      if (typeof v === "object" && v !== null && deeperThan(v, max - 1)) return true;
    }
    return false;
  }
  const record = value as Record<string, unknown>;
  for (const k in record) {
    const v = record[k];
    if (typeof v === "object" && v !== null && deeperThan(v, max - 1)) return true;
  }
  return false;
}

/**
 * deeperThan for a Pod, leaving out metadata.managedFields: the API server's own
 * bookkeeping, about half of a real pod's nodes, which nothing here reads or walks
 * (the patch skips it by identity), so its depth cannot hurt.
 */
function podDeeperThan(pod: Record<string, unknown>, max: number): boolean {
  for (const k in pod) {
    const v = pod[k];
    if (k !== "metadata" || !isObject(v)) {
      if (deeperThan(v, max - 1)) return true;
      continue;
    }
    for (const mk in v) if (mk !== "managedFields" && deeperThan(v[mk], max - 2)) return true;
  }
  return false;
}

/** Why `object` (at `where`) cannot be reviewed as a Pod, or undefined when it can. */
export function podProblem(object: unknown, where: string): string | undefined {
  if (object === undefined || object === null) return `${where} is required for a Pod CREATE`;
  if (!isObject(object)) return `${where} must be a Pod object`;
  const p = podShapeProblem(object);
  return p && `${where}${p.path} ${p.detail}`;
}

/**
 * What in a Pod object the core would trip on: where (a JSON Pointer below the pod)
 * and what is wrong. Shared by the webhook (podProblem) and by `hookpoint inject`,
 * `explain` and `uninject` over manifests (`from: "manifest"`: null scalars pass, as
 * kubectl lets them), so both refuse the same wrong types.
 */
export function podShapeProblem(pod: Record<string, unknown>, from: "request" | "manifest" = "request"): SchemaProblem | undefined {
  if (pod.kind !== undefined && pod.kind !== "Pod") return { path: "/kind", detail: `must be "Pod" (got ${JSON.stringify(pod.kind)})` };
  if (podDeeperThan(pod, MAX_OBJECT_DEPTH)) return { path: "", detail: `is nested deeper than ${MAX_OBJECT_DEPTH} levels` };
  const validate = from === "request" ? validatePod : (validateManifestPod ??= ajv.compile(nullableScalars(podSchema)));
  if (validate(pod)) return undefined;
  return schemaProblem((validate.errors ?? []) as ErrorObject[] as SchemaError[]);
}
