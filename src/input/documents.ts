// Multi-document YAML, or JSON (one value or a stream of them), in; documents with
// their source positions out (the yaml Documents keep node ranges, which render.ts
// edits in place; a JSON document its range, which render.ts replaces).
import { isCollection, parseAllDocuments, visit, type Document } from "yaml";
import { InputError } from "../input-error.js";

export { isObject } from "../is-object.js";

export interface SourceDocument {
  index: number;
  /** The parsed value (plain JS). */
  value: unknown;
  /** The yaml Document, for edits that keep comments and layout; YAML input only. */
  doc?: Document;
  /** Where the document's text starts and ends (offsets in the text as given); JSON input only. */
  range?: { start: number; end: number };
}

type JsonDocument = SourceDocument & Required<Pick<SourceDocument, "range">>;

export interface ParsedInput {
  format: "yaml" | "json";
  documents: SourceDocument[];
}

export function parseDocuments(text: string, file: string): ParsedInput {
  // An editor's byte order mark is not part of the first document.
  const bom = text.startsWith("\uFEFF") ? 1 : 0;
  const trimmed = text.slice(bom).trimStart();
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
    const json = parseJsonStream(text, bom);
    // JSON output is written from the values, so no yaml Document is built.
    if ("documents" in json) return { format: "json", documents: json.documents };
    // YAML's flow style opens the same way ({apiVersion: v1, kind: Pod, ...}), and so do JSON
    // documents separated by ---: both are YAML. When it is not YAML either, what opens like
    // JSON ({"... or [{"...) and has no --- line gets JSON's own complaint.
    try {
      return parseYaml(text, file);
    } catch (yamlErr) {
      if (!/^[[{\s]*("|[\]}]|$)/.test(trimmed) || /^---(\s|$)/m.test(text)) throw yamlErr;
      throw new InputError(file, `malformed JSON${json.where}: ${json.what}`, json.index);
    }
  }
  return parseYaml(text, file);
}

/**
 * A stream of JSON values, as kubectl reads one (`jq -c '.items[]'` writes them): each top-level
 * value is a document, whatever whitespace (or none) lies between. An object or array runs to
 * its matching bracket (strings skipped), so a truncated one runs to the end of the text and
 * JSON.parse names what is wrong there; any other value is one token.
 */
export function parseJsonStream(text: string, from = 0): { documents: JsonDocument[] } | { index: number; where: string; what: string } {
  const documents: JsonDocument[] = [];
  const ws = /[ \t\n\r]*/y; // JSON's whitespace
  let pos = from;
  for (;;) {
    ws.lastIndex = pos;
    ws.exec(text);
    pos = ws.lastIndex;
    if (pos >= text.length) return { documents };
    const start = pos;
    const end = text[start] === "{" || text[start] === "[" ? bracketEnd(text, start) : tokenEnd(text, start);
    const index = documents.length;
    try {
      documents.push({ index, value: JSON.parse(text.slice(start, end)), range: { start, end } });
    } catch (err) {
      return { index, ...jsonProblem(text, from, start, end, index, (err as Error).message) };
    }
    pos = end;
  }
}

/** The end of the object or array opening at `start`: after its matching bracket, or the end of the text. */
function bracketEnd(text: string, start: number): number {
  const next = /["{}[\]]/g;
  let depth = 0;
  next.lastIndex = start;
  for (let m = next.exec(text); m; m = next.exec(text)) {
    if (m[0] === '"') next.lastIndex = stringEnd(text, next.lastIndex);
    else if (m[0] === "{" || m[0] === "[") depth++;
    else if (--depth === 0) return next.lastIndex;
  }
  return textEnd(text);
}

/** The end of a value that is no object or array (a string, number, true...; or a stray character). */
function tokenEnd(text: string, start: number): number {
  if (text[start] === '"') return stringEnd(text, start + 1);
  const token = /[^ \t\n\r{}[\]",:]+/y;
  token.lastIndex = start;
  return token.test(text) ? token.lastIndex : start + 1;
}

/** After the quote that closes the string whose text starts at `from` (one not escaped by a backslash), or the end of the text. */
function stringEnd(text: string, from: number): number {
  for (let q = text.indexOf('"', from); q !== -1; q = text.indexOf('"', q + 1)) {
    let b = q;
    while (b > from && text[b - 1] === "\\") b--;
    if ((q - b) % 2 === 0) return q + 1;
  }
  return textEnd(text);
}

/** Where the text's last value ends: what JSON.parse says of a value cut short is said there, not on the line after. */
function textEnd(text: string): number {
  let end = text.length;
  while (end > 0 && " \t\n\r".includes(text[end - 1] as string)) end--;
  return end;
}

/**
 * Where JSON.parse failed, " at line L, column C" in the whole text (its message's position is
 * within the document), and what it says. Messages without a position name the end of the text
 * when the input ends early, else where a later document starts.
 */
function jsonProblem(text: string, from: number, start: number, end: number, index: number, message: string): { where: string; what: string } {
  const m = / (?:in|after) JSON at position (\d+)(?: \(line \d+ column \d+\))?$/.exec(message);
  const at = (pos: number) => lineColumn(text, pos, from);
  if (m) return { where: ` at ${at(start + Number(m[1]))}`, what: message.slice(0, m.index) };
  if (message === "Unexpected end of JSON input") return { where: ` at ${at(end)}`, what: message };
  return { where: index > 0 ? ` (the document from ${at(start)})` : "", what: message };
}

function parseYaml(text: string, file: string): ParsedInput {
  const parsed = parseAllDocuments(text, { prettyErrors: true, strict: true, uniqueKeys: true, merge: true });
  if (!Array.isArray(parsed)) throw new InputError(file, "malformed YAML: document stream error");
  const documents: SourceDocument[] = [];
  parsed.forEach((doc, i) => {
    const err = doc.errors[0];
    if (err) {
      const pos = err.linePos?.[0];
      throw new InputError(file, `malformed YAML${pos ? ` at line ${pos.line}, column ${pos.col}` : ""}: ${(err.message.split("\n")[0] ?? "").replace(/ at line \d+, column \d+:?$/, "")}`, i);
    }
    const key = collectionKey(doc);
    if (key !== undefined) {
      // kubectl refuses it too; and toJS would make it a string key with a Node.js warning on stderr.
      throw new InputError(file, `malformed YAML at ${lineColumn(text, key, text.startsWith("\uFEFF") ? 1 : 0)}: a key that is a mapping or a sequence, which kubectl cannot read either (an unrendered template such as {{ .Values.name }}?)`, i);
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      // An alias before its anchor, or aliases that expand without end (a billion laughs).
      throw new InputError(file, `malformed YAML: ${(e as Error).message}`, i);
    }
    documents.push({ index: i, value, doc });
  });
  return { format: "yaml", documents };
}

/** Where the first mapping key that is itself a mapping or a sequence starts, if any (`{{ x }}` is a map with a map as key). */
function collectionKey(doc: Document): number | undefined {
  let at: number | undefined;
  visit(doc, {
    Pair(_, pair) {
      if (isCollection(pair.key)) {
        at = pair.key.range?.[0] ?? 0;
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return at;
}

/** "line L, column C" of an offset, counted from `from` (after a byte order mark). */
function lineColumn(text: string, offset: number, from = 0): string {
  const before = text.slice(from, offset);
  return `line ${before.split("\n").length}, column ${before.length - before.lastIndexOf("\n")}`;
}
