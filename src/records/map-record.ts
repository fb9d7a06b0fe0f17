// The map record: one NDJSON line per map entry and interval of a bundled script's maps (README
// "Outputs"). The agent writes it (src/agent/output/records.ts builds it from bpftrace's
// output), `hookpoint report` reads it back. One definition of the shape, with a
// validating parser. Pure leaf: no I/O.
import { MAP_KINDS, MAP_UNITS } from "../catalog/header.js";
import { FieldError, countAt, isoTimeAt, listAt, nonEmptyStringAt, objectAt, oneOf, show, stringAt } from "./fields.js";

export interface Bucket {
  /** Inclusive bounds as bpftrace prints them; null = open-ended. */
  min: number | null;
  max: number | null;
  count: number;
}

export interface StatsValue {
  count: number;
  average: number;
  total: number;
}

/** One NDJSON record: a map entry of one dump. */
export interface MapRecord {
  ts: string;
  script: string;
  map: string;
  keys: string[];
  kind: (typeof MAP_KINDS)[number];
  unit: (typeof MAP_UNITS)[number];
  value?: number | string | StatsValue;
  buckets?: Bucket[];
  pid: number;
}

/** Checks a parsed JSON value against the map record format; throws FieldError naming the field. */
export function toMapRecord(value: unknown): MapRecord {
  const o = objectAt(value, "record");
  const keys = o.keys;
  if (!Array.isArray(keys)) throw new FieldError("keys", `expected a list of strings, got ${show(keys)}`);
  keys.forEach((k, i) => {
    if (typeof k !== "string") throw new FieldError(`keys[${i}]`, `expected a string, got ${show(k)}`);
  });
  const rec: MapRecord = {
    ts: isoTimeAt(o, "ts", ""),
    script: nonEmptyStringAt(o, "script", ""),
    map: stringAt(o, "map", ""),
    keys: keys as string[],
    kind: oneOf(o, "kind", "", MAP_KINDS),
    unit: oneOf(o, "unit", "", MAP_UNITS),
    pid: countAt(o, "pid", ""),
  };
  if (!rec.map.startsWith("@")) throw new FieldError("map", `expected a bpftrace map name starting with "@", got ${show(rec.map)}`);
  if (o.buckets !== undefined) {
    rec.buckets = listAt(o, "buckets", "").map((b, i) => bucketAt(b, `buckets[${i}]`));
  } else if (o.value !== undefined) {
    rec.value = valueAt(o.value);
  } else {
    throw new FieldError("value", `a map record has "value" or "buckets"; neither is there`);
  }
  return rec;
}

function bucketAt(v: unknown, path: string): Bucket {
  const o = objectAt(v, path);
  const bound = (key: "min" | "max"): number | null => {
    const b = o[key];
    if (b === null || b === undefined) return null;
    if (typeof b !== "number" || !Number.isFinite(b)) throw new FieldError(`${path}.${key}`, `expected a number or null, got ${show(b)}`);
    return b;
  };
  return { min: bound("min"), max: bound("max"), count: countAt(o, "count", `${path}.`) };
}

function valueAt(v: unknown): number | string | StatsValue {
  if (typeof v === "string") return v;
  if (typeof v === "number" && Number.isFinite(v)) return v;
  const o = objectAt(v, "value");
  for (const k of ["count", "average", "total"] as const) {
    if (typeof o[k] !== "number" || !Number.isFinite(o[k])) throw new FieldError(`value.${k}`, `expected a number, got ${show(o[k])}`);
  }
  return { count: o.count as number, average: o.average as number, total: o.total as number };
}
