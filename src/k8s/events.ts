// Warnings about pods, shown on the pod's owner (ReplicaSet, Job, ...) as
// Kubernetes Events: the API server shows an AdmissionReview's warnings only to
// whoever created the pod, and for controller-made pods that is a controller.
// `kubectl describe rs NAME` then shows them, as Warning HookpointWarning.
//
// Off the admission path: warn() only records the warning (O(1)); a worker
// writes Events later. Like client-go's event recorder, each replica
// deduplicates its own: the same warning on the same owner within the window
// updates one Event's count instead of adding another. Bounded: at most
// `maxPending` distinct warnings wait (more are dropped and counted), and writes
// are rate-limited (a token bucket), so a storm of pods costs the API server
// little.
import { randomBytes } from "node:crypto";
import { CoreV1Api, type CoreV1Event, type KubeConfig } from "@kubernetes/client-node";
import { Counter, type Registry } from "prom-client";
import type { OwnerWarning, WarningSink } from "../owner-warning.js";
import { errorText, httpStatus } from "./api-errors.js";
import type { SourceLogger } from "./logger.js";

export const EVENT_REASON = "HookpointWarning";
export const EVENT_SOURCE = "hookpoint-webhook";
/** The Event API's limit on a message. */
const MAX_MESSAGE = 1024;
/** Object names are at most 253 characters; the suffix is "." and 16 hex digits. */
const MAX_OWNER_NAME = 253 - 17;

/** The two calls the recorder makes; the cluster's in production, a fake in unit tests. */
export interface EventApi {
  create(event: CoreV1Event): Promise<void>;
  /** Sets count and lastTimestamp of an existing Event. */
  update(namespace: string, name: string, count: number, lastTimestamp: Date): Promise<void>;
}

export type EventResult = "created" | "updated" | "failed" | "dropped";

export interface EventMetrics {
  event(result: EventResult): void;
}

export interface EventRecorderOptions {
  api: EventApi;
  log: Pick<SourceLogger, "warn">;
  metrics?: EventMetrics;
  /** The replica writing (its pod name): reportingInstance. */
  instance: string;
  /** Distinct warnings waiting to be written, at most (default 256). */
  maxPending?: number;
  /** Writes per second, sustained (default 5) and in a burst (default 20). */
  ratePerSecond?: number;
  burst?: number;
  /** A repeat within this time of the last write updates the same Event (default 10 min). */
  dedupWindowMs?: number;
  /** Events remembered for deduplication, at most (default 4096; the oldest is forgotten). */
  maxRemembered?: number;
  now?: () => number;
}

interface Pending {
  warning: OwnerWarning;
  count: number;
}

interface Written {
  name: string;
  count: number;
  at: number;
}

export type { OwnerWarning } from "../owner-warning.js";

export class EventRecorder implements WarningSink {
  readonly #o: Required<Omit<EventRecorderOptions, "metrics">> & { metrics: EventMetrics | undefined };
  readonly #pending = new Map<string, Pending>();
  /** Insertion-ordered: the first entry is the least recently written. */
  readonly #written = new Map<string, Written>();
  #tokens: number;
  #refilledAt: number;
  #timer: NodeJS.Timeout | undefined;
  #draining = false;
  #stopped = false;

  constructor(options: EventRecorderOptions) {
    this.#o = {
      maxPending: 256,
      ratePerSecond: 5,
      burst: 20,
      dedupWindowMs: 10 * 60_000,
      maxRemembered: 4096,
      now: Date.now,
      ...options,
      metrics: options.metrics,
    };
    this.#tokens = this.#o.burst;
    this.#refilledAt = this.#o.now();
  }

  /** Records a warning for its owner; returns at once. */
  warn(warning: OwnerWarning): void {
    if (this.#stopped) return;
    const key = `${warning.namespace}\n${warning.owner.uid}\n${warning.message}`;
    const pending = this.#pending.get(key);
    if (pending) {
      pending.count++;
      return;
    }
    if (this.#pending.size >= this.#o.maxPending) {
      this.#o.metrics?.event("dropped");
      return;
    }
    this.#pending.set(key, { warning, count: 1 });
    this.#schedule(0);
  }

  /** Resolves once nothing is pending (for tests and shutdown); bounded by `ms`. */
  async flushed(ms = 5000): Promise<boolean> {
    const deadline = Date.now() + ms;
    while ((this.#pending.size > 0 || this.#draining) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    return this.#pending.size === 0 && !this.#draining;
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#pending.clear();
  }

  #schedule(delayMs: number): void {
    if (this.#timer || this.#draining || this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#drain();
    }, delayMs);
    this.#timer.unref();
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    try {
      while (this.#pending.size > 0 && !this.#stopped) {
        const now = this.#o.now();
        this.#tokens = Math.min(this.#o.burst, this.#tokens + ((now - this.#refilledAt) / 1000) * this.#o.ratePerSecond);
        this.#refilledAt = now;
        if (this.#tokens < 1) {
          this.#draining = false;
          this.#schedule(Math.ceil(((1 - this.#tokens) / this.#o.ratePerSecond) * 1000));
          return;
        }
        this.#tokens -= 1;
        const [key, pending] = this.#pending.entries().next().value as [string, Pending];
        this.#pending.delete(key);
        await this.#write(key, pending);
      }
    } finally {
      this.#draining = false;
    }
  }

  async #write(key: string, { warning, count }: Pending): Promise<void> {
    const now = this.#o.now();
    const known = this.#written.get(key);
    try {
      if (known && now - known.at < this.#o.dedupWindowMs) {
        try {
          await this.#o.api.update(warning.namespace, known.name, known.count + count, new Date(now));
          this.#remember(key, { name: known.name, count: known.count + count, at: now });
          this.#o.metrics?.event("updated");
          return;
        } catch (err) {
          // The Event expired (the API server keeps them an hour) or was deleted: write a new one.
          if (httpStatus(err) !== 404) throw err;
        }
      }
      const name = `${warning.owner.name.slice(0, MAX_OWNER_NAME)}.${randomBytes(8).toString("hex")}`;
      await this.#o.api.create(eventFor(warning, name, count, new Date(now), this.#o.instance));
      this.#remember(key, { name, count, at: now });
      this.#o.metrics?.event("created");
    } catch (err) {
      this.#o.metrics?.event("failed");
      this.#o.log.warn(
        { namespace: warning.namespace, owner: `${warning.owner.kind}/${warning.owner.name}`, error: errorText(err) },
        "cannot write the warning as an Event on the pod's owner",
      );
    }
  }

  #remember(key: string, written: Written): void {
    this.#written.delete(key);
    this.#written.set(key, written);
    if (this.#written.size > this.#o.maxRemembered) {
      const oldest = this.#written.keys().next().value;
      if (oldest !== undefined) this.#written.delete(oldest);
    }
  }
}

/** The core/v1 Event for a warning on its owner. */
export function eventFor(warning: OwnerWarning, name: string, count: number, at: Date, instance: string): CoreV1Event {
  const { owner, namespace } = warning;
  return {
    apiVersion: "v1",
    kind: "Event",
    metadata: { name, namespace },
    involvedObject: { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.name, namespace, uid: owner.uid },
    reason: EVENT_REASON,
    message: warning.message.length > MAX_MESSAGE ? `${warning.message.slice(0, MAX_MESSAGE - 3)}...` : warning.message,
    type: "Warning",
    source: { component: EVENT_SOURCE },
    reportingComponent: EVENT_SOURCE,
    reportingInstance: instance,
    firstTimestamp: at,
    lastTimestamp: at,
    count,
  };
}

/** The cluster's Event API (create, and a JSON Patch of count and lastTimestamp). */
export function clusterEventApi(kubeConfig: KubeConfig): EventApi {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  return {
    async create(event) {
      await core.createNamespacedEvent({ namespace: event.metadata.namespace ?? "", body: event });
    },
    async update(namespace, name, count, lastTimestamp) {
      await core.patchNamespacedEvent({
        name,
        namespace,
        body: [
          { op: "replace", path: "/count", value: count },
          { op: "replace", path: "/lastTimestamp", value: lastTimestamp.toISOString() },
        ],
      });
    },
  };
}

export function createEventMetrics(registry: Registry): EventMetrics {
  const events = new Counter({
    name: "hookpoint_events_total",
    help: "Warnings written as Events on pods' owners, by result (updated: a repeat counted on the same Event; dropped: too many waiting)",
    labelNames: ["result"] as const,
    registers: [registry],
  });
  for (const r of ["created", "updated", "failed", "dropped"] as const) events.labels(r).inc(0);
  return { event: (result) => events.labels(result).inc() };
}
