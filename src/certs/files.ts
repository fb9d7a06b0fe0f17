// Writing certificate files: keys 0600, certificates 0644, never overwriting
// unless asked, and never leaving a half-written set behind.
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { errnoText } from "../errno-text.js";

export interface OutputFile {
  name: string;
  content: string;
  mode: number;
}

export const KEY_MODE = 0o600;
export const CERT_MODE = 0o644;

const tempName = (file: string) => `${file}.tmp-${process.pid}`;

/** A fresh temporary file created with its final mode, so a key is never readable by others, even briefly. */
function writeTemp(tmp: string, content: string, mode: number): void {
  rmSync(tmp, { force: true });
  writeFileSync(tmp, content, { mode, flag: "wx" });
  chmodSync(tmp, mode); // exact mode, whatever the umask
}

/**
 * Creates `dir` and its missing parents, failing at once with a message in words.
 * (Node's mkdirSync({recursive: true}) loops forever where the file system
 * refuses new entries with ENOENT under an existing parent, as /proc does.)
 */
export function makeDirectory(dir: string): void {
  try {
    mkdirSync(dir);
    return;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EEXIST") {
      if (statSync(dir).isDirectory()) return;
      throw new Error(`cannot create the directory ${dir}: a file of that name exists`);
    }
    const parent = dirname(dir);
    if (code !== "ENOENT" || parent === dir) throw new Error(`cannot create the directory ${dir}: ${errnoText(err, "directory")}`);
    if (existsSync(parent)) throw new Error(`cannot create the directory ${dir}: the file system of ${parent} does not allow new directories`);
  }
  makeDirectory(dirname(dir));
  try {
    mkdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw new Error(`cannot create the directory ${dir}: ${errnoText(err, "directory")}`);
  }
}

/** Writes every file into `dir` (created if needed) and returns the paths written, in order. */
export function writeOutputFiles(dir: string, files: readonly OutputFile[], opts: { force: boolean }): string[] {
  const paths = files.map((f) => join(dir, f.name));
  if (!opts.force) {
    const existing = paths.filter((p) => existsSync(p));
    if (existing.length > 0) {
      throw new Error(`refusing to overwrite ${existing.join(", ")} (pass --force to replace them)`);
    }
  }
  makeDirectory(dir);
  // Each file goes to a temporary name first, then all are renamed into place.
  const temps: string[] = [];
  let current = dir;
  try {
    files.forEach((f, i) => {
      current = paths[i] ?? f.name;
      const tmp = tempName(current);
      temps.push(tmp);
      writeTemp(tmp, f.content, f.mode);
    });
    temps.forEach((tmp, i) => {
      current = paths[i] ?? tmp;
      renameSync(tmp, current);
    });
  } catch (err) {
    for (const tmp of temps) rmSync(tmp, { force: true });
    throw new Error(`cannot write ${current}: ${errnoText(err, "directory")}`);
  }
  return paths;
}

/**
 * Replaces a serving certificate and key in place (each through a temporary file and a
 * rename, so a reader never sees a half-written file): what the self-managed mode hands
 * to the webhook's file-watching TLS reload. The key goes first; a reader that catches
 * the new key with the old certificate sees a mismatched pair and must retry.
 */
export function writeServingFiles(paths: { certFile: string; keyFile: string }, pem: { cert: string; key: string }): void {
  for (const [file, content, mode] of [
    [paths.keyFile, pem.key, KEY_MODE],
    [paths.certFile, pem.cert, CERT_MODE],
  ] as const) {
    const tmp = tempName(file);
    try {
      makeDirectory(dirname(file));
      writeTemp(tmp, content, mode);
      renameSync(tmp, file);
    } catch (err) {
      try {
        rmSync(tmp, { force: true });
      } catch {
        // nothing was created
      }
      throw new Error(`cannot write ${file}: ${err instanceof Error && !(err as NodeJS.ErrnoException).code ? err.message : errnoText(err, "directory")}`);
    }
  }
}
