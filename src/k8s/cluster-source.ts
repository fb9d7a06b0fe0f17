// The decision snapshot of a webhook running in a cluster: informers on
// Namespaces (their labels) and HookpointPolicies feed in-memory maps, and
// every change rebuilds the immutable Snapshot that admissions read through
// current(). No API call happens on the admission path.
//
// While the API server is unreachable the last snapshot stays in force; the
// watchers retry with backoff, and logs and metrics say so. A policy version
// that fails validation never governs: the last accepted version of it does
// (or nothing), and its status says why.
import type { KubeConfig, KubernetesObject } from "@kubernetes/client-node";
import type { Settings } from "../policy/effective.js";
import { buildSnapshot, type Snapshot } from "../policy/snapshot.js";
import type { SnapshotSource } from "../policy/source.js";
import type { HookpointPolicy, NamespaceInfo } from "../policy/types.js";
import { judgePolicy, normalizePolicy, type ClusterPolicy, type PolicyVerdict } from "./acceptance.js";
import type { BackoffOptions } from "../backoff.js";
import { createLister, DEFAULT_LIST_TIMEOUT_MS, namespaceInfo, NAMESPACES_PATH, POLICIES_PATH, type NamespaceItem, type PolicyItem } from "./lists.js";
import type { SourceLogger } from "./logger.js";
import { PolicyStatusWriter } from "./policy-status.js";
import { routedCondition, type LiveRouting, type RoutedCondition } from "../admission/routing.js";
import { RoutingSync } from "./routing-sync.js";
import type { SourceMetrics, WatchedResource } from "./source-metrics.js";
import { ResourceWatcher } from "./watcher.js";
import { httpStatus } from "./api-errors.js";
import { policyCrdAbsent } from "./policy-crd.js";

/** Each watch is renewed at least this often (client-go renews every 5 to 10 minutes). */
const DEFAULT_RESYNC_MS = 300_000;

export interface ClusterSourceOptions {
  kubeConfig: KubeConfig;
  settings: Settings;
  logger: SourceLogger;
  metrics?: SourceMetrics;
  /** Watch renewal period; a watch silent for longer (plus grace) is replaced. Default 5 minutes. */
  resyncMs?: number;
  /** Time limit of one (paged) list. Default 60 s. */
  listTimeoutMs?: number;
  /** Retry delays of watches and status writes. Default 0.5 s doubling up to 30 s, jittered. */
  backoff?: BackoffOptions;
  /** Write each policy's Accepted condition (default true). */
  writeStatus?: boolean;
  /** Clock for condition timestamps, for tests. */
  now?: () => Date;
  /**
   * Follow the webhook's own MutatingWebhookConfiguration: report in each
   * policy's Routed condition whether it sends every pod the policy can inject,
   * and with `manage`, keep its entries in step with the policies (--manage-routing).
   * Needs the webhook namespace in settings. Off when absent.
   */
  routing?: { manage: boolean; configName?: string; checkIntervalMs?: number };
}

export interface PolicyReport {
  name: string;
  generation: number | undefined;
  accepted: boolean;
  /** Which version governs pods: this one, the last accepted one, or none. */
  inForce: PolicyVerdict["inForce"];
  inForceGeneration: number | undefined;
  /** The Accepted condition's message (the problems, when not accepted). */
  message: string;
  /** Whether the webhook configuration routes every pod the version in force can inject, when known. */
  routed?: RoutedCondition;
}

export interface SourceState {
  synced: boolean;
  /** Per resource: its watch is established, or (hookpointpolicies) its CRD is confirmed absent, so the state is known. */
  connected: Record<WatchedResource, boolean>;
  /** The HookpointPolicy CRD is confirmed not installed (no policies; the built-in defaults decide). */
  policyCrdAbsent: boolean;
  snapshotAgeSeconds: number;
  namespaces: number;
  policies: PolicyReport[];
}

export interface ClusterSource extends SnapshotSource {
  /** Called after each rebuild with the new snapshot; returns an unsubscribe function. */
  onChange(listener: (snapshot: Snapshot) => void): () => void;
  /** Resolves once synced (or rejects after timeoutMs). */
  whenSynced(timeoutMs?: number): Promise<void>;
  state(): SourceState;
}

interface PolicyEntry {
  object: ClusterPolicy;
  verdict: PolicyVerdict;
}

export function createClusterSource(options: ClusterSourceOptions): ClusterSource {
  return new ClusterSnapshotSource(options);
}

/** What the verdicts say, in name order. */
export function policyReports(verdicts: readonly PolicyVerdict[]): PolicyReport[] {
  return verdicts
    .map((v) => ({
      name: v.name,
      generation: v.generation,
      accepted: v.inForce === "this",
      inForce: v.inForce,
      inForceGeneration: v.policy?.metadata.generation,
      message: v.condition.message,
    }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

class ClusterSnapshotSource implements ClusterSource {
  private snapshot: Snapshot;
  private readonly namespaces = new Map<string, NamespaceInfo>();
  private readonly policies = new Map<string, PolicyEntry>();
  /** Last accepted version of each policy seen by this process. */
  private readonly accepted = new Map<string, HookpointPolicy>();
  private readonly listeners = new Set<(s: Snapshot) => void>();
  private readonly syncWaiters = new Set<() => void>();
  private readonly watchers: [ResourceWatcher<NamespaceItem & KubernetesObject>, ResourceWatcher<PolicyItem & KubernetesObject>];
  private readonly status: PolicyStatusWriter | undefined;
  private readonly routing: RoutingSync | undefined;
  /** The Routed condition of each policy's version in force, from the last routing pass. */
  private readonly routed = new Map<string, { generation: number | undefined; condition: RoutedCondition }>();
  /** The policies in force the routing was last given (a namespace change alone does not touch the routing). */
  private routedPolicies: readonly HookpointPolicy[] | undefined;
  private readonly log: SourceLogger;
  private rebuildQueued = false;
  private isSynced = false;
  private startedAt: number | undefined;

  constructor(private readonly opts: ClusterSourceOptions) {
    this.log = opts.logger;
    this.snapshot = buildSnapshot([], [], opts.settings);
    const lister = createLister(opts.kubeConfig);
    const common = {
      kubeConfig: opts.kubeConfig,
      log: opts.logger,
      metrics: opts.metrics,
      backoff: opts.backoff,
      resyncMs: opts.resyncMs ?? DEFAULT_RESYNC_MS,
      listTimeoutMs: opts.listTimeoutMs ?? DEFAULT_LIST_TIMEOUT_MS,
      onState: () => this.onWatcherState(),
    };
    this.watchers = [
      new ResourceWatcher<NamespaceItem & KubernetesObject>({
        ...common,
        resource: "namespaces",
        path: NAMESPACES_PATH,
        list: (o) => lister.namespaces(o),
        handlers: { upsert: (ns) => this.upsertNamespace(ns), remove: (name) => this.removeNamespace(name), names: () => this.namespaces.keys() },
      }),
      new ResourceWatcher<PolicyItem & KubernetesObject>({
        ...common,
        resource: "hookpointpolicies",
        path: POLICIES_PATH,
        list: (o) => lister.policies(o),
        // Without the CRD there are no HookpointPolicies: the built-in defaults apply (what explain and check say).
        // A 404 alone is not proof: right after an API server restart a CRD's resource is briefly not served.
        notServed: (err) => httpStatus(err) === 404,
        absent: (o) => policyCrdAbsent(opts.kubeConfig, o),
        handlers: { upsert: (p) => this.upsertPolicy(p), remove: (name) => this.removePolicy(name), names: () => this.policies.keys() },
      }),
    ];
    if (opts.writeStatus ?? true) this.status = new PolicyStatusWriter({ kubeConfig: opts.kubeConfig, log: opts.logger, backoff: opts.backoff, ...(opts.now ? { now: opts.now } : {}) });
    if (opts.routing) {
      const webhookNamespace = opts.settings.webhookNamespace;
      if (!webhookNamespace) throw new Error("routing needs the webhook's namespace (settings.webhookNamespace)");
      this.routing = new RoutingSync({
        kubeConfig: opts.kubeConfig,
        webhookNamespace,
        manage: opts.routing.manage,
        log: opts.logger,
        ...(opts.routing.configName ? { configName: opts.routing.configName } : {}),
        ...(opts.routing.checkIntervalMs ? { checkIntervalMs: opts.routing.checkIntervalMs } : {}),
        onLive: (live) => this.onRouting(live),
      });
    }
    opts.metrics?.ageFrom(() => this.ageSeconds());
  }

  current(): Snapshot {
    return this.snapshot;
  }

  synced(): boolean {
    return this.isSynced;
  }

  describe(): string {
    return `cluster ${this.opts.kubeConfig.getCurrentCluster()?.server ?? "(no server)"}`;
  }

  async start(): Promise<void> {
    if (this.startedAt !== undefined) return;
    this.startedAt = Date.now();
    this.log.info({ server: this.opts.kubeConfig.getCurrentCluster()?.server }, "cluster source starting");
    for (const w of this.watchers) w.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.watchers.map((w) => w.stop()));
    await this.routing?.stop();
    await this.status?.stop();
  }

  onChange(listener: (snapshot: Snapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  whenSynced(timeoutMs?: number): Promise<void> {
    if (this.isSynced) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const done = () => {
        if (timer) clearTimeout(timer);
        resolve();
      };
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              this.syncWaiters.delete(done);
              reject(new Error(`not synced with ${this.describe()} after ${timeoutMs} ms`));
            }, timeoutMs);
      this.syncWaiters.add(done);
    });
  }

  state(): SourceState {
    const [ns, pol] = this.watchers;
    return {
      synced: this.isSynced,
      connected: { namespaces: ns.connected(), hookpointpolicies: pol.connected() },
      policyCrdAbsent: pol.absent(),
      snapshotAgeSeconds: this.ageSeconds(),
      namespaces: this.namespaces.size,
      policies: policyReports([...this.policies.values()].map((e) => e.verdict)).map((r) => {
        const routed = this.routed.get(r.name)?.condition;
        return routed ? { ...r, routed } : r;
      }),
    };
  }

  /** 0 while every watch is established (or its resource confirmed absent); otherwise seconds since the first one went down (or since start, before the first sync). */
  private ageSeconds(): number {
    if (this.startedAt === undefined) return 0;
    const now = Date.now();
    if (!this.isSynced) return (now - this.startedAt) / 1000;
    const down = this.watchers.map((w) => w.downSince()).filter((t): t is number => t !== undefined);
    return down.length === 0 ? 0 : (now - Math.min(...down)) / 1000;
  }

  private onWatcherState(): void {
    if (this.isSynced || !this.watchers.every((w) => w.synced())) return;
    this.rebuild();
    this.isSynced = true;
    const report = this.state();
    this.log.info(
      { namespaces: report.namespaces, policies: report.policies.length, accepted: report.policies.filter((p) => p.accepted).length },
      "cluster snapshot synced",
    );
    for (const w of [...this.syncWaiters]) w();
    this.syncWaiters.clear();
  }

  // --- namespaces ---

  private upsertNamespace(item: NamespaceItem): void {
    const info = namespaceInfo(item);
    const prev = this.namespaces.get(info.name);
    if (prev && sameLabels(prev.labels, info.labels)) return;
    this.namespaces.set(info.name, info);
    this.queueRebuild();
  }

  private removeNamespace(name: string): void {
    if (this.namespaces.delete(name)) this.queueRebuild();
  }

  // --- policies ---

  private upsertPolicy(item: PolicyItem): void {
    const object = normalizePolicy(item);
    const name = object.metadata.name;
    let prev = this.policies.get(name);
    if (prev && prev.object.metadata.uid !== object.metadata.uid) {
      // Deleted and created again while the watch was down (a relist shows only the new
      // object): nothing of the old one (its accepted version, its generation) carries over.
      this.accepted.delete(name);
      this.routed.delete(name);
      this.status?.forget(name);
      prev = undefined;
    }
    const rv = object.metadata.resourceVersion;
    if (prev && rv !== undefined && prev.object.metadata.resourceVersion === rv) return;

    const verdict = judgePolicy(object, this.opts.settings.knownScripts, this.accepted.get(name));
    // A status-only update (same generation) changes nothing the decision reads: keep the object, skip the rebuild.
    if (verdict.inForce === "this" && prev?.verdict.inForce === "this" && verdict.generation !== undefined && prev.verdict.generation === verdict.generation) {
      verdict.policy = prev.verdict.policy;
    }
    if (verdict.inForce === "this" && verdict.policy) this.accepted.set(name, verdict.policy);
    this.policies.set(name, { object, verdict });

    const changed = !prev || prev.verdict.generation !== verdict.generation || prev.verdict.condition.message !== verdict.condition.message;
    if (changed) {
      if (verdict.inForce === "this") this.log.info({ policy: name, generation: verdict.generation }, "policy accepted");
      else
        this.log.warn(
          { policy: name, generation: verdict.generation, problems: verdict.condition.message, inForce: verdict.inForce, inForceGeneration: verdict.policy?.metadata.generation },
          "policy rejected",
        );
    }
    if (!prev || prev.verdict.policy !== verdict.policy) this.queueRebuild();
    this.countPolicies();
    this.status?.update(object, verdict, this.routedConditions(name, verdict));
  }

  // --- routing ---

  /** The Routed condition to write with a verdict: the last routing pass's, if it judged the same version. */
  private routedConditions(name: string, verdict: PolicyVerdict): RoutedCondition[] {
    const r = this.routed.get(name);
    return r && verdict.policy && r.generation === verdict.policy.metadata.generation ? [r.condition] : [];
  }

  private onRouting(live: LiveRouting): void {
    const namespace = this.opts.settings.webhookNamespace as string;
    const configName = this.routing?.name ?? "";
    for (const [name, e] of this.policies) {
      const inForce = e.verdict.policy;
      if (!inForce) {
        this.routed.delete(name);
        continue;
      }
      const condition: RoutedCondition = { ...routedCondition(inForce, live, namespace, configName) };
      const generation = inForce.metadata.generation;
      if (generation !== undefined) condition.observedGeneration = generation;
      const prev = this.routed.get(name)?.condition;
      if (!prev || prev.status !== condition.status || prev.message !== condition.message) {
        const fields = { policy: name, routed: condition.status, reason: condition.reason };
        // Unknown: the routing module logged why (a missing configuration is normal for a moment at install time).
        if (condition.status === "False") this.log.warn({ ...fields, problem: condition.message }, "policy not routed");
        else this.log.info(condition.status === "True" ? fields : { ...fields, problem: condition.message }, condition.status === "True" ? "policy routed" : "policy routing unknown");
      }
      this.routed.set(name, { generation, condition });
      this.status?.update(e.object, e.verdict, [condition]);
    }
  }

  private removePolicy(name: string): void {
    this.accepted.delete(name);
    this.routed.delete(name);
    this.status?.forget(name);
    if (this.policies.delete(name)) {
      this.log.info({ policy: name }, "policy deleted");
      this.queueRebuild();
      this.countPolicies();
    }
  }

  // --- snapshot ---

  private countPolicies(): void {
    let accepted = 0;
    for (const e of this.policies.values()) if (e.verdict.inForce === "this") accepted += 1;
    this.opts.metrics?.policies(accepted, this.policies.size - accepted);
  }

  /**
   * Coalesce a burst of events (a list of 10,000 namespaces) into one rebuild.
   * Before the first sync nothing is published: half the inputs (labels without
   * the policy that vetoes them) could decide worse than the built-in defaults.
   */
  private queueRebuild(): void {
    if (this.rebuildQueued || !this.isSynced) return;
    this.rebuildQueued = true;
    setImmediate(() => {
      if (this.rebuildQueued) this.rebuild();
    });
  }

  private rebuild(): void {
    this.rebuildQueued = false;
    const inForce: HookpointPolicy[] = [];
    for (const e of this.policies.values()) if (e.verdict.policy) inForce.push(e.verdict.policy);
    this.snapshot = buildSnapshot(this.namespaces.values(), inForce, this.opts.settings);
    for (const l of this.listeners) l(this.snapshot);
    const last = this.routedPolicies;
    if (this.routing && (!last || inForce.length !== last.length || inForce.some((p, i) => p !== last[i]))) {
      this.routedPolicies = inForce;
      this.routing.update(inForce);
    }
  }
}

function sameLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (a[k] !== b[k]) return false;
  return true;
}
