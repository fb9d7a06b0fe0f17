// `hookpoint inject` / `explain` over manifests: find every pod template,
// review it, and write the documents back in order. Untouched documents are
// written byte for byte; changed YAML documents keep their comments.
import type { Operation } from "../admission/patch.js";
import { reviewPod, type PodReview } from "../admission/review.js";
import { podTemplateOf } from "../admission/workloads.js";
import { InputError } from "../cli/errors.js";
import type { Settings } from "../policy/effective.js";
import type { Snapshot } from "../policy/snapshot.js";
import { isObject, parseDocuments } from "./documents.js";
import { applyPatchToDocument } from "./yaml-patch.js";

export interface InjectContext {
  snapshot: Snapshot;
  settings: Settings;
  /** Namespace of documents that name none (like kubectl's current namespace). */
  defaultNamespace: string;
  force: boolean;
}

export interface WorkloadReview {
  document: number;
  kind: string;
  namespace: string;
  name: string;
  review: PodReview;
}

export interface InjectOutput {
  output: string;
  workloads: WorkloadReview[];
}

interface Found {
  docIndex: number;
  prefix: (string | number)[];
  obj: Record<string, unknown>;
}

interface Located {
  review: WorkloadReview;
  obj: Record<string, unknown>;
  /** Where the pod template sits in its document. */
  path: (string | number)[];
  templatePath: readonly string[];
}

export interface ReviewedManifests {
  workloads: WorkloadReview[];
  /** Writes the documents back with the patches applied (what `inject` prints). */
  render(): string;
}

/** Reviews every pod template; nothing is patched or serialized until render(). */
export function reviewManifests(text: string, file: string, ctx: InjectContext): ReviewedManifests {
  const parsed = parseDocuments(text, file);
  const perDocument: Located[][] = [];
  for (const d of parsed.documents) {
    const located: Located[] = [];
    for (const f of objectsOf(d.value, d.index, file)) {
      const t = podTemplateOf(f.obj);
      const at = f.prefix.length ? `${f.prefix.join(".").replace(/\.(\d+)/g, "[$1]")}.` : "";
      if (t.ok === "skip") continue;
      if (t.ok === false) throw new InputError(file, t.message, f.docIndex, at + t.path);
      const meta = isObject(f.obj.metadata) ? f.obj.metadata : {};
      const namespace = typeof meta.namespace === "string" && meta.namespace !== "" ? meta.namespace : ctx.defaultNamespace;
      const name = typeof meta.name === "string" ? meta.name : typeof meta.generateName === "string" ? meta.generateName : "(unnamed)";
      const review = reviewPod(t.pod, namespace, ctx.snapshot, ctx.settings, { force: ctx.force });
      if (review.denied) throw new InputError(file, review.denied, f.docIndex, `${at}${[...t.path, "metadata", "annotations"].join(".")}`);
      located.push({ review: { document: f.docIndex, kind: String(f.obj.kind), namespace, name, review }, obj: f.obj, path: [...f.prefix, ...t.path], templatePath: t.path });
    }
    perDocument.push(located);
  }
  let output: string | undefined;
  return {
    workloads: perDocument.flat().map((l) => l.review),
    // Patching edits the parsed documents in place, so it happens once.
    render: () =>
      (output ??= parsed.documents
        .map((d, i) => {
          const changed = (perDocument[i] ?? []).filter((l) => l.review.review.patch.length > 0);
          if (changed.length === 0) return d.text;
          // Only the representation that is written gets the patches: the Document for YAML, the value for JSON.
          if (d.doc) {
            for (const l of changed) applyPatchToDocument(d.doc, l.path, l.review.review.patch as Operation[]);
            return d.doc.toString({ lineWidth: 0, flowCollectionPadding: false });
          }
          for (const l of changed) applyToValue(l.obj, l.templatePath, l.review.review);
          return JSON.stringify(d.value, null, detectIndent(d.text)) + "\n";
        })
        .join("")),
  };
}

export function injectManifests(text: string, file: string, ctx: InjectContext): InjectOutput {
  const reviewed = reviewManifests(text, file, ctx);
  return { output: reviewed.render(), workloads: reviewed.workloads };
}

/** Puts the mutated pod into the plain value (JSON output is written from it). */
function applyToValue(obj: Record<string, unknown>, path: readonly string[], review: PodReview): void {
  if (!review.mutated) return;
  if (path.length === 0) {
    Object.assign(obj, review.mutated);
    return;
  }
  let node = obj;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string, unknown>;
  node[path[path.length - 1] as string] = review.mutated;
}

function objectsOf(value: unknown, docIndex: number, file: string): Found[] {
  if (value === null || value === undefined) return [];
  if (!isObject(value)) throw new InputError(file, "must be an object (a Kubernetes resource)", docIndex);
  if (typeof value.kind !== "string" || value.kind === "") throw new InputError(file, "missing", docIndex, "kind");
  if (value.kind === "List" || (value.kind.endsWith("List") && Array.isArray(value.items))) {
    if (!Array.isArray(value.items)) throw new InputError(file, "must be a list", docIndex, "items");
    return value.items.map((item, i) => {
      if (!isObject(item)) throw new InputError(file, "must be an object", docIndex, `items[${i}]`);
      if (typeof item.kind !== "string" || item.kind === "") throw new InputError(file, "missing", docIndex, `items[${i}].kind`);
      return { docIndex, prefix: ["items", i], obj: item };
    });
  }
  return [{ docIndex, prefix: [], obj: value }];
}

function detectIndent(text: string): number {
  const m = /\n( +)\S/.exec(text);
  return m?.[1]?.length ?? 2;
}
