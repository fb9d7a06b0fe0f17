// Where rewritten manifests go: standard output (several inputs joined as one
// YAML stream; also -o -, as -f - reads standard input), one file (-o), each input file in place (--in-place), or a
// unified diff instead of the documents (--diff). Files are replaced as
// replace-file.ts says, so a reader never sees half of one.
import { stat } from "node:fs/promises";
import { createTwoFilesPatch, FILE_HEADERS_ONLY } from "diff";
import { parseJsonStream } from "../input/documents.js";
import { UsageError } from "./errors.js";
import type { ManifestSource } from "./manifest-sources.js";
import { replaceFile } from "../replace-file.js";

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

/** `--diff -o` naming an input file: once the inputs are known, and before a summary line, as the other usage errors. */
export async function checkDiffOutput(flags: OutputFlags, sources: readonly ManifestSource[]): Promise<void> {
  const file = toFile(flags);
  if (flags.diff && file !== undefined && (await isInput(file, sources))) {
    throw new UsageError(`--diff -o ${flags.output}: that is an input file, and the diff would replace it; write the diff to another file`);
  }
}

export async function writeManifests(results: readonly Rewritten[], flags: OutputFlags, stdout: (s: string) => void): Promise<void> {
  if (flags.diff) {
    const text = results
      .filter((r) => r.output !== r.source.text)
      .map((r) => createTwoFilesPatch(`a/${r.source.name}`, `b/${r.source.name}`, r.source.text, r.output, undefined, undefined, { headerOptions: FILE_HEADERS_ONLY }))
      .join("");
    const file = toFile(flags);
    return file !== undefined ? replaceFile(file, text) : stdout(text);
  }
  if (flags.inPlace) {
    for (const r of results) if (r.output !== r.source.text && r.source.path) await replaceFile(r.source.path, r.output);
    return;
  }
  const text = joinStreams(results.map((r) => r.output));
  const file = toFile(flags);
  return file !== undefined ? replaceFile(file, text) : stdout(text);
}

/** The file -o names; undefined for standard output (no -o, or -o -, as -f - is standard input). */
function toFile(flags: OutputFlags): string | undefined {
  return flags.output === "-" ? undefined : flags.output;
}

/**
 * Several files as one YAML stream: each starts a new document. JSON documents are YAML too,
 * but a stream of JSON objects is not one YAML document: each of its objects gets its own.
 */
export function joinStreams(texts: readonly string[]): string {
  if (texts.length === 1) return texts[0] as string;
  return texts
    .flatMap(jsonDocuments)
    .map((t, i) => {
      const body = t === "" || t.endsWith("\n") ? t : `${t}\n`;
      if (/^---(\s|$)/.test(body)) return body;
      // A stream that starts with JSON would be read as JSON by kubectl: open it with ---.
      const json = /^\s*[{[]/.test(body);
      return i === 0 && !json ? body : `---\n${body}`;
    })
    .join("");
}

/** A stream of several JSON values as one text each; any other text as it is. */
function jsonDocuments(text: string): string[] {
  if (!/^\s*[{[]/.test(text)) return [text];
  const stream = parseJsonStream(text, text.startsWith("\uFEFF") ? 1 : 0);
  if (!("documents" in stream) || stream.documents.length < 2) return [text];
  return stream.documents.map((d) => text.slice(d.range.start, d.range.end));
}

/** Whether `file` is (after links) one of the files read. */
async function isInput(file: string, sources: readonly ManifestSource[]): Promise<boolean> {
  const id = async (path: string) => {
    try {
      const st = await stat(path);
      return `${st.dev}:${st.ino}`;
    } catch {
      return undefined;
    }
  };
  const target = await id(file);
  if (target === undefined) return false;
  for (const s of sources) if (s.path && (await id(s.path)) === target) return true;
  return false;
}
