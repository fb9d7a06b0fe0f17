// Keeps the routing of the webhook's own MutatingWebhookConfiguration in step
// with the HookpointPolicies in force (--manage-routing), and reports the
// entries in place either way, so each policy's Routed condition can say
// whether the API server sends it every pod it can inject.
//
// A pass reads the configuration, computes the entries routing.ts generates
// for the policies, and patches only when they differ; the patch is guarded by
// the resourceVersion read (a concurrent caBundle write or kubectl apply makes
// it fail, and the pass reads again). Passes run when the policies change and
// every checkIntervalMs, which also undoes a re-apply that reset the entries.
// Kept apart from the certificate code (self-managed-certs.ts), which writes
// the caBundle of the same configuration.
import { AdmissionregistrationV1Api, type KubeConfig } from "@kubernetes/client-node";
import { routes, type LiveRouting } from "../admission/routing.js";
import { Backoff } from "../backoff.js";
import type { HookpointPolicy } from "../policy/types.js";
import { errorText, httpStatus, patchLostRace } from "./api-errors.js";
import { WEBHOOK_CONFIGURATION_NAME } from "./install-names.js";
import type { SourceLogger } from "./logger.js";
import { configurationReadProblem, entriesOf, plainConfiguration, routingPatch, type WebhookConfiguration } from "./routing-patch.js";

const DEFAULT_CHECK_INTERVAL_MS = 60_000;
/** Conflicting writes tolerated in one pass before it gives up until the next. */
const MAX_ATTEMPTS = 5;

export interface RoutingSyncOptions {
  kubeConfig: KubeConfig;
  /** The webhook's namespace: never routed. */
  webhookNamespace: string;
  configName?: string;
  /** Write the entries (true), or only read them to report (false). */
  manage: boolean;
  log: SourceLogger;
  checkIntervalMs?: number;
  /** Called after every pass with the entries in place, or why they are unknown. */
  onLive: (live: LiveRouting) => void;
}

export class RoutingSync {
  private readonly api: AdmissionregistrationV1Api;
  private readonly configName: string;
  private policies: HookpointPolicy[] | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** While the configuration does not exist yet (kubectl apply creates it after the Deployment), look again sooner. */
  private readonly missing = new Backoff({ initialMs: 1_000, maxMs: 60_000 });
  private missingSince: number | undefined;

  constructor(private readonly opts: RoutingSyncOptions) {
    this.api = opts.kubeConfig.makeApiClient(AdmissionregistrationV1Api);
    this.configName = opts.configName ?? WEBHOOK_CONFIGURATION_NAME;
  }

  get name(): string {
    return this.configName;
  }

  /** The policies in force changed: bring the configuration in step (passes never overlap; a change during one runs another). */
  update(policies: readonly HookpointPolicy[]): void {
    this.policies = [...policies];
    this.kick();
  }

  /** Resolves when no pass is running (tests). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.idle();
  }

  private kick(): void {
    if (this.stopped || !this.policies) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.running = this.pass(this.policies)
      .catch((err: unknown) => {
        this.opts.log.error({ webhookConfiguration: this.configName, err: err instanceof Error ? err.message : String(err) }, "webhook routing check failed");
      })
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        } else if (!this.stopped) {
          const interval = this.opts.checkIntervalMs ?? DEFAULT_CHECK_INTERVAL_MS;
          this.timer = setTimeout(() => this.kick(), this.missingSince === undefined ? interval : Math.min(interval, this.missing.next()));
          this.timer.unref();
        }
      });
  }

  private async pass(policies: readonly HookpointPolicy[]): Promise<void> {
    let config: WebhookConfiguration = {};
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      try {
        config = plainConfiguration(await this.api.readMutatingWebhookConfiguration({ name: this.configName }));
      } catch (err) {
        const problem = configurationReadProblem(this.configName, err);
        if (httpStatus(err) === 404) {
          // Normal for a moment at install time; a warning once it has been gone a while.
          const since = (this.missingSince ??= Date.now());
          const log = Date.now() - since > 60_000 ? this.opts.log.warn.bind(this.opts.log) : this.opts.log.info.bind(this.opts.log);
          log({ webhookConfiguration: this.configName, problem }, "webhook routing unknown");
          return this.opts.onLive({ ok: false, problem });
        }
        this.opts.log.warn({ webhookConfiguration: this.configName, problem }, "webhook routing unknown");
        return this.opts.onLive({ ok: false, problem });
      }
      this.missingSince = undefined;
      this.missing.reset();
      if (!this.opts.manage) return this.opts.onLive({ ok: true, entries: entriesOf(config) });
      const wanted = routes(policies, this.opts.webhookNamespace);
      const patch = routingPatch(config, wanted);
      if (!patch.ok) {
        this.opts.log.warn({ webhookConfiguration: this.configName, problem: patch.problem }, "webhook routing not written");
        return this.opts.onLive({ ok: true, entries: entriesOf(config) });
      }
      if (patch.ops.length === 0) return this.opts.onLive({ ok: true, entries: entriesOf(config) });
      try {
        const written = plainConfiguration(await this.api.patchMutatingWebhookConfiguration({ name: this.configName, body: patch.ops }));
        this.opts.log.info({ webhookConfiguration: this.configName, entries: wanted.map((r) => r.name) }, "webhook routing written");
        return this.opts.onLive({ ok: true, entries: entriesOf(written) });
      } catch (err) {
        // The configuration changed since it was read (the resourceVersion test failed): read again.
        // An entry the API server refuses as invalid is reported at once: no retry can fix it.
        if (patchLostRace(err)) continue;
        this.opts.log.warn({ webhookConfiguration: this.configName, err: errorText(err) }, "webhook routing not written");
        return this.opts.onLive({ ok: true, entries: entriesOf(config) });
      }
    }
    this.opts.log.warn({ webhookConfiguration: this.configName, attempts: MAX_ATTEMPTS }, "webhook routing kept changing; trying again later");
    this.opts.onLive({ ok: true, entries: entriesOf(config) });
  }
}
