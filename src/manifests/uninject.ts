// `hookpoint uninject` over manifests: every pod template hookpoint injected gets
// back what it was, from the record in its status annotation; the rest is left
// as it is. Pure: text in, text and results out.
import { restorePod } from "../admission/original.js";
import { parseDocuments } from "../input/documents.js";
import { renderChanges, type TemplateChange } from "./render.js";
import { fieldPath, resourcesOf, type Resource } from "./resources.js";

export type UninjectOutcome =
  | { status: "uninjected" }
  | { status: "unchanged"; reason: string }
  | { status: "failed"; reason: string; path: string }
  | { status: "passed-through"; reason: string };

export interface UninjectedResource {
  resource: Resource;
  outcome: UninjectOutcome;
}

export interface UninjectOutput {
  resources: UninjectedResource[];
  /** True when some template could not be restored: nothing may be written then. */
  failed: boolean;
  output: string;
}

export function uninjectManifests(text: string, file: string): UninjectOutput {
  const parsed = parseDocuments(text, file);
  const changes: TemplateChange[] = [];
  const resources = resourcesOf(parsed, file).map((resource): UninjectedResource => {
    const t = resource.template;
    if ("none" in t) return { resource, outcome: { status: "passed-through", reason: t.none } };
    const r = restorePod(t.pod);
    if (!r.ok) return { resource, outcome: { status: "failed", reason: r.message, path: fieldPath(resource.prefix, [...t.path, r.path].join(".")) } };
    if (!r.restored) return { resource, outcome: { status: "unchanged", reason: r.note ?? "nothing to remove" } };
    changes.push({ document: resource.document, path: [...resource.prefix, ...t.path], value: r.pod });
    return { resource, outcome: { status: "uninjected" } };
  });
  const failed = resources.some((r) => r.outcome.status === "failed");
  return { resources, failed, output: failed ? "" : renderChanges(text, file, parsed, changes) };
}
