// Flags of the commands that read manifests (inject, explain, uninject) and of
// those that decide (inject, explain); inputs.ts reads the decision files.
import type { Command } from "commander";
import type { Settings } from "../policy/effective.js";
import { checkDnsLabel } from "../certs/names.js";
import { WEBHOOK_NAMESPACE } from "../defaults.js";
import { DEFAULT_POD_SECURITY, POD_SECURITY_LEVELS } from "../names.js";
import { UsageError } from "./errors.js";
import { fixedValuesOption } from "./option-values.js";
import { loadSettings, parsePodSecurityLevel } from "./settings.js";

/**
 * The run's settings from the input flags (--image, --default-pod-security), once the flags agree.
 * The webhook never injects in its own namespace: decide as the shipped webhook does (its --namespace default).
 */
export function settingsFromFlags(flags: InputFlags): Promise<Settings> {
  checkStdinOnce(flags);
  // The namespace of documents that name none decides like a real one: it must be one.
  try {
    checkDnsLabel("-n/--namespace", flags.namespace);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const defaultPodSecurity = parsePodSecurityLevel("--default-pod-security", flags.defaultPodSecurity);
  return loadSettings({ ...(flags.image !== undefined ? { image: flags.image } : {}), webhookNamespace: WEBHOOK_NAMESPACE, defaultPodSecurity });
}

/** Standard input serves one file flag: a second reader would get nothing and decide on an empty file. */
export function checkStdinOnce(flags: Pick<InputFlags, "policy" | "namespaces"> & { filename?: string[] }): void {
  const readers = [flags.filename?.includes("-") && "-f -", flags.policy === "-" && "--policy -", flags.namespaces === "-" && "--namespaces -"].filter(Boolean);
  if (readers.length > 1) throw new UsageError(`${readers.join(" and ")}: standard input can be read only once`);
}

export interface ManifestFlags {
  filename: string[];
  recursive: boolean;
}

export interface InputFlags extends ManifestFlags {
  policy?: string;
  namespaces?: string;
  namespace: string;
  image?: string;
  defaultPodSecurity: string;
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
    .option("--image <image>", "tracing image when the profile names none")
    .addOption(fixedValuesOption("--default-pod-security <level>", "the cluster's default Pod Security level, as the webhook's flag", POD_SECURITY_LEVELS, DEFAULT_POD_SECURITY));
}

/** Where rewritten manifests go (inject, uninject). */
export function addWriteOptions(cmd: Command): Command {
  return cmd
    .option("-o, --output <file>", "write the documents to this file instead of standard output (- is standard output)")
    .option("--in-place", "rewrite each input file that changes (not with -f -)", false)
    .option("--diff", "print a unified diff of the changes instead of the documents", false)
    .option("-q, --quiet", "no per-resource summary on standard error (warnings and errors still)", false);
}

export type UninjectFlags = ManifestFlags & WriteFlags;
