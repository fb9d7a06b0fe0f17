// Where the decision inputs come from: local files (embedded default, CLI) or
// live informers in a cluster. Admission reads only current(): no I/O per request.
import type { Snapshot } from "./snapshot.js";

export interface SnapshotSource {
  /** The snapshot in force now. Cheap: called on every admission. */
  current(): Snapshot;
  /** True once the first full read (file load or informer list) has completed. */
  synced(): boolean;
  /** Begin loading/watching. Resolves when started (not necessarily synced). */
  start(): Promise<void>;
  /** Stop watches and timers. */
  stop(): Promise<void>;
  /** Short description for logs and /readyz, e.g. "files policy.yaml, namespaces.yaml" or "cluster". */
  describe(): string;
}
