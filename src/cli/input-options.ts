// Flags of the commands that read manifests (inject, explain, uninject) and of
// those that decide (inject, explain); inputs.ts reads the decision files.
import type { Command } from "commander";

export interface ManifestFlags {
  filename: string[];
  recursive: boolean;
}

export interface InputFlags extends ManifestFlags {
  policy?: string;
  namespaces?: string;
  namespace: string;
  image?: string;
}

export interface WriteFlags {
  output?: string;
  inPlace: boolean;
  diff: boolean;
  quiet: boolean;
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

export function addManifestOptions(cmd: Command): Command {
  return cmd
    .requiredOption("-f, --filename <file>", "manifests to read (YAML or JSON, several documents allowed): a file, a directory, or - for standard input; repeat for more (URLs are not read)", collect)
    .option("-R, --recursive", "read the subdirectories of directories given with -f", false);
}

export function addDecisionOptions(cmd: Command): Command {
  return cmd
    .option("--policy <file>", "HookpointPolicy objects to apply (YAML or JSON)")
    .option("--namespaces <file>", "Namespace objects whose labels the rules read (YAML or JSON)")
    .option("-n, --namespace <name>", "namespace of documents that name none", "default")
    .option("--image <image>", "tracing image when the profile names none");
}

/** Where rewritten manifests go (inject, uninject). */
export function addWriteOptions(cmd: Command): Command {
  return cmd
    .option("-o, --output <file>", "write the documents to this file instead of standard output")
    .option("--in-place", "rewrite each input file that changes (not with -f -)", false)
    .option("--diff", "print a unified diff of the changes instead of the documents", false)
    .option("-q, --quiet", "no per-resource summary on standard error (warnings and errors still)", false);
}

export type UninjectFlags = ManifestFlags & WriteFlags;
