// Decision inputs for the offline commands: flags and local files.
import type { Command } from "commander";
import { loadNamespacesFile, loadPolicyFile } from "../policy/files.js";
import { buildSnapshot, type Snapshot } from "../policy/snapshot.js";
import type { Settings } from "../policy/effective.js";

export interface InputFlags {
  filename: string;
  policy?: string;
  namespaces?: string;
  namespace: string;
  image?: string;
}

export function addInputOptions(cmd: Command): Command {
  return cmd
    .requiredOption("-f, --filename <file>", "manifests to read (YAML or JSON, several documents allowed); - for standard input")
    .option("--policy <file>", "HookpointPolicy objects to apply (YAML or JSON)")
    .option("--namespaces <file>", "Namespace objects whose labels the rules read (YAML or JSON)")
    .option("-n, --namespace <name>", "namespace of documents that name none", "default")
    .option("--image <image>", "tracing image when the profile names none");
}

export async function loadSnapshot(flags: InputFlags, settings: Settings): Promise<Snapshot> {
  const policies = flags.policy ? await loadPolicyFile(flags.policy, settings.knownScripts) : [];
  const namespaces = flags.namespaces ? await loadNamespacesFile(flags.namespaces) : [];
  return buildSnapshot(namespaces, policies, settings);
}
