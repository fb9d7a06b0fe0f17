// `hookpoint status` and `hookpoint collect` through the real API server's pod proxy.
// The "pods" are Pod objects whose status (Running, podIP) the test sets; their agents run
// in a network namespace the test creates, at those pod IPs: two status servers of the
// agent's own code with a chosen /status, and one real `hookpoint agent` in front of
// `sleep`. The CLI runs as a ServiceAccount bound to deploy/examples' collector ClusterRole.
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AppsV1Api, RbacAuthorizationV1Api, type KubeConfig, type V1ClusterRole } from "@kubernetes/client-node";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AgentStatus } from "../../src/agent/status/types.js";
import type { Manifest } from "../../src/collect/manifest.js";
import { DEFAULT_SCRIPT_NAMES } from "../../src/defaults.js";
import { agentStatus as agentStatusAt, traceStatus } from "../support/agent-status.js";
import { repoRoot, runCliAsync } from "../support/cli.js";
import { mapRecord, recordLine, writeRecords } from "../support/records.js";
import { serviceAccountKubeConfig } from "./support/cluster.js";
import { useCluster } from "./support/e2e.js";
import { kubeRequest, ok } from "./support/kube-http.js";
import { createPodNetwork, type PodNetwork } from "./support/netns.js";
import { pollUntil } from "./support/poll.js";

const e2e = useCluster();

const work = mkdtempSync(join(tmpdir(), "hookpoint-collect-e2e-"));
let net: PodNetwork | string = "the network namespace was not set up";

beforeAll(() => {
  net = createPodNetwork(3);
});
afterAll(async () => {
  if (typeof net !== "string") await net.close();
  rmSync(work, { recursive: true, force: true });
});

const T0 = Date.parse("2026-03-01T10:00:00.000Z");
const iso = (s: number) => new Date(T0 + s * 1000).toISOString();
const agentStatus = (envoyPid: number, scripts: Partial<AgentStatus["scripts"][number]>[]): AgentStatus => agentStatusAt(envoyPid, scripts, iso);
const HASH = "5d9f8c7b6d";
const WEB_OK = `web-${HASH}-aaaaa`;
const WEB_BAD = `web-${HASH}-bbbbb`;
const ROTATE = { t0Ms: T0, stepMs: 1000, maxBytes: 200_000, keep: 3 };

/** GET on an agent inside the namespace, straight (not through the API server). */
function agentGet(host: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port: 15099, path, agent: false, timeout: 5000 }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${host}${path}: no answer in 5 s`)));
    req.on("error", reject);
    req.end();
  });
}

async function servedBytes(host: string): Promise<number> {
  const m = /^hookpoint_agent_records_served_bytes_total (\d+)$/m.exec((await agentGet(host, "/metrics")).body);
  return m ? Number(m[1]) : 0;
}

/** Every file under `dir`, relative, sorted. */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, prefix: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name), `${prefix}${e.name}/`);
      else out.push(`${prefix}${e.name}`);
    }
  };
  walk(dir, "");
  return out.sort();
}

async function grantCollector(admin: KubeConfig, ns: string): Promise<{ kubeconfigPath: string; cleanup: () => Promise<void> }> {
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  const role = parse(readFileSync(join(repoRoot, "deploy/examples/hookpoint-collector-rbac.yaml"), "utf8")) as V1ClusterRole;
  const name = `hookpoint-collector-${ns}`;
  role.metadata = { ...role.metadata, name };
  await rbac.createClusterRole({ body: role });
  await rbac.createClusterRoleBinding({
    body: { metadata: { name }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name }, subjects: [{ kind: "ServiceAccount", name: "collector", namespace: ns }] },
  });
  const sa = await serviceAccountKubeConfig(ns, "collector");
  return {
    kubeconfigPath: sa.kubeconfigPath,
    cleanup: async () => {
      await rbac.deleteClusterRoleBinding({ name });
      await rbac.deleteClusterRole({ name });
    },
  };
}

interface PodSpec {
  name: string;
  labels: Record<string, string>;
  owner?: { apiVersion: string; kind: string; name: string; uid: string };
  /** Running at this IP; undefined: left Pending. */
  ip?: string;
}

async function createTracedPod(admin: KubeConfig, ns: string, p: PodSpec): Promise<void> {
  const pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: p.name, labels: p.labels, ...(p.owner ? { ownerReferences: [{ ...p.owner, controller: true }] } : {}) },
    spec: {
      nodeName: "node-a",
      containers: [{ name: "istio-proxy", image: "hookpoint/proxy:test", env: [{ name: "HOOKPOINT_METRICS_PORT", value: "15099" }] }],
    },
  };
  ok(await kubeRequest(admin, { method: "POST", path: `/api/v1/namespaces/${ns}/pods`, body: pod }), `create pod ${p.name}`);
  if (!p.ip) return;
  const now = new Date().toISOString();
  const status = {
    status: {
      phase: "Running",
      hostIP: "192.0.2.10",
      podIP: p.ip,
      podIPs: [{ ip: p.ip }],
      startTime: now,
      conditions: [{ type: "Ready", status: "True", lastTransitionTime: now }],
      containerStatuses: [{ name: "istio-proxy", image: "hookpoint/proxy:test", imageID: "", ready: true, started: true, restartCount: 0, state: { running: { startedAt: now } } }],
    },
  };
  ok(
    await kubeRequest(admin, { method: "PATCH", path: `/api/v1/namespaces/${ns}/pods/${p.name}/status`, body: status, contentType: "application/merge-patch+json" }),
    `set the status of pod ${p.name}`,
  );
}

function startProcess(n: PodNetwork, args: string[], ready: RegExp, what: string): Promise<void> {
  const child = n.spawn(process.execPath, ["--import", "tsx", ...args], { cwd: repoRoot });
  let out = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start within 30 s: ${out.slice(-2000)}`)), 30_000);
    const seen = (d: Buffer) => {
      out += d.toString();
      if (ready.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on("data", seen);
    child.stderr!.on("data", seen);
    child.on("exit", (code) => reject(new Error(`${what} exited with ${code}: ${out.slice(-2000)}`)));
  });
}

describe("hookpoint status and collect through the pod proxy", () => {
  it("show each traced pod's tracing, collect every agent's records, resume with only the new bytes, and report the unreachable pod", async (ctx) => {
    const { admin, cluster } = e2e.require(ctx);
    if (typeof net === "string") return ctx.skip(net);
    const n = net;
    const [ipOk, ipBad, ipReal] = n.addresses as [string, string, string];
    const ns = await e2e.namespace("collect");
    // Pods stay stored after the test (nothing finalizes the namespace): delete them at
    // once, so no later client asks the API server to reach their addresses.
    ctx.onTestFinished(async () => {
      ok(await kubeRequest(admin, { method: "DELETE", path: `/api/v1/namespaces/${ns}/pods`, query: { gracePeriodSeconds: "0" } }), `delete the pods of ${ns}`);
    });

    // The agents' output directories, written through the agent's own rotating writer.
    const dirs = { ok: join(work, "agent-ok"), bad: join(work, "agent-bad"), real: join(work, "agent-real") };
    for (const d of Object.values(dirs)) mkdirSync(join(d, "programs"), { recursive: true });
    writeRecords(dirs.ok, "envoy-event-loop", 0, 1500, ROTATE);
    writeRecords(dirs.ok, "envoy-request-flow", 0, 100, { t0Ms: T0 + 500, stepMs: 2000 });
    writeFileSync(join(dirs.ok, "programs", "envoy-event-loop.bt"), "uprobe:/usr/local/bin/envoy:0x1234 { @wake = count(); }\n");
    writeFileSync(join(dirs.ok, "notes.txt"), "not a record: stays in the pod\n");
    writeRecords(dirs.bad, "envoy-event-loop", 0, 50, { t0Ms: T0, stepMs: 1000 });
    writeRecords(dirs.real, "hookpoint-pairs", 0, 30, { t0Ms: T0, stepMs: 1000 });

    const okStatus = join(work, "status-ok.json");
    // drops: 3 lost events plus 2 lost map updates; the second script's agent predates lostUpdates (left out of its JSON).
    const flowWithoutLostUpdates = { name: "envoy-request-flow", records: 80, lostEvents: 3, lostUpdates: undefined };
    // It also traces requests: 26 recorded, 2 without a record (collect keeps the counts).
    const okTrace = traceStatus({ recorded: 26, aborted: 1, timeout: 1 });
    writeFileSync(okStatus, JSON.stringify({ trace: okTrace, ...agentStatus(4242, [{ name: "envoy-event-loop", records: 120, helperErrors: 2, lostUpdates: [{ map: "@loop_wakeups", key: null, metric: "hookpoint_event_loop_wakeups_total", line: 12, reason: "concurrent-create", count: 2 }] }, flowWithoutLostUpdates as Partial<AgentStatus["scripts"][number]>]) }));
    const badStatus = join(work, "status-bad.json");
    const missing = "_ZN5Envoy4Http12ConnectionManagerImpl10onDataEv";
    writeFileSync(
      badStatus,
      JSON.stringify(
        agentStatus(5151, [
          { name: "envoy-event-loop", records: 10 },
          { name: "envoy-request-flow", state: "failed", reason: "missing-symbol", message: `envoy-request-flow: missing ${missing}`, missing: [missing], bpftracePid: null },
        ]),
      ),
    );
    const fakeBpftrace = join(work, "bpftrace");
    writeFileSync(fakeBpftrace, "#!/bin/sh\necho 'bpftrace v0.17.0'\n");
    chmodSync(fakeBpftrace, 0o755);
    await Promise.all([
      startProcess(n, ["test/e2e/support/agent-server.ts", ipOk, "15099", dirs.ok, okStatus], /listening/, "the ok agent"),
      startProcess(n, ["test/e2e/support/agent-server.ts", ipBad, "15099", dirs.bad, badStatus], /listening/, "the failing agent"),
      startProcess(
        n,
        ["src/cli/main.ts", "agent", "--output", dirs.real, "--metrics-host", ipReal, "--metrics-port", "15099", "--bpftrace", fakeBpftrace, "--reaper", "none", "--", "sleep", "600"],
        /status server listening/,
        "hookpoint agent",
      ),
    ]);
    // The real agent lists its scripts (pending) from its first answer; preflight comes after.
    await pollUntil(async () => JSON.parse((await agentGet(ipReal, "/status")).body) as AgentStatus, (s) => s.preflight.length > 0, { what: "the real agent's preflight" });

    // Pods: a Deployment's two (through a real ReplicaSet), a StatefulSet's, one whose
    // agent refuses connections, one Pending, and one that is not traced.
    const apps = admin.makeApiClient(AppsV1Api);
    const template = { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "app", image: "app:1" }] } };
    const deploy = await apps.createNamespacedDeployment({ namespace: ns, body: { metadata: { name: "web" }, spec: { selector: { matchLabels: { app: "web" } }, template } } });
    const rs = await apps.createNamespacedReplicaSet({
      namespace: ns,
      body: {
        metadata: { name: `web-${HASH}`, ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: "web", uid: deploy.metadata!.uid!, controller: true }] },
        spec: { selector: { matchLabels: { app: "web" } }, template },
      },
    });
    const rsOwner = { apiVersion: "apps/v1", kind: "ReplicaSet", name: `web-${HASH}`, uid: rs.metadata!.uid! };
    const traced = { "hookpoint.dev/injected": "true" };
    await createTracedPod(admin, ns, { name: WEB_OK, labels: { ...traced, app: "web", health: "ok", "pod-template-hash": HASH }, owner: rsOwner, ip: ipOk });
    await createTracedPod(admin, ns, { name: WEB_BAD, labels: { ...traced, app: "web", "pod-template-hash": HASH }, owner: rsOwner, ip: ipBad });
    await createTracedPod(admin, ns, { name: "db-0", labels: { ...traced, app: "db" }, owner: { apiVersion: "apps/v1", kind: "StatefulSet", name: "db", uid: "5b4c0b4e-0000-4000-8000-000000000001" }, ip: ipReal });
    await createTracedPod(admin, ns, { name: "lost", labels: { ...traced, app: "lost" }, ip: n.unused });
    await createTracedPod(admin, ns, { name: "pending", labels: { ...traced, app: "pending" } });
    await createTracedPod(admin, ns, { name: "untraced", labels: { app: "web" }, ip: ipOk });

    const sa = await grantCollector(admin, ns);
    try {
      const kube = ["--kubeconfig", sa.kubeconfigPath, "-n", ns];
      const refused = `error trying to reach service: dial tcp ${n.unused}:15099: connect: connection refused`;

      // --- status ---
      // Four runs at once: each spends most of its time starting Node.
      const [json, table, healthy, usage] = await Promise.all([
        runCliAsync(["status", ...kube, "-o", "json"]),
        runCliAsync(["status", ...kube]),
        runCliAsync(["status", ...kube, "-l", "health=ok"]),
        runCliAsync(["status", ...kube, "-A"]),
      ]);
      expect(json.stderr).toBe("");
      expect(json.code).toBe(1);
      const rows = JSON.parse(json.stdout) as unknown[];
      const base = (name: string, ip: string | null, phase = "Running") => ({ namespace: ns, name, phase, node: "node-a", podIP: ip });
      const pending = (name: string) => ({ name, state: "pending", reason: null, message: null });
      expect(rows).toEqual([
        { ...base("db-0", ipReal), agent: { reachable: true }, tracing: "starting", envoyPid: null, scripts: DEFAULT_SCRIPT_NAMES.map(pending), records: 0, drops: 0, lastRecord: iso(29), problems: [] },
        {
          ...base("lost", n.unused),
          agent: { reachable: false, error: `GET /status: HTTP 503: ${refused}` },
          tracing: "failing",
          envoyPid: null,
          scripts: [],
          records: 0,
          drops: 0,
          lastRecord: null,
          problems: [`agent unreachable: GET /status: HTTP 503: ${refused}`],
        },
        { ...base("pending", null, "Pending"), agent: null, tracing: "not-running", envoyPid: null, scripts: [], records: 0, drops: 0, lastRecord: null, problems: [] },
        {
          ...base(WEB_OK, ipOk),
          agent: { reachable: true },
          tracing: "ok",
          envoyPid: 4242,
          scripts: [
            { name: "envoy-event-loop", state: "running", reason: null, message: null },
            { name: "envoy-request-flow", state: "running", reason: null, message: null },
          ],
          records: 200,
          drops: 5,
          lastRecord: iso(1499),
          problems: [],
        },
        {
          ...base(WEB_BAD, ipBad),
          agent: { reachable: true },
          tracing: "failing",
          envoyPid: 5151,
          scripts: [
            { name: "envoy-event-loop", state: "running", reason: null, message: null },
            { name: "envoy-request-flow", state: "failed", reason: "missing-symbol", message: `envoy-request-flow: missing ${missing}` },
          ],
          records: 10,
          drops: 0,
          lastRecord: iso(49),
          problems: [`script envoy-request-flow failed (missing-symbol): envoy-request-flow: missing ${missing}`],
        },
      ]);

      expect(table.code).toBe(1);
      const w = WEB_OK.length;
      const line = (cells: string[]) => {
        const widths = [ns.length, w, 7, 11, 11, 5, 11, 7, 5];
        return cells.map((c, i) => (i < widths.length ? c.padEnd(widths[i]!) : c)).join("  ") + "\n";
      };
      expect(table.stdout).toBe(
        line(["NAMESPACE", "POD", "PHASE", "AGENT", "TRACING", "ENVOY", "SCRIPTS", "RECORDS", "DROPS", "LAST RECORD"]) +
          line([ns, "db-0", "Running", "reachable", "starting", "-", "0/3 running", "0", "0", iso(29)]) +
          line([ns, "lost", "Running", "unreachable", "failing", "-", "-", "-", "-", "-"]) +
          line([ns, "pending", "Pending", "-", "not-running", "-", "-", "-", "-", "-"]) +
          line([ns, WEB_OK, "Running", "reachable", "ok", "4242", "2/2 running", "200", "5", iso(1499)]) +
          line([ns, WEB_BAD, "Running", "reachable", "failing", "5151", "1/2 running", "10", "0", iso(49)]) +
          "\n" +
          `${ns}/lost: agent unreachable: GET /status: HTTP 503: ${refused}\n` +
          `${ns}/${WEB_BAD}: script envoy-request-flow failed (missing-symbol): envoy-request-flow: missing ${missing}\n`,
      );
      expect([healthy.code, healthy.stdout.split("\n").length]).toEqual([0, 3]);
      expect([usage.code, usage.stdout, usage.stderr]).toEqual([2, "", "hookpoint status: --all-namespaces: cannot be combined with --namespace\n"]);

      // --- collect ---
      const out = join(work, "collected");
      const before = { ok: await servedBytes(ipOk), bad: await servedBytes(ipBad), real: await servedBytes(ipReal) };
      expect(before).toEqual({ ok: 0, bad: 0, real: 0 });
      const started = new Date().toISOString();
      const first = await runCliAsync(["collect", ...kube, "-o", out]);
      const ended = new Date().toISOString();
      expect(first.code).toBe(1);
      const failedLines = first.stderr.split("\n").filter((l) => l.includes("FAILED")).map((l) => l.replace(/^hookpoint collect: \[\d\/5\] /, ""));
      expect(failedLines.sort()).toEqual([`${ns}/lost: FAILED: GET /records: HTTP 503: ${refused}`, `${ns}/pending: FAILED: pod is Pending and has no pod IP: its agent cannot be reached`]);
      expect(first.stderr).toMatch(new RegExp(`^hookpoint collect: 5 pods, 2 failed; .* fetched in .* s; manifest ${out}/manifest.json$`, "m"));

      const agentFiles = (d: string) => tree(d).filter((f) => f !== "notes.txt");
      const local = (pod: string) => join(out, ns, pod);
      expect(tree(out)).toEqual(
        [
          "manifest.json",
          ...[...agentFiles(dirs.real), ".collect-state.json"].map((f) => `${ns}/db-0/${f}`),
          ...[...agentFiles(dirs.ok), ".collect-state.json"].map((f) => `${ns}/${WEB_OK}/${f}`),
          ...[...agentFiles(dirs.bad), ".collect-state.json"].map((f) => `${ns}/${WEB_BAD}/${f}`),
        ].sort(),
      );
      const sameBytes = (agentDir: string, pod: string) => {
        for (const f of agentFiles(agentDir)) expect([f, readFileSync(join(local(pod), f)).equals(readFileSync(join(agentDir, f)))]).toEqual([f, true]);
      };
      sameBytes(dirs.ok, WEB_OK);
      sameBytes(dirs.bad, WEB_BAD);
      sameBytes(dirs.real, "db-0");
      const total = (d: string) => agentFiles(d).reduce((s, f) => s + statSync(join(d, f)).size, 0);
      expect({ ok: await servedBytes(ipOk), bad: await servedBytes(ipBad), real: await servedBytes(ipReal) }).toEqual({ ok: total(dirs.ok), bad: total(dirs.bad), real: total(dirs.real) });

      const manifest = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8")) as Manifest;
      expect(manifest.collectedAt >= started && manifest.collectedAt <= manifest.until && manifest.until <= ended).toBe(true);
      const size = (d: string, f: string) => statSync(join(d, f)).size;
      const ndjson = (d: string, f: string, first: number, last: number) => ({ name: f, bytes: size(d, f), first: iso(first), last: iso(last) });
      const okFiles = [
        ndjson(dirs.ok, "envoy-event-loop.ndjson", firstIndex(dirs.ok, "envoy-event-loop.ndjson"), 1499),
        ndjson(dirs.ok, "envoy-event-loop.ndjson.1", 0, firstIndex(dirs.ok, "envoy-event-loop.ndjson") - 1),
        { name: "envoy-request-flow.ndjson", bytes: size(dirs.ok, "envoy-request-flow.ndjson"), first: iso(0.5), last: iso(0.5 + 99 * 2) },
        { name: "programs/envoy-event-loop.bt", bytes: size(dirs.ok, "programs/envoy-event-loop.bt"), first: null, last: null },
      ];
      const podEntry = (name: string, ip: string | null, workload: { kind: string; name: string } | null, files: Manifest["pods"][number]["files"], agent: Manifest["pods"][number]["agent"], errors: string[] = []) => ({
        namespace: ns,
        name,
        workload,
        node: "node-a",
        podIP: ip,
        agent,
        files,
        bytes: files.reduce((s, f) => s + f.bytes, 0),
        errors,
        collectedAt: manifest.collectedAt,
      });
      expect(manifest).toEqual({
        version: 1,
        cluster: { server: cluster.server, context: expect.any(String) },
        collectedAt: manifest.collectedAt,
        since: null,
        until: manifest.until,
        pods: [
          podEntry("db-0", ipReal, { kind: "StatefulSet", name: "db" }, [ndjson(dirs.real, "hookpoint-pairs.ndjson", 0, 29)], { reachable: true }),
          podEntry("lost", n.unused, null, [], { reachable: false, error: `GET /records: HTTP 503: ${refused}` }, [`GET /records: HTTP 503: ${refused}`]),
          podEntry("pending", null, null, [], { reachable: false, error: "pod is Pending and has no pod IP: its agent cannot be reached" }, ["pod is Pending and has no pod IP: its agent cannot be reached"]),
          { ...podEntry(WEB_OK, ipOk, { kind: "Deployment", name: "web" }, okFiles, { reachable: true }), traceRequestsOverAgentLife: { recorded: 26, aborted: 1, timeout: 1, incomplete: 0, invalid: 0, overflow: 0, rate_capped: 0, unfinished: 0, lost: 0 } },
          podEntry(WEB_BAD, ipBad, { kind: "Deployment", name: "web" }, [ndjson(dirs.bad, "envoy-event-loop.ndjson", 0, 49)], { reachable: true }),
        ],
      });

      // --- the agent writes on and rotates; a second collect fetches only the new bytes ---
      writeRecords(dirs.ok, "envoy-event-loop", 1500, 2500, ROTATE);
      expect(agentFiles(dirs.ok).filter((f) => f.startsWith("envoy-event-loop"))).toEqual(["envoy-event-loop.ndjson", "envoy-event-loop.ndjson.1", "envoy-event-loop.ndjson.2"]);
      let written = 0;
      for (let i = 1500; i < 2500; i++) written += Buffer.byteLength(recordLine(mapRecord("envoy-event-loop", i, T0, 1000)));
      const servedBefore = { ok: await servedBytes(ipOk), bad: await servedBytes(ipBad), real: await servedBytes(ipReal) };
      const second = await runCliAsync(["collect", ...kube, "-o", out]);
      expect(second.code).toBe(1);
      const servedAfter = { ok: await servedBytes(ipOk), bad: await servedBytes(ipBad), real: await servedBytes(ipReal) };
      // Exactly the bytes of the records written since, though the files were renamed by the rotation.
      expect({ ok: servedAfter.ok - servedBefore.ok, bad: servedAfter.bad - servedBefore.bad, real: servedAfter.real - servedBefore.real }).toEqual({ ok: written, bad: 0, real: 0 });
      sameBytes(dirs.ok, WEB_OK);
      expect(tree(local(WEB_OK))).toEqual([...agentFiles(dirs.ok), ".collect-state.json"].sort());
      const again = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8")) as Manifest;
      expect(again.pods.find((p) => p.name === WEB_OK)?.files.map((f) => [f.name, f.bytes, f.first, f.last])).toEqual(
        agentFiles(dirs.ok).map((f) => [f, size(dirs.ok, f), f.endsWith(".bt") ? null : expect.any(String), f.endsWith(".bt") ? null : expect.any(String)]),
      );

      // --- --since: only records from then on, from the first one at or after it ---
      const sinceOut = join(work, "since");
      const since = await runCliAsync(["collect", ...kube, "-l", "app=web", "--since", iso(2000), "-o", sinceOut]);
      expect([since.code, since.stderr.includes("2 pods, 0 failed")]).toEqual([0, true]);
      const liveLines = readFileSync(join(dirs.ok, "envoy-event-loop.ndjson"), "utf8");
      const from = liveLines.indexOf(`"ts":"${iso(2000)}"`);
      const lineStart = liveLines.lastIndexOf("\n", from) + 1;
      expect(readFileSync(join(sinceOut, ns, WEB_OK, "envoy-event-loop.ndjson"), "utf8")).toBe(liveLines.slice(lineStart));
      expect(tree(sinceOut)).toEqual(
        ["manifest.json", `${ns}/${WEB_OK}/.collect-state.json`, `${ns}/${WEB_OK}/envoy-event-loop.ndjson`, `${ns}/${WEB_OK}/programs/envoy-event-loop.bt`, `${ns}/${WEB_BAD}/.collect-state.json`].sort(),
      );
      const sinceManifest = JSON.parse(readFileSync(join(sinceOut, "manifest.json"), "utf8")) as Manifest;
      expect([sinceManifest.since, sinceManifest.pods.map((p) => [p.name, p.files.map((f) => f.name), p.errors])]).toEqual([
        iso(2000),
        [
          [WEB_OK, ["envoy-event-loop.ndjson", "programs/envoy-event-loop.bt"], []],
          [WEB_BAD, [], []],
        ],
      ]);
    } finally {
      await sa.cleanup();
    }
  });
});

/** Index of the first record in a file (records' ts = T0 + index seconds). */
function firstIndex(dir: string, file: string): number {
  const first = readFileSync(join(dir, file), "utf8").split("\n")[0]!;
  return (Date.parse((JSON.parse(first) as { ts: string }).ts) - T0) / 1000;
}
