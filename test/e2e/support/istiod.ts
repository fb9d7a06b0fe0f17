// istiod (pilot-discovery built from istio.io/istio) next to the local kube-apiserver,
// set up the way Istio's manifests set it up, minus what needs nodes:
// - Istio's CRDs, RBAC, ConfigMaps (mesh config, injector templates and values) and
//   its MutatingWebhookConfiguration istio-sidecar-injector, rendered by istioctl from
//   the same module, with the webhook's clientConfig.url on loopback (no Service
//   endpoints here) and the CA below as caBundle; plus the Gateway API CRDs.
// - istiod runs as a local process with a TokenRequest token of ServiceAccount
//   istio-system/istiod (only Istio's own RBAC), the Deployment's environment, every port
//   on 127.0.0.1 (free ports), and a serving certificate for 127.0.0.1 signed by a test CA
//   (--tlsCertFile/--tlsKeyFile/--caCertFile), so the API server can call its /inject.
// Like the cluster it is a detached daemon shared by every test file (one start per run):
// its state lives in .cluster/istio/, it is reused while it runs against the same
// cluster, and `npm test` stops it at the end when it started it (npm run istio:down).
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { get as httpGet } from "node:http";
import { join } from "node:path";
import { layout } from "../../../scripts/cluster/layout.js";
import { freePort, isOurProcess, logTail, startDaemon, stopProcess } from "../../../scripts/cluster/processes.js";
import { createCertificateAuthority, createServingCertificate } from "../../../src/certs/generate.js";
import { adminKubeConfig, ensureCluster, serviceAccountKubeConfig } from "./cluster.js";
import { applyCrd, applyServed, type K8sObject } from "./deploy.js";
import { istioBinaries, type IstioBinaries } from "./istio-binaries.js";
import { appliedObjects, findObject, gatewayApiCrds, ISTIO_INJECTOR_CONFIGURATION, ISTIO_NAMESPACE, istiodEnvironment, meshConfig, renderIstio } from "./istio-manifests.js";
import { apply, kubeRequest, ok, remove } from "./kube-http.js";
import { pollUntil } from "./poll.js";

export interface IstiodPorts {
  http: number;
  grpc: number;
  secureGrpc: number;
  monitoring: number;
  webhook: number;
}

export interface IstiodState {
  version: string;
  pid: number;
  binary: string;
  ports: IstiodPorts;
  /** The cluster it runs against (a restarted cluster is a new one: istiod is restarted too). */
  server: string;
  clusterStartedPid: number;
  startedAt: string;
}

export interface Istiod extends IstiodState {
  dir: string;
  binaries: IstioBinaries;
  /** https://127.0.0.1:PORT/inject, what the API server calls. */
  injectUrl: string;
  /** The CA of istiod's serving certificate (webhook and secure xDS), PEM and base64 (caBundle). */
  caPem: string;
  caBundle: string;
  logPath: string;
  alreadyRunning: boolean;
}

const ISTIOD_READY_MS = 120_000;
/**
 * On top of the default profile: istiod's waypoint controller (class istio-waypoint) runs
 * only with ambient mode allowed; the sidecar injection templates do not read the flag, and
 * no CNI or ztunnel is installed (their DaemonSets need nodes).
 */
export const ISTIOD_VALUES = ["values.pilot.env.PILOT_ENABLE_AMBIENT=true"];
/** Reused for at most this long: its ServiceAccount token lasts a day. */
const MAX_AGE_MS = 20 * 3600_000;

function istioDir(clusterDir: string): string {
  return join(clusterDir, "istio");
}

function files(dir: string) {
  return {
    state: join(dir, "state.json"),
    log: join(dir, "istiod.log"),
    ca: join(dir, "pki", "ca.crt"),
    cert: join(dir, "pki", "tls.crt"),
    key: join(dir, "pki", "tls.key"),
    mesh: join(dir, "etc", "istio", "config", "mesh"),
    webhook: join(dir, "istio-sidecar-injector.json"),
  };
}

function readIstiodState(dir: string): IstiodState | undefined {
  try {
    return JSON.parse(readFileSync(files(dir).state, "utf8")) as IstiodState;
  } catch {
    return undefined;
  }
}

function httpStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = httpGet(url, { timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(0));
  });
}

let current: Promise<Istiod> | undefined;

/** istiod running against the local cluster, started (and built) when needed. */
export function ensureIstiod(): Promise<Istiod> {
  current ??= startOrReuse().catch((e: unknown) => {
    current = undefined;
    throw e;
  });
  return current;
}

async function startOrReuse(): Promise<Istiod> {
  const binaries = await istioBinaries();
  const cluster = await ensureCluster();
  const dir = istioDir(cluster.dir);
  const f = files(dir);
  const known = readIstiodState(dir);
  const info = (s: IstiodState, alreadyRunning: boolean): Istiod => {
    const caPem = readFileSync(f.ca, "utf8");
    return { ...s, dir, binaries, injectUrl: `https://127.0.0.1:${s.ports.webhook}/inject`, caPem, caBundle: Buffer.from(caPem).toString("base64"), logPath: f.log, alreadyRunning };
  };
  if (known && isOurProcess(known.pid, known.binary, dir)) {
    const fresh = Date.now() - Date.parse(known.startedAt) < MAX_AGE_MS;
    const sameCluster = known.server === cluster.server && known.clusterStartedPid === cluster.pids.apiserver && known.version === binaries.version;
    if (fresh && sameCluster && existsSync(f.webhook) && (await httpStatus(`http://127.0.0.1:${known.ports.http}/ready`)) === 200) {
      // Another test may have replaced or deleted the configuration of that name
      // (istio-order.test.ts registers a stand-in injector as istio-sidecar-injector).
      await ensureInjectorConfiguration(await adminKubeConfig(), JSON.parse(readFileSync(f.webhook, "utf8")) as K8sObject);
      return info(known, true);
    }
  }
  if (known) await stopProcess(known.pid, known.binary, dir);
  rmSync(f.state, { force: true });

  const admin = await adminKubeConfig();
  const ports: IstiodPorts = { http: await freePort(), grpc: await freePort(), secureGrpc: await freePort(), monitoring: await freePort(), webhook: await freePort() };

  // istiod's serving certificate: valid for 127.0.0.1 and its in-cluster names.
  mkdirSync(join(dir, "pki"), { recursive: true });
  const ca = createCertificateAuthority({ commonName: "hookpoint e2e istiod CA" });
  const serving = createServingCertificate({
    ca,
    commonName: "istiod.istio-system.svc",
    dnsNames: ["istiod.istio-system.svc", "istiod.istio-system.svc.cluster.local", "istiod", "localhost"],
    ipAddresses: ["127.0.0.1"],
  });
  writeFileSync(f.ca, ca.certPem);
  writeFileSync(f.cert, serving.certPem);
  writeFileSync(f.key, serving.keyPem, { mode: 0o600 });
  const caBundle = Buffer.from(ca.certPem).toString("base64");

  const rendered = renderIstio(binaries.istioctl, { injectionUrl: `https://127.0.0.1:${ports.webhook}/inject`, caBundle, set: ISTIOD_VALUES });
  ok(await apply(admin, { apiVersion: "v1", kind: "Namespace", metadata: { name: ISTIO_NAMESPACE } }), `apply Namespace ${ISTIO_NAMESPACE}`);
  const objs = [...gatewayApiCrds(binaries.gatewayApiCrds), ...appliedObjects(rendered)];
  writeFileSync(f.webhook, JSON.stringify(findObject(rendered, "MutatingWebhookConfiguration", ISTIO_INJECTOR_CONFIGURATION)));
  for (const crd of objs.filter((o) => o.kind === "CustomResourceDefinition")) await applyCrd(admin, crd);
  for (const o of objs.filter((o) => o.kind !== "CustomResourceDefinition")) ok(await applyServed(admin, o), `apply ${o.kind} ${o.metadata.name}`);

  mkdirSync(join(dir, "etc", "istio", "config"), { recursive: true });
  writeFileSync(f.mesh, meshConfig(rendered));
  const sa = await serviceAccountKubeConfig(ISTIO_NAMESPACE, "istiod", { expirationSeconds: 24 * 3600 });
  const env = istiodEnvironment(rendered, { podName: "istiod-local", cpus: 2 });
  const args = [
    "discovery",
    `--kubeconfig=${sa.kubeconfigPath}`,
    `--meshConfig=${f.mesh}`,
    `--httpAddr=127.0.0.1:${ports.http}`,
    `--grpcAddr=127.0.0.1:${ports.grpc}`,
    `--secureGRPCAddr=127.0.0.1:${ports.secureGrpc}`,
    `--monitoringAddr=127.0.0.1:${ports.monitoring}`,
    `--httpsAddr=127.0.0.1:${ports.webhook}`,
    `--tlsCertFile=${f.cert}`,
    `--tlsKeyFile=${f.key}`,
    `--caCertFile=${f.ca}`,
    "--domain=cluster.local",
    "--log_output_level=default:info",
  ];
  const child = startDaemon(binaries.pilotDiscovery, args, f.log, { cwd: dir, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, ...env } });
  const pid = child.pid;
  child.unref();
  if (pid === undefined) throw new Error(`cannot start ${binaries.pilotDiscovery}`);
  try {
    await pollUntil(
      async () => {
        if (!isOurProcess(pid, binaries.pilotDiscovery, dir)) throw new Error("istiod exited during start-up");
        return httpStatus(`http://127.0.0.1:${ports.http}/ready`);
      },
      (s) => s === 200,
      { what: `istiod ready (http://127.0.0.1:${ports.http}/ready)`, timeoutMs: ISTIOD_READY_MS, intervalMs: 200 },
    );
  } catch (e) {
    await stopProcess(pid, binaries.pilotDiscovery, dir);
    throw new Error(`${(e as Error).message}\n--- ${f.log} ---\n${logTail(f.log, 30)}`);
  }
  const state: IstiodState = { version: binaries.version, pid, binary: binaries.pilotDiscovery, ports, server: cluster.server, clusterStartedPid: cluster.pids.apiserver, startedAt: new Date().toISOString() };
  writeFileSync(f.state, JSON.stringify(state, null, 2) + "\n");
  return info(state, false);
}

/** Istio's injector configuration as rendered, re-applied unless it is there unchanged. */
async function ensureInjectorConfiguration(admin: Awaited<ReturnType<typeof adminKubeConfig>>, mwc: K8sObject): Promise<void> {
  const res = await kubeRequest<K8sObject>(admin, { method: "GET", path: `/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/${mwc.metadata.name}` });
  const urls = (o: K8sObject) => JSON.stringify((o.webhooks as { clientConfig: { url?: string } }[] | undefined)?.map((w) => w.clientConfig.url));
  if (res.status === 200 && urls(res.body) === urls(mwc) && (res.body.webhooks as unknown[]).length === (mwc.webhooks as unknown[]).length) return;
  await remove(admin, mwc);
  ok(await apply(admin, mwc), `apply MutatingWebhookConfiguration ${mwc.metadata.name}`);
}

/** Stops the istiod of the local cluster directory, if one runs; true when it did. */
export async function stopIstiod(clusterDir = layout().dir): Promise<boolean> {
  const dir = istioDir(clusterDir);
  const s = readIstiodState(dir);
  if (!s) return false;
  const running = isOurProcess(s.pid, s.binary, dir);
  await stopProcess(s.pid, s.binary, dir);
  rmSync(files(dir).state, { force: true });
  current = undefined;
  return running;
}

/** The running istiod's state without starting anything. */
export function istiodStatus(clusterDir = layout().dir): IstiodState | undefined {
  const dir = istioDir(clusterDir);
  const s = readIstiodState(dir);
  return s && isOurProcess(s.pid, s.binary, dir) ? s : undefined;
}

export function istiodLogTail(clusterDir = layout().dir, lines = 40): string {
  return existsSync(files(istioDir(clusterDir)).log) ? logTail(files(istioDir(clusterDir)).log, lines) : "";
}

export type { K8sObject };
