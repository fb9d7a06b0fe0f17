// Record times: reading an ISO 8601 `ts` (to the ms, or to the ns where map records' ms and
// request records' µs are compared), the earliest and latest timestamps of a file without
// reading the whole file, and the byte offset where records at or after a time start.
// Records are appended nearly in time order (MAX_DISORDER_MS), so a binary search over
// line starts and a scan of that window find them in a few small reads; a reader that has
// the whole file (collect, of its copies) can read it through instead (scanTimes). The
// parsing is pure (the report's page bundles it).
import type { FileHandle } from "node:fs/promises";

const ISO_TIME = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)(?::(\d\d)(?:\.(\d+))?)?(?:Z|[+-](\d\d):(\d\d))$/;

/** The parts of an ISO 8601 date-time with its offset that names a real moment, else null. */
function isoMatch(text: string): RegExpExecArray | null {
  const m = ISO_TIME.exec(text);
  if (!m) return null;
  // Called for every line of a file's ends: no array or Date unless a day past the 28th.
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (month < 1 || month > 12 || day < 1 || Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6] ?? 0) > 59 || Number(m[8] ?? 0) > 23 || Number(m[9] ?? 0) > 59) return null;
  if (day > 28 && day > new Date(Date.UTC(Number(m[1]), month, 0)).getUTCDate()) return null;
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

/**
 * How far out of time order a records file may be: a record may follow one whose `ts` is
 * up to this much later. A request record's `ts` is its response's end, and the agent
 * writes it at its assembler's next sweep (every 250 ms) once no event of the request came
 * for 500 ms and, when its end is a write that must settle, 1 s after that write's event:
 * at most about 1.25 s after the end, plus the events' delivery, so the readers allow four
 * times it. Nothing makes that a hard limit (a request whose own events go on after its
 * response ended is held until they stop, up to 120 s): the agent notes where in each of
 * its files it wrote a record further out of order, and its readers take those records on
 * their own and this window for the rest (WrittenOrderOf below); a file of an earlier
 * agent run is read with this window alone. Map records are written at their `ts`, in
 * order: a file whose records at the end being read are map records is read without it.
 */
export const MAX_DISORDER_MS = 5_000;

/** A record its writer appended more than MAX_DISORDER_MS after one with a later `ts` in the same file. */
export interface LateRecord {
  /** Byte offsets of its line's first byte and of the next line. */
  start: number;
  next: number;
  /** Its `ts` as written, and that in ns (isoTimeNs). */
  ts: string;
  ns: bigint;
}

/**
 * What the writer of a records file knows of how out of time order it wrote it (the
 * agent's own files: WrittenOrder in src/agent/output/disorder.ts). The readers take the
 * late records on their own, so one held request does not widen the window they read.
 */
export interface WrittenOrderOf {
  /**
   * How far out of time order the records not in `late` were written, in ms rounded up
   * (the readers' window when larger than their kind's): at most MAX_DISORDER_MS unless
   * `late` was full.
   */
  disorderMs: number;
  /** Its records written more than MAX_DISORDER_MS late, in file order; those past the end being read are left out. */
  late: readonly LateRecord[];
}

/** WrittenOrderOf for the complete records before `size`, the late ones by where they start. */
interface Known {
  disorderMs: number;
  late: readonly LateRecord[];
  lateAt: ReadonlyMap<number, LateRecord>;
}

function knownOrder(written: WrittenOrderOf | null | undefined, size: number): Known {
  const late = written ? written.late.filter((r) => r.next <= size) : [];
  return { disorderMs: written?.disorderMs ?? 0, late, lateAt: new Map(late.map((r) => [r.start, r])) };
}

const CHUNK = 64 * 1024;
/** The first read at either end of a file: map records need a line or two there. */
const FIRST_READ = 4 * 1024;
/** A record line longer than this is not searched for (none of ours comes close). */
const MAX_LINE = 1024 * 1024;

/** `ts` of a JSON line, or null when it has none that isoTimeMs reads (a listing names only times readers accept). */
export function lineTs(line: string): string | null {
  return lineRecord(line).ts;
}

/** A line's `ts` as lineTs reads it, and how far out of time order records around it may be (MAX_DISORDER_MS for request records). */
function lineRecord(line: string): { ts: string | null; disorderMs: number } {
  try {
    const v = JSON.parse(line) as { ts?: unknown; kind?: unknown };
    return { ts: typeof v?.ts === "string" && isoMatch(v.ts) ? v.ts : null, disorderMs: v?.kind === "request" ? MAX_DISORDER_MS : 0 };
  } catch {
    return { ts: null, disorderMs: 0 };
  }
}

/**
 * How the agent starts a request record and a map record (toRequestRecord and toRecords
 * build them in this key order). Made on first use: the report's page bundles this module,
 * and a browser has no Buffer.
 */
let written: { heads: Buffer[]; tsKey: Buffer } | undefined;

/**
 * A line's `ts` value read from the start the agent writes, without parsing the line: when
 * the line is JSON, its `ts` is this text (lineTs takes it if it is a time). A line that
 * starts so but is not JSON (a torn record the next one was appended to, after a crash or
 * a cut that failed) has none, so a caller parses the line where that decides something.
 * undefined when the bytes cannot tell: another start, or a backslash or a second `"ts"`
 * (an escaped or a repeated key).
 */
function writtenTs(line: Buffer): string | undefined {
  written ??= { heads: [Buffer.from('{"kind":"request","ts":"'), Buffer.from('{"ts":"')], tsKey: Buffer.from('"ts"') };
  const head = written.heads.find((h) => line.length > h.length && h.compare(line, 0, h.length) === 0);
  if (!head) return undefined;
  // No backslash: every string is its bytes, so the one `"ts"` is the key at the start and
  // its value ends at the next quote. Neither byte occurs inside a multi-byte UTF-8 character.
  const end = line.indexOf(0x22, head.length);
  if (end < 0 || line.includes(0x5c) || line.includes(written.tsKey, head.length - 5)) return undefined;
  return line.toString("latin1", head.length, end);
}

async function readAt(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await fh.read(buf, 0, length, position);
  return buf.subarray(0, bytesRead);
}

/** The blocks a scan through a window grows to: a request file's window may be all of it. */
const MAX_BLOCK = 1024 * 1024;

/**
 * readAt for a scan that steps one way through a file (`back`: towards its start): each
 * step gets the bytes a readAt of it would, served from blocks that double up to MAX_BLOCK
 * (ending at `limit` when forward), since each read is a round trip to libuv's pool.
 */
function blockReader(fh: FileHandle, back: boolean, limit: number): (position: number, length: number) => Promise<Buffer> {
  let block: Buffer = Buffer.alloc(0);
  let blockStart = 0;
  let blockLength = 0;
  return async (position, length) => {
    const held = position - blockStart;
    if (held >= 0 && held + length <= block.length) return block.subarray(held, held + length);
    blockLength = Math.max(length, Math.min(blockLength * 2, MAX_BLOCK));
    blockStart = back ? Math.max(0, position + length - blockLength) : position;
    block = await readAt(fh, blockStart, (back ? position + length : Math.min(limit, position + blockLength)) - blockStart);
    // A short block (the file ends sooner) holds what a read of the step would get.
    return block.subarray(position - blockStart, position - blockStart + length);
  };
}

/** The first complete line's bytes (without the newline), or null when there is none yet. */
export function firstLine(fh: FileHandle, size: number): Promise<Buffer | null> {
  return lineBytesAt(fh, 0, size, FIRST_READ);
}

/**
 * The bytes of the line starting at `start` (without the newline), read `firstRead` bytes
 * first and four times more each time until its newline; null when it is not complete.
 */
async function lineBytesAt(fh: FileHandle, start: number, size: number, firstRead: number): Promise<Buffer | null> {
  let length = Math.min(firstRead, size - start);
  for (;;) {
    const buf = await readAt(fh, start, length);
    const nl = buf.indexOf(10);
    if (nl >= 0) return buf.subarray(0, nl);
    // A short read: the file ends before `size` (cut back since it was listed).
    if (buf.length < length || start + length >= size || length >= MAX_LINE) return null;
    length = Math.min(size - start, length * 4, MAX_LINE);
  }
}

/**
 * The earliest and the latest `ts` of the complete records (a line still being written is
 * not one). Reads only the head and the tail: from each end, the first line that has a
 * `ts` (past lines without one, such as a first write the agent was killed in, within the
 * end's first read: see endRecord), then a record at least the window (MAX_DISORDER_MS,
 * for map records 0, or the writer's `disorderMs` when larger) beyond the earliest
 * (latest) seen so far is followed (preceded) by none that is earlier (later), other than
 * the writer's late ones. Null at an end with no such line.
 *
 * `written`: what the file's writer knows of how out of order it wrote it (the agent's
 * own files); none when not known.
 */
export async function recordTimes(fh: FileHandle, size: number, written?: WrittenOrderOf | null): Promise<{ first: string | null; last: string | null }> {
  if (size === 0) return { first: null, last: null };
  const known = knownOrder(written, size);
  return { first: await extremeTs(linesFrom(fh, 0, size), -1n, known), last: await extremeTs(linesBefore(fh, size), 1n, known) };
}

/**
 * The first line of `lines` (complete lines read away from one end of a file; `sign` -1
 * from its start, 1 from its end) that has a `ts`, with it. Lines without one (a torn first
 * write: the agent killed in it, and the next run starts a new line; a blank line) are
 * passed over within the end's first read (FIRST_READ bytes from the end's first line):
 * null when no line there has one, so a file of such lines is not read through. Leaves
 * `lines` after the line returned.
 */
async function endRecord(lines: AsyncGenerator<Line>, sign: bigint): Promise<{ line: Line; text: string; ts: string } | null> {
  let edge: number | undefined;
  for (;;) {
    const next = await lines.next();
    if (next.done === true) return null;
    const line = next.value;
    edge ??= sign < 0n ? line.start : line.next;
    if (sign < 0n ? line.start >= edge + FIRST_READ : line.next <= edge - FIRST_READ) return null;
    const text = line.bytes.toString("utf8");
    const ts = lineTs(text);
    if (ts !== null) return { line, text, ts };
  }
}

/** How far out of time order records around a line may be: its kind's bound, or what the writer saw when larger. */
function windowMs(line: string, known: Known): number {
  return Math.max(lineRecord(line).disorderMs, known.disorderMs);
}

/** The latest (`sign` 1) or earliest (-1) `ts` of lines read away from that end of the file, and of the writer's late records. */
async function extremeTs(lines: AsyncGenerator<Line>, sign: bigint, known: Known): Promise<string | null> {
  const end = await endRecord(lines, sign);
  if (end === null) return null;
  let best: { ts: string; ns: bigint } = { ts: end.ts, ns: isoTimeNs(end.ts)! };
  const window = BigInt(windowMs(end.text, known)) * 1_000_000n;
  // Records in time order: the end's own is the answer.
  const inOrder = window === 0n && !known.lateAt.has(end.line.start);
  for await (const line of inOrder ? [] : lines) {
    // A record written late is taken as any other but ends no window: records before it may
    // be later than it by more than the window.
    const late = known.lateAt.has(line.start);
    // Most lines of the window change nothing whether or not they are JSON: not parsed.
    const written = writtenTs(line.bytes);
    if (written !== undefined) {
      const ns = isoTimeNs(written);
      if (ns === null || (sign * (ns - best.ns) <= 0n && (late || sign * (best.ns - ns) < window))) continue;
    }
    const ts = lineTs(line.bytes.toString("utf8"));
    if (ts === null) continue;
    const ns = isoTimeNs(ts)!;
    if (sign * (ns - best.ns) > 0n) best = { ts, ns };
    else if (!late && sign * (best.ns - ns) >= window) break;
  }
  // The late records the window did not reach (by their `ts` a late one is never the latest).
  for (const r of known.late) if (sign * (r.ns - best.ns) > 0n) best = r;
  return best.ts;
}

interface Line {
  /** Without the newline; decoded only where needed. Empty for a line passed over as too long. */
  bytes: Buffer;
  /** Byte offsets of its first byte and of the next line. */
  start: number;
  next: number;
  /** Longer than MAX_LINE: its bytes were not kept (linesFrom with `passLong`). */
  long?: true;
}

/**
 * Complete lines from `from` (a line start) on, in a few large reads. A line longer than
 * MAX_LINE ends them, or (`passLong`, a read through the whole file) comes as `long`, without
 * its bytes, and the lines after it follow.
 */
async function* linesFrom(fh: FileHandle, from: number, size: number, passLong = false): AsyncGenerator<Line> {
  let buf: Buffer = Buffer.alloc(0);
  let bufStart = from;
  // Where the too-long line being passed over starts (its bytes so far are dropped).
  let longStart: number | null = null;
  let readLength = FIRST_READ;
  const read = blockReader(fh, false, size);
  for (;;) {
    let nl = buf.indexOf(10);
    while (nl >= 0) {
      yield longStart === null ? { bytes: buf.subarray(0, nl), start: bufStart, next: bufStart + nl + 1 } : { bytes: Buffer.alloc(0), start: longStart, next: bufStart + nl + 1, long: true };
      longStart = null;
      bufStart += nl + 1;
      buf = buf.subarray(nl + 1);
      nl = buf.indexOf(10);
    }
    const at = bufStart + buf.length;
    if (at >= size) return;
    if (buf.length >= MAX_LINE) {
      if (!passLong) return;
      longStart ??= bufStart;
      bufStart = at;
      buf = Buffer.alloc(0);
    }
    const chunk = await read(at, Math.min(readLength, size - at));
    if (chunk.length === 0) return;
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    readLength = CHUNK;
  }
}

/** Complete lines before `end`, the last first (a line not ended by a newline is not one); stops at a line longer than MAX_LINE. */
async function* linesBefore(fh: FileHandle, end: number): AsyncGenerator<Line> {
  // buf holds bytes [bufStart, bufStart + buf.length); once a newline is found it ends with one.
  let buf: Buffer = Buffer.alloc(0);
  let bufStart = end;
  let readLength = FIRST_READ;
  const read = blockReader(fh, true, end);
  const more = async (): Promise<boolean> => {
    if (bufStart === 0 || buf.length > MAX_LINE) return false;
    const length = Math.min(readLength, bufStart);
    readLength = CHUNK;
    const chunk = await read(bufStart - length, length);
    bufStart -= length;
    buf = buf.length === 0 ? chunk : Buffer.concat([chunk, buf]);
    return true;
  };
  let tail = -1;
  while (tail < 0) {
    if (!(await more())) return;
    tail = buf.lastIndexOf(10);
  }
  buf = buf.subarray(0, tail + 1);
  while (buf.length > 0) {
    const prev = buf.length < 2 ? -1 : buf.lastIndexOf(10, buf.length - 2);
    if (prev < 0 && bufStart > 0) {
      if (!(await more())) return;
      continue;
    }
    yield { bytes: buf.subarray(prev + 1, buf.length - 1), start: bufStart + prev + 1, next: bufStart + buf.length };
    buf = buf.subarray(0, prev + 1);
  }
}

/** Start of the first line at or after `pos` (pos itself when it is 0), or null when none within reach. */
async function lineStartFrom(fh: FileHandle, pos: number, size: number): Promise<number | null> {
  if (pos === 0) return 0;
  let at = pos - 1;
  while (at < size && at - pos < MAX_LINE) {
    const length = Math.min(CHUNK, size - at);
    const buf = await readAt(fh, at, length);
    const nl = buf.indexOf(10);
    if (nl >= 0) return at + nl + 1 < size ? at + nl + 1 : null;
    // A short read: the file ends before `size`; reading on from there would never end.
    if (buf.length < length) return null;
    at += buf.length;
  }
  return null;
}

/** The line starting at `start` and its end (after the newline); null when it is not complete. */
async function lineAt(fh: FileHandle, start: number, size: number): Promise<{ text: string; next: number } | null> {
  const line = await lineBytesAt(fh, start, size, CHUNK);
  return line && { text: line.toString("utf8"), next: start + line.length + 1 };
}

/**
 * Byte offset of the first complete record whose `ts` is at or after `sinceMs`, or `size`
 * when there is none: the first that a scan of the whole file would find. Request records
 * after it may still be older (by up to the window, see recordTimes, which also says what
 * `written` is). A line without a readable `ts` is never one, and tells the search nothing;
 * nor does a record its writer wrote late, though it may be the one.
 */
export async function sinceOffset(fh: FileHandle, size: number, sinceMs: number, written?: WrittenOrderOf | null): Promise<number> {
  const known = knownOrder(written, size);
  const msOf = (text: string): number => {
    const ts = lineTs(text);
    return ts === null ? NaN : Date.parse(ts);
  };
  // Searched for sinceMs less the window (request records): no line before a record older
  // than that is at or after sinceMs. Invariant: no line starting before `lo` is; `hi`
  // only bounds the search.
  // The window of the first record; none in the head read: not known, so a request file's.
  const head = await endRecord(linesFrom(fh, 0, size), -1n);
  const searchMs = sinceMs - (head ? windowMs(head.text, known) : Math.max(MAX_DISORDER_MS, known.disorderMs));
  let lo = 0;
  let hi = size;
  while (hi - lo > CHUNK) {
    const mid = Math.floor((lo + hi) / 2);
    const start = await lineStartFrom(fh, mid, size);
    if (start === null || start >= hi) {
      hi = mid;
      continue;
    }
    // The first line from there on that has a `ts` and was not written late: records before
    // a late one may be later than sinceMs by more than the window. Late ones are not read.
    let line: { text: string; next: number } | null = null;
    for (let at = start; at < hi; ) {
      const late = known.lateAt.get(at);
      if (late) {
        at = late.next;
        continue;
      }
      line = await lineAt(fh, at, size);
      if (!line || !Number.isNaN(msOf(line.text))) break;
      at = line.next;
    }
    const ms = line ? msOf(line.text) : NaN;
    if (line && ms < searchMs) lo = line.next;
    else hi = start;
  }
  // From `lo`, through the window: the first record at or after sinceMs is the answer.
  for await (const line of linesFrom(fh, lo, size)) {
    // A line earlier than sinceMs by its start is not the answer, JSON or not: not parsed.
    const written = writtenTs(line.bytes);
    if (written !== undefined && !(isoTimeMs(written) >= sinceMs)) continue;
    if (msOf(line.bytes.toString("utf8")) >= sinceMs) return line.start;
  }
  return size;
}

/**
 * Whether a file's records may be written out of time order by more than the readers'
 * window (MAX_DISORDER_MS): its first record, as recordTimes finds it, is a request record,
 * or there is none there. The agent writes its request records and map records to files
 * of their own, map records in time order.
 */
export async function mayBeOutOfOrder(fh: FileHandle, size: number): Promise<boolean> {
  const head = await endRecord(linesFrom(fh, 0, size), -1n);
  return head === null || lineRecord(head.text).disorderMs > 0;
}

/** The earliest and latest `ts` of a file's complete records up to `end`, read through (scanTimes). */
export interface ScannedTimes {
  first: string | null;
  last: string | null;
  /** Where the complete lines read end: the start of a line still being written, or the size read to. */
  end: number;
}

/**
 * The earliest and latest `ts` of the complete lines from `from` (a line start) to `size`,
 * read through, so exact however far out of time order they were written. `before`: what
 * an earlier call found for the lines before `from` (its `end`), which the answer includes,
 * so a file that only grows is read once. A line longer than MAX_LINE is passed over.
 */
export async function scanTimes(fh: FileHandle, from: number, size: number, before?: ScannedTimes): Promise<ScannedTimes> {
  const quick = await readThrough(fh, from, size, before, false);
  // The extremes taken from how their lines start are checked to be JSON (a torn line
  // starts so too): rarely not, and then the lines are read again, each parsed.
  for (const c of quick.unchecked) {
    const line = await lineAt(fh, c.start, size);
    if (!line || lineTs(line.text) !== c.ts) return (await readThrough(fh, from, size, before, true)).times;
  }
  return quick.times;
}

interface Extreme {
  ts: string;
  ns: bigint;
  /** Where its line starts; its `ts` was taken from how the line starts, not parsed (writtenTs). */
  start: number;
  unchecked: boolean;
}

/**
 * scanTimes' read: a line is parsed only when it does not start as the agent writes its
 * records, or (`parseEach`) when it would be a new earliest or latest. Without `parseEach`,
 * the extremes whose line was not parsed are returned to be checked.
 */
async function readThrough(fh: FileHandle, from: number, size: number, before: ScannedTimes | undefined, parseEach: boolean): Promise<{ times: ScannedTimes; unchecked: Extreme[] }> {
  const known = (ts: string | null | undefined): Extreme | null => {
    const ns = ts ? isoTimeNs(ts) : null;
    return ts && ns !== null ? { ts, ns, start: -1, unchecked: false } : null;
  };
  let min = known(before?.first);
  let max = known(before?.last);
  const take = (line: Buffer, start: number): void => {
    let ts = writtenTs(line);
    let ns: bigint | null;
    let unchecked = false;
    if (ts !== undefined) {
      ns = isoTimeNs(ts);
      // Its ts, if the line is JSON: not a time, or within those found, changes nothing.
      if (ns === null || (min !== null && max !== null && ns >= min.ns && ns <= max.ns)) return;
      if (parseEach && lineTs(line.toString("utf8")) === null) return;
      unchecked = !parseEach;
    } else {
      const parsed = lineTs(line.toString("utf8"));
      if (parsed === null) return;
      ts = parsed;
      ns = isoTimeNs(ts)!;
    }
    if (min === null || ns < min.ns) min = { ts, ns, start, unchecked };
    if (max === null || ns > max.ns) max = { ts, ns, start, unchecked };
  };
  // Where the complete lines read end: a line still being written is left for the next read.
  let end = from;
  for await (const line of linesFrom(fh, from, size, true)) {
    if (line.long !== true) take(line.bytes, line.start);
    end = line.next;
  }
  const unchecked = [min, max].filter((e): e is Extreme => e !== null && e.unchecked);
  return { times: { first: min?.ts ?? null, last: max?.ts ?? null, end }, unchecked };
}
