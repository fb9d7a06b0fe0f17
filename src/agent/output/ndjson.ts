// Append-only NDJSON files with size-capped rotation: `<name>.ndjson` grows to maxBytes,
// then becomes `<name>.ndjson.1` (older ones shift up, the oldest beyond `keep` is
// deleted). Writes are synchronous: records arrive once per interval, and a final dump
// written during shutdown must be on disk before the process exits.
//
// A record is written whole or not at all: a batch goes out in one buffer (short writes
// are continued), and when a write fails part-way (ENOSPC, EIO) the file is cut back to
// the end of the last whole record, so a full disk never leaves a torn line. A failure
// never throws: the caller is told what was written, what was dropped, and why.
import { closeSync, constants, fstatSync, ftruncateSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";

export interface RotatingFileOptions {
  dir: string;
  name: string;
  maxBytes: number;
  /** Rotated files kept besides the live one. */
  keep: number;
}

export interface WriteResult {
  written: number;
  dropped: number;
  /** Why records were dropped (the first failure of this write). */
  error: NodeJS.ErrnoException | null;
}

export class RotatingFile {
  private fd: number | null = null;
  private size = 0;
  readonly path: string;

  constructor(private readonly opts: RotatingFileOptions) {
    this.path = join(opts.dir, `${opts.name}.ndjson`);
  }

  /** Appends one JSON value per line; never throws. */
  write(values: readonly unknown[]): WriteResult {
    if (values.length === 0) return { written: 0, dropped: 0, error: null };
    const lines = values.map((v) => Buffer.from(`${JSON.stringify(v)}\n`));
    const buf = lines.length === 1 ? lines[0]! : Buffer.concat(lines);
    try {
      if (this.fd === null) this.openFile();
      if (this.size > 0 && this.size + buf.length > this.opts.maxBytes) this.rotate();
    } catch (err) {
      this.close();
      return { written: 0, dropped: values.length, error: err as NodeJS.ErrnoException };
    }
    const start = this.size;
    let done = 0;
    try {
      while (done < buf.length) {
        const n = writeSync(this.fd!, buf, done, buf.length - done);
        if (n === 0) throw Object.assign(new Error("write returned 0 bytes"), { code: "EIO" });
        done += n;
      }
      this.size += done;
      return { written: values.length, dropped: 0, error: null };
    } catch (err) {
      // Keep the whole records that went out, cut the torn one.
      let whole = 0;
      let keep = 0;
      while (whole < lines.length && keep + lines[whole]!.length <= done) keep += lines[whole++]!.length;
      try {
        if (keep < done) ftruncateSync(this.fd!, start + keep);
        this.size = start + keep;
      } catch {
        // Could not cut it: start afresh from what the file really holds.
        this.close();
      }
      return { written: whole, dropped: values.length - whole, error: err as NodeJS.ErrnoException };
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
    // Never through a symbolic link: the agent is root, the directory may not always be its alone.
    this.fd = openSync(this.path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o644);
    this.size = fstatSync(this.fd).size;
  }

  private rotate(): void {
    this.close();
    rmSync(`${this.path}.${this.opts.keep}`, { force: true });
    for (let i = this.opts.keep - 1; i >= 1; i--) {
      try {
        renameSync(`${this.path}.${i}`, `${this.path}.${i + 1}`);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      }
    }
    if (this.opts.keep >= 1) renameSync(this.path, `${this.path}.1`);
    else rmSync(this.path, { force: true });
    this.openFile();
  }
}
