// Just enough checking of request.object to hand it to the admission core: the
// core trusts the Pod's structure, the route schema does not reach that far,
// and a hostile body must get a 400 naming the field, not a crash.
import { escapePointerSegment } from "../admission/patch.js";
import { isObject } from "../is-object.js";

/** Deeper than any real Pod (about 12 levels) and shallow enough for recursive code to be safe. */
export const MAX_OBJECT_DEPTH = 64;

/**
 * True when `value` nests objects/arrays deeper than `max` (a scalar is depth 0).
 * The recursion itself stops at `max`, so a hostile body cannot overflow the stack here.
 */
export function deeperThan(value: unknown, max: number): boolean {
  if (typeof value !== "object" || value === null) return false;
  if (max <= 0) return true;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (deeperThan(value[i], max - 1)) return true;
    return false;
  }
  const record = value as Record<string, unknown>;
  for (const k in record) if (deeperThan(record[k], max - 1)) return true;
  return false;
}

/** Why `object` (at `where`) cannot be reviewed as a Pod, or undefined when it can. */
export function podProblem(object: unknown, where: string): string | undefined {
  if (object === undefined || object === null) return `${where} is required for a Pod CREATE`;
  if (!isObject(object)) return `${where} must be a Pod object`;
  if (object.kind !== undefined && object.kind !== "Pod") return `${where}/kind must be "Pod" (got ${JSON.stringify(object.kind)})`;
  if (deeperThan(object, MAX_OBJECT_DEPTH)) return `${where} is nested deeper than ${MAX_OBJECT_DEPTH} levels`;
  const meta = object.metadata;
  if (meta !== undefined) {
    if (!isObject(meta)) return `${where}/metadata must be an object`;
    for (const field of ["labels", "annotations"] as const) {
      const map = meta[field];
      if (map === undefined || map === null) continue;
      if (!isObject(map)) return `${where}/metadata/${field} must be an object`;
      for (const [k, v] of Object.entries(map)) {
        if (typeof v !== "string") return `${where}/metadata/${field}/${escapePointerSegment(k)} must be a string`;
      }
    }
  }
  const spec = object.spec;
  if (!isObject(spec)) return `${where}/spec must be an object`;
  if (!Array.isArray(spec.containers)) return `${where}/spec/containers must be an array`;
  for (const list of ["containers", "initContainers"] as const) {
    const containers = spec[list];
    if (containers === undefined || containers === null) continue;
    if (!Array.isArray(containers)) return `${where}/spec/${list} must be an array`;
    for (let i = 0; i < containers.length; i++) {
      const c: unknown = containers[i];
      if (!isObject(c)) return `${where}/spec/${list}/${i} must be an object`;
      if (typeof c.name !== "string") return `${where}/spec/${list}/${i}/name must be a string`;
    }
  }
  if (spec.volumes !== undefined && spec.volumes !== null && !Array.isArray(spec.volumes)) return `${where}/spec/volumes must be an array`;
  return undefined;
}
