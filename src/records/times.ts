// Record times: reading an ISO 8601 `ts` (to the ms, or to the ns where map records' ms and
// request records' µs are compared), the timestamps of a file's head and tail without
// reading the whole file, and the byte offset where records at or after a time start
// (records are appended in time order, so a binary search over line starts finds it in a
// few small reads). The parsing is pure (the report's page bundles it).
import type { FileHandle } from "node:fs/promises";

const ISO_TIME = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)(?::(\d\d)(?:\.(\d+))?)?(?:Z|[+-](\d\d):(\d\d))$/;

/** The parts of an ISO 8601 date-time with its offset that names a real moment, else null. */
function isoMatch(text: string): RegExpExecArray | null {
  const m = ISO_TIME.exec(text);
  if (!m) return null;
  const [year, month, day, hour, minute, second, offHour, offMinute] = [1, 2, 3, 4, 5, 6, 8, 9].map((i) => Number(m[i] ?? 0)) as [number, number, number, number, number, number, number, number];
  const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > days || hour > 23 || minute > 59 || second > 59 || offHour > 23 || offMinute > 59) return null;
  return m;
}

/**
 * Unix ms of an ISO 8601 date-time with its offset (2025-01-31T12:00:00.000Z), digits past
 * the ms cut off, or NaN when it is not one or names no real moment: Date.parse alone rolls
 * 2026-02-30 over to March 2 and reads a time without offset as the machine's local time.
 */
export function isoTimeMs(text: string): number {
  return isoMatch(text) ? Date.parse(text) : NaN;
}

/**
 * Unix ns of an ISO 8601 date-time as isoTimeMs reads it, keeping every fractional digit up
 * to the ns (map records carry ms, request records µs, a time may carry ns); null when
 * isoTimeMs would be NaN.
 */
export function isoTimeNs(text: string): bigint | null {
  const m = isoMatch(text);
  if (!m) return null;
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) return null;
  // Date.parse keeps the ms and drops further digits, rounding down (before 1970 too).
  const belowMs = (m[7] ?? "").slice(3, 9).padEnd(6, "0");
  return BigInt(ms) * 1_000_000n + BigInt(belowMs);
}

const CHUNK = 64 * 1024;
/** A record line longer than this is not searched for (none of ours comes close). */
const MAX_LINE = 1024 * 1024;

/** `ts` of a JSON line, or null when it has none that isoTimeMs reads (a listing names only times readers accept). */
export function lineTs(line: string): string | null {
  try {
    const v = JSON.parse(line) as { ts?: unknown };
    return typeof v?.ts === "string" && isoMatch(v.ts) ? v.ts : null;
  } catch {
    return null;
  }
}

async function readAt(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await fh.read(buf, 0, length, position);
  return buf.subarray(0, bytesRead);
}

/** The first complete line's bytes (without the newline), or null when there is none yet. */
export async function firstLine(fh: FileHandle, size: number): Promise<Buffer | null> {
  let length = Math.min(size, 4096);
  for (;;) {
    const head = await readAt(fh, 0, length);
    const nl = head.indexOf(10);
    if (nl >= 0) return head.subarray(0, nl);
    if (length >= size || length >= MAX_LINE) return null;
    length = Math.min(size, length * 4, MAX_LINE);
  }
}

/** `ts` of the first and the last complete record (a line still being written is not one). */
export async function recordTimes(fh: FileHandle, size: number): Promise<{ first: string | null; last: string | null }> {
  if (size === 0) return { first: null, last: null };
  const head = await firstLine(fh, size);
  const first = head ? lineTs(head.toString("utf8")) : null;
  let length = Math.min(size, 16 * 1024);
  for (;;) {
    const start = size - length;
    const tail = await readAt(fh, start, length);
    const end = tail.lastIndexOf(10);
    if (end < 0) return { first, last: null };
    const prev = end === 0 ? -1 : tail.lastIndexOf(10, end - 1);
    if (prev >= 0 || start === 0) return { first, last: lineTs(tail.subarray(prev + 1, end).toString("utf8")) };
    if (length >= MAX_LINE) return { first, last: null };
    length = Math.min(size, length * 4, MAX_LINE);
  }
}

/** Start of the first line at or after `pos` (pos itself when it is 0), or null when none within reach. */
async function lineStartFrom(fh: FileHandle, pos: number, size: number): Promise<number | null> {
  if (pos === 0) return 0;
  let at = pos - 1;
  while (at < size && at - pos < MAX_LINE) {
    const buf = await readAt(fh, at, Math.min(CHUNK, size - at));
    const nl = buf.indexOf(10);
    if (nl >= 0) return at + nl + 1 < size ? at + nl + 1 : null;
    at += buf.length;
  }
  return null;
}

/** The line starting at `start` and its end (after the newline); null when it is not complete. */
async function lineAt(fh: FileHandle, start: number, size: number): Promise<{ text: string; next: number } | null> {
  let length = Math.min(CHUNK, size - start);
  for (;;) {
    const buf = await readAt(fh, start, length);
    const nl = buf.indexOf(10);
    if (nl >= 0) return { text: buf.subarray(0, nl).toString("utf8"), next: start + nl + 1 };
    if (start + length >= size || length >= MAX_LINE) return null;
    length = Math.min(size - start, length * 4, MAX_LINE);
  }
}

/**
 * Byte offset of the first complete record whose `ts` is at or after `sinceMs`, or `size`
 * when there is none. A line without a readable `ts` counts as old.
 */
export async function sinceOffset(fh: FileHandle, size: number, sinceMs: number): Promise<number> {
  const isNew = (text: string): boolean => {
    const ts = lineTs(text);
    const ms = ts === null ? NaN : Date.parse(ts);
    return Number.isFinite(ms) && ms >= sinceMs;
  };
  // Invariant: every line starting before `lo` is old; the answer is at most `hi` or is `size`.
  let lo = 0;
  let hi = size;
  while (hi - lo > CHUNK) {
    const mid = Math.floor((lo + hi) / 2);
    const start = await lineStartFrom(fh, mid, size);
    if (start === null || start >= hi) {
      hi = mid;
      continue;
    }
    const line = await lineAt(fh, start, size);
    if (!line) {
      hi = start;
      continue;
    }
    if (isNew(line.text)) hi = start;
    else lo = line.next;
  }
  // Lines from `lo` on, a chunk or two of them: the first new one is the answer.
  let at = lo;
  while (at < size) {
    const line = await lineAt(fh, at, size);
    if (!line) return size;
    if (isNew(line.text)) return at;
    at = line.next;
  }
  return size;
}
