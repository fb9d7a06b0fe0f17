// Record timestamps read from a file's head and tail without reading the whole file, and
// the byte offset where records at or after a time start (records are appended in time
// order, so a binary search over line starts finds it in a few small reads).
import type { FileHandle } from "node:fs/promises";

const CHUNK = 64 * 1024;
/** A record line longer than this is not searched for (none of ours comes close). */
const MAX_LINE = 1024 * 1024;

/** `ts` of a JSON line, as a string, or null. */
export function lineTs(line: string): string | null {
  try {
    const v = JSON.parse(line) as { ts?: unknown };
    return typeof v?.ts === "string" ? v.ts : null;
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
