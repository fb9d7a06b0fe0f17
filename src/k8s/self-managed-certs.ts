// Self-managed webhook certificates (deploy/overlays/self-managed): at start the
// webhook makes or reuses a CA and a serving certificate kept in a Secret of its
// namespace, sets the caBundle of its own MutatingWebhookConfiguration, and from
// then on checks both periodically: it renews before expiry, adopts what another
// replica renewed, and restores a caBundle that a re-apply wiped.
//
// Replicas race safely: the Secret is created (409 AlreadyExists → read the
// winner's) or replaced with the resourceVersion read (409 Conflict → read again),
// so all replicas end up serving the same certificate.
import { AdmissionregistrationV1Api, CoreV1Api, type KubeConfig, type V1Secret } from "@kubernetes/client-node";
import type { Operation } from "fast-json-patch";
import { CA_DAYS, SERVING_DAYS } from "../certs/days.js";
import { certificateInfo, parseCertificate } from "../certs/inspect.js";
import { DEFAULT_CLUSTER_DOMAIN, checkDnsLabel, servingSubjectAltNames } from "../certs/names.js";
import { DEFAULT_RENEW_BELOW, issueMaterial, planRenewal, type RenewalPolicy, type TlsMaterial } from "../certs/renewal.js";
import { describeApiError, httpStatus } from "./api-errors.js";
import { caBundlePatch } from "./ca-bundle-patch.js";
import { TLS_SECRET_NAME, WEBHOOK_CONFIGURATION_NAME, WEBHOOK_SERVICE } from "./install-names.js";
import type { SourceLogger } from "./logger.js";
import { materialToSecret, secretToMaterial } from "./tls-secret.js";

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
  log: CertLogger;
  now: () => Date;
}

function settingsFrom(opts: Omit<SelfManagedCertsOptions, "onCertificate" | "checkIntervalMs">): Settings {
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
    log: opts.log,
    now: opts.now ?? (() => new Date()),
  };
}

async function readSecret(s: Settings): Promise<V1Secret | undefined> {
  try {
    return await s.core.readNamespacedSecret({ name: s.secretName, namespace: s.namespace });
  } catch (err) {
    if (httpStatus(err) === 404) return undefined;
    throw describeApiError(`reading Secret ${s.namespace}/${s.secretName}`, err);
  }
}

/** Reads the Secret and makes sure it holds valid material that is not due for renewal; returns that material. */
async function ensureSecret(s: Settings): Promise<{ material: TlsMaterial; renewAt: Date }> {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const now = s.now();
    const policy = s.policy(now);
    const secret = await readSecret(s);
    const decoded = secret ? secretToMaterial(secret) : undefined;
    const plan = planRenewal(decoded?.material, policy);
    if (plan.action === "reuse" && decoded?.material) return { material: decoded.material, renewAt: plan.renewAt };
    if (plan.action === "reuse") throw new Error("unreachable: reuse without material");

    const reason = decoded?.problem ?? plan.reason;
    s.log.info({ secret: `${s.namespace}/${s.secretName}`, action: plan.action, reason }, "issuing webhook certificate");
    const next = issueMaterial(plan, decoded?.material, policy);
    const resourceVersion = secret?.metadata?.resourceVersion;
    const body = materialToSecret(next, {
      name: s.secretName,
      namespace: s.namespace,
      ...(resourceVersion ? { resourceVersion } : {}),
      ...(secret?.type ? { type: secret.type } : {}),
    });
    try {
      if (secret) await s.core.replaceNamespacedSecret({ name: s.secretName, namespace: s.namespace, body });
      else await s.core.createNamespacedSecret({ namespace: s.namespace, body });
    } catch (err) {
      if (httpStatus(err) === 409) {
        // Another replica wrote first: take what it wrote (or renew on top of it).
        s.log.info({ secret: `${s.namespace}/${s.secretName}`, attempt }, "secret written by another replica, reading it again");
        continue;
      }
      throw describeApiError(`${secret ? "replacing" : "creating"} Secret ${s.namespace}/${s.secretName}`, err);
    }
    const stored = planRenewal(next, policy);
    const renewAt = stored.action === "reuse" ? stored.renewAt : now;
    s.log.info({ secret: `${s.namespace}/${s.secretName}`, action: plan.action, renewAt: renewAt.toISOString() }, "webhook certificate stored");
    return { material: next, renewAt };
  }
  throw new Error(`Secret ${s.namespace}/${s.secretName} kept changing under ${MAX_ATTEMPTS} attempts to update it; will try again`);
}

/** Sets caBundle on every entry of the webhook configuration. False when the configuration does not exist (yet). */
async function ensureCaBundle(s: Settings, caBundlePem: string): Promise<boolean> {
  const caBundle = Buffer.from(caBundlePem, "utf8").toString("base64");
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    let config;
    try {
      config = await s.admission.readMutatingWebhookConfiguration({ name: s.configName });
    } catch (err) {
      if (httpStatus(err) === 404) {
        // kubectl apply creates the configuration after the Deployment: the next pass patches it.
        s.log.warn({ webhookConfiguration: s.configName }, "webhook configuration not found, caBundle not set yet");
        return false;
      }
      throw describeApiError(`reading MutatingWebhookConfiguration ${s.configName}`, err);
    }
    const ops: Operation[] = caBundlePatch(config, caBundle);
    if (ops.length === 0) return true;
    try {
      await s.admission.patchMutatingWebhookConfiguration({ name: s.configName, body: ops });
      s.log.info({ webhookConfiguration: s.configName, webhooks: ops.length / 2 }, "caBundle set");
      return true;
    } catch (err) {
      // 409/422: the configuration changed between our read and our patch (a test op failed); read again.
      const code = httpStatus(err);
      if (code === 409 || code === 422) continue;
      throw describeApiError(`patching the caBundle of MutatingWebhookConfiguration ${s.configName}`, err);
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
  const { material, renewAt } = await ensureSecret(s);
  const caBundleSet = await ensureCaBundle(s, material.caBundle);
  return { tls: toServingTls(material), renewAt, caBundleSet };
}

/**
 * One pass without a timer: ensures the Secret and the caBundle, returns the certificate to serve
 * and when it is due for renewal.
 */
export async function ensureSelfManagedCerts(
  opts: Omit<SelfManagedCertsOptions, "onCertificate" | "checkIntervalMs">,
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
