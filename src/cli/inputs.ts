// Decision inputs for the offline commands from local files (input-options.ts has the flags).
import { loadNamespacesFile, loadPolicyFile } from "../policy/files.js";
import { buildSnapshot, type Snapshot } from "../policy/snapshot.js";
import type { Settings } from "../policy/effective.js";
import type { InputFlags } from "./input-options.js";

export async function loadSnapshot(flags: InputFlags, settings: Settings): Promise<Snapshot> {
  const policies = flags.policy ? await loadPolicyFile(flags.policy, settings.knownScripts) : [];
  const namespaces = flags.namespaces ? await loadNamespacesFile(flags.namespaces) : [];
  return buildSnapshot(namespaces, policies, settings);
}
