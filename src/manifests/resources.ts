// The resources of parsed manifests (List items one by one) and where each keeps
// its pod template: the known kinds by their fixed path, any other kind when it
// carries one at spec.template (Argo Rollout, Knative...) or
// spec.jobTemplate.spec.template. A resource without one is passed through, and
// the summary says so: nothing is silently left untraced.
import { podAt, podTemplateOf, TEMPLATE_PATHS } from "../admission/workloads.js";
import type { Pod } from "../admission/pod.js";
import { InputError } from "../input-error.js";
import { podShapeProblem } from "../server/pod-shape.js";
import { isObject, type ParsedInput } from "../input/documents.js";

/** Where unknown kinds are looked at for a pod template, in order. */
const GENERIC_TEMPLATE_PATHS: readonly (readonly string[])[] = [
  ["spec", "template"],
  ["spec", "jobTemplate", "spec", "template"],
];

export interface Resource {
  file: string;
  /** 0-based document index in its file. */
  document: number;
  /** Index in a List's items, when it is one. */
  item?: number;
  /** Path of the resource in its document ([] or ["items", i]). */
  prefix: (string | number)[];
  obj: Record<string, unknown>;
  kind: string;
  /** The namespace the resource names, if any. */
  namespace?: string;
  name: string;
  /** Its pod template, or why it has none. */
  template: { pod: Pod; path: readonly string[] } | { none: string };
}

/** Every resource of the input, in order; malformed ones are an InputError naming file, document and field. */
export function resourcesOf(parsed: ParsedInput, file: string): Resource[] {
  const out: Resource[] = [];
  for (const d of parsed.documents) {
    const value = d.value;
    if (value === null || value === undefined) continue; // an empty document (comments only)
    if (!isObject(value)) throw new InputError(file, "must be an object (a Kubernetes resource)", d.index);
    if (typeof value.kind !== "string" || value.kind === "") throw new InputError(file, "missing", d.index, "kind");
    if (value.kind === "List" || (value.kind.endsWith("List") && Array.isArray(value.items))) {
      if (!Array.isArray(value.items)) throw new InputError(file, "must be a list", d.index, "items");
      value.items.forEach((item: unknown, i: number) => {
        if (!isObject(item)) throw new InputError(file, "must be an object", d.index, `items[${i}]`);
        if (typeof item.kind !== "string" || item.kind === "") throw new InputError(file, "missing", d.index, `items[${i}].kind`);
        out.push(resource(file, d.index, ["items", i], item, i));
      });
    } else out.push(resource(file, d.index, [], value));
  }
  return out;
}

function resource(file: string, document: number, prefix: (string | number)[], obj: Record<string, unknown>, item?: number): Resource {
  const meta = isObject(obj.metadata) ? obj.metadata : {};
  const kind = obj.kind as string;
  const r: Resource = {
    file,
    document,
    prefix,
    obj,
    kind,
    name: typeof meta.name === "string" ? meta.name : typeof meta.generateName === "string" ? meta.generateName : "(unnamed)",
    template: findTemplate(obj, (detail, path) => new InputError(file, detail, document, fieldPath(prefix, path))),
  };
  if (item !== undefined) r.item = item;
  if (typeof meta.namespace === "string" && meta.namespace !== "") r.namespace = meta.namespace;
  return r;
}

function findTemplate(obj: Record<string, unknown>, fail: (detail: string, path: string) => InputError): Resource["template"] {
  const kind = obj.kind as string;
  if (TEMPLATE_PATHS[kind]) {
    const t = podTemplateOf(obj);
    if (t.ok === true) return shaped(t.pod, t.path, fail);
    if (t.ok === false) throw fail(t.message, t.path);
  }
  for (const path of GENERIC_TEMPLATE_PATHS) {
    if (!hasContainers(obj, path)) continue;
    const t = podAt(obj, path);
    if (t.ok === true) return shaped(t.pod, t.path, fail);
    if (t.ok === false) throw fail(t.message, t.path);
  }
  const spec = isObject(obj.spec) ? obj.spec : {};
  const ref = isObject(spec.workloadRef) ? spec.workloadRef : undefined;
  if (ref) return { none: `${kind} has no pod template (spec.workloadRef points to ${String(ref.kind ?? "a workload")} ${String(ref.name ?? "")}: inject that one)` };
  return { none: `${kind} has no pod template` };
}

/**
 * The template, once it passes the webhook's own check of what the core reads (an `env`
 * that is a string, say, would otherwise come out as nonsense): the same pods are
 * refused here as there, naming the field in the manifest.
 */
function shaped(pod: Pod, path: readonly string[], fail: (detail: string, path: string) => InputError): { pod: Pod; path: readonly string[] } {
  const p = podShapeProblem(pod as unknown as Record<string, unknown>, "manifest");
  if (!p) return { pod, path };
  // The JSON Pointer's segments (RFC 6901 unescaped), list indices as numbers, in fieldPath's words.
  const below = p.path === "" ? [] : p.path.slice(1).split("/").map((k) => (/^\d+$/.test(k) ? Number(k) : k.replace(/~1/g, "/").replace(/~0/g, "~")));
  throw fail(p.detail, fieldPath([...path, ...below], ""));
}

/** Whether `path` leads to something shaped like a pod template: a spec with a containers list. */
function hasContainers(obj: Record<string, unknown>, path: readonly string[]): boolean {
  let node: unknown = obj;
  for (const key of path) node = isObject(node) ? node[key] : undefined;
  return isObject(node) && isObject(node.spec) && Array.isArray(node.spec.containers);
}

/** A field path in words: items[2].spec.template... */
export function fieldPath(prefix: readonly (string | number)[], rest: string): string {
  const head = prefix.map((p) => (typeof p === "number" ? `[${p}]` : p)).join(".").replace(/\.\[/g, "[");
  return head && rest ? `${head}.${rest}` : head || rest;
}
