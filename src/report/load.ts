// Reads a results folder: a `hookpoint collect` output (DIR/manifest.json and
// DIR/<namespace>/<pod>/*.ndjson*) or any tree of agent NDJSON files (e.g. copied out of
// pods with kubectl cp). Live and rotated files (`x.ndjson`, `x.ndjson.1`, …, optionally
// gzipped) are read; bad lines are collected as problems, never fatal here.
//
// Whose records: a request record names its pod; for the rest, a folder's pod is the
// manifest's pod at DIR/<namespace>/<pod>/, else the pod most of the folder's request
// records name, else read from the folder path: `…/<namespace>/<pod>/` when two or more
// levels deep, `<pod>/` (namespace unknown) when one, DIR's own name for files at its top.
import { existsSync, statSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { basename, join, relative, resolve, sep } from "node:path";
import { promisify } from "node:util";
import { gunzip } from "node:zlib";
import { RecordLineError } from "../records/fields.js";
import type { MapRecord } from "../records/map-record.js";
import { parseRecordLine } from "../records/record-line.js";
import type { RequestRecord } from "../records/request-record.js";
import { parseManifest, type Manifest } from "./manifest.js";
import { workloadFromPodName, type Workload } from "./workload.js";

const gunzipAsync = promisify(gunzip);

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
  /** Bad lines and unreadable files, in file order; each message names file:line and why. */
  problems: string[];
}

export class NoRecordsError extends Error {
  override name = "NoRecordsError";
  constructor(
    message: string,
    readonly problems: string[],
  ) {
    super(message);
  }
}

export async function loadResults(dir: string): Promise<Loaded> {
  const root = resolve(dir);
  const out: Loaded = { manifest: null, pods: new Map(), requests: [], maps: [], files: 0, lines: 0, problems: [] };
  const manifestPath = join(root, "manifest.json");
  if (existsSync(manifestPath)) {
    try {
      out.manifest = parseManifest(await readFile(manifestPath, "utf8"));
    } catch (err) {
      out.problems.push(`${join(dir, "manifest.json")}: ignored: ${(err as Error).message}`);
    }
  }
  const byManifest = new Map((out.manifest?.pods ?? []).map((p) => [`${p.namespace}/${p.name}`, p]));
  for (const p of byManifest.values()) addPod(out, p.namespace, p.name, p.workload ? { ...p.workload, derived: false } : null, p.node);

  for (const folder of await recordFolders(root)) {
    const rel = relative(root, folder.path);
    const parts = rel === "" ? [] : rel.split(sep);
    const requests: RequestRecord[] = [];
    const maps: MapRecord[] = [];
    for (const name of folder.files) {
      out.files += 1;
      await readRecordFile(join(folder.path, name), join(dir, rel, name), out, requests, maps);
    }
    const folderPod = podOfFolder(out, parts, requests, byManifest, root);
    for (const r of requests) {
      const pod = r.pod ?? folderPod;
      if (!out.pods.has(pod)) addPodKey(out, pod);
      out.requests.push({ record: r, pod });
    }
    for (const m of maps) out.maps.push({ record: m, pod: folderPod });
  }
  if (out.requests.length === 0 && out.maps.length === 0) {
    const files = `${out.files} record file${out.files === 1 ? "" : "s"}`;
    throw new NoRecordsError(`no records found in ${dir} (${files}, ${out.problems.length} problem${out.problems.length === 1 ? "" : "s"})`, out.problems);
  }
  return out;
}

interface Folder {
  path: string;
  files: string[];
}

/** Folders holding record files, each with its files in a stable order (live file, then .1, .2, …). */
async function recordFolders(root: string): Promise<Folder[]> {
  if (!existsSync(root) || !statSync(root).isDirectory()) throw new Error(`not a folder: ${root}`);
  const out: Folder[] = [];
  const walk = async (path: string): Promise<void> => {
    const entries = await readdir(path, { withFileTypes: true });
    const files = entries.filter((e) => e.isFile() && RECORD_FILE.test(e.name)).map((e) => e.name);
    if (files.length > 0) out.push({ path, files: files.sort(byRotation) });
    for (const e of entries.filter((d) => d.isDirectory()).sort((a, b) => (a.name < b.name ? -1 : 1))) await walk(join(path, e.name));
  };
  await walk(root);
  return out;
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

async function readRecordFile(path: string, shown: string, out: Loaded, requests: RequestRecord[], maps: MapRecord[]): Promise<void> {
  let text: string;
  try {
    const raw = await readFile(path);
    text = (path.endsWith(".gz") ? await gunzipAsync(raw) : raw).toString("utf8");
  } catch (err) {
    out.problems.push(`${shown}: cannot read: ${(err as Error).message}`);
    return;
  }
  const lines = text.split("\n");
  const complete = text.endsWith("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === "") continue;
    out.lines += 1;
    try {
      const rec = parseRecordLine(line, shown, i + 1);
      if (rec?.kind === "request") requests.push(rec.record);
      else if (rec) maps.push(rec.record);
    } catch (err) {
      if (!(err instanceof RecordLineError)) throw err;
      const last = i === lines.length - 1 && !complete;
      out.problems.push(last && err.field === null ? `${shown}:${i + 1}: incomplete last line (was the file still being written?)` : err.message);
    }
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
