// Writing manifests back with some pod templates changed. YAML: only the changed
// nodes are rewritten (yaml-edit.ts), every other byte stays. JSON: written from
// the value with the input's indentation (compact input stays compact).
import type { Node } from "yaml";
import type { ParsedInput } from "../input/documents.js";
import { YamlEditor } from "./yaml-edit.js";
import { detectStyle } from "./yaml-render.js";

export interface TemplateChange {
  document: number;
  /** Path of the pod template in its document. */
  path: readonly (string | number)[];
  /** The whole new pod template. */
  value: unknown;
}

export function renderChanges(text: string, parsed: ParsedInput, changes: readonly TemplateChange[]): string {
  if (changes.length === 0) return text;
  if (parsed.format === "json") {
    const doc = parsed.documents[0];
    if (!doc) return text;
    let value = doc.value;
    for (const c of changes) value = setIn(value, c.path, c.value);
    return JSON.stringify(value, null, jsonIndent(text)) + (text.endsWith("\n") ? "\n" : "");
  }
  const docs = parsed.documents.flatMap((d) => (d.doc ? [d.doc] : []));
  const editor = new YamlEditor(text, detectStyle(text, docs));
  for (const c of changes) {
    const doc = parsed.documents[c.document]?.doc;
    if (!doc) continue;
    const node = (c.path.length === 0 ? doc.contents : doc.getIn(c.path, true)) as Node;
    editor.update(doc, node, c.value);
  }
  return editor.result();
}

/** A copy of `root` with `value` at `path`; objects on the way are copied, the rest shared. */
function setIn(root: unknown, path: readonly (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path as [string | number, ...(string | number)[]];
  if (Array.isArray(root)) return root.map((x, i) => (i === head ? setIn(x, rest, value) : x));
  const obj = root as Record<string, unknown>;
  return { ...obj, [head]: setIn(obj[head], rest, value) };
}

/** The indentation of pretty JSON (spaces or a tab), 0 for JSON on one line. */
function jsonIndent(text: string): number | string {
  const m = /\n([ \t]+)\S/.exec(text);
  if (!m?.[1]) return 0;
  return m[1].startsWith("\t") ? "\t" : m[1].length;
}
