// Append-only NDJSON files with size-capped rotation: `<name>.ndjson` grows to maxBytes,
// then becomes `<name>.ndjson.1` (older ones shift up, the oldest beyond `keep` is
// deleted). Writes are synchronous: records arrive once per interval, and a final dump
// written during shutdown must be on disk before the process exits.
import { closeSync, fstatSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";

export interface RotatingFileOptions {
  dir: string;
  name: string;
  maxBytes: number;
  /** Rotated files kept besides the live one. */
  keep: number;
}

export class RotatingFile {
  private fd: number | null = null;
  private size = 0;
  readonly path: string;

  constructor(private readonly opts: RotatingFileOptions) {
    this.path = join(opts.dir, `${opts.name}.ndjson`);
  }

  /** Appends one JSON value per line. */
  write(values: readonly unknown[]): void {
    if (values.length === 0) return;
    const text = values.map((v) => JSON.stringify(v)).join("\n") + "\n";
    const bytes = Buffer.byteLength(text);
    if (this.fd === null) this.openFile();
    if (this.size > 0 && this.size + bytes > this.opts.maxBytes) this.rotate();
    this.size += writeSync(this.fd!, text);
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  private openFile(): void {
    mkdirSync(this.opts.dir, { recursive: true });
    this.fd = openSync(this.path, "a");
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
