// Decision inputs from local YAML/JSON files: HookpointPolicies and Namespaces.
// Used by the embedded webhook default and by the CLI (no cluster needed).
import { readFile, stat } from "node:fs/promises";
import { readStdin } from "../input/stdin.js";
import { InputError } from "../input-error.js";
import { errnoText } from "../errno-text.js";
import { isObject, parseDocuments } from "../input/documents.js";
import type { HookpointPolicy, NamespaceInfo } from "./types.js";
import { formatProblems, semanticProblems, structuralProblems } from "./validate.js";

/** How messages name an input: "stdin" for -, as they name `-f -`. */
export function inputName(path: string): string {
  return path === "-" ? "stdin" : path;
}

/** Standard input for -, else the file's text; an InputError naming it and why it cannot be read. */
export function readText(path: string): Promise<string> {
  return path === "-" ? readInput(inputName(path), readStdin) : readFileText(path);
}

/**
 * True for an input that gives its text to one reader only, so is read once and never polled:
 * standard input (-) and anything that is not a regular file (a pipe such as `<(cmd)`, a FIFO, a
 * character device). A path that cannot be looked at is not: reading it says why.
 */
export async function readOnce(path: string): Promise<boolean> {
  if (path === "-") return true;
  try {
    return !(await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** A file's text, or an InputError naming the file and why it cannot be read, in words. */
export function readFileText(path: string): Promise<string> {
  return readInput(path, () => readFile(path, "utf8"));
}

async function readInput(path: string, read: () => Promise<string>): Promise<string> {
  try {
    return await read();
  } catch (err) {
    throw new InputError(path, `cannot read: ${errnoText(err, "file")}`);
  }
}

/** Every object of a file, with `List`/`*List` kinds flattened; yields [docIndex, pathPrefix, object]. */
function* objects(text: string, file: string): Generator<[number, string, Record<string, unknown>]> {
  for (const d of parseDocuments(text, file).documents) {
    if (d.value === null || d.value === undefined) continue;
    if (!isObject(d.value)) throw new InputError(file, "must be an object", d.index);
    const kind = d.value.kind;
    if (typeof kind === "string" && kind.endsWith("List")) {
      const items = d.value.items;
      if (!Array.isArray(items)) throw new InputError(file, "must be a list", d.index, "items");
      for (let i = 0; i < items.length; i++) {
        const item: unknown = items[i];
        if (!isObject(item)) throw new InputError(file, "must be an object", d.index, `items[${i}]`);
        yield [d.index, `items[${i}].`, item];
      }
    } else yield [d.index, "", d.value];
  }
}

export function parsePolicies(text: string, file: string, knownScripts?: readonly string[]): HookpointPolicy[] {
  const out: HookpointPolicy[] = [];
  for (const [index, prefix, obj] of objects(text, file)) {
    const problems = structuralProblems(obj);
    const first = problems[0];
    if (first) throw new InputError(file, problems.length > 1 ? `${first.message} (and ${problems.length - 1} more: ${formatProblems(problems.slice(1))})` : first.message, index, prefix + first.path);
    const policy = obj as unknown as HookpointPolicy;
    policy.spec ??= {};
    const semantic = semanticProblems(policy, knownScripts);
    const s0 = semantic[0];
    if (s0) throw new InputError(file, s0.message, index, prefix + s0.path);
    if (out.some((p) => p.metadata.name === policy.metadata.name)) throw new InputError(file, `duplicate HookpointPolicy "${policy.metadata.name}"`, index, prefix + "metadata.name");
    out.push(policy);
  }
  return out;
}

export function parseNamespaces(text: string, file: string): NamespaceInfo[] {
  const out: NamespaceInfo[] = [];
  for (const [index, prefix, obj] of objects(text, file)) {
    if (obj.kind !== "Namespace") throw new InputError(file, `must be a Namespace, got ${JSON.stringify(obj.kind)}`, index, prefix + "kind");
    const meta = obj.metadata;
    if (!isObject(meta) || typeof meta.name !== "string" || meta.name === "") throw new InputError(file, "is required", index, prefix + "metadata.name");
    const labels: Record<string, string> = {};
    if (meta.labels !== undefined) {
      if (!isObject(meta.labels)) throw new InputError(file, "must be a map of strings", index, prefix + "metadata.labels");
      for (const [k, v] of Object.entries(meta.labels)) {
        if (typeof v !== "string") throw new InputError(file, "must be a string", index, `${prefix}metadata.labels.${k}`);
        labels[k] = v;
      }
    }
    // The last one would silently win: refuse it, as a duplicate policy is.
    if (out.some((n) => n.name === meta.name)) throw new InputError(file, `duplicate Namespace "${meta.name}"`, index, prefix + "metadata.name");
    out.push({ name: meta.name, labels });
  }
  return out;
}

export async function loadPolicyFile(path: string, knownScripts?: readonly string[]): Promise<HookpointPolicy[]> {
  return parsePolicies(await readText(path), inputName(path), knownScripts);
}

export async function loadNamespacesFile(path: string): Promise<NamespaceInfo[]> {
  return parseNamespaces(await readText(path), inputName(path));
}
