// The one read of the cluster behind `hookpoint check`: the CRD, the webhook
// configuration with its clientConfig, the Service's ready endpoints, the
// certificate the webhook serves (over TLS from an endpoint when one answers,
// else from the Secret, saying which), the policies as the webhook judges
// them, the pods of the opted-in namespaces, istiod's image and the webhook's
// --default-pod-security (read by the parser the CLI passes in, src/cli/webhook-pod-security.ts). The verdicts are src/check/cluster.ts's, purely.
import { ApiextensionsV1Api, AppsV1Api, CoreV1Api, DiscoveryV1Api, VersionApi, type KubeConfig, type V1Container, type V1MutatingWebhook } from "@kubernetes/client-node";
import pLimit from "p-limit";
import { DEFAULT_POD_SECURITY, type PodSecurityLevel } from "../names.js";
import type { Pod } from "../admission/pod.js";
import type { ServingCertificate, WebhookEntry } from "../check/certificates.js";
import { optedInNamespaces, type CheckSnapshot, type CrdState, type EndpointsState, type WebhookState } from "../check/cluster.js";
import { POLICY_CRD_NAME } from "../policy/types.js";
import type { Settings } from "../policy/effective.js";
import { errorText, httpStatus } from "./api-errors.js";
import { loadClusterSnapshot, readWebhookConfiguration, type ConfigurationRead } from "./cluster-snapshot.js";
import { TLS_SECRET_NAME, WEBHOOK_CONFIGURATION_NAME, WEBHOOK_NAMESPACE, WEBHOOK_SERVICE } from "./install-names.js";
import { fetchServedChain } from "./served-certificate.js";

export interface CheckReadOptions {
  /** How long to wait for the API server's first answer, and for each TLS handshake. */
  timeoutMs: number;
  /** The --default-pod-security the webhook in this container runs with, read as the webhook reads its flags and env (the CLI's parser, passed in). */
  defaultPodSecurityOf: DefaultPodSecurityOf;
}

export type DefaultPodSecurityOf = (container: Pick<V1Container, "command" | "args" | "env" | "envFrom"> | undefined, where: string) => { level: PodSecurityLevel; from: string };

/** The API server did not answer: `hookpoint check` prints it as its one failing line. */
export class ClusterUnreachableError extends Error {
  override name = "ClusterUnreachableError";
}

export async function readCheckSnapshot(kc: KubeConfig, settings: Settings, opts: CheckReadOptions): Promise<CheckSnapshot> {
  const server = kc.getCurrentCluster()?.server ?? "(no server in kubeconfig)";
  const serverVersion = await withTimeout(kc.makeApiClient(VersionApi).getCode(), opts.timeoutMs, `no answer within ${opts.timeoutMs / 1000} s`).then(
    (v) => v.gitVersion,
    (err: unknown) => {
      throw new ClusterUnreachableError(`cannot reach ${server}: ${errorText(err)}`);
    },
  );
  const webhookNamespace = settings.webhookNamespace ?? WEBHOOK_NAMESPACE;
  const core = kc.makeApiClient(CoreV1Api);
  // Read once: its clientConfig for the TLS checks, its selectors for the routing checks.
  const configuration = readWebhookConfiguration(kc);
  const [crd, webhook, live, istiod, defaultPodSecurity, terminating] = await Promise.all([
    readCrd(kc),
    configuration.then(webhookState),
    loadClusterSnapshot(kc, settings, {}, configuration),
    readIstiod(kc),
    readDefaultPodSecurity(kc, webhookNamespace, opts.defaultPodSecurityOf),
    core.listNamespace({ fieldSelector: "status.phase=Terminating" }).then((l) => l.items.map((n) => n.metadata?.name ?? "")),
  ]);
  const service = webhook.found ? webhook.entries.find((e) => e.service)?.service : undefined;
  // Without a configuration, the Service the shipped one names.
  const ref = service ?? (webhook.found ? undefined : { namespace: webhookNamespace, name: WEBHOOK_SERVICE, port: 443 });
  const endpoints: EndpointsState = ref ? await readEndpoints(kc, ref) : { kind: "url", urls: webhook.found ? [...new Set(webhook.entries.flatMap((e) => (e.url ? [e.url] : [])))] : [] };
  const serving = webhook.found ? await readServing(kc, webhook.entries, endpoints, service?.namespace ?? webhookNamespace, opts.timeoutMs) : { source: "none" as const, problem: "no webhook configuration" };
  const limit = pLimit(8);
  const pods = new Map<string, Pod[]>(
    await Promise.all(
      optedInNamespaces(live.snapshot, terminating).map((o) =>
        limit(async () => {
          const list = await core.listNamespacedPod({ namespace: o.namespace });
          return [o.namespace, list.items.map((p) => ({ metadata: { name: p.metadata?.name, labels: p.metadata?.labels ?? {} }, spec: p.spec as unknown as Pod["spec"] }))] as const;
        }),
      ),
    ),
  );
  return {
    server,
    serverVersion,
    crd,
    webhook,
    endpoints,
    serving,
    policies: live.policies.map((p) => ({ name: p.name, accepted: p.accepted, message: p.message, inForce: p.inForce, inForceGeneration: p.inForceGeneration, ...(p.routed ? { routed: p.routed } : {}) })),
    decision: live.snapshot,
    terminating,
    pods,
    istiod,
    defaultPodSecurity,
    defaultImage: settings.defaultImage,
  };
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_r, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)))]).finally(() => clearTimeout(timer));
}

async function readCrd(kc: KubeConfig): Promise<CrdState> {
  try {
    const crd = await kc.makeApiClient(ApiextensionsV1Api).readCustomResourceDefinition({ name: POLICY_CRD_NAME });
    return {
      installed: true,
      established: crd.status?.conditions?.some((c) => c.type === "Established" && c.status === "True") ?? false,
      versions: crd.spec.versions.map((v) => ({ name: v.name, served: v.served, storage: v.storage })),
    };
  } catch (err) {
    if (httpStatus(err) === 404) return { installed: false };
    throw new Error(`cannot read CustomResourceDefinition ${POLICY_CRD_NAME}: ${errorText(err)}`);
  }
}

function entryOf(w: V1MutatingWebhook): WebhookEntry {
  const c = w.clientConfig;
  return {
    name: w.name,
    ...(c.url ? { url: c.url } : {}),
    ...(c.service ? { service: { namespace: c.service.namespace, name: c.service.name, port: c.service.port ?? 443 } } : {}),
    // The client decodes byte fields as base64 strings.
    caBundle: c.caBundle ?? "",
  };
}

function webhookState(read: ConfigurationRead): WebhookState {
  const name = WEBHOOK_CONFIGURATION_NAME;
  return read.ok ? { found: true, name, entries: (read.config.webhooks ?? []).map(entryOf) } : { found: false, name, problem: read.problem };
}

async function readEndpoints(kc: KubeConfig, ref: { namespace: string; name: string; port: number }): Promise<EndpointsState> {
  const service = `${ref.namespace}/${ref.name}`;
  let svc;
  try {
    svc = await kc.makeApiClient(CoreV1Api).readNamespacedService({ name: ref.name, namespace: ref.namespace });
  } catch (err) {
    if (httpStatus(err) === 404) return { kind: "service", service, found: false };
    throw new Error(`cannot read Service ${service}: ${errorText(err)}`);
  }
  const port = svc.spec?.ports?.find((p) => p.port === ref.port);
  const slices = await kc.makeApiClient(DiscoveryV1Api).listNamespacedEndpointSlice({ namespace: ref.namespace, labelSelector: `kubernetes.io/service-name=${ref.name}` });
  const ready: string[] = [];
  let notReady = 0;
  for (const slice of slices.items) {
    // The slice's port for the Service port (by name; an unnamed Service port matches the unnamed slice port).
    const slicePort = slice.ports?.find((p) => (p.name ?? "") === (port?.name ?? ""))?.port ?? (typeof port?.targetPort === "number" ? port.targetPort : undefined);
    for (const ep of slice.endpoints) {
      // Kubernetes: a missing ready condition means ready.
      if (ep.conditions?.ready === false) {
        notReady += ep.addresses.length;
        continue;
      }
      for (const a of ep.addresses) ready.push(slicePort === undefined ? a : `${a.includes(":") ? `[${a}]` : a}:${slicePort}`);
    }
  }
  return { kind: "service", service, found: true, ready: [...new Set(ready)].sort(), notReady };
}

/** The served certificate: over TLS from the URL or a ready endpoint, else the Secret's tls.crt. */
async function readServing(kc: KubeConfig, entries: readonly WebhookEntry[], endpoints: EndpointsState, namespace: string, timeoutMs: number): Promise<ServingCertificate> {
  const failures: string[] = [];
  const urlEntry = entries.find((e) => e.url);
  if (urlEntry?.url) {
    const u = new URL(urlEntry.url);
    const host = u.hostname.startsWith("[") ? u.hostname.slice(1, -1) : u.hostname;
    const address = `${u.hostname}:${u.port || 443}`;
    try {
      return { source: "served", address, pem: await fetchServedChain(host, Number(u.port || 443), host, timeoutMs) };
    } catch (err) {
      failures.push(`${address}: ${(err as Error).message}`);
    }
  }
  const svc = entries.find((e) => e.service)?.service;
  if (svc && endpoints.kind === "service" && endpoints.found) {
    // The first ready endpoint that answers (they serve the same Secret).
    for (const address of endpoints.ready.slice(0, 3)) {
      const m = /^\[?([^\]]+)\]?:(\d+)$/.exec(address);
      if (!m) continue;
      try {
        return { source: "served", address, pem: await fetchServedChain(m[1] ?? "", Number(m[2]), `${svc.name}.${svc.namespace}.svc`, timeoutMs) };
      } catch (err) {
        failures.push(`${address}: ${(err as Error).message}`);
      }
    }
  }
  const secret = `${namespace}/${TLS_SECRET_NAME}`;
  const why = failures.length > 0 ? `not reachable from here (${failures.join("; ")})` : "no endpoint to connect to";
  try {
    const s = await kc.makeApiClient(CoreV1Api).readNamespacedSecret({ name: TLS_SECRET_NAME, namespace });
    const crt = s.data?.["tls.crt"];
    if (!crt) return { source: "none", problem: `Secret ${secret} has no tls.crt, and the webhook is ${why}` };
    return { source: "secret", secret, why, pem: Buffer.from(crt, "base64").toString("utf8") };
  } catch (err) {
    return { source: "none", problem: `the webhook is ${why}, and Secret ${secret} cannot be read: ${errorText(err)}` };
  }
}

async function readIstiod(kc: KubeConfig): Promise<{ where: string; image: string }[]> {
  try {
    const list = await kc.makeApiClient(AppsV1Api).listDeploymentForAllNamespaces({ labelSelector: "app=istiod" });
    return list.items.flatMap((d) => {
      const c = d.spec?.template.spec?.containers.find((x) => x.name === "discovery") ?? d.spec?.template.spec?.containers[0];
      return c?.image ? [{ where: d.metadata?.namespace ?? "?", image: c.image }] : [];
    });
  } catch {
    return []; // no permission to list Deployments: Istio's version is compared with the proxies only
  }
}

async function readDefaultPodSecurity(kc: KubeConfig, namespace: string, of: DefaultPodSecurityOf): Promise<{ level: PodSecurityLevel; from: string }> {
  const where = `Deployment ${namespace}/hookpoint-webhook`;
  try {
    const d = await kc.makeApiClient(AppsV1Api).readNamespacedDeployment({ name: "hookpoint-webhook", namespace });
    const containers = d.spec?.template.spec?.containers ?? [];
    return of(containers.find((c) => c.name === "webhook") ?? containers[0], where);
  } catch (err) {
    return { level: DEFAULT_POD_SECURITY, from: `assumed: ${where} ${httpStatus(err) === 404 ? "does not exist" : `cannot be read (${errorText(err)})`}` };
  }
}
