// The agent's records endpoints as both sides see them (`GET /records` and
// `GET /records/<name>`). Keep fields stable: `hookpoint collect` of one version reads
// agents of another.
import { FieldError, countAt, listAt, nullableIsoTimeAt, objectAt, stringAt } from "./fields.js";

export const RECORDS_PATH = "/records";

export interface RecordFileInfo {
  /** Relative to the output directory: "x.ndjson", "x.ndjson.1", "programs/x.bt". */
  name: string;
  bytes: number;
  /**
   * The earliest and the latest `ts` of the complete records (request records are only
   * nearly in time order: not always the first and last lines); null for programs and
   * empty files.
   */
  first: string | null;
  last: string | null;
  /**
   * The file's identity, also sent as its ETag. NDJSON files only grow, so the same ETag
   * means every byte fetched before is unchanged (inode and first record); a rotated file
   * keeps its ETag under its new name. A program's ETag is its content's hash.
   */
  etag: string;
  /** With `?since=`: byte offset of the first record at or after it in file order (`bytes` when none); older request records may follow it. */
  offset?: number;
}

export interface RecordsListing {
  version: 1;
  /** Largest body one download answers with; larger ranges are refused with 413. */
  maxResponseBytes: number;
  since: string | null;
  files: RecordFileInfo[];
}

/**
 * An NDJSON ETag that names a file by its first record. One taken before the file had a
 * complete first record names only an inode, which a later file may reuse: a copy taken
 * then is fetched again rather than resumed.
 */
export function isResumableEtag(etag: string): boolean {
  return etag.startsWith('"n-') && !etag.endsWith('-"');
}

/**
 * Checks an agent's `GET /records` answer: what collect and status read from it. Throws
 * FieldError naming the field (`files[2].bytes`), so an answer that is not an agent's
 * listing (another program on the port, a broken proxy) is named, not stumbled over.
 */
export function toRecordsListing(value: unknown): RecordsListing {
  const o = objectAt(value, "body");
  const maxResponseBytes = countAt(o, "maxResponseBytes", "");
  if (maxResponseBytes === 0) throw new FieldError("maxResponseBytes", "must be > 0");
  const files = listAt(o, "files", "").map((item, i): RecordFileInfo => {
    const f = objectAt(item, `files[${i}]`);
    const path = `files[${i}].`;
    const info: RecordFileInfo = { name: stringAt(f, "name", path), bytes: countAt(f, "bytes", path), first: nullableIsoTimeAt(f, "first", path), last: nullableIsoTimeAt(f, "last", path), etag: stringAt(f, "etag", path) };
    if (f.offset !== undefined) info.offset = countAt(f, "offset", path);
    return info;
  });
  return { version: 1, maxResponseBytes, since: typeof o.since === "string" ? o.since : null, files };
}
