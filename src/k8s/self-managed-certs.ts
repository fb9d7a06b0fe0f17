// Self-managed webhook certificates (deploy/overlays/self-managed): at start the
// webhook fills (or reuses) a CA and a serving certificate in the Secret its
// manifests create, empty, in its namespace, sets the caBundle of its own
// MutatingWebhookConfiguration, and from then on checks both periodically: it
// renews before expiry, adopts what another replica renewed, and restores a
// caBundle that a re-apply wiped. A new CA is first added to the caBundle; the
// serving certificate moves to it only once a later pass reads that caBundle
// back from the webhook configuration.
//
// Replicas race safely: the Secret is replaced with the resourceVersion read
// (409 Conflict → read again), so all replicas end up serving the same certificate.
import { AdmissionregistrationV1Api, CoreV1Api, type KubeConfig, type V1Secret } from "@kubernetes/client-node";
import type { Operation } from "fast-json-patch";
import { CA_DAYS, SERVING_DAYS } from "../certs/days.js";
import { certificateInfo, parseCertificate, splitPemCertificates } from "../certs/inspect.js";
import { DEFAULT_CLUSTER_DOMAIN, checkDnsLabel, servingSubjectAltNames } from "../certs/names.js";
import { DEFAULT_RENEW_BELOW, issueMaterial, planRenewal, type RenewalPolicy, type TlsMaterial } from "../certs/renewal.js";
import { WEBHOOK_FORBIDDEN_HINT, describeApiError, httpStatus, patchLostRace } from "./api-errors.js";
import { caBundlePatch } from "./ca-bundle-patch.js";
import { TLS_SECRET_NAME, WEBHOOK_CONFIGURATION_NAME, WEBHOOK_SERVICE } from "./install-names.js";
import type { SourceLogger } from "./logger.js";
import { materialToSecret, ROTATE_CA_ANNOTATION, rotateCaRequest, secretToMaterial } from "./tls-secret.js";

/** How often each replica re-reads the Secret and the webhook configuration. */
const DEFAULT_CHECK_INTERVAL_MS = 60_000;
/** Conflicting writes tolerated in one pass before giving up until the next. */
const MAX_ATTEMPTS = 5;
/** setTimeout's limit (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

export type CertLogger = Pick<SourceLogger, "info" | "warn" | "error">;

/** What the HTTPS server needs: PEM certificate and key, and the CA bundle clients should trust. */
export interface ServingTls {
  cert: string;
  key: string;
  caBundle: string;
  notAfter: Date;
  fingerprint256: string;
}

export interface SelfManagedCertsOptions {
  kubeConfig: KubeConfig;
  /** The webhook's namespace (POD_NAMESPACE from the downward API). */
  namespace: string;
  service?: string;
  secretName?: string;
  webhookConfigurationName?: string;
  clusterDomain?: string;
  servingDays?: number;
  caDays?: number;
  /** Renew when less than this share of a certificate's validity is left (default 1/3). */
  renewBelow?: number;
  checkIntervalMs?: number;
  /** Called with the first certificate before start resolves, then whenever it changes. */
  onCertificate: (tls: ServingTls) => void | Promise<void>;
  log: CertLogger;
  /** Clock, for tests. */
  now?: () => Date;
}

export interface SelfManagedCerts {
  current(): ServingTls;
  /** One pass of what the timer does; resolves with the certificate in force afterwards. */
  sync(): Promise<ServingTls>;
  stop(): void;
}

interface Settings {
  core: CoreV1Api;
  admission: AdmissionregistrationV1Api;
  namespace: string;
  secretName: string;
  configName: string;
  policy: (now: Date) => RenewalPolicy;
  /** When a pass that waits for something (a caBundle to be seen) looks again. */
  recheckMs: number;
  log: CertLogger;
  now: () => Date;
}

function settingsFrom(opts: Omit<SelfManagedCertsOptions, "onCertificate">): Settings {
  const namespace = checkDnsLabel("webhook namespace", opts.namespace);
  const service = opts.service ?? WEBHOOK_SERVICE;
  const names = servingSubjectAltNames(service, namespace, opts.clusterDomain ?? DEFAULT_CLUSTER_DOMAIN);
  const renewBelow = opts.renewBelow ?? DEFAULT_RENEW_BELOW;
  if (!(renewBelow > 0 && renewBelow < 1)) throw new Error(`renewBelow must be between 0 and 1, got ${renewBelow}`);
  return {
    core: opts.kubeConfig.makeApiClient(CoreV1Api),
    admission: opts.kubeConfig.makeApiClient(AdmissionregistrationV1Api),
    namespace,
    secretName: opts.secretName ?? TLS_SECRET_NAME,
    configName: opts.webhookConfigurationName ?? WEBHOOK_CONFIGURATION_NAME,
    policy: (now) => ({
      now,
      commonName: `${service}.${namespace}.svc`,
      dnsNames: names.dnsNames,
      ipAddresses: names.ipAddresses,
      renewBelow,
      servingDays: opts.servingDays ?? SERVING_DAYS,
      caDays: opts.caDays ?? CA_DAYS,
    }),
    recheckMs: opts.checkIntervalMs ?? DEFAULT_CHECK_INTERVAL_MS,
    log: opts.log,
    now: opts.now ?? (() => new Date()),
  };
}

async function readSecret(s: Settings): Promise<V1Secret> {
  try {
    return await s.core.readNamespacedSecret({ name: s.secretName, namespace: s.namespace });
  } catch (err) {
    if (httpStatus(err) === 404) {
      // The webhook may only get and update this one Secret, never create one.
      throw new Error(
        `Secret ${s.namespace}/${s.secretName} does not exist: it is part of deploy/overlays/self-managed (created empty; the webhook fills it). Apply the overlay again`,
      );
    }
    throw describeApiError(`reading Secret ${s.namespace}/${s.secretName}`, err, WEBHOOK_FORBIDDEN_HINT);
  }
}

/** The webhook configuration as read at the start of a pass; undefined when it does not exist (yet). */
type WebhookConfiguration = Awaited<ReturnType<AdmissionregistrationV1Api["readMutatingWebhookConfiguration"]>>;

async function readWebhookConfiguration(s: Settings): Promise<WebhookConfiguration | undefined> {
  try {
    return await s.admission.readMutatingWebhookConfiguration({ name: s.configName });
  } catch (err) {
    if (httpStatus(err) === 404) {
      // kubectl apply creates the configuration after the Deployment: the next pass patches it.
      s.log.warn({ webhookConfiguration: s.configName }, "webhook configuration not found, caBundle not set yet");
      return undefined;
    }
    throw describeApiError(`reading MutatingWebhookConfiguration ${s.configName}`, err, WEBHOOK_FORBIDDEN_HINT);
  }
}

/** Whether every entry of the configuration already trusts `caPem` (what the API server will verify against). */
function trustedBy(config: WebhookConfiguration | undefined, caPem: string): boolean {
  const hooks = config?.webhooks ?? [];
  if (hooks.length === 0) return false;
  const wanted = certificateInfo(parseCertificate("ca.crt", caPem)).fingerprint256;
  return hooks.every((hook) => {
    const pem = Buffer.from(hook.clientConfig.caBundle ?? "", "base64").toString("utf8");
    return splitPemCertificates(pem).some((block) => {
      try {
        return certificateInfo(parseCertificate("caBundle", block)).fingerprint256 === wanted;
      } catch {
        return false;
      }
    });
  });
}

/**
 * Reads the Secret and makes sure it holds valid material that is not due for renewal;
 * returns that material. `config` is the webhook configuration read at the start of the
 * pass: the serving certificate moves to a new CA only when that already trusts it.
 */
async function ensureSecret(s: Settings, config: WebhookConfiguration | undefined): Promise<{ material: TlsMaterial; renewAt: Date }> {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const now = s.now();
    const policy = s.policy(now);
    const secret = await readSecret(s);
    const decoded = secretToMaterial(secret);
    const request = rotateCaRequest(secret);
    if (request.problem) s.log.warn({ secret: `${s.namespace}/${s.secretName}`, problem: request.problem }, "CA rotation request ignored");
    const plan = planRenewal(decoded.material, { ...policy, ...(request.at ? { rotateCaRequestedAt: request.at } : {}) });
    if (plan.action === "reuse" && decoded.material) return { material: decoded.material, renewAt: plan.renewAt };
    if (plan.action === "reuse") throw new Error("unreachable: reuse without material");
    if (plan.action === "switch-serving" && decoded.material && !trustedBy(config, decoded.material.caBundle)) {
      s.log.info(
        { webhookConfiguration: s.configName, reason: plan.reason },
        "new CA not yet in the webhook configuration's caBundle; serving certificate from the previous CA kept until it is",
      );
      return { material: decoded.material, renewAt: new Date(now.getTime() + s.recheckMs) };
    }

    const reason = decoded.problem ?? plan.reason;
    s.log.info({ secret: `${s.namespace}/${s.secretName}`, action: plan.action, reason }, "issuing webhook certificate");
    const next = issueMaterial(plan, decoded.material, policy);
    const resourceVersion = secret.metadata?.resourceVersion;
    // A new CA answers any rotation request: it leaves with the same (resourceVersion-guarded) write.
    const annotations = { ...secret.metadata?.annotations };
    if (plan.action === "create" || plan.action === "rotate-ca") delete annotations[ROTATE_CA_ANNOTATION];
    const body = materialToSecret(next, {
      annotations,
      name: s.secretName,
      namespace: s.namespace,
      ...(resourceVersion ? { resourceVersion } : {}),
      ...(secret.type ? { type: secret.type } : {}),
      ...(secret.metadata?.labels ? { labels: secret.metadata.labels } : {}),
    });
    try {
      await s.core.replaceNamespacedSecret({ name: s.secretName, namespace: s.namespace, body });
    } catch (err) {
      if (httpStatus(err) === 409) {
        // Another replica wrote first: take what it wrote (or renew on top of it).
        s.log.info({ secret: `${s.namespace}/${s.secretName}`, attempt }, "secret written by another replica, reading it again");
        continue;
      }
      throw describeApiError(`replacing Secret ${s.namespace}/${s.secretName}`, err, WEBHOOK_FORBIDDEN_HINT);
    }
    const stored = planRenewal(next, policy);
    // After the first step of a CA rotation, look again once API servers have had a pass to see the new caBundle.
    const renewAt = stored.action === "reuse" ? stored.renewAt : stored.action === "switch-serving" ? new Date(now.getTime() + s.recheckMs) : now;
    s.log.info({ secret: `${s.namespace}/${s.secretName}`, action: plan.action, renewAt: renewAt.toISOString() }, "webhook certificate stored");
    return { material: next, renewAt };
  }
  throw new Error(`Secret ${s.namespace}/${s.secretName} kept changing under ${MAX_ATTEMPTS} attempts to update it; will try again`);
}

/**
 * Sets caBundle on every entry of the webhook configuration, starting from `config` as
 * read at the start of the pass. False when the configuration does not exist (yet).
 */
async function ensureCaBundle(s: Settings, caBundlePem: string, first: WebhookConfiguration | undefined): Promise<boolean> {
  const caBundle = Buffer.from(caBundlePem, "utf8").toString("base64");
  let config = first;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    if (attempt > 1) config = await readWebhookConfiguration(s);
    if (!config) return false;
    const ops: Operation[] = caBundlePatch(config, caBundle);
    if (ops.length === 0) return true;
    try {
      await s.admission.patchMutatingWebhookConfiguration({ name: s.configName, body: ops });
      s.log.info({ webhookConfiguration: s.configName, webhooks: ops.length / 2 }, "caBundle set");
      return true;
    } catch (err) {
      // The configuration changed between our read and our patch (a test op failed): read again.
      // A configuration the API server refuses as invalid is reported at once: no retry can fix it.
      if (patchLostRace(err)) continue;
      throw describeApiError(`patching the caBundle of MutatingWebhookConfiguration ${s.configName}`, err, WEBHOOK_FORBIDDEN_HINT);
    }
  }
  throw new Error(`MutatingWebhookConfiguration ${s.configName} kept changing under ${MAX_ATTEMPTS} attempts to patch its caBundle; will try again`);
}

function toServingTls(material: TlsMaterial): ServingTls {
  const info = certificateInfo(parseCertificate("tls.crt", material.tlsCert));
  return {
    cert: material.tlsCert,
    key: material.tlsKey,
    caBundle: material.caBundle,
    notAfter: info.notAfter,
    fingerprint256: info.fingerprint256,
  };
}

async function ensurePass(s: Settings): Promise<{ tls: ServingTls; renewAt: Date; caBundleSet: boolean }> {
  const config = await readWebhookConfiguration(s);
  const { material, renewAt } = await ensureSecret(s, config);
  const caBundleSet = await ensureCaBundle(s, material.caBundle, config);
  return { tls: toServingTls(material), renewAt, caBundleSet };
}

/**
 * One pass without a timer: ensures the Secret and the caBundle, returns the certificate to serve
 * and when it is due for renewal.
 */
export async function ensureSelfManagedCerts(
  opts: Omit<SelfManagedCertsOptions, "onCertificate">,
): Promise<{ tls: ServingTls; renewAt: Date; caBundleSet: boolean }> {
  return ensurePass(settingsFrom(opts));
}

/**
 * Ensures the certificate now (rejecting with a clear error when the API refuses, e.g. missing RBAC),
 * hands it to onCertificate, then keeps checking every checkIntervalMs (or sooner, when renewal is due).
 * A failed periodic check is logged and retried; the certificate in force stays in force.
 */
export async function startSelfManagedCerts(opts: SelfManagedCertsOptions): Promise<SelfManagedCerts> {
  const s = settingsFrom(opts);
  const interval = opts.checkIntervalMs ?? DEFAULT_CHECK_INTERVAL_MS;
  if (!(interval > 0)) throw new Error(`checkIntervalMs must be positive, got ${interval}`);
  let current: ServingTls | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  let running: Promise<ServingTls> | undefined;

  const pass = async (): Promise<{ tls: ServingTls; renewAt: Date }> => {
    const { tls, renewAt } = await ensurePass(s);
    if (tls.fingerprint256 !== current?.fingerprint256) {
      await opts.onCertificate(tls);
      if (current) s.log.info({ notAfter: tls.notAfter.toISOString() }, "serving certificate replaced");
      current = tls;
    }
    return { tls, renewAt };
  };

  const schedule = (renewAt?: Date) => {
    if (stopped) return;
    const untilRenewal = renewAt ? renewAt.getTime() - s.now().getTime() : interval;
    const delay = Math.min(MAX_TIMER_MS, interval, Math.max(1000, untilRenewal));
    timer = setTimeout(() => void tick(), delay);
    timer.unref();
  };

  const tick = async () => {
    try {
      await sync();
    } catch {
      // sync() logged it and rescheduled
    }
  };

  const sync = (): Promise<ServingTls> => {
    // One pass at a time: a manual sync() while the timer's pass runs joins it.
    running ??= pass()
      .then(({ tls, renewAt }) => {
        schedule(renewAt);
        return tls;
      })
      .catch((err: unknown) => {
        s.log.error({ err: err instanceof Error ? err.message : String(err) }, "certificate check failed, keeping the current certificate");
        schedule();
        throw err;
      })
      .finally(() => {
        running = undefined;
      });
    if (timer) clearTimeout(timer);
    return running;
  };

  const first = await pass();
  schedule(first.renewAt);
  return {
    current: () => current ?? first.tls,
    sync,
    stop: () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
