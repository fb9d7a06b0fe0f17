// Reads a results folder: a `hookpoint collect` output (DIR/manifest.json and
// DIR/<namespace>/<pod>/*.ndjson*) or any tree of agent NDJSON files (e.g. copied out of
// pods with kubectl cp). Live and rotated files (`x.ndjson`, `x.ndjson.1`, …, optionally
// gzipped) are read; bad lines and skipped links are collected as problems, never fatal here.
//
// Whose records: a request record names its pod; for the rest, a folder's pod is the
// manifest's pod at DIR/<namespace>/<pod>/, else the pod most of the folder's request
// records name, else read from the folder path: `…/<namespace>/<pod>/` when two or more
// levels deep, `<pod>/` (namespace unknown) when one, DIR's own name for files at its top.
import { createReadStream, existsSync, lstatSync, statSync } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { basename, join, relative, resolve, sep } from "node:path";
import type { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { RecordLineError } from "../records/fields.js";
import type { MapRecord } from "../records/map-record.js";
import { parseRecordLine } from "../records/record-line.js";
import type { RequestRecord } from "../records/request-record.js";
import { parseManifest, type Manifest } from "./manifest.js";
import { workloadFromPodName, type Workload } from "./workload.js";
import { counted } from "../counted.js";

/** The manifest `collect` writes at the top of DIR. */
const MANIFEST_FILE = "manifest.json";

/** Agent output files: `<name>.ndjson`, rotated `<name>.ndjson.N`, either possibly `.gz`. */
export const RECORD_FILE = /\.ndjson(\.\d+)?(\.gz)?$/;

export interface PodInfo {
  /** "namespace/name" ("name" alone when the namespace is unknown). */
  key: string;
  namespace: string;
  name: string;
  workload: Workload;
  node: string | null;
}

export interface LoadedRequest {
  record: RequestRecord;
  pod: string;
}

/** A map record: the agent writes each interval's delta (gauges as they are). */
export interface LoadedMap {
  record: MapRecord;
  pod: string;
}

export interface Loaded {
  manifest: Manifest | null;
  pods: Map<string, PodInfo>;
  requests: LoadedRequest[];
  maps: LoadedMap[];
  files: number;
  lines: number;
  /** The first KEPT_PROBLEMS bad lines and unreadable files, in file order; each message names file:line and why. */
  problems: string[];
  /** All of them: a folder can hold millions of bad lines (another program's NDJSON), and only the count of the rest is kept. */
  problemCount: number;
}

/** Problems kept word for word: the page lists them, stderr the first 50. */
export const KEPT_PROBLEMS = 100;

export class NoRecordsError extends Error {
  override name = "NoRecordsError";
  constructor(
    message: string,
    readonly problems: string[],
    readonly problemCount: number,
  ) {
    super(message);
  }
}

function problem(out: Loaded, text: string): void {
  out.problemCount += 1;
  if (out.problems.length < KEPT_PROBLEMS) out.problems.push(text);
}

export async function loadResults(dir: string): Promise<Loaded> {
  const root = resolve(dir);
  const out: Loaded = { manifest: null, pods: new Map(), requests: [], maps: [], files: 0, lines: 0, problems: [], problemCount: 0 };
  const manifestPath = join(root, MANIFEST_FILE);
  // A linked manifest is not read, as no other link is: recordFolders names it as skipped.
  // Nor is anything but a regular file: reading a FIFO would wait for a writer for ever.
  const manifestStat = existsSync(manifestPath) ? lstatSync(manifestPath) : null;
  if (manifestStat?.isFile()) {
    try {
      out.manifest = parseManifest(await readFile(manifestPath, "utf8"));
    } catch (err) {
      problem(out, `${join(dir, MANIFEST_FILE)}: ${(err as Error).message}; the folder is read without it`);
    }
  } else if (manifestStat && !manifestStat.isSymbolicLink()) {
    problem(out, `${join(dir, MANIFEST_FILE)}: not a regular file; the folder is read without it`);
  }
  const byManifest = new Map((out.manifest?.pods ?? []).map((p) => [`${p.namespace}/${p.name}`, p]));
  for (const p of byManifest.values()) addPod(out, p.namespace, p.name, p.workload ? { ...p.workload, derived: false } : null, p.node);

  // Where each record was first read, by its identity: the same record read twice (a folder
  // copied in twice, a file kept both plain and gzipped) is counted once.
  const seen = new Map<string, string>();
  for (const folder of await recordFolders(root)) {
    const rel = relative(root, folder.path);
    const parts = rel === "" ? [] : rel.split(sep);
    const requests: Read<RequestRecord>[] = [];
    const maps: Read<MapRecord>[] = [];
    for (const link of folder.links) problem(out, `${join(dir, rel, link.name)}: a symbolic link${link.folder ? " to a folder" : ""}, which the report does not follow (copy the ${link.folder ? "folder" : "file"} in to include it)`);
    if (folder.files.length === 0) continue;
    for (const name of folder.files) {
      out.files += 1;
      await readRecordFile(join(folder.path, name), join(dir, rel, name), out, requests, maps);
    }
    const folderPod = podOfFolder(out, parts, requests.map((r) => r.record), byManifest, root);
    for (const { record: r, at } of requests) {
      const pod = r.pod ?? folderPod;
      if (repeated(out, seen, at, "request", [pod, r.pid, r.worker, r.id, r.stream, r.start_ns, r.end_ns])) continue;
      if (!out.pods.has(pod)) addPodKey(out, pod);
      out.requests.push({ record: r, pod });
    }
    for (const { record: m, at } of maps) {
      if (repeated(out, seen, at, "map", [folderPod, m.pid, m.ts, m.script, m.map, m.keys])) continue;
      out.maps.push({ record: m, pod: folderPod });
    }
  }
  if (out.requests.length === 0 && out.maps.length === 0) {
    const files = counted(out.files, "record file");
    throw new NoRecordsError(`no records found in ${dir} (${files}, ${counted(out.problemCount, "problem")})`, out.problems, out.problemCount);
  }
  return out;
}

/** A record and where it was read ("file:line"). */
interface Read<T> {
  record: T;
  at: string;
}

/** Whether a record with this identity was read before; if so, the repeat is named as a problem. */
function repeated(out: Loaded, seen: Map<string, string>, at: string, kind: string, identity: unknown[]): boolean {
  const key = JSON.stringify([kind, ...identity]);
  const first = seen.get(key);
  if (first === undefined) {
    seen.set(key, at);
    return false;
  }
  problem(out, `${at}: the same ${kind} record as ${first}`);
  return true;
}

interface Folder {
  path: string;
  files: string[];
  /** Symbolic links named like record files (or DIR's manifest.json), or to folders: skipped, and said so. */
  links: { name: string; folder: boolean }[];
}

/**
 * Folders holding record files, each with its files in a stable order (live file, then .1,
 * .2, …). Symbolic links are not followed: the folder may have come out of a pod, and a
 * link there could name any file the user can read, whose lines the problems would quote
 * (on stderr and in the page), or a FIFO or device that never ends.
 */
async function recordFolders(root: string): Promise<Folder[]> {
  if (!existsSync(root) || !statSync(root).isDirectory()) throw new Error(`not a folder: ${root}`);
  const out: Folder[] = [];
  const walk = async (path: string): Promise<void> => {
    const entries = await readdir(path, { withFileTypes: true });
    const files = entries.filter((e) => e.isFile() && RECORD_FILE.test(e.name)).map((e) => e.name);
    const links: Folder["links"] = [];
    for (const e of entries.filter((d) => d.isSymbolicLink()).sort(byName)) {
      // stat reads only the inode the link leads to, never the file.
      const folder = await stat(join(path, e.name)).then((st) => st.isDirectory(), () => false);
      if (folder || RECORD_FILE.test(e.name) || (path === root && e.name === MANIFEST_FILE)) links.push({ name: e.name, folder });
    }
    if (files.length > 0 || links.length > 0) out.push({ path, files: files.sort(byRotation), links });
    for (const e of entries.filter((d) => d.isDirectory()).sort(byName)) await walk(join(path, e.name));
  };
  await walk(root);
  return out;
}

function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function byRotation(a: string, b: string): number {
  const key = (n: string): [string, number] => {
    const m = /^(.*\.ndjson)(?:\.(\d+))?(?:\.gz)?$/.exec(n)!;
    return [m[1]!, m[2] === undefined ? 0 : Number(m[2])];
  };
  const [an, ai] = key(a);
  const [bn, bi] = key(b);
  return an < bn ? -1 : an > bn ? 1 : ai - bi;
}

/** A record line longer than this is skipped unread (ours are a few KB). */
export const MAX_LINE_BYTES = 16 * 1024 * 1024;

interface FileLine {
  /** 1-based. */
  number: number;
  /** null: longer than MAX_LINE_BYTES. */
  text: string | null;
  /** false for a last line without its newline. */
  complete: boolean;
}

/**
 * The lines of a file, read as a stream: files of any size, never held whole (a string
 * cannot pass ~512 MiB). Blank lines are left out but counted.
 */
async function* fileLines(input: AsyncIterable<Buffer>): AsyncGenerator<FileLine> {
  let carry: Buffer[] = [];
  let carried = 0;
  let number = 0;
  const take = (piece: Buffer, complete: boolean): FileLine | null => {
    number += 1;
    const long = carried + piece.length > MAX_LINE_BYTES;
    const text = long ? null : (carry.length ? Buffer.concat([...carry, piece]) : piece).toString("utf8");
    carry = [];
    carried = 0;
    return text === "" ? null : { number, text, complete };
  };
  for await (const chunk of input) {
    let at = 0;
    for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, at)) {
      const line = take(chunk.subarray(at, nl), true);
      if (line) yield line;
      at = nl + 1;
    }
    if (at < chunk.length) {
      // Past the limit only the length is kept: the line is skipped, not gathered.
      if (carried <= MAX_LINE_BYTES) carry.push(chunk.subarray(at));
      carried += chunk.length - at;
    }
  }
  if (carried > 0) {
    const line = take(Buffer.alloc(0), false);
    if (line) yield line;
  }
}

async function readRecordFile(path: string, shown: string, out: Loaded, requests: Read<RequestRecord>[], maps: Read<MapRecord>[]): Promise<void> {
  const source = createReadStream(path);
  const input: Readable = path.endsWith(".gz") ? source.pipe(createGunzip()) : source;
  // A broken gzip stream ends the file there; the records before it are kept.
  if (input !== source) source.on("error", (err) => input.destroy(err));
  let last = 0;
  try {
    for await (const line of fileLines(input)) {
      last = line.number;
      out.lines += 1;
      if (line.text === null) problem(out, `${shown}:${line.number}: longer than ${MAX_LINE_BYTES / 1048576} MiB, skipped`);
      else readLine(line.text, line.number, line.complete);
    }
  } catch (err) {
    if (err instanceof LineBug) throw err.cause;
    const why = readError(err as NodeJS.ErrnoException, last === 0);
    problem(out, last === 0 ? `${shown}: cannot read: ${why}` : `${shown}: cannot read past line ${last}: ${why}`);
  } finally {
    source.destroy();
  }

  function readLine(text: string, number: number, complete: boolean): void {
    try {
      const rec = parseRecordLine(text, shown, number);
      if (rec?.kind === "request") requests.push({ record: rec.record, at: `${shown}:${number}` });
      else if (rec) maps.push({ record: rec.record, at: `${shown}:${number}` });
    } catch (err) {
      if (!(err instanceof RecordLineError)) throw new LineBug(err);
      problem(out, !complete && err.field === null ? `${shown}:${number}: incomplete last line (was the file still being written?)` : err.message);
    }
  }
}

/** A read error in words: zlib's own messages ("incorrect header check") do not say the file is not gzip. */
function readError(err: NodeJS.ErrnoException, atStart: boolean): string {
  if (err.code === "Z_DATA_ERROR") return `${atStart ? "not gzip data, though named .gz" : "the gzip data is damaged here"} (zlib: ${err.message})`;
  if (err.code === "Z_BUF_ERROR") return `the gzip data is cut short (zlib: ${err.message})`;
  return err.message;
}

/** A failure of our own while reading a line: not the file's fault, so not reported as one. */
class LineBug extends Error {
  constructor(override readonly cause: unknown) {
    super("record line");
  }
}

function podOfFolder(out: Loaded, parts: string[], requests: RequestRecord[], byManifest: Map<string, unknown>, root: string): string {
  if (parts.length >= 2 && byManifest.has(`${parts[0]}/${parts[1]}`)) return `${parts[0]}/${parts[1]}`;
  const named = new Map<string, number>();
  for (const r of requests) if (r.pod !== null) named.set(r.pod, (named.get(r.pod) ?? 0) + 1);
  let best: string | null = null;
  for (const [pod, n] of named) if (best === null || n > named.get(best)!) best = pod;
  let key: string;
  if (best !== null) key = best;
  else if (parts.length >= 2) key = `${parts[parts.length - 2]}/${parts[parts.length - 1]}`;
  else key = parts[0] ?? basename(root);
  if (!out.pods.has(key)) addPodKey(out, key);
  return key;
}

function addPodKey(out: Loaded, key: string): void {
  const slash = key.indexOf("/");
  if (slash < 0) addPod(out, "", key, null, null);
  else addPod(out, key.slice(0, slash), key.slice(slash + 1), null, null);
}

function addPod(out: Loaded, namespace: string, name: string, workload: Workload | null, node: string | null): void {
  const key = namespace === "" ? name : `${namespace}/${name}`;
  if (out.pods.has(key)) return;
  out.pods.set(key, { key, namespace, name, workload: workload ?? workloadFromPodName(name), node });
}
