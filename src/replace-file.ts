// Writing an output file so that a reader never sees half of it: through a temporary
// file in the same directory and a rename, keeping the mode of the file it replaces.
// A symbolic link is followed (the file it names is replaced, the link stays). What is
// not a regular file (a FIFO, a device) is written directly: renaming over it would
// replace the pipe or device node itself with a plain file no reader sees; and
// /dev/stdout and the like are written through the descriptor the shell opened. Used for
// the commands' output files and for the files `collect` keeps in its folder.
import { createReadStream, createWriteStream, type Stats } from "node:fs";
import { chmod, mkdtemp, realpath, rename, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import { errnoText } from "./errno-text.js";

/** A file that could not be written, in words: "cannot write out.html: no such directory". */
export class WriteError extends Error {
  override name = "WriteError";
}

/** Where `write` puts the text: a new temporary file (created with `mode` where it can), or the special file itself. */
export interface WriteTarget {
  path: string;
  fresh: boolean;
  mode?: number;
}

/** Writes `file` with `write`, which fills the file at `target.path`; failures are a WriteError in words. */
export async function writeReplacing(file: string, write: (target: WriteTarget) => Promise<void>): Promise<void> {
  const fd = descriptorOf(file);
  if (fd !== undefined) return writeToDescriptor(file, fd, write);
  const existing = await existingFile(file);
  if (existing === "special") {
    try {
      await write({ path: file, fresh: false });
    } catch (err) {
      throw new WriteError(`cannot write ${file}: ${errnoText(err, "file")}`);
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
    throw new WriteError(`cannot write ${file}: ${errnoText(err, "directory")}`);
  }
}

/** The descriptor a path names: - (standard output, as commands take -f - for standard input), /dev/stdout, /dev/stderr, /dev/fd/N, /proc/self/fd/N. */
function descriptorOf(file: string): number | undefined {
  if (file === "-") return 1;
  const m = /^\/(?:dev\/(?:(stdout)|(stderr)|fd\/(\d+))|proc\/self\/fd\/(\d+))$/.exec(file);
  if (!m) return undefined;
  return m[1] ? 1 : m[2] ? 2 : Number(m[3] ?? m[4]);
}

/**
 * Writes through this process's own descriptor, as the shell opened it: reopening the path
 * would truncate a file the shell opened for appending (`>> log`). The output is made in a
 * temporary file first (the writers take a path), then copied.
 */
async function writeToDescriptor(file: string, fd: number, write: (target: WriteTarget) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "hookpoint-"));
  try {
    const tmp = join(dir, "out");
    await write({ path: tmp, fresh: true });
    await pipeline(createReadStream(tmp), createWriteStream("", { fd, autoClose: false }));
  } catch (err) {
    throw new WriteError(`cannot write ${file}: ${errnoText(err, "file")}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** writeReplacing for a text or bytes. */
export function replaceFile(file: string, data: string | Uint8Array): Promise<void> {
  return writeReplacing(file, ({ path, fresh, mode }) => writeFile(path, data, fresh ? { flag: "wx", ...(mode !== undefined ? { mode } : {}) } : {}));
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
