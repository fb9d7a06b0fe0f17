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
  const trimmed = text.trimStart();
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new InputError(file, `malformed JSON: ${(err as Error).message}`, 0);
    }
    // JSON output is written from the value, so no yaml Document is built.
    return { format: "json", documents: [{ index: 0, value }] };
  }
  const parsed = parseAllDocuments(text, { prettyErrors: true, strict: true, uniqueKeys: true });
  if (!Array.isArray(parsed)) throw new InputError(file, "malformed YAML: document stream error");
  const documents: SourceDocument[] = [];
  parsed.forEach((doc, i) => {
    const err = doc.errors[0];
    if (err) {
      const pos = err.linePos?.[0];
      throw new InputError(file, `malformed YAML${pos ? ` at line ${pos.line}, column ${pos.col}` : ""}: ${(err.message.split("\n")[0] ?? "").replace(/ at line \d+, column \d+:?$/, "")}`, i);
    }
    documents.push({ index: i, value: doc.toJS({ maxAliasCount: 100 }), doc });
  });
  return { format: "yaml", documents };
}
