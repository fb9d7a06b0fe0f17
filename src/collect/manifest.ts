// `DIR/manifest.json`: what one `collect` run gathered, from where, and what failed.
// `hookpoint report` reads it; the schema is fixed (version 1).
import { join } from "node:path";
import type { Workload } from "../k8s/traced-pods.js";
import { replaceFile } from "../replace-file.js";

export const MANIFEST_FILE = "manifest.json";

export interface ManifestFile {
  /** Relative to the pod's directory `DIR/<namespace>/<pod>/`. */
  name: string;
  bytes: number;
  /** `ts` of the first and last complete record of the local copy; null for programs. */
  first: string | null;
  last: string | null;
}

export interface ManifestPod {
  namespace: string;
  name: string;
  workload: Workload | null;
  node: string | null;
  podIP: string | null;
  agent: { reachable: boolean; error?: string };
  files: ManifestFile[];
  /** Sum of the files' bytes. */
  bytes: number;
  errors: string[];
}

export interface Manifest {
  version: 1;
  cluster: { server: string; context: string };
  /** When the run started. */
  collectedAt: string;
  /** Start of the window (--since), null for everything. */
  since: string | null;
  /** When the run ended: no record collected is later. */
  until: string;
  pods: ManifestPod[];
}

/** Replaces DIR/manifest.json whole (a reader never sees half of it); a failure is a WriteError in words. */
export function writeManifest(dir: string, manifest: Manifest): Promise<void> {
  return replaceFile(join(dir, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + "\n");
}
