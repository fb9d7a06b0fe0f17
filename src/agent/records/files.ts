// The agent's output directory as the records endpoints see it: only NDJSON files and
// rendered programs (names from src/records/names.ts), only regular files, never through
// a symbolic link, and never outside the directory.
import { createHash } from "node:crypto";
import { constants } from "node:fs";
import { open, readdir, readlink, realpath, type FileHandle } from "node:fs/promises";
import { dirname, join } from "node:path";
import { PROGRAMS_DIR, recordFileKind, type RecordFileKind } from "../../records/names.js";
import { firstLine } from "../../records/times.js";

/** More files than any agent writes; a directory holding more is listed up to here. */
export const MAX_LISTED = 1000;

export interface OpenedFile {
  name: string;
  kind: RecordFileKind;
  fh: FileHandle;
  size: number;
  ino: number;
}

/** Served names present in `dir`, sorted; symbolic links and anything else left out. */
export async function listOutputNames(dir: string): Promise<string[]> {
  const names: string[] = [];
  const top = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of top) {
    if (e.isFile() && recordFileKind(e.name) === "ndjson") names.push(e.name);
    else if (e.isDirectory() && e.name === PROGRAMS_DIR) {
      const programs = await readdir(join(dir, PROGRAMS_DIR), { withFileTypes: true }).catch(() => []);
      for (const p of programs) {
        const name = `${PROGRAMS_DIR}/${p.name}`;
        if (p.isFile() && recordFileKind(name) === "program") names.push(name);
      }
    }
  }
  return names.sort().slice(0, MAX_LISTED);
}

/**
 * Opens a served file for reading, or null when `name` is not one, does not exist, is a
 * symbolic link or not a regular file, or resolves outside `dir` (a linked `programs/`).
 */
export async function openOutputFile(dir: string, name: string): Promise<OpenedFile | null> {
  const kind = recordFileKind(name);
  if (!kind) return null;
  let base: string;
  let fh: FileHandle;
  try {
    base = await realpath(dir);
    fh = await open(join(base, name), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return null;
  }
  try {
    const st = await fh.stat();
    const where = await readlink(`/proc/self/fd/${fh.fd}`);
    // A rotation may rename the file meanwhile, but never out of its directory.
    if (!st.isFile() || dirname(where) !== dirname(join(base, name))) {
      await fh.close();
      return null;
    }
    return { name, kind, fh, size: st.size, ino: st.ino };
  } catch {
    await fh.close();
    return null;
  }
}

/**
 * The file's identity (see RecordFileInfo.etag): an NDJSON file by inode and first record,
 * a program by its content (it is rewritten in place when tracing restarts).
 */
export async function fileEtag(f: OpenedFile, maxProgramBytes: number): Promise<string> {
  const hash = createHash("sha256");
  if (f.kind === "program") {
    const buf = Buffer.alloc(Math.min(f.size, maxProgramBytes));
    const { bytesRead } = await f.fh.read(buf, 0, buf.length, 0);
    hash.update(buf.subarray(0, bytesRead));
    return `"p-${hash.digest("hex").slice(0, 24)}-${f.size}"`;
  }
  const head = await firstLine(f.fh, f.size);
  if (!head) return `"n-${f.ino.toString(36)}-"`;
  hash.update(head);
  return `"n-${f.ino.toString(36)}-${hash.digest("hex").slice(0, 24)}"`;
}
