// Whether a status annotation's `original` record has the shape recordOriginal writes,
// checked before uninject uses it: the record lives in an annotation anyone can edit,
// and a wrong type deep inside must be a clear refusal naming the field, not a
// TypeError. Pure.
import { isObject } from "../is-object.js";

/** Container fields hookpoint replaces outright. */
export const REPLACED_FIELDS = ["image", "command", "securityContext", "resources"] as const;
export type ReplacedField = (typeof REPLACED_FIELDS)[number];

const CREATED = new Set(["metadata", "annotations", "labels"]);
const REPLACED = new Set<string>(REPLACED_FIELDS);

function got(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "string") return `string ${JSON.stringify(v)}`;
  if (typeof v === "object") return "an object";
  return `${typeof v} ${String(v)}`;
}

function stringList(v: unknown, at: string): string | undefined {
  if (!Array.isArray(v)) return `${at}: must be a list of strings (got ${got(v)})`;
  const i = v.findIndex((s) => typeof s !== "string");
  return i < 0 ? undefined : `${at}[${i}]: must be a string (got ${got(v[i])})`;
}

function listRecordProblem(v: unknown, at: string): string | undefined {
  if (v === undefined) return undefined;
  if (!isObject(v)) return `${at}: must be an object (got ${got(v)})`;
  const names = stringList(v.names, `${at}.names`);
  if (names) return names;
  if (v.absent !== undefined && v.absent !== true) return `${at}.absent: must be true when present (got ${got(v.absent)})`;
  if (v.was === undefined) return undefined;
  if (!Array.isArray(v.was)) return `${at}.was: must be a list of [position, entry] pairs (got ${got(v.was)})`;
  for (const [k, pair] of v.was.entries()) {
    const here = `${at}.was[${k}]`;
    if (!Array.isArray(pair) || pair.length !== 2) return `${here}: must be a [position, entry] pair (got ${got(pair)})`;
    const [i, e] = pair as [unknown, unknown];
    if (typeof i !== "number" || !Number.isSafeInteger(i) || i < 0) return `${here}[0]: must be a position, a whole number from 0 (got ${got(i)})`;
    if (!isObject(e) || typeof e.name !== "string") return `${here}[1]: must be an entry with a string name (got ${isObject(e) ? "an object without one" : got(e)})`;
  }
  return undefined;
}

/** The first thing wrong with `original` (a path under `original` and what is wrong), or undefined. */
export function originalProblem(original: Record<string, unknown>): string | undefined {
  const { fields } = original;
  if (!isObject(fields)) return `original.fields: must be an object (got ${got(fields)})`;
  const unknownField = Object.keys(fields).find((f) => !REPLACED.has(f));
  if (unknownField !== undefined) return `original.fields.${unknownField}: is not a field hookpoint replaces (${REPLACED_FIELDS.join(", ")})`;
  for (const key of ["env", "volumeMounts", "volumes"] as const) {
    const p = listRecordProblem(original[key], `original.${key}`);
    if (p) return p;
  }
  const { created, label, annotations, istioInit } = original;
  if (created !== undefined) {
    const p = stringList(created, "original.created");
    if (p) return p;
    const bad = (created as string[]).find((c) => !CREATED.has(c));
    if (bad !== undefined) return `original.created: ${JSON.stringify(bad)} is not one of metadata, annotations, labels`;
  }
  if (label !== undefined && typeof label !== "string") return `original.label: must be a string (got ${got(label)})`;
  if (annotations !== undefined) {
    if (!isObject(annotations)) return `original.annotations: must be an object (got ${got(annotations)})`;
    for (const [k, v] of Object.entries(annotations)) {
      if (v !== null && typeof v !== "string") return `original.annotations.${k}: must be a string or null (got ${got(v)})`;
    }
  }
  if (istioInit !== undefined) {
    if (!isObject(istioInit)) return `original.istioInit: must be an object (got ${got(istioInit)})`;
    if (istioInit.field !== "args" && istioInit.field !== "command") return `original.istioInit.field: must be "args" or "command" (got ${got(istioInit.field)})`;
    const p = stringList(istioInit.was, "original.istioInit.was");
    if (p) return p;
  }
  return undefined;
}
