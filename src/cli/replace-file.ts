// Writing an output file so that a reader never sees half of it: through a temporary
// file in the same directory and a rename, keeping the mode of the file it replaces.
// A symbolic link is followed (the file it names is replaced, the link stays). What is
// not a regular file (a FIFO, a device, /dev/stdout) is written directly: renaming over
// it would replace the pipe or device node itself with a plain file no reader sees.
import type { Stats } from "node:fs";
import { chmod, realpath, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { errnoText } from "../errno-text.js";
import { JobError } from "./errors.js";

/** Where `write` puts the text: a new temporary file (created with `mode` where it can), or the special file itself. */
export interface WriteTarget {
  path: string;
  fresh: boolean;
  mode?: number;
}

/** Writes `file` with `write`, which fills the file at `target.path`; failures are a JobError in words. */
export async function writeReplacing(file: string, write: (target: WriteTarget) => Promise<void>): Promise<void> {
  const existing = await existingFile(file);
  if (existing === "special") {
    try {
      await write({ path: file, fresh: false });
    } catch (err) {
      throw new JobError(`cannot write ${file}: ${errnoText(err, "file")}`);
    }
    return;
  }
  const target = existing?.path ?? file;
  const tmp = join(dirname(target), `.${basename(target)}.hookpoint-${process.pid}`);
  try {
    await rm(tmp, { force: true });
    await write({ path: tmp, fresh: true, ...(existing ? { mode: existing.mode } : {}) });
    if (existing) await chmod(tmp, existing.mode);
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => {});
    throw new JobError(`cannot write ${file}: ${errnoText(err, "directory")}`);
  }
}

/** writeReplacing for a text. */
export function replaceFile(file: string, text: string): Promise<void> {
  return writeReplacing(file, ({ path, fresh, mode }) => writeFile(path, text, fresh ? { flag: "wx", ...(mode !== undefined ? { mode } : {}) } : {}));
}

/**
 * The regular file a path names after its links, "special" for anything else (or a link
 * that leads to no path, such as /dev/stdout to a deleted file), or undefined for a new
 * file (the umask decides its mode).
 */
async function existingFile(file: string): Promise<{ path: string; mode: number } | "special" | undefined> {
  let st: Stats;
  try {
    st = await stat(file);
  } catch {
    return undefined;
  }
  if (!st.isFile()) return "special";
  const path = await realpath(file).catch(() => undefined);
  return path === undefined ? "special" : { path, mode: st.mode & 0o7777 };
}
