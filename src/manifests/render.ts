// Writing manifests back with some pod templates changed. YAML: only the changed
// nodes are rewritten (yaml-edit.ts), every other byte stays. JSON: each changed
// document written from its value with its indentation (compact stays compact).
import { isDeepStrictEqual } from "node:util";
import { isAlias, isMap, isScalar, isSeq, visit, type Document, type Node } from "yaml";
import type { ParsedInput } from "../input/documents.js";
import { InputError } from "../input-error.js";
import { fieldPath } from "./resources.js";
import { YamlEditor } from "./yaml-edit.js";
import { detectStyle } from "./yaml-render.js";

export interface TemplateChange {
  document: number;
  /** Path of the pod template in its document. */
  path: readonly (string | number)[];
  /** The whole new pod template. */
  value: unknown;
}

export function renderChanges(text: string, file: string, parsed: ParsedInput, changes: readonly TemplateChange[]): string {
  if (changes.length === 0) return text;
  if (parsed.format === "json") return renderJson(text, parsed, changes);
  const docs = parsed.documents.flatMap((d) => (d.doc ? [d.doc] : []));
  const editor = new YamlEditor(text, detectStyle(text, docs));
  // A document's aliases are collected once, not once per change (a List holds many templates).
  const aliasesOf = new Map<Document, Set<string>>();
  for (const c of changes) {
    const doc = parsed.documents[c.document]?.doc;
    if (!doc) continue;
    const node = (c.path.length === 0 ? doc.contents : doc.getIn(c.path, true)) as Node;
    let aliased = aliasesOf.get(doc);
    if (!aliased) aliasesOf.set(doc, (aliased = aliasSources(doc)));
    const shared = changedSharedNode(doc, aliased, node, c.value, c.path);
    if (shared) {
      throw new InputError(
        file,
        `has the YAML anchor &${shared.anchor}, which an alias (*${shared.anchor}) repeats elsewhere: rewriting it would change every copy; write the copies out in full`,
        c.document,
        fieldPath(shared.path, ""),
      );
    }
    editor.update(doc, node, c.value);
  }
  return editor.result();
}

/**
 * Each changed document written from its value with its own indentation (compact stays
 * compact) where it stood; the other documents and what lies between them keep their bytes,
 * so a stream of JSON objects comes back as one. A byte order mark is dropped: JSON readers
 * (jq, kubectl) refuse it.
 */
function renderJson(text: string, parsed: ParsedInput, changes: readonly TemplateChange[]): string {
  const crlf = /^[^\n]*\r\n/.test(text);
  let out = "";
  const byDocument = new Map<number, TemplateChange[]>();
  for (const c of changes) {
    const list = byDocument.get(c.document);
    if (list) list.push(c);
    else byDocument.set(c.document, [c]);
  }
  let pos = text.startsWith("\uFEFF") ? 1 : 0;
  for (const d of parsed.documents) {
    const mine = byDocument.get(d.index);
    if (!mine || !d.range) continue;
    let value = d.value;
    for (const c of mine) value = setIn(value, c.path, c.value);
    const json = JSON.stringify(value, null, jsonIndent(text.slice(d.range.start, d.range.end)));
    // Line ends as the file's: a CRLF file stays CRLF.
    out += text.slice(pos, d.range.start) + (crlf ? json.replace(/\n/g, "\r\n") : json);
    pos = d.range.end;
  }
  return out + text.slice(pos);
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

/**
 * The first node under `node` that carries an anchor some alias of the document repeats and
 * whose value changes: an edit there would reach the alias too (a `<<: *proxy` container
 * would become a second traced proxy), and rewriting a node that holds the anchor would
 * leave the alias pointing nowhere.
 */
function changedSharedNode(
  doc: Document,
  aliased: ReadonlySet<string>,
  node: Node,
  value: unknown,
  path: readonly (string | number)[],
): { anchor: string; path: readonly (string | number)[] } | undefined {
  if (aliased.size === 0) return undefined;
  const walk = (n: unknown, v: unknown, at: readonly (string | number)[]): { anchor: string; path: readonly (string | number)[] } | undefined => {
    if (isAlias(n) || !(isMap(n) || isSeq(n) || isScalar(n))) return undefined;
    if (n.anchor && aliased.has(n.anchor) && !isDeepStrictEqual(n.toJS(doc, { maxAliasCount: -1 }), v)) return { anchor: n.anchor, path: at };
    if (isSeq(n)) return firstOf(n.items.map((item, i) => () => walk(item, Array.isArray(v) ? v[i] : undefined, [...at, i])));
    if (!isMap(n)) return undefined;
    return firstOf(
      n.items.map((pair) => () => {
        const key = isScalar(pair.key) ? String(pair.key.value) : "";
        // A merge key's map lends its keys to this one: its anchor is judged against this map's value.
        if (key === "<<") return walk(pair.value, v, at);
        return walk(pair.value, v !== null && typeof v === "object" ? (v as Record<string, unknown>)[key] : undefined, [...at, key]);
      }),
    );
  };
  return walk(node, value, path);
}

/** The anchors some alias of `doc` repeats. */
function aliasSources(doc: Document): Set<string> {
  const aliased = new Set<string>();
  visit(doc, { Alias: (_key, alias) => void aliased.add(alias.source) });
  return aliased;
}

function firstOf<T>(tries: readonly (() => T | undefined)[]): T | undefined {
  for (const t of tries) {
    const found = t();
    if (found !== undefined) return found;
  }
  return undefined;
}
