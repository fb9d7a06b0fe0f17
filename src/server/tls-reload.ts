// Serving certificate from files, re-read when they change. Kubernetes updates
// a mounted Secret by swapping a `..data` symlink, which fs.watch loses track
// of after the first swap, so the files are polled and their contents hashed.
// A pair that fails to read or parse, whose key is not the certificate's, or
// that is expired or not yet valid never replaces the one in use.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { ServerMetrics } from "./metrics.js";
import { servingPair, validityProblem, type ServingPair, type TlsState } from "./tls-state.js";
import { errnoText } from "../errno-text.js";

export const DEFAULT_POLL_INTERVAL_MS = 3000;
/** A swap caught half-way (new cert, old key) settles within this; re-read once before calling it a failure. */
const SETTLE_MS = 250;

export interface ReloadLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface TlsFileReloaderOptions {
  certPath: string;
  keyPath: string;
  state: TlsState;
  metrics: ServerMetrics;
  log: ReloadLogger;
  intervalMs?: number;
  /** Clock, for tests. */
  now?: () => Date;
}

export type PollResult = "unchanged" | "reloaded" | "failed";

interface Read {
  hash: string;
  pair?: ServingPair;
  error?: string;
  /** A pair refused only because it is not valid yet: checked again from then on. */
  validFrom?: Date;
}

export class TlsFileReloader {
  readonly #o: TlsFileReloaderOptions;
  #inUse = "";
  #lastFailure = "";
  #recheckAt: Date | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = true;

  constructor(options: TlsFileReloaderOptions) {
    this.#o = options;
  }

  /** First load: throws an error naming the file when the pair is unusable (nothing to serve with). */
  async load(): Promise<ServingPair> {
    const read = await this.#read();
    if (!read.pair) {
      this.#o.metrics.tlsReload("failure");
      throw new Error(read.error);
    }
    this.#apply(read);
    return read.pair;
  }

  start(): void {
    this.#stopped = false;
    this.#schedule();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** One check of the files; what the timer runs. */
  async poll(): Promise<PollResult> {
    let read = await this.#read();
    if (read.hash === this.#inUse) return "unchanged";
    // A known broken pair stays refused (one not valid before is parsed again once it may be).
    if (read.hash === this.#lastFailure && !read.pair) return "failed";
    if (!read.pair) {
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      read = await this.#read();
      if (read.hash === this.#inUse) return "unchanged";
    }
    if (read.pair) {
      this.#apply(read);
      return "reloaded";
    }
    // Count and log each distinct broken state once, not on every poll.
    if (read.hash !== this.#lastFailure) {
      this.#lastFailure = read.hash;
      this.#recheckAt = read.validFrom;
      this.#o.metrics.tlsReload("failure");
      this.#o.log.warn({ error: read.error, cert: this.#o.certPath, key: this.#o.keyPath }, "serving certificate reload failed; keeping the current one");
    }
    return "failed";
  }

  #apply(read: Read): void {
    const pair = read.pair as ServingPair;
    this.#inUse = read.hash;
    this.#lastFailure = "";
    this.#recheckAt = undefined;
    this.#o.state.set(pair);
    this.#o.metrics.tlsReload("success");
    this.#o.log.info(
      { cert: this.#o.certPath, fingerprint256: pair.fingerprint256, notAfter: pair.notAfter.toISOString() },
      "serving certificate loaded",
    );
  }

  async #read(): Promise<Read> {
    const { certPath, keyPath } = this.#o;
    let cert: string;
    let key: string;
    try {
      // Both reads run at once, but the error reported is the certificate's before the
      // key's, so the message does not depend on which read fails first.
      const [c, k] = await Promise.allSettled([readFile(certPath, "utf8"), readFile(keyPath, "utf8")]);
      if (c.status === "rejected") throw c.reason;
      if (k.status === "rejected") throw k.reason;
      [cert, key] = [c.value, k.value];
    } catch (err) {
      const error = `cannot read the serving certificate ${(err as NodeJS.ErrnoException).path ?? certPath}: ${errnoText(err, "file")}`;
      return { hash: `error:${error}`, error };
    }
    const hash = createHash("sha256").update(cert).update("\0").update(key).digest("hex");
    const now = this.#o.now?.() ?? new Date();
    if (hash === this.#inUse) return { hash };
    if (hash === this.#lastFailure && !(this.#recheckAt && now >= this.#recheckAt)) return { hash };
    let pair: ServingPair;
    try {
      pair = servingPair(cert, key, { cert: certPath, key: keyPath });
    } catch (err) {
      return { hash, error: err instanceof Error ? err.message : String(err) };
    }
    const problem = validityProblem(pair, now, certPath);
    if (problem) return { hash, error: problem, ...(now < pair.notBefore ? { validFrom: pair.notBefore } : {}) };
    return { hash, pair };
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.poll()
        .catch((err: unknown) => this.#o.log.warn({ error: String(err) }, "serving certificate poll failed"))
        .finally(() => this.#schedule());
    }, this.#o.intervalMs ?? DEFAULT_POLL_INTERVAL_MS);
    // Polling alone must not keep the process alive.
    this.#timer.unref();
  }
}
