// What the proxy container and the pod held before hookpoint changed them,
// kept in the status annotation (`original`) so that `hookpoint uninject` can
// give back exactly the pod it was given. Pure.
//
// Lists (env, volumeMounts, volumes) are recorded by name, not whole: hookpoint
// only sets, adds or removes entries of its own names and never moves the
// others, so the names it touched and the entries of those names that were
// there before (with their positions) are enough to rebuild the list exactly.
import { ISTIO_INIT_CONTAINER } from "./istio.js";
import { INJECTED_LABEL, STATUS_ANNOTATION } from "../names.js";
import type { Container, EnvVar, Pod, TargetRef, Volume, VolumeMount } from "./pod.js";
import { originalProblem, REPLACED_FIELDS, type ReplacedField } from "./original-shape.js";

export interface ListRecord<T> {
  /** Names of the entries hookpoint set, added or removed. */
  names: string[];
  /** Entries of those names before, with their positions (ascending). */
  was?: [number, T][];
  /** The list did not exist before. */
  absent?: true;
}

export { REPLACED_FIELDS, type ReplacedField } from "./original-shape.js";

export interface OriginalState {
  /** Each replaced field as it was; null: it was absent. Fields hookpoint left alone are not listed. */
  fields: Partial<Record<ReplacedField, unknown>>;
  env?: ListRecord<EnvVar>;
  volumeMounts?: ListRecord<VolumeMount>;
  volumes?: ListRecord<Volume>;
  /** Metadata maps hookpoint created because the pod had none. */
  created?: ("metadata" | "annotations" | "labels")[];
  /** The hookpoint.dev/injected label's value before, when the pod had one. */
  label?: string;
  /** Other annotations hookpoint set (the agent port's excludeInboundPorts): their value before; null: absent. */
  annotations?: Record<string, string | null>;
  /** istio-init's istio-iptables arguments before hookpoint added the agent's port to them. */
  istioInit?: { field: "args" | "command"; was: string[] };
}

/** What hookpoint changed outside the target container, the volumes and its own label and annotation. */
export interface OtherChanges {
  /** Annotations it set, besides the status annotation. */
  annotations?: readonly string[];
  /** istio-init's list it rewrote. */
  istioInit?: { field: "args" | "command"; was: readonly string[] };
}

type Named = { name: string };

/** The record for a pod whose target container became `container` and whose volumes became `volumes`. */
export function recordOriginal(pod: Pod, target: TargetRef, container: Container, volumes: Volume[] | undefined, other: OtherChanges = {}): OriginalState {
  const before = pod.spec[target.location]?.[target.index] as Container;
  const fields: Partial<Record<ReplacedField, unknown>> = {};
  for (const f of REPLACED_FIELDS) if (container[f] !== before[f]) fields[f] = before[f] ?? null;
  const out: OriginalState = { fields };
  const env = recordList(before.env, container.env);
  if (env) out.env = env;
  const mounts = recordList(before.volumeMounts, container.volumeMounts);
  if (mounts) out.volumeMounts = mounts;
  const vols = recordList(pod.spec.volumes, volumes);
  if (vols) out.volumes = vols;
  const created: ("metadata" | "annotations" | "labels")[] = [];
  if (pod.metadata === undefined) created.push("metadata");
  if (pod.metadata?.annotations === undefined) created.push("annotations");
  if (pod.metadata?.labels === undefined) created.push("labels");
  if (created.length > 0) out.created = created;
  const label = pod.metadata?.labels?.[INJECTED_LABEL];
  if (label !== undefined) out.label = label;
  if (other.annotations && other.annotations.length > 0) {
    const was: Record<string, string | null> = {};
    for (const key of other.annotations) was[key] = pod.metadata?.annotations?.[key] ?? null;
    out.annotations = was;
  }
  if (other.istioInit) out.istioInit = { field: other.istioInit.field, was: [...other.istioInit.was] };
  return out;
}

function recordList<T extends Named>(before: readonly T[] | undefined, after: readonly T[] | undefined): ListRecord<T> | undefined {
  if (before === after) return undefined;
  const old = before ?? [];
  const now = after ?? [];
  const names = new Set<string>();
  // An entry at the same index in both is in both: the mutation keeps entries in
  // place, so a search runs only for the few it added, replaced or moved. Walked with
  // `for of` and bounded by the length, so the record is exactly what the search alone
  // gives (a manifest's `env: "…"` is a string, walked by code point; past the end,
  // old[i] is undefined without undefined being in the list).
  addMissing(now, old, names);
  addMissing(old, now, names);
  if (names.size === 0 && before !== undefined) return undefined;
  const rec: ListRecord<T> = { names: [...names] };
  // A loop, not flatMap (a throwaway array per entry): 1.6 µs less per injected pod.
  const was: [number, T][] = [];
  for (let i = 0; i < old.length; i++) {
    const e = old[i] as T;
    if (names.has(e.name)) was.push([i, e]);
  }
  if (was.length > 0) rec.was = was;
  if (before === undefined) rec.absent = true;
  return rec;
}

/** Searches of a list after which a Set of it answers instead: a few searches cost less than the Set. */
const SEARCHES_BEFORE_SET = 8;

/**
 * Adds the name of each entry of `list` that `other` does not hold. `other.includes`, for
 * the few entries the mutation added or replaced; once setEnv removed a duplicate, every
 * later entry sits one place earlier and each would be searched for (O(n²)): past
 * SEARCHES_BEFORE_SET searches a Set of `other` answers, with the same SameValueZero test
 * (a hole reads as undefined in both). A string keeps its own `includes`.
 */
function addMissing<T extends Named>(list: readonly T[], other: readonly T[], names: Set<string>): void {
  let set: Set<T> | undefined;
  let searches = 0;
  let i = 0;
  for (const e of list) {
    if (!(i < other.length && other[i] === e)) {
      const held = set ? set.has(e) : ++searches <= SEARCHES_BEFORE_SET || !Array.isArray(other) ? other.includes(e) : (set = new Set(other)).has(e);
      if (!held) names.add(e.name);
    }
    i++;
  }
}

/** A status annotation that is there but is not JSON. */
export const UNREADABLE_STATUS: unique symbol = Symbol("unreadable status");

/** The pod's status annotation, parsed once for whoever reads it (undefined: absent). */
export function previousStatus(pod: Pod): unknown {
  const raw = pod.metadata?.annotations?.[STATUS_ANNOTATION];
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return UNREADABLE_STATUS;
  }
}

/** The record already on a pod that hookpoint injected before (re-invocation keeps the first one), from previousStatus. */
export function previousOriginal(parsed: unknown, target: TargetRef): { injected: boolean; original?: OriginalState } {
  if (parsed === undefined) return { injected: false };
  if (parsed === UNREADABLE_STATUS || parsed === null) return { injected: true };
  const status = parsed as { container?: unknown; location?: unknown; original?: OriginalState };
  if (status.container !== target.name || status.location !== target.location) return { injected: false };
  return status.original ? { injected: true, original: status.original } : { injected: true };
}

export type RestoreResult = { ok: true; pod: Pod; restored: boolean; note?: string } | { ok: false; message: string; path: string };

/**
 * The pod as it was before hookpoint injected it, from the status annotation's
 * record. A pod hookpoint did not inject comes back as it is (restored: false).
 */
export function restorePod(pod: Pod): RestoreResult {
  const raw = pod.metadata?.annotations?.[STATUS_ANNOTATION];
  if (raw === undefined) return { ok: true, pod, restored: false, note: "not injected by hookpoint (no hookpoint.dev/status annotation)" };
  const at = `metadata.annotations.${STATUS_ANNOTATION}`;
  let status: { version?: unknown; container?: unknown; location?: unknown; original?: OriginalState };
  try {
    status = JSON.parse(raw) as typeof status;
  } catch {
    return { ok: false, message: "is not valid JSON", path: at };
  }
  if (typeof status !== "object" || status === null) return { ok: false, message: "is not a JSON object", path: at };
  const original = status.original;
  if (!original || typeof original !== "object" || typeof original.fields !== "object") {
    return { ok: false, message: `holds no record of the original pod (injected by hookpoint ${String(status.version ?? "unknown")}); re-create the pod from its un-injected manifest`, path: at };
  }
  const problem = originalProblem(original as unknown as Record<string, unknown>);
  if (problem) return { ok: false, message: `${problem} (the record was edited or damaged; re-create the pod from its un-injected manifest)`, path: at };
  const location = status.location === "initContainers" ? "initContainers" : "containers";
  const list = pod.spec[location] ?? [];
  const index = list.findIndex((c) => c?.name === status.container);
  if (index < 0) return { ok: false, message: `names container ${JSON.stringify(status.container)} in ${location}, which the pod does not have`, path: at };

  const c: Container = { ...(list[index] as Container) };
  for (const [f, v] of Object.entries(original.fields)) {
    if (v === null) delete c[f];
    else c[f] = v;
  }
  restoreList(c as Record<string, unknown>, "env", original.env);
  restoreList(c as Record<string, unknown>, "volumeMounts", original.volumeMounts);
  const spec = { ...pod.spec, [location]: list.map((x, i) => (i === index ? c : x)) };
  restoreList(spec, "volumes", original.volumes);
  if (original.istioInit && Array.isArray(spec.initContainers)) {
    const { field, was } = original.istioInit;
    spec.initContainers = spec.initContainers.map((x) => (x?.name === ISTIO_INIT_CONTAINER ? { ...x, [field]: was } : x));
  }

  const created = new Set(original.created ?? []);
  const metadata = { ...(pod.metadata ?? {}) };
  const annotations = { ...(metadata.annotations ?? {}) };
  delete annotations[STATUS_ANNOTATION];
  for (const [key, was] of Object.entries(original.annotations ?? {})) {
    if (was === null) delete annotations[key];
    else annotations[key] = was;
  }
  metadata.annotations = annotations;
  const labels = { ...(metadata.labels ?? {}) };
  if (original.label !== undefined) labels[INJECTED_LABEL] = original.label;
  else delete labels[INJECTED_LABEL];
  metadata.labels = labels;
  if (created.has("annotations") && Object.keys(annotations).length === 0) delete metadata.annotations;
  if (created.has("labels") && Object.keys(labels).length === 0) delete metadata.labels;
  const out: Pod = { ...pod, spec: spec as Pod["spec"], metadata };
  if (created.has("metadata") && Object.keys(metadata).length === 0) delete out.metadata;
  return { ok: true, pod: out, restored: true };
}

function restoreList<T extends Named>(owner: Record<string, unknown>, key: string, rec: ListRecord<T> | undefined): void {
  if (!rec) return;
  const names = new Set(rec.names);
  const current = Array.isArray(owner[key]) ? (owner[key] as T[]) : [];
  const list = withEntriesAt(
    current.filter((e) => !names.has(e?.name)),
    rec.was ?? [],
  );
  if (rec.absent && list.length === 0) delete owner[key];
  else owner[key] = list;
}

/**
 * `list` with each `[position, entry]` of `was` put back where it was: what splicing them in
 * one by one, in order, gives, in one pass when the positions ascend (as recordList writes
 * them) rather than a copy of the rest of the list per entry. Other positions (a record edited
 * by hand) are spliced in as before.
 */
function withEntriesAt<T>(list: T[], was: readonly [number, T][]): T[] {
  if (!ascendingPositions(was)) {
    for (const [i, e] of was) list.splice(i, 0, e);
    return list;
  }
  const out: T[] = [];
  let k = 0;
  for (const [i, e] of was) {
    // Past the end, splice appends: so does this once the list runs out.
    while (out.length < i && k < list.length) out.push(list[k++] as T);
    out.push(e);
  }
  while (k < list.length) out.push(list[k++] as T);
  return out;
}

/** Whether `was` is a list of pairs whose positions are whole numbers, each above the one before. */
function ascendingPositions(was: unknown): boolean {
  if (!Array.isArray(was)) return false;
  let last = -1;
  for (const pair of was) {
    const i: unknown = Array.isArray(pair) ? pair[0] : undefined;
    if (typeof i !== "number" || !Number.isSafeInteger(i) || i <= last) return false;
    last = i;
  }
  return true;
}
