// One line of an agent NDJSON file, whichever record it holds: `kind: "request"` lines are
// request records, the others map records. Pure.
import { FieldError, jsonOfLine, RecordLineError } from "./fields.js";
import { toMapRecord, type MapRecord } from "./map-record.js";
import { toRequestRecord, type RequestRecord } from "./request-record.js";

export type AnyRecord = { kind: "request"; record: RequestRecord } | { kind: "map"; record: MapRecord };

/** Null for a blank line; throws RecordLineError naming file:line and the field. */
export function parseRecordLine(text: string, file: string, line: number): AnyRecord | null {
  const value = jsonOfLine(text, file, line);
  if (value === null) return null;
  try {
    if (typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === "request") return { kind: "request", record: toRequestRecord(value) };
    return { kind: "map", record: toMapRecord(value) };
  } catch (err) {
    if (err instanceof FieldError) throw new RecordLineError(file, line, err.field, err.problem);
    throw err;
  }
}
