// Writes each HookpointPolicy's `Accepted` condition through the status
// subresource, only when it differs from what the object already says.
//
// Writes replace the status with the resourceVersion read: if the object
// changed meanwhile the API server answers 409 and the newer object, which the
// informer delivers next, is judged again. Two replicas therefore never
// overwrite each other with different timestamps: the second one's write
// conflicts, and on the object it then sees nothing is left to change.
//
// Replicas that disagree (two hookpoint versions during a rolling upgrade, one
// knowing a script the other does not) would otherwise overwrite each other in
// a tight loop; rewriting a condition we already wrote, after someone else
// replaced it, therefore waits a growing delay (up to the backoff's maximum).
import { CustomObjectsApi, type KubeConfig } from "@kubernetes/client-node";
import { API_GROUP, API_VERSION, POLICY_PLURAL } from "../policy/types.js";
import { statusUpdate, type ClusterPolicy, type ConditionCore, type PolicyVerdict } from "./acceptance.js";
import { errorText, httpStatus } from "./api-errors.js";
import { Backoff, type BackoffOptions } from "../backoff.js";
import type { SourceLogger } from "./logger.js";

export interface StatusWriterOptions {
  kubeConfig: KubeConfig;
  log: SourceLogger;
  backoff?: BackoffOptions | undefined;
  now?: () => Date;
}

interface Pending {
  object: ClusterPolicy;
  verdict: PolicyVerdict;
  /** Conditions besides Accepted (Routed), when known. */
  extra: readonly ConditionCore[];
}

interface Entry {
  latest: Pending;
  writing: boolean;
  timer: NodeJS.Timeout | undefined;
  /** Delays between retries of a failed write. */
  retry: Backoff;
  /** Delays before rewriting a condition someone else replaced. */
  rewrite: Backoff;
  /** The condition of our last successful write. */
  lastWritten: string | undefined;
  /** The pending timer is a rewrite delay: when it fires, write. */
  rewriteDue: boolean;
  /**
   * Our last successful write: the resourceVersion it replaced and the object the server
   * returned. A caller that hands in the replaced version again (the routing pass holds the
   * object the informer last delivered, which may predate our write) gets the written one.
   */
  written: { over: string; object: ClusterPolicy } | undefined;
}

const conditionKey = (p: Pending) => JSON.stringify([p.verdict.condition, ...p.extra].map((c) => [c.type, c.status, c.reason, c.message, c.observedGeneration]));

export class PolicyStatusWriter {
  private readonly api: CustomObjectsApi;
  private readonly entries = new Map<string, Entry>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly now: () => Date;
  private stopped = false;

  constructor(private readonly opts: StatusWriterOptions) {
    this.api = opts.kubeConfig.makeApiClient(CustomObjectsApi);
    this.now = opts.now ?? (() => new Date());
  }

  /** The newest object seen for a policy, its verdict and other conditions: write if its status says otherwise. */
  update(object: ClusterPolicy, verdict: PolicyVerdict, extra: readonly ConditionCore[] = []): void {
    if (this.stopped) return;
    const name = object.metadata.name;
    let entry = this.entries.get(name);
    if (!entry) {
      entry = {
        latest: { object, verdict, extra },
        writing: false,
        timer: undefined,
        retry: new Backoff(this.opts.backoff),
        rewrite: new Backoff(this.opts.backoff),
        lastWritten: undefined,
        rewriteDue: false,
        written: undefined,
      };
      this.entries.set(name, entry);
    } else {
      const { written } = entry;
      const stale = written !== undefined && object.metadata.resourceVersion === written.over;
      entry.latest = { object: stale ? written.object : object, verdict, extra };
      if (entry.timer && entry.rewriteDue && conditionKey(entry.latest) !== entry.lastWritten) {
        // A new verdict need not wait for the delay meant for the old one.
        clearTimeout(entry.timer);
        entry.timer = undefined;
        entry.rewriteDue = false;
      }
    }
    if (!entry.writing && !entry.timer) this.pump(name, entry);
  }

  /** The policy was deleted: nothing more to write. */
  forget(name: string): void {
    const entry = this.entries.get(name);
    if (entry?.timer) clearTimeout(entry.timer);
    this.entries.delete(name);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const e of this.entries.values()) if (e.timer) clearTimeout(e.timer);
    this.entries.clear();
    await Promise.allSettled([...this.inFlight]);
  }

  private later(name: string, entry: Entry, delay: number): void {
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      this.pump(name, entry);
    }, delay);
  }

  private pump(name: string, entry: Entry): void {
    if (this.stopped || this.entries.get(name) !== entry) return;
    const taken = entry.latest;
    const status = statusUpdate(taken.object, taken.verdict, this.now(), taken.extra);
    if (!status) return;
    const key = conditionKey(taken);
    if (key !== entry.lastWritten) {
      entry.rewrite.reset();
    } else if (!entry.rewriteDue) {
      // We wrote exactly this before and it was replaced since: another writer disagrees.
      const delay = entry.rewrite.next();
      this.opts.log.warn({ policy: name, retryInMs: delay, rewrites: entry.rewrite.failures }, "policy status replaced by another writer; rewriting after a delay");
      entry.rewriteDue = true;
      this.later(name, entry, delay);
      return;
    }
    entry.rewriteDue = false;
    entry.writing = true;
    const body = { ...taken.object, status };
    const write = this.api
      .replaceClusterCustomObjectStatus({ group: API_GROUP, version: API_VERSION, plural: POLICY_PLURAL, name, body })
      .then(
        (written: unknown) => {
          entry.retry.reset();
          entry.lastWritten = key;
          const condition = taken.verdict.condition;
          this.opts.log.info(
            { policy: name, accepted: condition.status, reason: condition.reason, observedGeneration: condition.observedGeneration, routed: taken.extra.find((c) => c.type === "Routed")?.status },
            "policy status written",
          );
          // Until the informer delivers our own write, judge against what the server returned.
          if (isPolicy(written)) {
            const over = taken.object.metadata.resourceVersion;
            entry.written = over !== undefined ? { over, object: written } : undefined;
            // Still the version written over, be it the same object or the informer's copy of
            // it that arrived during the write (the echo of our previous write): ours is newer.
            const { latest } = entry;
            if (latest === taken || (over !== undefined && latest.object.metadata.resourceVersion === over)) {
              entry.latest = { object: written, verdict: latest.verdict, extra: latest.extra };
            }
          }
          return true;
        },
        (err: unknown) => {
          const code = httpStatus(err);
          if (code === 409) {
            this.opts.log.debug({ policy: name }, "policy status write conflicted; waiting for the newer object");
            return entry.latest !== taken;
          }
          if (code === 404) {
            this.forget(name);
            return false;
          }
          const delay = entry.retry.next();
          this.opts.log.warn({ policy: name, status: code, err: errorText(err), retryInMs: delay }, "policy status write failed; retrying");
          this.later(name, entry, delay);
          return false;
        },
      )
      .then((again) => {
        entry.writing = false;
        if (again && !entry.timer) this.pump(name, entry);
      });
    this.inFlight.add(write);
    void write.finally(() => this.inFlight.delete(write));
  }
}

function isPolicy(v: unknown): v is ClusterPolicy {
  const meta = (v as { metadata?: { name?: unknown } } | null)?.metadata;
  return typeof meta?.name === "string";
}
