// Multi-document YAML or JSON in, documents with their source positions out.
// Parsing keeps each document's own text so that untouched ones can be written
// back byte for byte.
import { parseAllDocuments, type Document } from "yaml";
import { InputError } from "../cli/errors.js";

export { isObject } from "../is-object.js";

export interface SourceDocument {
  index: number;
  /** The parsed value (plain JS). */
  value: unknown;
  /** The yaml Document, for edits that keep comments and layout; YAML input only. */
  doc?: Document;
  /** Exact source text of this document (including its leading `---` if any). */
  text: string;
}

export interface ParsedInput {
  format: "yaml" | "json";
  documents: SourceDocument[];
}

export function parseDocuments(text: string, file: string): ParsedInput {
  const trimmed = text.trimStart();
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new InputError(file, `malformed JSON: ${(err as Error).message}`, 0);
    }
    // JSON output is written from the value, so no yaml Document is built.
    return { format: "json", documents: [{ index: 0, value, text }] };
  }
  const parsed = parseAllDocuments(text, { prettyErrors: true, strict: true, uniqueKeys: true });
  if (!Array.isArray(parsed)) throw new InputError(file, "malformed YAML: document stream error");
  const documents: SourceDocument[] = [];
  let prevEnd = 0;
  parsed.forEach((doc, i) => {
    const err = doc.errors[0];
    if (err) {
      const pos = err.linePos?.[0];
      throw new InputError(file, `malformed YAML${pos ? ` at line ${pos.line}, column ${pos.col}` : ""}: ${(err.message.split("\n")[0] ?? "").replace(/ at line \d+, column \d+:?$/, "")}`, i);
    }
    const end = doc.range[2];
    documents.push({ index: i, value: doc.toJS({ maxAliasCount: 100 }), doc, text: text.slice(prevEnd, end) });
    prevEnd = end;
  });
  // Keep whatever trails the last document (comments, final newline) with it.
  const last = documents[documents.length - 1];
  if (last && prevEnd < text.length) last.text += text.slice(prevEnd);
  return { format: "yaml", documents };
}
