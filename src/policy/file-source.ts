// A SnapshotSource over local files. Files are polled and compared with the text
// last loaded rather than watched: editors and Kubernetes ConfigMap mounts
// replace files (a `..data` symlink swap) in ways that break fs.watch after the
// first change.
import type { Settings } from "./effective.js";
import { parseNamespaces, parsePolicies, readFileText } from "./files.js";
import { buildSnapshot, type Snapshot } from "./snapshot.js";
import type { SnapshotSource } from "./source.js";

export interface FileSourceOptions {
  policyFile?: string;
  namespacesFile?: string;
  settings: Settings;
  /** Poll period; 1 s keeps changes well inside the 2 s target. */
  pollMs?: number;
  /** Called when a changed file cannot be used; the previous snapshot stays in force. */
  onError?: (err: Error) => void;
  onReload?: (files: string[]) => void;
}

export class FileSnapshotSource implements SnapshotSource {
  private snapshot: Snapshot;
  private loaded = false;
  private timer: NodeJS.Timeout | undefined;
  /** The text of each file as last loaded, to see whether a poll found a change. */
  private texts = new Map<string, string>();
  /** The error and texts of the last change that could not be used: reported once, not on every poll. */
  private failed: string | undefined;

  constructor(private readonly opts: FileSourceOptions) {
    this.snapshot = buildSnapshot([], [], opts.settings);
  }

  current(): Snapshot {
    return this.snapshot;
  }

  synced(): boolean {
    return this.loaded;
  }

  describe(): string {
    const files = [this.opts.policyFile, this.opts.namespacesFile].filter(Boolean);
    return files.length ? `files ${files.join(", ")}` : "built-in defaults";
  }

  /**
   * The first read of the files: rejects with an InputError naming what is wrong. The CLI
   * calls it before anything else starts, so a bad file is bad input (exit 2); start() then
   * polls without reading them again.
   */
  async load(): Promise<void> {
    const { policyFile, namespacesFile, settings } = this.opts;
    const texts = new Map<string, string>();
    const read = async (file: string): Promise<string> => {
      const text = await readFileText(file);
      texts.set(file, text);
      return text;
    };
    // Each file is used as soon as it is read: of two bad files the first is named, as inject and explain name it.
    const policies = policyFile ? parsePolicies(await read(policyFile), policyFile, settings.knownScripts) : [];
    const namespaces = namespacesFile ? parseNamespaces(await read(namespacesFile), namespacesFile) : [];
    this.snapshot = buildSnapshot(namespaces, policies, settings);
    this.texts = texts;
    this.loaded = true;
  }

  /** Loads the files unless load() did, then polls them; rejects with an InputError naming what is wrong. */
  async start(): Promise<void> {
    if (!this.loaded) await this.load();
    this.timer = setInterval(() => {
      this.reload().catch((err: Error) => this.opts.onError?.(err));
    }, this.opts.pollMs ?? 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async reload(): Promise<void> {
    const { policyFile, namespacesFile, settings } = this.opts;
    const texts = new Map<string, string>();
    try {
      let changed = false;
      for (const f of [policyFile, namespacesFile]) {
        if (!f) continue;
        const text = await readFileText(f);
        if (this.texts.get(f) !== text) changed = true;
        texts.set(f, text);
      }
      if (!changed) {
        // Back to the files in use: a later failure is a new one.
        this.failed = undefined;
        return;
      }
      const policies = policyFile ? parsePolicies(texts.get(policyFile) ?? "", policyFile, settings.knownScripts) : [];
      const namespaces = namespacesFile ? parseNamespaces(texts.get(namespacesFile) ?? "", namespacesFile) : [];
      this.snapshot = buildSnapshot(namespaces, policies, settings);
    } catch (err) {
      const failure = [err instanceof Error ? err.message : String(err), ...texts.values()].join("\0");
      if (failure === this.failed) return;
      this.failed = failure;
      throw err;
    }
    this.texts = texts;
    this.failed = undefined;
    this.opts.onReload?.([...texts.keys()]);
  }
}
