// Where the local cluster keeps its files, and the state record that `up` writes
// and `down`/`status`/the e2e harness read.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** Gitignored; one cluster per directory. */
export const DEFAULT_CLUSTER_DIR = join(REPO_ROOT, ".cluster");
export const BUILD_SCRIPT = join(REPO_ROOT, "scripts", "cluster", "build.sh");

export interface Layout {
  dir: string;
  pki: string;
  etcdData: string;
  kubeconfig: string;
  state: string;
  lock: string;
  etcdLog: string;
  apiserverLog: string;
  /** ServiceAccount kubeconfigs minted by the e2e harness. */
  serviceAccounts: string;
}

export function layout(dir: string = DEFAULT_CLUSTER_DIR): Layout {
  const d = resolve(dir);
  return {
    dir: d,
    pki: join(d, "pki"),
    etcdData: join(d, "etcd-data"),
    kubeconfig: join(d, "kubeconfig"),
    state: join(d, "state.json"),
    lock: join(d, "lock"),
    etcdLog: join(d, "etcd.log"),
    apiserverLog: join(d, "kube-apiserver.log"),
    serviceAccounts: join(d, "serviceaccounts"),
  };
}

export interface ClusterState {
  server: string;
  ports: { apiserver: number; etcdClient: number; etcdPeer: number };
  pids: { etcd: number; apiserver: number };
  binaries: { etcd: string; apiserver: string };
  startedAt: string;
}

/** The recorded state, or undefined when there is none or it is unreadable. */
export function readState(l: Layout): ClusterState | undefined {
  if (!existsSync(l.state)) return undefined;
  try {
    const s = JSON.parse(readFileSync(l.state, "utf8")) as Partial<ClusterState>;
    if (typeof s.server !== "string" || !s.ports || !s.pids || !s.binaries) return undefined;
    return s as ClusterState;
  } catch {
    return undefined;
  }
}

/** A step of `up` failed: `message` is the one line to show, `details` what explains it (a log tail). */
export class ClusterError extends Error {
  constructor(message: string, readonly details: string = "", readonly exitCode: number = 1) {
    super(message);
    this.name = "ClusterError";
  }
}

/** The binaries cannot be built on this machine (no Go, Go too old, no module proxy). */
export class ClusterUnavailableError extends ClusterError {
  constructor(message: string) {
    super(message, "", 2);
    this.name = "ClusterUnavailableError";
  }
}
