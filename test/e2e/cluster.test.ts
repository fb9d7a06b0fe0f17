// Smoke test of the local e2e cluster: a real kube-apiserver on a real etcd stores
// pods, enforces RBAC and runs PodSecurity admission; `cluster up/down` are
// idempotent and fail with one clear line.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { AuthenticationV1Api, CoreV1Api, KubeConfig, RbacAuthorizationV1Api, type V1Pod } from "@kubernetes/client-node";
import { down, status, up } from "../../scripts/cluster/control.js";
import { layout, readState, REPO_ROOT } from "../../scripts/cluster/layout.js";
import { refusal } from "./support/api.js";
import { serviceAccountKubeConfig } from "./support/cluster.js";
import { useCluster } from "./support/e2e.js";

const e2e = useCluster();
const PAUSE = "registry.k8s.io/pause:3.10";

function pod(name: string, container: Record<string, unknown> = {}): V1Pod {
  return { metadata: { name, labels: { app: name } }, spec: { containers: [{ name: "app", image: PAUSE, ...container }] } };
}

const tsx = join(REPO_ROOT, "node_modules", ".bin", "tsx");
const clusterCli = (args: string[], env: NodeJS.ProcessEnv = process.env) =>
  spawnSync(tsx, [join(REPO_ROOT, "scripts", "cluster", "cluster.ts"), ...args], { cwd: REPO_ROOT, env, encoding: "utf8", timeout: 180_000 });

const tempDirs: string[] = [];
function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), `hookpoint-${prefix}-`));
  tempDirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of tempDirs) {
    // Go's module cache is read-only on purpose.
    spawnSync("chmod", ["-R", "u+w", d]);
    rmSync(d, { recursive: true, force: true });
  }
});

describe("local cluster: API server and etcd", () => {
  it("stores a Pod created by the admin and reads it back exactly as stored", async (ctx) => {
    const { admin } = e2e.require(ctx);
    const core = admin.makeApiClient(CoreV1Api);
    const ns = await e2e.namespace("smoke");

    const created = await core.createNamespacedPod({ namespace: ns, body: pod("web") });
    const read = await core.readNamespacedPod({ namespace: ns, name: "web" });

    expect(read).toEqual(created);
    expect(read.metadata?.namespace).toBe(ns);
    expect(read.metadata?.labels).toEqual({ app: "web" });
    // Defaults and the ServiceAccount admission plugin's token volume, as on any cluster.
    const volume = read.spec?.volumes?.[0]?.name ?? "";
    expect(volume).toMatch(/^kube-api-access-[a-z0-9]{5}$/);
    expect(read.spec?.containers).toEqual([
      {
        name: "app",
        image: PAUSE,
        imagePullPolicy: "IfNotPresent",
        resources: {},
        terminationMessagePath: "/dev/termination-log",
        terminationMessagePolicy: "File",
        volumeMounts: [{ name: volume, mountPath: "/var/run/secrets/kubernetes.io/serviceaccount", readOnly: true }],
      },
    ]);
    expect(read.spec?.serviceAccountName).toBe("default");
    expect(read.spec?.restartPolicy).toBe("Always");
    expect(read.spec?.schedulerName).toBe("default-scheduler");
    // No kubelet and no scheduler: the pod is stored, never run.
    expect(read.spec?.nodeName).toBeUndefined();
    expect(read.status?.phase).toBe("Pending");
  });

  it("runs RBAC: a ServiceAccount without grants is authenticated but may not list namespaces", async (ctx) => {
    const { admin } = e2e.require(ctx);
    const ns = await e2e.namespace("rbac");
    const sa = await serviceAccountKubeConfig(ns, "no-grants");
    expect(sa.username).toBe(`system:serviceaccount:${ns}:no-grants`);

    // The token from the TokenRequest API authenticates (the file works as well as the object).
    const fromFile = new KubeConfig();
    fromFile.loadFromFile(sa.kubeconfigPath);
    const review = await fromFile.makeApiClient(AuthenticationV1Api).createSelfSubjectReview({ body: {} });
    expect(review.status?.userInfo?.username).toBe(sa.username);
    expect(review.status?.userInfo?.groups).toEqual(["system:serviceaccounts", `system:serviceaccounts:${ns}`, "system:authenticated"]);

    const denied = await refusal(sa.kubeConfig.makeApiClient(CoreV1Api).listNamespace());
    expect(denied).toEqual({
      code: 403,
      reason: "Forbidden",
      message: `namespaces is forbidden: User "${sa.username}" cannot list resource "namespaces" in API group "" at the cluster scope`,
    });

    // A Role grants exactly what it says: pods in this namespace, still no namespaces.
    const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({ namespace: ns, body: { metadata: { name: "pod-reader" }, rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["list"] }] } });
    await rbac.createNamespacedRoleBinding({
      namespace: ns,
      body: {
        metadata: { name: "pod-reader" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "pod-reader" },
        subjects: [{ kind: "ServiceAccount", name: "no-grants", namespace: ns }],
      },
    });
    const pods = await sa.kubeConfig.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: ns });
    expect(pods.items).toEqual([]);
    expect((await refusal(sa.kubeConfig.makeApiClient(CoreV1Api).listNamespace())).code).toBe(403);
  });

  it("runs PodSecurity admission: enforce=baseline rejects a privileged pod that an unlabelled namespace accepts", async (ctx) => {
    const { admin } = e2e.require(ctx);
    const core = admin.makeApiClient(CoreV1Api);
    const baseline = await e2e.namespace("psa-baseline", { labels: { "pod-security.kubernetes.io/enforce": "baseline" } });
    const open = await e2e.namespace("psa-open");
    const privileged = pod("privileged", { securityContext: { privileged: true } });

    const rejected = await refusal(core.createNamespacedPod({ namespace: baseline, body: privileged }));
    expect(rejected).toEqual({
      code: 403,
      reason: "Forbidden",
      message: 'pods "privileged" is forbidden: violates PodSecurity "baseline:latest": privileged (container "app" must not set securityContext.privileged=true)',
    });

    // --allow-privileged is on: without the label the same pod is stored as sent.
    const stored = await core.createNamespacedPod({ namespace: open, body: privileged });
    expect(stored.spec?.containers[0]?.securityContext).toEqual({ privileged: true });
  });
});

describe("local cluster: cluster up / down", () => {
  it("`cluster up` on a running cluster reports it and starts nothing", async (ctx) => {
    const { cluster } = e2e.require(ctx);
    const r = clusterCli(["up"]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(`already running: ${cluster.server}\nexport KUBECONFIG=${cluster.kubeconfigPath}\n`);
    expect(r.status).toBe(0);
    expect((await status())?.pids).toEqual(cluster.pids);
  });

  it("up twice is one cluster, down stops it and removes its state, down again is fine", async (ctx) => {
    e2e.require(ctx); // the binaries exist
    const dir = tempDir("cluster");
    const lines: string[] = [];
    const first = await up({ dir, log: (l) => lines.push(l) });
    try {
      expect(first.alreadyRunning).toBe(false);
      const ports = readState(layout(dir))?.ports;
      expect(first.server).toBe(`https://127.0.0.1:${ports?.apiserver}`);
      expect(lines).toEqual([
        `starting etcd on 127.0.0.1:${ports?.etcdClient} (log ${join(dir, "etcd.log")})`,
        `starting kube-apiserver on ${first.server} (log ${join(dir, "kube-apiserver.log")})`,
        expect.stringMatching(/^ready in \d+\.\d s$/),
      ]);
      const second = await up({ dir, log: (l) => lines.push(l) });
      expect(second).toEqual({ ...first, alreadyRunning: true });
      expect(lines).toHaveLength(3);

      const kc = new KubeConfig();
      kc.loadFromFile(first.kubeconfigPath);
      const names = (await kc.makeApiClient(CoreV1Api).listNamespace()).items.map((n) => n.metadata?.name);
      expect(names.sort()).toEqual(["default", "kube-node-lease", "kube-public", "kube-system"]);
    } finally {
      expect(await down({ dir })).toEqual({ stopped: true });
    }
    expect(runsFor(first.pids.apiserver, dir)).toBe(false);
    expect(runsFor(first.pids.etcd, dir)).toBe(false);
    expect(readdirSync(dir).sort()).toEqual(["etcd.log", "kube-apiserver.log"]);
    expect(await down({ dir })).toEqual({ stopped: false });
    expect(await status({ dir })).toBeUndefined();
  });

  it("up restarts a running cluster whose kube-apiserver runs with other arguments than up would give it", async (ctx) => {
    e2e.require(ctx); // the binaries exist
    const dir = tempDir("cluster-args");
    const first = await up({ dir, log: () => undefined });
    const lines: string[] = [];
    try {
      // As if a checkout changed the arguments since the start: the ones up derives from the
      // recorded state (here its etcd port) are not those the process runs with.
      const l = layout(dir);
      const state = readState(l);
      if (!state) throw new Error("no state recorded");
      writeFileSync(l.state, JSON.stringify({ ...state, ports: { ...state.ports, etcdClient: state.ports.etcdClient + 1 } }));
      const second = await up({ dir, log: (line) => lines.push(line) });
      expect(second.alreadyRunning).toBe(false);
      expect(lines[0]).toBe("stopped the running cluster: its kube-apiserver runs with other arguments than this checkout gives it");
      expect(runsFor(first.pids.apiserver, dir)).toBe(false);
      expect(runsFor(second.pids.apiserver, dir)).toBe(true);
      expect(await up({ dir, log: (line) => lines.push(line) })).toEqual({ ...second, alreadyRunning: true });
    } finally {
      expect(await down({ dir })).toEqual({ stopped: true });
    }
  });

  it("a taken --port is one clear line and exit code 1", async () => {
    const dir = tempDir("port");
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = clusterCli(["--dir", dir, "up", "--port", String(port)]);
      expect(r.stderr).toBe(`hookpoint cluster: port 127.0.0.1:${port} is taken; choose another --port or stop what listens there\n`);
      expect(r.stdout).toBe("");
      expect(r.status).toBe(1);
    } finally {
      blocker.close();
    }
  });

  it("a binary that dies during start-up is one line plus the tail of its log, exit code 1", () => {
    const dir = tempDir("crash");
    const cache = join(dir, "cache");
    // Stand-ins at the cached paths: etcd fails the way a real one does on a bad flag.
    const paths = Object.fromEntries(
      spawnSync("bash", [join(REPO_ROOT, "scripts", "cluster", "build.sh"), "--print-paths"], { encoding: "utf8", env: { ...process.env, HOOKPOINT_CACHE: cache } })
        .stdout.trim().split("\n").map((l) => l.split("=") as [string, string]),
    );
    mkdirSync(join(cache, "bin"), { recursive: true });
    writeFileSync(paths.etcd ?? "", '#!/bin/sh\necho "starting"\necho "fatal: listener failed: simulated" >&2\nexit 1\n', { mode: 0o755 });
    writeFileSync(paths["kube-apiserver"] ?? "", "#!/bin/sh\nexit 0\n", { mode: 0o755 });

    const r = clusterCli(["--dir", join(dir, "cluster"), "up"], { ...process.env, HOOKPOINT_CACHE: cache });
    const log = join(dir, "cluster", "etcd.log");
    expect(r.stderr.replace(/127\.0\.0\.1:\d+/, "127.0.0.1:PORT")).toBe(
      `[hookpoint cluster] starting etcd on 127.0.0.1:PORT (log ${log})\n` +
        `hookpoint cluster: etcd exited (code 1) during start-up; last lines of ${log}:\n` +
        "  | starting\n  | fatal: listener failed: simulated\n",
    );
    expect(r.stdout).toBe("");
    expect(r.status).toBe(1);
    expect(readdirSync(join(dir, "cluster")).includes("state.json")).toBe(false);
  });

  it("without Go and without cached binaries, `cluster up` says so in one line and exits 2", () => {
    const dir = tempDir("nogo");
    const r = clusterCli(["--dir", dir, "up"], { ...process.env, HOOKPOINT_CACHE: join(dir, "cache"), HOOKPOINT_GO: "/nonexistent/go" });
    expect(r.stderr).toBe(
      'hookpoint cluster: Go is not installed ("/nonexistent/go" not found); it is needed once to build kube-apiserver and etcd for the e2e tests (install Go >= 1.24)\n',
    );
    expect(r.status).toBe(2);
  });

  it("without network to the module proxy, the build says so in one line and exits 2", (ctx) => {
    const go = process.env.HOOKPOINT_GO ?? "go";
    if (spawnSync(go, ["version"]).status !== 0) ctx.skip(`Go is not installed on this machine ("${go}" does not run)`);
    const dir = tempDir("noproxy");
    const r = spawnSync("bash", [join(REPO_ROOT, "scripts", "cluster", "build.sh")], {
      encoding: "utf8",
      timeout: 120_000,
      // Port 9 (discard) on loopback refuses the connection at once.
      env: { ...process.env, HOOKPOINT_CACHE: join(dir, "cache"), GOMODCACHE: join(dir, "gomod"), GOPROXY: "http://127.0.0.1:9", GONOSUMDB: "", GOPRIVATE: "" },
    });
    const last = r.stderr.trimEnd().split("\n").pop();
    expect(last).toMatch(/^hookpoint cluster: cannot download Go modules from the module proxy \(http:\/\/127\.0\.0\.1:9\): .*connect: connection refused/);
    expect(r.status).toBe(2);
  });
});

/** Whether `pid` is (still) a process whose command line names `dir`. */
function runsFor(pid: number, dir: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").some((a) => a.includes(dir));
  } catch {
    return false;
  }
}
