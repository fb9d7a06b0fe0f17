// Append-only NDJSON files with size-capped rotation: `<name>.ndjson` grows to maxBytes,
// then becomes `<name>.ndjson.1` (older ones shift up, the oldest beyond `keep` is
// deleted). Writes are synchronous: records arrive once per interval, and a final dump
// written during shutdown must be on disk before the process exits.
//
// A record is written whole or not at all: a batch goes out in one buffer (short writes
// are continued), and when a write fails part-way (ENOSPC, EIO) the file is cut back to
// the end of the last whole record, so a full disk never leaves a torn line. A failure
// never throws: the caller is told what was written, what was dropped, and why.
// A file may still end in part of a record (an earlier agent run was killed mid-write, or
// the cut back failed): the next record then starts on a new line, so the torn line stays
// one no reader can read and the record is whole. Bytes already in a file never change
// (collect resumes its copies by byte range).
//
// How far out of time order each file's records were written, and where each record more
// than 5 s late starts, is tracked as they go out (disorder.ts): the agent's readers of its
// files need it.
import { closeSync, constants, fstatSync, ftruncateSync, lstatSync, mkdirSync, openSync, readSync, renameSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { WrittenOrder } from "./disorder.js";

export interface RotatingFileOptions {
  dir: string;
  name: string;
  maxBytes: number;
  /** Rotated files kept besides the live one. */
  keep: number;
  /** Keeps how far out of time order each file was written (the agent shares one with its records endpoints); default: this writer's own. */
  order?: WrittenOrder;
}

export interface WriteResult {
  written: number;
  dropped: number;
  /** Why records were dropped (the first failure of this write). */
  error: NodeJS.ErrnoException | null;
  /** Records written more than MAX_DISORDER_MS after a record of the same file with a later `ts`. */
  outOfOrder: number;
}

export class RotatingFile {
  private fd: number | null = null;
  private size = 0;
  private ino = 0;
  /** The open file ends in part of a record: the next write starts with a newline. */
  private tornEnd = false;
  private readonly order: WrittenOrder;
  readonly path: string;

  constructor(private readonly opts: RotatingFileOptions) {
    this.path = join(opts.dir, `${opts.name}.ndjson`);
    this.order = opts.order ?? new WrittenOrder();
  }

  /** Appends one JSON value per line; never throws. */
  write(values: readonly unknown[]): WriteResult {
    if (values.length === 0) return { written: 0, dropped: 0, error: null, outOfOrder: 0 };
    const lines = values.map((v) => Buffer.from(`${JSON.stringify(v)}\n`));
    const lengths = lines.map((l) => l.length);
    const body = lines.length === 1 ? lines[0]! : Buffer.concat(lines);
    try {
      if (this.fd === null) this.openFile();
      if (this.size > 0 && this.size + Number(this.tornEnd) + body.length > this.opts.maxBytes) this.rotate();
    } catch (err) {
      this.close();
      return { written: 0, dropped: values.length, error: err as NodeJS.ErrnoException, outOfOrder: 0 };
    }
    const start = this.size;
    // Bytes before the first record: the newline that ends a torn line.
    const lead = Number(this.tornEnd);
    const buf = lead ? Buffer.concat([NEWLINE, body]) : body;
    let done = 0;
    try {
      while (done < buf.length) {
        const n = writeSync(this.fd!, buf, done, buf.length - done);
        if (n === 0) throw Object.assign(new Error("write returned 0 bytes"), { code: "EIO" });
        done += n;
      }
      this.size += done;
      this.tornEnd = false;
      return { written: values.length, dropped: 0, error: null, outOfOrder: this.order.appended(this.ino, start + lead, values, lengths) };
    } catch (err) {
      // Keep the whole records that went out, cut the torn one (and the newline before the
      // first when none did: the file is left as it was, its last line the last record).
      let whole = 0;
      let keep = lead;
      while (whole < lines.length && keep + lines[whole]!.length <= done) keep += lines[whole++]!.length;
      if (whole === 0) keep = 0;
      const outOfOrder = this.order.appended(this.ino, start + lead, values.slice(0, whole), lengths);
      try {
        if (keep < done) ftruncateSync(this.fd!, start + keep);
        this.size = start + keep;
        if (whole > 0) this.tornEnd = false;
      } catch {
        // Could not cut it: start afresh from what the file really holds (opening it again
        // finds it torn, and the next record starts on a new line).
        this.close();
      }
      return { written: whole, dropped: values.length - whole, error: err as NodeJS.ErrnoException, outOfOrder };
    }
  }

  close(): void {
    if (this.fd !== null) {
      try {
        closeSync(this.fd);
      } catch {
        // nothing to keep
      }
    }
    this.fd = null;
  }

  private openFile(): void {
    mkdirSync(this.opts.dir, { recursive: true });
    // Never through a symbolic link: the agent is root, the directory may not always be its
    // alone. Read too: only its last byte, to know whether it ends torn.
    this.fd = openSync(this.path, constants.O_RDWR | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o644);
    const st = fstatSync(this.fd);
    this.size = st.size;
    this.ino = st.ino;
    this.tornEnd = this.size > 0 && !endsWithNewline(this.fd, this.size);
    this.order.opened(this.ino, this.size);
  }

  private rotate(): void {
    this.close();
    const oldest = `${this.path}.${this.opts.keep}`;
    this.forget(oldest);
    rmSync(oldest, { force: true });
    for (let i = this.opts.keep - 1; i >= 1; i--) {
      try {
        renameSync(`${this.path}.${i}`, `${this.path}.${i + 1}`);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      }
    }
    if (this.opts.keep >= 1) renameSync(this.path, `${this.path}.1`);
    else {
      this.forget(this.path);
      rmSync(this.path, { force: true });
    }
    this.openFile();
  }

  /** The file at `path` is about to be deleted: its order is no longer kept. */
  private forget(path: string): void {
    try {
      this.order.forget(lstatSync(path).ino);
    } catch {
      // none there
    }
  }
}

const NEWLINE = Buffer.from("\n");

/**
 * Whether the file's last byte is a newline. One that cannot be read is taken as not: a
 * newline too many is a blank line, which readers skip; one too few joins a record to a
 * torn line, which no reader can read.
 */
function endsWithNewline(fd: number, size: number): boolean {
  const last = Buffer.alloc(1);
  try {
    return readSync(fd, last, 0, 1, size - 1) === 1 && last[0] === 0x0a;
  } catch {
    return false;
  }
}
