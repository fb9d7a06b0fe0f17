// A SnapshotSource over local files. Files are polled and compared with the text
// last loaded rather than watched: editors and Kubernetes ConfigMap mounts
// replace files (a `..data` symlink swap) in ways that break fs.watch after the
// first change. Standard input and pipes (`-`, `<(cmd)`, a FIFO) give their text to one
// reader only: they are read once, at start, and never polled.
import { InputError } from "../input-error.js";
import type { Settings } from "./effective.js";
import { inputName, parseNamespaces, parsePolicies, readFileText, readOnce, readText } from "./files.js";
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
  /** Called once for each input read only at start and never polled (standard input, a pipe), with its name. */
  onReadOnce?: (file: string) => void;
}

export class FileSnapshotSource implements SnapshotSource {
  private snapshot: Snapshot;
  private loaded = false;
  private timer: NodeJS.Timeout | undefined;
  /** The text of each file as last loaded, to see whether a poll found a change. */
  private texts = new Map<string, string>();
  /** The error and texts of the last change that could not be used: reported once, not on every poll. */
  private failed: string | undefined;
  /** The inputs load() read that give their text once (standard input, pipes): polls keep their text. */
  private once = new Set<string>();

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
    const files = [this.opts.policyFile, this.opts.namespacesFile].filter((f): f is string => Boolean(f)).map(inputName);
    return files.length ? `files ${files.join(", ")}` : "built-in defaults";
  }

  /**
   * The first read of the files: rejects with an InputError naming what is wrong. The CLI
   * calls it before anything else starts, so a bad file is bad input (exit 2); start() then
   * polls without reading them again (and never reads standard input or a pipe again).
   */
  async load(): Promise<void> {
    const { policyFile, namespacesFile, settings } = this.opts;
    const texts = new Map<string, string>();
    const once = new Set<string>();
    const read = async (file: string): Promise<string> => {
      const single = await readOnce(file);
      const text = await readText(file);
      // It is never read again: an empty one (from a command that failed, say) would leave the webhook without policies for good.
      if (single && text.trim() === "") throw new InputError(inputName(file), "is empty (standard input, pipes and devices are read once, at start)");
      if (single) once.add(file);
      texts.set(file, text);
      return text;
    };
    // Each file is used as soon as it is read: of two bad files the first is named, as inject and explain name it.
    const policies = policyFile ? parsePolicies(await read(policyFile), inputName(policyFile), settings.knownScripts) : [];
    const namespaces = namespacesFile ? parseNamespaces(await read(namespacesFile), inputName(namespacesFile)) : [];
    this.snapshot = buildSnapshot(namespaces, policies, settings);
    this.texts = texts;
    this.once = once;
    this.loaded = true;
    for (const file of once) this.opts.onReadOnce?.(inputName(file));
  }

  /** Loads the files unless load() did, then polls them; rejects with an InputError naming what is wrong. */
  async start(): Promise<void> {
    if (!this.loaded) await this.load();
    if ([this.opts.policyFile, this.opts.namespacesFile].every((f) => f === undefined || this.once.has(f))) return;
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
        const text = this.once.has(f) ? (this.texts.get(f) ?? "") : await readFileText(f);
        if (this.texts.get(f) !== text) changed = true;
        texts.set(f, text);
      }
      if (!changed) {
        // Back to the files in use: a later failure is a new one.
        this.failed = undefined;
        return;
      }
      const policies = policyFile ? parsePolicies(texts.get(policyFile) ?? "", inputName(policyFile), settings.knownScripts) : [];
      const namespaces = namespacesFile ? parseNamespaces(texts.get(namespacesFile) ?? "", inputName(namespacesFile)) : [];
      this.snapshot = buildSnapshot(namespaces, policies, settings);
    } catch (err) {
      const failure = [err instanceof Error ? err.message : String(err), ...texts.values()].join("\0");
      if (failure === this.failed) return;
      this.failed = failure;
      throw err;
    }
    this.texts = texts;
    this.failed = undefined;
    this.opts.onReload?.([...texts.keys()].map(inputName));
  }
}
