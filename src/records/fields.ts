// Field checks shared by the record parsers: each failure names the field's path
// (`phases[2].end_ns`) and what was wrong with it. Pure.
import { isObject } from "../is-object.js";
import { isoTimeMs } from "./times.js";

/** A record that does not match its format: `field` is the path inside the record. */
export class FieldError extends Error {
  override name = "FieldError";
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${field}: ${problem}`);
  }
}

/** A bad NDJSON line: where it is (file, 1-based line) and, when known, which field. */
export class RecordLineError extends Error {
  override name = "RecordLineError";
  constructor(
    readonly file: string,
    readonly line: number,
    readonly field: string | null,
    readonly problem: string,
  ) {
    super(`${file}:${line}: ${field === null ? "" : `${field}: `}${problem}`);
  }
}

export function show(v: unknown): string {
  const text = JSON.stringify(v);
  if (text === undefined) return String(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

export function objectAt(v: unknown, field: string): Record<string, unknown> {
  if (!isObject(v)) throw new FieldError(field, `expected an object, got ${show(v)}`);
  return v;
}

export function stringAt(o: Record<string, unknown>, key: string, path: string): string {
  const v = o[key];
  if (typeof v !== "string") throw new FieldError(path + key, `expected a string, got ${show(v)}`);
  return v;
}

export function nonEmptyStringAt(o: Record<string, unknown>, key: string, path: string): string {
  const v = stringAt(o, key, path);
  if (v === "") throw new FieldError(path + key, "must not be empty");
  return v;
}

export function nullableStringAt(o: Record<string, unknown>, key: string, path: string): string | null {
  return o[key] === null ? null : stringAt(o, key, path);
}

/**
 * A whole number ≥ 0. Not Number.isSafeInteger: CLOCK_MONOTONIC nanoseconds pass 2^53
 * after ~104 days of uptime and are then the nearest double (see request-record.ts).
 */
export function countAt(o: Record<string, unknown>, key: string, path: string): number {
  const v = o[key];
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0) throw new FieldError(path + key, `expected a whole number ≥ 0, got ${show(v)}`);
  return v;
}

export function listAt(o: Record<string, unknown>, key: string, path: string): unknown[] {
  const v = o[key];
  if (!Array.isArray(v)) throw new FieldError(path + key, `expected a list, got ${show(v)}`);
  return v;
}

export function isoTimeAt(o: Record<string, unknown>, key: string, path: string): string {
  const v = stringAt(o, key, path);
  if (Number.isNaN(isoTimeMs(v))) {
    throw new FieldError(path + key, `expected an ISO 8601 time such as 2025-01-31T12:00:00.000Z, got ${show(v)}`);
  }
  return v;
}

export function nullableIsoTimeAt(o: Record<string, unknown>, key: string, path: string): string | null {
  return o[key] === null ? null : isoTimeAt(o, key, path);
}

export function oneOf<T extends string>(o: Record<string, unknown>, key: string, path: string, values: readonly T[]): T {
  const v = o[key];
  if (typeof v !== "string" || !(values as readonly string[]).includes(v)) {
    throw new FieldError(path + key, `expected one of ${values.join(", ")}, got ${show(v)}`);
  }
  return v as T;
}

/** Parses one NDJSON line into a value; blank lines are null. */
export function jsonOfLine(text: string, file: string, line: number): unknown {
  if (text.trim() === "") return null;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new RecordLineError(file, line, null, `not JSON (${(err as Error).message})`);
  }
}
