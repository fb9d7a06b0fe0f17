// One resource's list+watch, kept alive. @kubernetes/client-node 1.4's informer
// (ListWatch) relists by itself on 410 Gone and resumes a watch the server
// closed cleanly, but on any error it emits 'error' and stops for good; it
// also has no timeout on a watch (a dead connection hangs silently) and
// resumes a watch that closes at once in a tight loop. This supervisor:
//  - restarts it after an error, with capped exponential backoff and jitter,
//    from the last resourceVersion (no relist unless the server says 410);
//  - asks the server to end each watch after `resyncMs` and replaces an
//    informer that has shown no sign of life for longer (stalled connection);
//  - replaces an informer whose watch keeps closing as soon as it opens;
//  - reports connected/synced, for readiness, logs and metrics.
// A replaced informer starts empty and relists: after every complete list the
// watcher removes whatever the handlers hold that the list lacks (deleted
// meanwhile); the informer then delivers each new or changed item as an upsert.
import { makeInformer, type Informer, type KubeConfig, type KubernetesListObject, type KubernetesObject } from "@kubernetes/client-node";
import { Backoff, type BackoffOptions } from "../backoff.js";
import type { ItemList, ListOptions } from "./lists.js";
import { errorText } from "./api-errors.js";
import type { SourceLogger } from "./logger.js";
import type { SourceMetrics, WatchedResource } from "./source-metrics.js";

type Named = KubernetesObject & { metadata: { name: string } };

export interface WatchHandlers<T> {
  upsert(obj: T): void;
  remove(name: string): void;
  /** The names held now: after a complete list, those not in it are removed. */
  names(): Iterable<string>;
}

export interface WatcherOptions<T> {
  resource: WatchedResource;
  kubeConfig: KubeConfig;
  /** API path of the collection, e.g. /api/v1/namespaces. */
  path: string;
  list: (options: ListOptions) => Promise<ItemList<T>>;
  /**
   * For a resource that may not exist (a custom resource): whether an error says the API
   * server does not serve it now (404). Such a watch is replaced by a fresh list, and
   * when `absent` confirms it does not exist at all (its CRD is not installed, or was
   * deleted, not just not served yet after an API server restart), that counts as a
   * complete, empty list: the watcher syncs holding nothing and goes on retrying until
   * the resource is served. While that absence is confirmed at each retry the watcher
   * counts as connected (it knows the current state: nothing), without a log line or a
   * restart counted per retry.
   */
  notServed?: (err: unknown) => boolean;
  absent?: (options: ListOptions) => Promise<boolean>;
  handlers: WatchHandlers<T>;
  log: SourceLogger;
  metrics?: SourceMetrics | undefined;
  backoff?: BackoffOptions | undefined;
  /** Each watch is ended by the server after this long and resumed; silence beyond it (plus grace) means a dead connection. */
  resyncMs: number;
  listTimeoutMs: number;
  /** connected or synced changed. */
  onState: () => void;
  now?: () => number;
}

/** A connection that lasted this long resets the backoff: the next failure retries quickly again. */
const STABLE_MS = 10_000;
/** More (re)connects than this within one second means the watch closes as soon as it opens. */
const MAX_CONNECTS_PER_SECOND = 10;

export class ResourceWatcher<T extends Named> {
  private informer: Informer<T>;
  private instance = 0;
  private stopped = true;
  private started = false;
  private connectedNow = false;
  private syncedOnce = false;
  private lists = 0;
  /** False once a list found the resource not served, until a list succeeds again (logs the change once). */
  private served = true;
  /** When the resource was last confirmed not to exist; undefined unless the last attempt confirmed it. */
  private absentAt: number | undefined;
  /** The connected state last reported (metric, onState). */
  private reported = false;
  private attemptFailed = false;
  private connectedAt: number | undefined;
  private disconnectedAt: number | undefined;
  private lastActivity = 0;
  private connects: number[] = [];
  private retryTimer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private abort = new AbortController();
  private pendingStart: Promise<void> | undefined;
  private readonly backoff: Backoff;
  private readonly now: () => number;

  constructor(private readonly opts: WatcherOptions<T>) {
    this.backoff = new Backoff({ ...opts.backoff, resetAfterMs: STABLE_MS });
    this.now = opts.now ?? Date.now;
    this.informer = this.makeInstance();
  }

  get resource(): WatchedResource {
    return this.opts.resource;
  }

  /** The list+watch is established now, or the resource is confirmed not to exist (nothing to watch). */
  connected(): boolean {
    return this.connectedNow || this.absentAt !== undefined;
  }

  /** The last attempt confirmed that the resource does not exist. */
  absent(): boolean {
    return this.absentAt !== undefined;
  }

  /** A complete list has been received and its watch established at least once. */
  synced(): boolean {
    return this.syncedOnce;
  }

  /** When the watch went down (or, never connected, when it was started); undefined while connected. */
  downSince(): number | undefined {
    return this.connected() ? undefined : this.disconnectedAt;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.stopped = false;
    this.disconnectedAt = this.now();
    const period = Math.max(100, Math.min(this.opts.resyncMs, 5_000));
    this.watchdog = setInterval(() => this.checkAlive(), period);
    void this.attempt();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.watchdog) clearInterval(this.watchdog);
    this.retryTimer = undefined;
    this.watchdog = undefined;
    this.abort.abort();
    await this.stopInformer(this.informer);
    this.endAbsence();
    this.setConnected(false);
  }

  private makeInstance(): Informer<T> {
    const id = ++this.instance;
    const live = () => !this.stopped && id === this.instance;
    const seconds = Math.max(1, Math.ceil(this.opts.resyncMs / 1000));
    const path = `${this.opts.path}?timeoutSeconds=${seconds}`;
    const informer = makeInformer<T>(this.opts.kubeConfig, path, async () => {
      let list: ItemList<T>;
      try {
        list = await this.opts.list({ signal: this.abort.signal, timeoutMs: this.opts.listTimeoutMs });
      } catch (err) {
        const absent = live() && this.opts.notServed?.(err) === true && (await this.confirmedAbsent());
        if (live()) {
          if (absent) this.onNotServed(err);
          else this.endAbsence();
        }
        throw err;
      }
      if (live()) {
        if (!this.served) this.opts.log.info({ resource: this.opts.resource, items: list.items.length }, "resource served again");
        this.endAbsence();
        this.served = true;
        this.activity();
        this.lists += 1;
        if (this.lists > 1) this.opts.log.info({ resource: this.opts.resource, items: list.items.length }, "resource relisted");
        this.removeMissing(list.items);
      }
      return list as unknown as KubernetesListObject<T>;
    });
    const upsert = (obj: T) => {
      if (!live()) return;
      this.activity();
      this.opts.handlers.upsert(obj);
    };
    informer.on("add", upsert);
    informer.on("update", upsert);
    informer.on("delete", (obj: T) => {
      if (!live()) return;
      this.activity();
      this.opts.handlers.remove(obj.metadata.name);
    });
    informer.on("connect", () => {
      if (live()) this.onConnect();
    });
    informer.on("error", (err: unknown) => {
      if (live()) this.onError(err);
    });
    return informer;
  }

  private async confirmedAbsent(): Promise<boolean> {
    try {
      return (await this.opts.absent?.({ signal: this.abort.signal, timeoutMs: this.opts.listTimeoutMs })) === true;
    } catch (err) {
      // Unknown (403 on the CRD, no answer): keep what is held and retry, as for any failed list.
      this.opts.log.warn({ resource: this.opts.resource, err: errorText(err) }, "resource not served; cannot tell whether it exists");
      return false;
    }
  }

  /** The resource does not exist on the server: an empty list. The error still goes on to a retry, so it is found once served. */
  private onNotServed(err: unknown): void {
    this.activity();
    this.removeMissing([]);
    if (this.served) this.opts.log.warn({ resource: this.opts.resource, err: errorText(err) }, "resource not served; treated as empty");
    this.served = false;
    this.absentAt = this.now();
    this.syncedOnce = true;
    this.report();
  }

  /** The absence is no longer confirmed (the resource exists, or the check failed): current as of the last confirmation. */
  private endAbsence(): void {
    if (this.absentAt === undefined) return;
    if (!this.connectedNow) this.disconnectedAt = this.absentAt;
    this.absentAt = undefined;
    this.report();
  }

  private removeMissing(items: readonly T[]): void {
    const present = new Set(items.map((i) => i.metadata.name));
    for (const name of [...this.opts.handlers.names()]) if (!present.has(name)) this.opts.handlers.remove(name);
  }

  private async attempt(): Promise<void> {
    this.retryTimer = undefined;
    if (this.stopped) return;
    const id = this.instance;
    this.attemptFailed = false;
    this.activity();
    const started = this.informer.start();
    this.pendingStart = started;
    try {
      await started;
    } catch (err) {
      // ListWatch reports failures through 'error'; a rejection is unexpected but handled the same way.
      if (!this.stopped && id === this.instance) this.onError(err);
    }
    if (this.pendingStart === started) this.pendingStart = undefined;
    if (this.stopped || id !== this.instance || this.attemptFailed) return;
    this.connectedAt = this.now();
    if (this.lists > 0 && !this.syncedOnce) this.syncedOnce = true;
    this.setConnected(true);
  }

  private onConnect(): void {
    this.activity();
    const now = this.now();
    this.connects = this.connects.filter((t) => now - t < 1_000);
    this.connects.push(now);
    if (this.connects.length > MAX_CONNECTS_PER_SECOND) {
      this.connects = [];
      this.restartFresh("watch closes as soon as it opens");
    }
  }

  private onError(err: unknown): void {
    this.attemptFailed = true;
    // An informer resumes its watch from its last resourceVersion without listing again, so
    // it would never see the resource gone: a fresh one lists (and finds it not served).
    if (this.opts.notServed?.(err)) return this.restartFresh(errorText(err));
    this.setConnected(false);
    this.scheduleRetry(errorText(err), false);
  }

  private checkAlive(): void {
    if (this.stopped || this.retryTimer) return;
    const grace = Math.min(30_000, this.opts.resyncMs);
    const silentMs = this.now() - this.lastActivity;
    if (silentMs > this.opts.resyncMs + grace) this.restartFresh(`no response for ${Math.round(silentMs / 1000)} s`);
  }

  /** Drop the informer (and its connection) and start a new one after a backoff delay. */
  private restartFresh(why: string): void {
    const old = this.informer;
    this.informer = this.makeInstance();
    void this.stopInformer(old);
    this.setConnected(false);
    this.scheduleRetry(why, true);
  }

  /** Stops `informer`, and again once a watch it was still connecting is stored (only then can it be aborted). */
  private stopInformer(informer: Informer<T>): Promise<void> {
    void this.pendingStart?.then(() => informer.stop());
    return informer.stop();
  }

  private scheduleRetry(why: string, fresh: boolean): void {
    if (this.stopped || this.retryTimer) return;
    const ranMs = this.connectedAt === undefined ? 0 : this.now() - this.connectedAt;
    this.connectedAt = undefined;
    const delay = this.backoff.next(ranMs);
    // A resource confirmed absent is checked again at each retry: the known state, not a failure to report.
    if (this.absentAt === undefined) {
      this.opts.metrics?.restarted(this.opts.resource);
      this.opts.log.warn({ resource: this.opts.resource, err: why, retryInMs: delay, failures: this.backoff.failures, freshInformer: fresh }, "watch failed; retrying");
    }
    this.retryTimer = setTimeout(() => void this.attempt(), delay);
  }

  private activity(): void {
    this.lastActivity = this.now();
  }

  private setConnected(up: boolean): void {
    // No change; while down, disconnectedAt is already set (by start() or the last disconnect).
    if (up === this.connectedNow) return;
    this.connectedNow = up;
    if (up) {
      this.disconnectedAt = undefined;
      this.opts.log.info({ resource: this.opts.resource }, "watch connected");
    } else {
      this.disconnectedAt = this.now();
    }
    this.report();
  }

  /** Tell the metric and the source when connected() changed; always on a state change, for the first sync. */
  private report(): void {
    const up = this.connected();
    if (up !== this.reported) {
      this.reported = up;
      this.opts.metrics?.connected(this.opts.resource, up);
    }
    this.opts.onState();
  }
}
