// bpftrace `-f json` output → typed events → map records (one per map entry). Pure.
//
// bpftrace 0.17+ prints one JSON object per line, e.g.
//   {"type": "map",   "data": {"@c": 5}}                      scalar count/sum/max/value
//   {"type": "map",   "data": {"@k": {"1,a": 3}}}             keyed (components joined by ",")
//   {"type": "hist",  "data": {"@h": [{"min": 64, "max": 127, "count": 1}]}}
//   {"type": "stats", "data": {"@s": {"count": 1, "average": 5, "total": 5}}}
//   {"type": "stats", "data": {"@a": 10}}                      avg()
//   {"type": "printf", "data": "text\n"}, {"type": "attached_probes", "data": {"probes": 3}},
//   {"type": "lost_events", "data": {"events": 12}}
//   {"type": "helper_error", "msg": "File exists", "helper": "map_update_elem", "retcode": -17, "line": 65, "col": 45}
//     (0.23: a helper call in the program failed; `line`/`col` point at the call in the program text bpftrace ran)
import { isObject } from "../../is-object.js";
import type { ScriptHeader } from "../../catalog/header.js";

// The record shapes are defined once, beside their parser, for the agent and the report.
import type { Bucket, MapRecord, StatsValue } from "../../records/map-record.js";
export type { Bucket, MapRecord, StatsValue };

export type EntryValue = { value: number | string } | { buckets: Bucket[] } | { stats: StatsValue };

export interface MapEntry {
  /** The raw key as bpftrace printed it; null for a scalar map. */
  key: string | null;
  data: EntryValue;
}

export type BpftraceEvent =
  | { type: "maps"; maps: { map: string; entries: MapEntry[] }[] }
  | { type: "printf"; text: string }
  | { type: "attached"; probes: number }
  | { type: "lost"; events: number }
  | { type: "helperError"; helper: string; retcode: number; message: string; line: number | null; col: number | null }
  | { type: "other"; name: string };

export class ParseError extends Error {
  override name = "ParseError";
}

/** Parses one output line; null for a blank line. Throws ParseError on anything else. */
export function parseLine(line: string): BpftraceEvent | null {
  const text = line.trim();
  if (text === "") return null;
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch {
    throw new ParseError(`not JSON: ${text.slice(0, 120)}`);
  }
  if (!isObject(obj) || typeof obj.type !== "string") throw new ParseError(`no "type" field: ${text.slice(0, 120)}`);
  const data = obj.data;
  switch (obj.type) {
    case "map":
    case "hist":
    case "stats": {
      if (!isObject(data)) throw new ParseError(`"${obj.type}" without a data object`);
      return { type: "maps", maps: Object.entries(data).map(([map, v]) => ({ map, entries: entriesOf(obj.type as string, map, v) })) };
    }
    case "printf":
      return { type: "printf", text: typeof data === "string" ? data : JSON.stringify(data) };
    case "attached_probes":
      return { type: "attached", probes: isObject(data) && typeof data.probes === "number" ? data.probes : 0 };
    case "lost_events":
      return { type: "lost", events: isObject(data) && typeof data.events === "number" ? data.events : 0 };
    case "helper_error":
      return helperErrorOf(isObject(data) ? data : obj);
    default:
      return { type: "other", name: obj.type };
  }
}

/** bpftrace 0.23 puts the fields at the top level; a `data` object is read the same way. */
function helperErrorOf(o: Record<string, unknown>): BpftraceEvent {
  const int = (v: unknown): number | null => (typeof v === "number" && Number.isInteger(v) ? v : null);
  return {
    type: "helperError",
    helper: typeof o.helper === "string" ? o.helper : "unknown",
    retcode: int(o.retcode) ?? 0,
    message: typeof o.msg === "string" ? o.msg : "",
    line: int(o.line),
    col: int(o.col),
  };
}

/**
 * Records for the maps a script's header declares (helper maps such as `@start[tid]` are
 * left out: they are state, not results).
 */
export function toRecords(
  event: Extract<BpftraceEvent, { type: "maps" }>,
  header: Pick<ScriptHeader, "name" | "maps">,
  ts: string,
  pid: number,
): MapRecord[] {
  const out: MapRecord[] = [];
  for (const { map, entries } of event.maps) {
    const info = header.maps.find((m) => m.name === map);
    if (!info) continue;
    for (const e of entries) {
      const rec: MapRecord = { ts, script: header.name, map, keys: splitKey(e.key, info.keys?.length ?? 0), kind: info.kind, unit: info.unit, pid };
      if ("buckets" in e.data) rec.buckets = e.data.buckets;
      else if ("stats" in e.data) rec.value = e.data.stats;
      else rec.value = e.data.value;
      out.push(rec);
    }
  }
  return out;
}

/** bpftrace joins key components with ","; a string component may itself hold commas, so
 * the last component takes the rest. */
export function splitKey(key: string | null, components: number): string[] {
  if (key === null) return [];
  if (components <= 1) return [key];
  const parts = key.split(",");
  if (parts.length <= components) return parts;
  return [...parts.slice(0, components - 1), parts.slice(components - 1).join(",")];
}

function entriesOf(type: string, map: string, v: unknown): MapEntry[] {
  const scalar = valueOf(type, v);
  if (scalar) return [{ key: null, data: scalar }];
  if (!isObject(v)) throw new ParseError(`map ${map}: unexpected value ${JSON.stringify(v)?.slice(0, 80)}`);
  return Object.entries(v).map(([key, inner]) => {
    const data = valueOf(type, inner);
    if (!data) throw new ParseError(`map ${map}[${key}]: unexpected value ${JSON.stringify(inner)?.slice(0, 80)}`);
    return { key, data };
  });
}

function valueOf(type: string, v: unknown): EntryValue | null {
  if (typeof v === "number" || typeof v === "string") return { value: v };
  if (type === "hist" && Array.isArray(v)) return { buckets: v.map(bucketOf) };
  if (type === "stats" && isObject(v) && typeof v.count === "number" && typeof v.average === "number" && typeof v.total === "number") {
    return { stats: { count: v.count, average: v.average, total: v.total } };
  }
  return null;
}

function bucketOf(b: unknown): Bucket {
  if (!isObject(b) || typeof b.count !== "number") throw new ParseError(`bad histogram bucket ${JSON.stringify(b)?.slice(0, 80)}`);
  return { min: typeof b.min === "number" ? b.min : null, max: typeof b.max === "number" ? b.max : null, count: b.count };
}
