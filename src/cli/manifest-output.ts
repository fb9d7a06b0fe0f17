// Where rewritten manifests go: standard output (several inputs joined as one
// YAML stream), one file (-o), each input file in place (--in-place), or a
// unified diff instead of the documents (--diff). Files are replaced through a
// temporary file and a rename, so a reader never sees half of one.
import type { Stats } from "node:fs";
import { chmod, realpath, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { createTwoFilesPatch, FILE_HEADERS_ONLY } from "diff";
import { errnoText } from "../errno-text.js";
import { JobError, UsageError } from "./errors.js";
import type { ManifestSource } from "./manifest-sources.js";

export interface OutputFlags {
  output?: string;
  inPlace?: boolean;
  diff?: boolean;
}

export interface Rewritten {
  source: ManifestSource;
  output: string;
}

/** Flags that contradict each other, or the inputs: a usage error before any work. */
export function checkOutputFlags(flags: OutputFlags, inputs: readonly string[]): void {
  if (flags.inPlace && flags.output !== undefined) throw new UsageError("--in-place and -o/--output both say where to write: give one");
  if (flags.inPlace && flags.diff) throw new UsageError("--in-place and --diff: --diff prints the changes instead of writing them; give one");
  if (flags.inPlace && inputs.includes("-")) throw new UsageError("--in-place cannot rewrite standard input (-f -): use -o FILE or standard output");
}

export async function writeManifests(results: readonly Rewritten[], flags: OutputFlags, stdout: (s: string) => void): Promise<void> {
  if (flags.diff) {
    const text = results
      .filter((r) => r.output !== r.source.text)
      .map((r) => createTwoFilesPatch(`a/${r.source.name}`, `b/${r.source.name}`, r.source.text, r.output, undefined, undefined, { headerOptions: FILE_HEADERS_ONLY }))
      .join("");
    return flags.output !== undefined ? replaceFile(flags.output, text) : stdout(text);
  }
  if (flags.inPlace) {
    for (const r of results) if (r.output !== r.source.text && r.source.path) await replaceFile(r.source.path, r.output);
    return;
  }
  const text = joinStreams(results.map((r) => r.output));
  return flags.output !== undefined ? replaceFile(flags.output, text) : stdout(text);
}

/** Several files as one YAML stream: each starts a new document. JSON documents are YAML too. */
export function joinStreams(texts: readonly string[]): string {
  if (texts.length === 1) return texts[0] as string;
  return texts
    .map((t, i) => {
      const body = t === "" || t.endsWith("\n") ? t : `${t}\n`;
      if (/^---(\s|$)/.test(body)) return body;
      // A stream that starts with JSON would be read as JSON by kubectl: open it with ---.
      const json = /^\s*[{[]/.test(body);
      return i === 0 && !json ? body : `---\n${body}`;
    })
    .join("");
}

/**
 * Writes `file` through a temporary file in its directory, keeping the mode of the file it replaces.
 * A symbolic link is followed (the file it names is replaced, the link stays). What is not a regular
 * file (a FIFO, a device, /dev/stdout) is written directly: renaming over it would replace the pipe
 * or device node itself with a plain file that no reader sees.
 */
export async function replaceFile(file: string, text: string): Promise<void> {
  const existing = await existingFile(file);
  if (existing === "special") {
    try {
      await writeFile(file, text);
    } catch (err) {
      throw new JobError(`cannot write ${file}: ${errnoText(err, "file")}`);
    }
    return;
  }
  const target = existing?.path ?? file;
  const tmp = join(dirname(target), `.${basename(target)}.hookpoint-${process.pid}`);
  try {
    await writeFile(tmp, text, { flag: "wx", ...(existing ? { mode: existing.mode } : {}) });
    if (existing) await chmod(tmp, existing.mode);
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => {});
    throw new JobError(`cannot write ${file}: ${errnoText(err, "directory")}`);
  }
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
