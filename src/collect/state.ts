// What `collect` remembers per pod between runs, next to the files it wrote
// (`DIR/<namespace>/<pod>/.collect-state.json`): for each local file, the agent's ETag
// of the file it is a copy of and the remote byte offset the copy starts at (0, or
// where --since began). The copy's size then says where to resume. Also what the
// manifest's record times of the copy were as far as they were read, so that a copy
// only appended to since is read on from there.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { isObject } from "../is-object.js";
import { isoTimeMs, type ScannedTimes } from "../records/times.js";
import { replaceFile } from "../replace-file.js";

export const STATE_FILE = ".collect-state.json";

export interface FileState {
  etag: string;
  start: number;
  /** The copy's record times up to `times.end` (describeCopies); absent until read. */
  times?: ScannedTimes;
}

export interface PodState {
  version: 1;
  files: Record<string, FileState>;
}

export function emptyState(): PodState {
  return { version: 1, files: {} };
}

/** The pod directory's state; an absent or unreadable one is empty (everything is fetched afresh). */
export async function readPodState(podDir: string): Promise<PodState> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(join(podDir, STATE_FILE), "utf8"));
  } catch {
    return emptyState();
  }
  const state = emptyState();
  if (!isObject(raw) || raw.version !== 1 || !isObject(raw.files)) return state;
  for (const [name, v] of Object.entries(raw.files)) {
    if (isObject(v) && typeof v.etag === "string" && typeof v.start === "number" && Number.isSafeInteger(v.start) && v.start >= 0) {
      const times = scannedTimes(v.times);
      state.files[name] = { etag: v.etag, start: v.start, ...(times ? { times } : {}) };
    }
  }
  return state;
}

/** Record times as describeCopies stored them; anything else is none (the copy is read again). */
function scannedTimes(v: unknown): ScannedTimes | undefined {
  if (!isObject(v) || typeof v.end !== "number" || !Number.isSafeInteger(v.end) || v.end < 0) return undefined;
  const time = (t: unknown) => t === null || (typeof t === "string" && !Number.isNaN(isoTimeMs(t)));
  if (!time(v.first) || !time(v.last) || (v.first === null) !== (v.last === null)) return undefined;
  return { first: v.first as string | null, last: v.last as string | null, end: v.end };
}

export function writePodState(podDir: string, state: PodState): Promise<void> {
  return replaceFile(join(podDir, STATE_FILE), JSON.stringify(state, null, 1) + "\n");
}
