// Multi-document YAML or JSON in, documents with their source positions out
// (the yaml Documents keep node ranges, which render.ts edits in place).
import { parseAllDocuments, type Document } from "yaml";
import { InputError } from "../input-error.js";

export { isObject } from "../is-object.js";

export interface SourceDocument {
  index: number;
  /** The parsed value (plain JS). */
  value: unknown;
  /** The yaml Document, for edits that keep comments and layout; YAML input only. */
  doc?: Document;
}

export interface ParsedInput {
  format: "yaml" | "json";
  documents: SourceDocument[];
}

export function parseDocuments(text: string, file: string): ParsedInput {
  // An editor's byte order mark is not part of the first document.
  const body = text.startsWith("\uFEFF") ? text.slice(1) : text;
  const trimmed = body.trimStart();
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch (err) {
      // YAML's flow style opens the same way ({apiVersion: v1, kind: Pod, ...}), and so do JSON
      // documents separated by ---: both are YAML. When it is not YAML either, what opens like
      // JSON ({"... or [{"...) gets JSON's own complaint.
      try {
        return parseYaml(text, file);
      } catch (yamlErr) {
        if (!/^[[{\s]*("|[\]}]|$)/.test(trimmed)) throw yamlErr;
        throw new InputError(file, `malformed JSON${jsonPosition(body, (err as Error).message)}`, 0);
      }
    }
    // JSON output is written from the value, so no yaml Document is built.
    return { format: "json", documents: [{ index: 0, value }] };
  }
  return parseYaml(text, file);
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

/** " at line L, column C: what" from JSON.parse's "what in JSON at position N" (or its message as it is). */
function jsonPosition(text: string, message: string): string {
  const m = / (?:in|after) JSON at position (\d+)(?: \(line \d+ column \d+\))?$/.exec(message);
  if (!m) return `: ${message}`;
  const before = text.slice(0, Number(m[1]));
  const line = before.split("\n").length;
  const column = before.length - before.lastIndexOf("\n");
  const what = message.slice(0, m.index);
  return ` at line ${line}, column ${column}: ${what === "Unexpected non-whitespace character" ? "a second value after the first (a stream of JSON objects is not read: put them in a List, or separate them with ---)" : what}`;
}
