// How far out of time order the agent really wrote each of its records files. Readers of a
// records file assume a record follows none more than MAX_DISORDER_MS later
// (src/records/times.ts), which nothing enforces: a request held until its own events stop
// can be written long after later ones. The writer sees every record it appends, so it
// notes where it wrote each record more than that late; the agent's records endpoints take
// those on their own and keep the 5 s window for the rest, and /status counts them.
// Pure: no I/O.
import { isObject } from "../../is-object.js";
import { isoTimeNs, MAX_DISORDER_MS, type LateRecord, type WrittenOrderOf } from "../../records/times.js";

/**
 * Late records noted per file. Few in practice (a request held past 5 s by its own events);
 * past this many the rest only widen the file's window, as far as the latest of them was
 * late, which costs its readers that much more of the file at each end.
 */
export const MAX_LATE_RECORDS = 1000;

interface FileOrder {
  /** The latest `ts` appended to the file so far (ns), null before its first. */
  latestNs: bigint | null;
  /** The most a record not in `late` came after a later one in the file (ns). */
  unlistedNs: bigint;
  late: LateRecord[];
}

const BOUND_NS = BigInt(MAX_DISORDER_MS) * 1_000_000n;

const fresh = (): FileOrder => ({ latestNs: null, unlistedNs: 0n, late: [] });

/**
 * Per records file this agent process appends to, by inode: rotation renames a file and
 * keeps its inode, so a rotated file keeps what is known of it, and each file's order is
 * its own (its readers read it alone). One per agent, shared by its writers and its
 * records endpoints.
 */
export class WrittenOrder {
  private readonly files = new Map<number, FileOrder>();

  /** `maxLate`: late records noted per file (MAX_LATE_RECORDS; smaller in tests). */
  constructor(private readonly maxLate = MAX_LATE_RECORDS) {}

  /**
   * The writer opened file `ino`, holding `size` bytes. An empty file starts afresh (a new
   * file, perhaps on the inode of a deleted one); a file it wrote before goes on where it
   * was; a file an earlier agent run wrote starts with no latest `ts`: its records are
   * taken as out of order by at most MAX_DISORDER_MS, and those appended now are compared
   * among themselves (their `ts` are after the restart, so after the earlier ones, unless
   * the wall clock stepped back).
   */
  opened(ino: number, size: number): void {
    if (size === 0 || !this.files.has(ino)) this.files.set(ino, fresh());
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
   * Whole records appended to file `ino` from byte `at` on, in file order, each line
   * `lengths[i]` bytes with its newline. Returns how many of them came more than
   * MAX_DISORDER_MS after a record with a later `ts` in the same file. A record without a
   * `ts` that readers take is not ordered (readers skip it too).
   */
  appended(ino: number, at: number, records: readonly unknown[], lengths: readonly number[]): number {
    let f = this.files.get(ino);
    if (!f) this.files.set(ino, (f = fresh()));
    let beyond = 0;
    let start = at;
    for (let i = 0; i < records.length; i++) {
      const r = records[i];
      const next = start + lengths[i]!;
      const ts = isObject(r) && typeof r.ts === "string" ? r.ts : null;
      const ns = ts === null ? null : isoTimeNs(ts);
      if (ts !== null && ns !== null) {
        if (f.latestNs === null || ns >= f.latestNs) f.latestNs = ns;
        else {
          const behind = f.latestNs - ns;
          if (behind > BOUND_NS) beyond++;
          if (behind > BOUND_NS && f.late.length < this.maxLate) f.late.push({ start, next, ts, ns });
          else if (behind > f.unlistedNs) f.unlistedNs = behind;
        }
      }
      start = next;
    }
    return beyond;
  }

  /**
   * What this process knows of how out of time order it wrote file `ino` (the readers'
   * `written`), null when it never wrote it. Its late records only grow: a reader takes
   * those before the end it reads.
   */
  known(ino: number): WrittenOrderOf | null {
    const f = this.files.get(ino);
    return f ? { disorderMs: Number((f.unlistedNs + 999_999n) / 1_000_000n), late: f.late } : null;
  }
}
