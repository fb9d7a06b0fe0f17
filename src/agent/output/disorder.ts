// How far out of time order the agent really wrote each of its records files. Readers of a
// records file assume a record follows none more than MAX_DISORDER_MS later
// (src/records/times.ts), which nothing enforces: a request held until its own events stop
// can be written long after later ones. The writer sees every record it appends, so it
// knows; the agent's records endpoints read its files with the larger of the two windows,
// and /status counts the records written beyond the assumed bound. Pure: no I/O.
import { isObject } from "../../is-object.js";
import { isoTimeNs, MAX_DISORDER_MS } from "../../records/times.js";

interface FileOrder {
  /** The latest `ts` appended to the file so far (ns), null before its first. */
  latestNs: bigint | null;
  /** The most a record came after a later one in the file (ns). */
  maxNs: bigint;
}

const BOUND_NS = BigInt(MAX_DISORDER_MS) * 1_000_000n;

/**
 * Per records file this agent process appends to, by inode: rotation renames a file and
 * keeps its inode, so a rotated file keeps what is known of it, and each file's order is
 * its own (its readers read it alone). One per agent, shared by its writers and its
 * records endpoints.
 */
export class WrittenOrder {
  private readonly files = new Map<number, FileOrder>();

  /**
   * The writer opened file `ino`, holding `size` bytes. An empty file starts afresh (a new
   * file, perhaps on the inode of a deleted one); a file it wrote before goes on where it
   * was; a file an earlier agent run wrote starts with no latest `ts`: its records are
   * taken as out of order by at most MAX_DISORDER_MS, and those appended now are compared
   * among themselves (their `ts` are after the restart, so after the earlier ones, unless
   * the wall clock stepped back).
   */
  opened(ino: number, size: number): void {
    if (size === 0 || !this.files.has(ino)) this.files.set(ino, { latestNs: null, maxNs: 0n });
  }

  /** How many files it knows of: each one written until rotation deletes it. */
  get size(): number {
    return this.files.size;
  }

  /** The file is gone (deleted by rotation): nothing more to know of it. */
  forget(ino: number): void {
    this.files.delete(ino);
  }

  /**
   * Whole records appended to file `ino`, in file order. Returns how many of them came more
   * than MAX_DISORDER_MS after a record with a later `ts` in the same file. A record
   * without a `ts` that readers take is not ordered (readers skip it too).
   */
  appended(ino: number, records: readonly unknown[]): number {
    let f = this.files.get(ino);
    if (!f) this.files.set(ino, (f = { latestNs: null, maxNs: 0n }));
    let beyond = 0;
    for (const r of records) {
      const ns = isObject(r) && typeof r.ts === "string" ? isoTimeNs(r.ts) : null;
      if (ns === null) continue;
      if (f.latestNs === null || ns >= f.latestNs) {
        f.latestNs = ns;
        continue;
      }
      const behind = f.latestNs - ns;
      if (behind > f.maxNs) f.maxNs = behind;
      if (behind > BOUND_NS) beyond++;
    }
    return beyond;
  }

  /**
   * How far out of time order this process wrote file `ino`, in whole ms rounded up (the
   * readers' `writtenDisorderMs`); 0 when it wrote the file in order or never wrote it.
   */
  disorderMs(ino: number): number {
    const f = this.files.get(ino);
    return f ? Number((f.maxNs + 999_999n) / 1_000_000n) : 0;
  }
}
