// The manifests named by -f: files, directories (their .yaml/.yml/.json files,
// subdirectories with -R), or - for standard input. URLs are not fetched.
import type { Stats } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { errnoText } from "../errno-text.js";
import { readStdin } from "../input/stdin.js";
import { InputError, JobError, UsageError } from "./errors.js";

export interface ManifestSource {
  /** How messages name it: the path as given (or found in a directory), "stdin" for -. */
  name: string;
  /** The file to rewrite with --in-place; none for standard input. */
  path?: string;
  /** The -f argument it came from: the file itself, its directory, or "-". */
  arg: string;
  text: string;
}

const MANIFEST_EXTENSIONS = [".yaml", ".yml", ".json"];
const URL_LIKE = /^[a-z][a-z0-9+.-]*:\/\//i;

export async function readSources(args: readonly string[], recursive: boolean, stdin: () => Promise<string> = readStdin): Promise<ManifestSource[]> {
  if (args.filter((a) => a === "-").length > 1) throw new UsageError("-f -: standard input can be read only once");
  const out: ManifestSource[] = [];
  for (const arg of args) {
    if (arg === "-") {
      out.push({ name: "stdin", arg, text: await stdin() });
      continue;
    }
    if (URL_LIKE.test(arg)) throw new InputError(arg, "URLs are not read: download the file first (curl -sL URL | hookpoint ... -f -)");
    const found = await filesOf(arg, recursive, true, new Set());
    if (found.length === 0) {
      throw new InputError(arg, `no .yaml, .yml or .json file in this directory${recursive ? " or below" : " (-R reads its subdirectories too)"}`);
    }
    for (const path of found) out.push({ name: path, path, arg, text: await readText(path) });
  }
  return out;
}

/**
 * The path itself when it is a file; a directory's manifest files in name order (recursing
 * with -R). `seen` holds the directories read so far (device and inode), so a symbolic link
 * back up the tree is read once, not followed round until the path grows too long.
 */
async function filesOf(path: string, recursive: boolean, top: boolean, seen: Set<string>): Promise<string[]> {
  let st: Stats;
  try {
    st = await stat(path);
  } catch (err) {
    throw new InputError(path, `cannot read: ${errnoText(err)}`);
  }
  if (!st.isDirectory()) return top || MANIFEST_EXTENSIONS.some((e) => path.endsWith(e)) ? [path] : [];
  if (!top && !recursive) return [];
  const id = `${st.dev}:${st.ino}`;
  if (seen.has(id)) return [];
  seen.add(id);
  let names: string[];
  try {
    names = (await readdir(path)).sort();
  } catch (err) {
    throw new InputError(path, `cannot read the directory: ${errnoText(err, "directory")}`);
  }
  const out: string[] = [];
  for (const n of names) out.push(...(await filesOf(join(path, n), recursive, false, seen)));
  return out;
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    throw new InputError(path, `cannot read: ${errnoText(err, "file")}`);
  }
}

/**
 * Throws the JobError inject, uninject and explain stop with at the first input that
 * holds no Kubernetes object (empty, or only comments and `---`): printing nothing and
 * exiting 0 would pass for success, e.g. for a `helm template` that rendered nothing.
 * A directory is one input: an empty file beside others with objects is fine there,
 * as kubectl apply -f DIR takes it.
 */
export function requireObjects(inputs: readonly { source: ManifestSource; objects: number }[]): void {
  const objects = new Map<string, number>();
  for (const i of inputs) objects.set(i.source.arg, (objects.get(i.source.arg) ?? 0) + i.objects);
  const empty = [...objects].find(([, n]) => n === 0)?.[0];
  if (empty !== undefined) throw new JobError(`no Kubernetes objects in ${empty === "-" ? "standard input" : empty}`);
}
