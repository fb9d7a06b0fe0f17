// up / down / status of the local test cluster: etcd and kube-apiserver on
// 127.0.0.1 with mutual TLS, RBAC and the admission plugins hookpoint depends on.
// No kubelet and no controller-manager: pods stay Pending, namespaces are not
// finalized, ServiceAccounts are not created for new namespaces.
import type { ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { ensureBinaries, type Binaries } from "./binaries.js";
import { kubeconfigYaml } from "./kubeconfig.js";
import { ClusterError, layout, readState, REPO_ROOT, type ClusterState, type Layout } from "./layout.js";
import { withLock } from "./lock.js";
import { createClusterPki, type PkiFiles } from "./pki.js";
import { apiserverReady, etcdHealthy, type ClientTls } from "./probe.js";
import { commandLine, freePort, isOurProcess, logTail, portTaken, startDaemon, stopProcess } from "./processes.js";

export const ADMISSION_PLUGINS = [
  "NamespaceLifecycle",
  "LimitRanger",
  "ServiceAccount",
  "PodSecurity",
  "MutatingAdmissionWebhook",
  "ValidatingAdmissionWebhook",
  "ValidatingAdmissionPolicy",
  "ResourceQuota",
] as const;
export const SERVICE_CIDR = "10.96.0.0/12";
export const SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc.cluster.local";
const ETCD_START_MS = 30_000;
const APISERVER_START_MS = 120_000;
const RUNNING_PATIENCE_MS = 30_000;

export interface ClusterOptions {
  /** Cluster directory (default: .cluster in the repository). */
  dir?: string;
  /** A fixed kube-apiserver port instead of a free one. */
  apiserverPort?: number;
  /** Environment for build.sh (HOOKPOINT_CACHE, HOOKPOINT_GO, GOPROXY, ...). */
  env?: NodeJS.ProcessEnv;
  /** Progress lines (default: stderr). */
  log?: (line: string) => void;
}

export interface ClusterInfo {
  dir: string;
  /** Admin kubeconfig (client certificate in group system:masters). */
  kubeconfigPath: string;
  server: string;
  caPem: string;
  pids: ClusterState["pids"];
  /** True when `up` found this cluster already running. */
  alreadyRunning: boolean;
}

const defaultLog = (line: string) => process.stderr.write(`[hookpoint cluster] ${line}\n`);
/** Paths in messages: relative inside the repository, absolute elsewhere. */
const show = (path: string) => {
  const rel = relative(REPO_ROOT, path);
  return rel && !rel.startsWith("..") ? rel : path;
};

function adminTls(l: Layout): ClientTls {
  const read = (f: string) => readFileSync(join(l.pki, f), "utf8");
  return { ca: read("ca.crt"), cert: read("admin.crt"), key: read("admin.key") };
}

function info(l: Layout, s: ClusterState, alreadyRunning: boolean): ClusterInfo {
  const caPem = readFileSync(join(l.pki, "ca.crt"), "utf8");
  return { dir: l.dir, kubeconfigPath: l.kubeconfig, server: s.server, caPem, pids: s.pids, alreadyRunning };
}

/**
 * The cluster recorded in `l`, if both processes run and the apiserver is ready.
 * A busy machine may answer /readyz slowly: processes that run get `patienceMs`
 * before they count as unhealthy (and get restarted).
 */
async function running(l: Layout, patienceMs = 0): Promise<ClusterState | undefined> {
  const s = readState(l);
  if (!s) return undefined;
  let tls: ClientTls;
  try {
    tls = adminTls(l);
  } catch {
    return undefined;
  }
  const deadline = Date.now() + patienceMs;
  for (;;) {
    if (!isOurProcess(s.pids.etcd, s.binaries.etcd, l.dir) || !isOurProcess(s.pids.apiserver, s.binaries.apiserver, l.dir)) return undefined;
    if (await apiserverReady(s.ports.apiserver, tls)) return s;
    if (Date.now() >= deadline) return undefined;
    await sleep(500);
  }
}

/** Whether the running kube-apiserver has the arguments `start` gives it now (a checkout may have changed them). */
function startedAsNow(l: Layout, s: ClusterState): boolean {
  const argv = commandLine(s.pids.apiserver);
  return argv !== undefined && JSON.stringify(argv.slice(1)) === JSON.stringify(apiserverArgs(l, s.ports.apiserver, s.ports.etcdClient));
}

async function stopRecorded(l: Layout): Promise<boolean> {
  const s = readState(l);
  if (!s) return false;
  const wasRunning = isOurProcess(s.pids.apiserver, s.binaries.apiserver, l.dir) || isOurProcess(s.pids.etcd, s.binaries.etcd, l.dir);
  await stopProcess(s.pids.apiserver, s.binaries.apiserver, l.dir);
  await stopProcess(s.pids.etcd, s.binaries.etcd, l.dir);
  return wasRunning;
}

/** Everything but the logs: a new `up` starts from a clean slate. */
function removeState(l: Layout): void {
  for (const p of [l.state, l.kubeconfig, l.pki, l.etcdData, l.serviceAccounts]) rmSync(p, { recursive: true, force: true });
}

function writePki(l: Layout, files: PkiFiles): void {
  mkdirSync(l.pki, { recursive: true, mode: 0o700 });
  for (const [name, pem] of Object.entries(files)) writeFileSync(join(l.pki, name), pem, { mode: 0o600 });
}

function etcdArgs(l: Layout, client: number, peer: number): string[] {
  const p = (f: string) => join(l.pki, f);
  const peerUrl = `http://127.0.0.1:${peer}`;
  return [
    "--name=hookpoint",
    `--data-dir=${l.etcdData}`,
    `--listen-client-urls=https://127.0.0.1:${client}`,
    `--advertise-client-urls=https://127.0.0.1:${client}`,
    `--listen-peer-urls=${peerUrl}`,
    `--initial-advertise-peer-urls=${peerUrl}`,
    `--initial-cluster=hookpoint=${peerUrl}`,
    "--initial-cluster-state=new",
    `--cert-file=${p("etcd-server.crt")}`,
    `--key-file=${p("etcd-server.key")}`,
    `--trusted-ca-file=${p("ca.crt")}`,
    "--client-cert-auth=true",
    // A throw-away test store: losing it in a power cut costs nothing, fsync costs seconds.
    "--unsafe-no-fsync=true",
    "--log-level=warn",
  ];
}

function apiserverArgs(l: Layout, port: number, etcdClient: number): string[] {
  const p = (f: string) => join(l.pki, f);
  return [
    "--bind-address=127.0.0.1",
    "--advertise-address=127.0.0.1",
    `--secure-port=${port}`,
    `--cert-dir=${l.pki}`,
    `--tls-cert-file=${p("apiserver.crt")}`,
    `--tls-private-key-file=${p("apiserver.key")}`,
    `--client-ca-file=${p("ca.crt")}`,
    `--etcd-servers=https://127.0.0.1:${etcdClient}`,
    `--etcd-cafile=${p("ca.crt")}`,
    `--etcd-certfile=${p("apiserver-etcd-client.crt")}`,
    `--etcd-keyfile=${p("apiserver-etcd-client.key")}`,
    "--authorization-mode=Node,RBAC",
    `--enable-admission-plugins=${ADMISSION_PLUGINS.join(",")}`,
    // hookpoint's whole point is a privileged proxy container; the default (false) rejects it.
    "--allow-privileged=true",
    `--service-cluster-ip-range=${SERVICE_CIDR}`,
    `--service-account-issuer=${SERVICE_ACCOUNT_ISSUER}`,
    `--service-account-key-file=${p("sa.pub")}`,
    `--service-account-signing-key-file=${p("sa.key")}`,
    // Endpoints may not hold a loopback address, and nothing here needs the "kubernetes" Service's endpoints.
    "--endpoint-reconciler-type=none",
    // A webhook's clientConfig.service is called at one of the Service's ready endpoints
    // (its EndpointSlices) rather than at its ClusterIP, which nothing routes here (no
    // kube-proxy). Only configurations naming a Service are affected: every webhook the
    // e2e tests register by clientConfig.url is called as before, and no APIService exists.
    "--enable-aggregator-routing=true",
    "--profiling=false",
  ];
}

class PortRace extends ClusterError {}

/** Polls `ready` until it holds; a daemon that exits or never gets ready is a ClusterError with its log tail. */
async function waitReady(name: string, child: ChildProcess, logPath: string, port: number, timeoutMs: number, ready: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
      await sleep(100); // let the last log lines land
      const tail = logTail(logPath);
      const how = child.pid === undefined ? "could not be started" : `exited (${child.signalCode ?? `code ${child.exitCode}`}) during start-up`;
      if (/address already in use/i.test(tail)) throw new PortRace(`${name} could not listen: a port was taken (127.0.0.1:${port} or its peer port); last lines of ${show(logPath)}:`, tail);
      throw new ClusterError(`${name} ${how}; last lines of ${show(logPath)}:`, tail);
    }
    if (await ready()) return;
    if (Date.now() > deadline) throw new ClusterError(`${name} was not ready within ${timeoutMs / 1000} s; last lines of ${show(logPath)}:`, logTail(logPath));
    await sleep(250);
  }
}

async function distinctFreePorts(n: number, taken: ReadonlySet<number>): Promise<number[]> {
  const out: number[] = [];
  while (out.length < n) {
    const p = await freePort();
    if (!taken.has(p) && !out.includes(p)) out.push(p);
  }
  return out;
}

async function start(l: Layout, bins: Binaries, apiserverPort: number | undefined, log: (line: string) => void): Promise<ClusterState> {
  removeState(l);
  mkdirSync(l.dir, { recursive: true });
  // The last run's logs may explain why it died; keep one generation.
  for (const log of [l.etcdLog, l.apiserverLog]) if (existsSync(log)) renameSync(log, log.replace(/\.log$/, ".previous.log"));
  const pki = createClusterPki();
  writePki(l, pki);
  const tls: ClientTls = { ca: pki["ca.crt"], cert: pki["admin.crt"], key: pki["admin.key"] };
  const apiPort = apiserverPort ?? (await freePort());
  const [etcdClient = 0, etcdPeer = 0] = await distinctFreePorts(2, new Set([apiPort]));

  log(`starting etcd on 127.0.0.1:${etcdClient} (log ${show(l.etcdLog)})`);
  const etcd = startDaemon(bins.etcd, etcdArgs(l, etcdClient, etcdPeer), l.etcdLog);
  let apiserver: ChildProcess | undefined;
  try {
    const etcdTls = { ...tls, cert: pki["apiserver-etcd-client.crt"], key: pki["apiserver-etcd-client.key"] };
    await waitReady("etcd", etcd, l.etcdLog, etcdClient, ETCD_START_MS, () => etcdHealthy(etcdClient, etcdTls));
    log(`starting kube-apiserver on https://127.0.0.1:${apiPort} (log ${show(l.apiserverLog)})`);
    apiserver = startDaemon(bins.apiserver, apiserverArgs(l, apiPort, etcdClient), l.apiserverLog);
    await waitReady("kube-apiserver", apiserver, l.apiserverLog, apiPort, APISERVER_START_MS, () => apiserverReady(apiPort, tls));
  } catch (e) {
    if (apiserver?.pid !== undefined) await stopProcess(apiserver.pid, bins.apiserver, l.dir);
    if (etcd.pid !== undefined) await stopProcess(etcd.pid, bins.etcd, l.dir);
    throw e;
  }
  // Let this process exit while the daemons keep running.
  etcd.unref();
  apiserver.unref();
  const state: ClusterState = {
    server: `https://127.0.0.1:${apiPort}`,
    ports: { apiserver: apiPort, etcdClient, etcdPeer },
    pids: { etcd: etcd.pid ?? 0, apiserver: apiserver.pid ?? 0 },
    binaries: { etcd: bins.etcd, apiserver: bins.apiserver },
    startedAt: new Date().toISOString(),
  };
  writeFileSync(
    l.kubeconfig,
    kubeconfigYaml({ name: "hookpoint-local", server: state.server, caPem: tls.ca, credentials: { clientCertificatePem: tls.cert, clientKeyPem: tls.key } }),
    { mode: 0o600 },
  );
  writeFileSync(l.state, JSON.stringify(state, null, 2) + "\n", { mode: 0o600 });
  return state;
}

/** Starts the cluster, or returns the one already running (idempotent). */
export async function up(opts: ClusterOptions = {}): Promise<ClusterInfo> {
  const l = layout(opts.dir);
  const log = opts.log ?? defaultLog;
  mkdirSync(l.dir, { recursive: true });
  return withLock(l.lock, async () => {
    const current = await running(l, RUNNING_PATIENCE_MS);
    if (current && startedAsNow(l, current)) return info(l, current, true);
    if (current) {
      await stopRecorded(l);
      log("stopped the running cluster: its kube-apiserver runs with other arguments than this checkout gives it");
    } else if (await stopRecorded(l)) log("stopped the remains of a cluster that was not healthy");
    if (opts.apiserverPort !== undefined && (await portTaken(opts.apiserverPort))) {
      throw new ClusterError(`port 127.0.0.1:${opts.apiserverPort} is taken; choose another --port or stop what listens there`);
    }
    const bins = await ensureBinaries(opts.env);
    const started = Date.now();
    let state: ClusterState;
    try {
      state = await start(l, bins, opts.apiserverPort, log);
    } catch (e) {
      // A free port picked by us can be grabbed by someone else before the daemon binds it: retry once.
      if (!(e instanceof PortRace) || opts.apiserverPort !== undefined) throw e;
      log("a port was taken meanwhile; retrying with other ports");
      state = await start(l, bins, undefined, log);
    }
    log(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return info(l, state, false);
  }, (owner) => log(`waiting for another cluster:up/down (pid ${owner}) to finish`));
}

/** Stops the cluster and removes its state (logs stay). Fine when none runs. */
export async function down(opts: Pick<ClusterOptions, "dir" | "log"> = {}): Promise<{ stopped: boolean }> {
  const l = layout(opts.dir);
  mkdirSync(l.dir, { recursive: true });
  return withLock(l.lock, async () => {
    const stopped = await stopRecorded(l);
    removeState(l);
    return { stopped };
  }, (owner) => (opts.log ?? defaultLog)(`waiting for another cluster:up/down (pid ${owner}) to finish`));
}

/** The running cluster, or undefined. Never starts or builds anything. */
export async function status(opts: Pick<ClusterOptions, "dir"> = {}): Promise<ClusterInfo | undefined> {
  const l = layout(opts.dir);
  const s = await running(l);
  return s ? info(l, s, true) : undefined;
}
