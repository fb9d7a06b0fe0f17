// Two webhook replicas behind the Service, as deploy/base runs them (replicas: 2),
// on the real kube-apiserver: they share its reviews, and when one is stopped the
// other admits every pod alone.
//
// How the API server reaches them here. It calls zz-hookpoint's clientConfig.service
// at one of the Service's ready endpoints (the local cluster runs with
// --enable-aggregator-routing, as nothing routes a ClusterIP without kube-proxy). In
// kube-apiserver 1.34 that resolver reads the Service's EndpointSlices (not v1
// Endpoints) and starts from a random endpoint, taking the first ready one. It is
// asked when the API server dials a new connection, not per review: reviews then
// reuse keep-alive connections (HTTP/1.1, most recently used first). So reviews
// spread over the replicas by connection, and the API server opens connections as
// concurrent reviews need them: the load below creates pods concurrently, as a
// Deployment scale-up does.
//
// The replicas: two `hookpoint webhook` processes in a network namespace this file
// creates, each listening on its own "pod IP" there (198.18.N.x, reachable from the
// host by a route only) on the Deployment's port 8443, with a certificate from
// `hookpoint certs` for hookpoint-webhook.hookpoint-system.svc (the name the API
// server checks). They read namespaces and policies from the API server through the
// namespace's 127.0.0.1 (see PodNetwork.reachHostLoopback). No endpoints controller
// runs, so this file writes the EndpointSlice as one would, and, when it stops a
// replica, marks its endpoint terminating (not ready) as the controller does when a
// pod is deleted, while the replica gets SIGTERM as from the kubelet.
import { readFileSync, rmSync } from "node:fs";
import { afterAll, afterEach, describe, expect, it, type TestContext } from "vitest";
import type { KubeConfig } from "@kubernetes/client-node";
import { commandLine } from "../../scripts/cluster/processes.js";
import { serviceAccountKubeConfig } from "./support/cluster.js";
import { installBase, pick, registerWebhookConfiguration, renderOrSkip, WEBHOOK_CONFIGURATION, WEBHOOK_NAMESPACE, WEBHOOK_SERVICE_ACCOUNT, type K8sObject } from "./support/deploy.js";
import { useCluster } from "./support/e2e.js";
import { apply, kubeRequest, ok, remove } from "./support/kube-http.js";
import { sumOf } from "./support/metrics.js";
import { createPodNetwork, type PodNetwork } from "./support/netns.js";
import { createPod, probePod, type Pod } from "./support/pods.js";
import { pollUntil } from "./support/poll.js";
import { INJECT, makeCerts, STATUS, webhookArgs, WebhookProcess } from "./support/webhook.js";

const e2e = useCluster();

/** The reviews zz-hookpoint's entries send; a pod in a labelled namespace goes to the first only, once. */
const ENTRIES = ["namespace.inject.hookpoint.dev", "pod.inject.hookpoint.dev"];
/** Pods created while both replicas run, and after one of them stopped. */
const SHARED_PODS = 200;
const ALONE_PODS = 100;
/** Pod creations in flight at once; the API server opens about as many connections to the replicas. */
const CONCURRENCY = 16;
/** Every load loop ends by then, done or not (a pod takes milliseconds; 200 take seconds). */
const LOAD_MS = 60_000;

interface Setup {
  admin: KubeConfig;
  net: PodNetwork;
  replicas: WebhookProcess[];
  slice: K8sObject;
  namespace: string;
}

const cleanup: (() => Promise<unknown> | void)[] = [];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step();
});
const started: WebhookProcess[] = [];
afterEach((ctx) => {
  // What the replicas said is the first thing to read when a scenario fails.
  if (ctx.task.result?.state !== "fail") return;
  for (const r of started) console.error(`--- replica ${r.url} output (last lines) ---\n${r.tail()}`);
});

let pending: Promise<Setup> | undefined;
/** The two replicas behind the Service, set up once for the file (by the first test that runs). */
function twoReplicas(ctx: TestContext): Promise<Setup> {
  const { admin, cluster } = e2e.require(ctx);
  const objs = renderOrSkip(ctx, "base");
  pending ??= setUp(ctx, admin, cluster.pids.apiserver, new URL(cluster.server), objs);
  return pending;
}

async function setUp(ctx: TestContext, admin: KubeConfig, apiserverPid: number, server: URL, objs: K8sObject[]): Promise<Setup> {
  const argv = commandLine(apiserverPid) ?? [];
  if (!argv.includes("--enable-aggregator-routing=true")) {
    throw new Error(`the local kube-apiserver (pid ${apiserverPid}) runs without --enable-aggregator-routing=true: it would call the Service's ClusterIP, which nothing routes here; restart it (npm run cluster:down)`);
  }
  const net = createPodNetwork(2);
  if (typeof net === "string") return ctx.skip(net);
  cleanup.push(() => net.close());
  await net.reachHostLoopback(Number(server.port));

  await installBase(admin);
  const certs = makeCerts();
  cleanup.push(() => rmSync(certs.dir, { recursive: true, force: true }));
  const ca = readFileSync(certs.caFile, "utf8");
  const sa = await serviceAccountKubeConfig(WEBHOOK_NAMESPACE, WEBHOOK_SERVICE_ACCOUNT);

  // The Service as shipped; its endpoints are exactly the two replicas (a slice another run left would add its own).
  const service = pick(objs, "Service", "hookpoint-webhook");
  ok(await apply(admin, service), "apply Service hookpoint-webhook");
  cleanup.push(() => remove(admin, service));
  const servicePort = (service.spec.ports as { name: string; targetPort: number }[])[0]!;
  const serverName = `${service.metadata.name}.${WEBHOOK_NAMESPACE}.svc`;
  ok(
    await kubeRequest(admin, {
      method: "DELETE",
      path: `/apis/discovery.k8s.io/v1/namespaces/${WEBHOOK_NAMESPACE}/endpointslices`,
      query: { labelSelector: `kubernetes.io/service-name=${service.metadata.name}` },
    }),
    "delete the Service's EndpointSlices",
  );
  const slice: K8sObject = {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: {
      name: "hookpoint-webhook-replicas",
      namespace: WEBHOOK_NAMESPACE,
      labels: { "kubernetes.io/service-name": service.metadata.name, "endpointslice.kubernetes.io/managed-by": "e2e.hookpoint.dev" },
    },
    addressType: "IPv4",
    ports: [{ name: servicePort.name, port: servicePort.targetPort, protocol: "TCP" }],
    endpoints: net.addresses.map((address) => ({ addresses: [address], conditions: { ready: true, serving: true, terminating: false } })),
  } as K8sObject;
  ok(await apply(admin, slice), "apply the EndpointSlice");
  cleanup.push(() => remove(admin, slice));

  const replicas = net.addresses.map((host) => {
    const replica = new WebhookProcess({
      port: servicePort.targetPort,
      host,
      servername: serverName,
      ca: async () => ca,
      spawn: (command, args, opts) => net.spawn(command, args, opts),
      // hookpoint's own --shutdown-delay (5 s), as the Deployment runs it: the time for the endpoint's removal to reach the API server.
      args: webhookArgs(servicePort.targetPort, certs, sa.kubeconfigPath, { host, shutdownDelaySeconds: "default" }),
    });
    cleanup.push(() => replica.stop());
    started.push(replica);
    return replica;
  });
  await Promise.all(replicas.map((r) => r.start()));

  // deploy/base's configuration as shipped (clientConfig.service, failurePolicy Ignore), with the caBundle.
  const configuration = pick(objs, "MutatingWebhookConfiguration", WEBHOOK_CONFIGURATION);
  for (const w of configuration.webhooks as { clientConfig: { caBundle?: string } }[]) w.clientConfig.caBundle = certs.caBundle;
  await registerWebhookConfiguration(admin, configuration);
  cleanup.push(() => remove(admin, configuration));

  const namespace = await e2e.namespace("replicas", { labels: { [INJECT]: "enabled" } });
  // Unscheduled pods are deleted at once: etcd does not keep this file's hundreds of pods.
  cleanup.push(() => kubeRequest(admin, { method: "DELETE", path: `/api/v1/namespaces/${namespace}/pods` }));
  await pollUntil(
    () => createPod(admin, namespace, probePod("probe"), { dryRun: true }),
    (r) => r.pod.metadata?.annotations?.[STATUS] !== undefined,
    { what: `the API server calling the Service's endpoints and both replicas knowing namespace ${namespace}`, timeoutMs: 30_000 },
  );
  return { admin, net, replicas, slice, namespace };
}

/** What the API server counts: reviews sent to zz-hookpoint's entries, and calls that failed open (failurePolicy Ignore). */
async function apiserverCounts(admin: KubeConfig): Promise<{ sent: number; failedOpen: number }> {
  const text = ok(await kubeRequest<string>(admin, { method: "GET", path: "/metrics" }), "GET /metrics of the API server").body;
  const sum = (metric: string) => ENTRIES.reduce((a, name) => a + sumOf(text, metric, { name }), 0);
  return { sent: sum("apiserver_admission_webhook_request_total"), failedOpen: sum("apiserver_admission_webhook_fail_open_count") };
}

/**
 * Creates pods `${prefix}-0` ... with CONCURRENCY in flight, stopping at LOAD_MS;
 * returns how many were created (each must be admitted) and how long it took.
 */
async function createPods(admin: KubeConfig, namespace: string, prefix: string, count: number): Promise<{ created: number; ms: number }> {
  const start = performance.now();
  let next = 0;
  let created = 0;
  const worker = async () => {
    while (next < count && performance.now() - start < LOAD_MS) {
      const i = next++;
      await createPod(admin, namespace, probePod(`${prefix}-${i}`));
      created += 1;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { created, ms: performance.now() - start };
}

/** The stored pods named `${prefix}-N`, and how many of them carry hookpoint's status annotation and label. */
async function injectedPods(admin: KubeConfig, namespace: string, prefix: string): Promise<{ pods: number; injected: number }> {
  const list = ok(await kubeRequest<{ items: Pod[] }>(admin, { method: "GET", path: `/api/v1/namespaces/${namespace}/pods` }), "list pods").body.items;
  const ours = list.filter((p) => p.metadata?.name?.startsWith(`${prefix}-`));
  const injected = ours.filter((p) => p.metadata?.annotations?.[STATUS] !== undefined && p.metadata.labels?.["hookpoint.dev/injected"] === "true");
  return { pods: ours.length, injected: injected.length };
}

const pct = (n: number, of: number) => `${((100 * n) / of).toFixed(1)} %`;

describe("two webhook replicas behind the Service hookpoint-system/hookpoint-webhook", () => {
  it(`share the API server's reviews of ${SHARED_PODS} pods created ${CONCURRENCY} at a time`, async (ctx) => {
    const { admin, replicas: [a, b], namespace } = await twoReplicas(ctx);
    if (!a || !b) throw new Error("two replicas expected");
    const before = { a: await a.requests(), b: await b.requests(), apiserver: await apiserverCounts(admin) };

    const load = await createPods(admin, namespace, "shared", SHARED_PODS);
    expect(load.created).toBe(SHARED_PODS);

    const reviews = { a: (await a.requests()) - before.a, b: (await b.requests()) - before.b };
    const apiserver = await apiserverCounts(admin);
    const connections = { a: sumOf(await a.metrics(), "hookpoint_connections_open"), b: sumOf(await b.metrics(), "hookpoint_connections_open") };
    console.log(
      `${SHARED_PODS} pods in ${(load.ms / 1000).toFixed(1)} s: replica ${a.url} answered ${reviews.a} reviews (${pct(reviews.a, SHARED_PODS)}, ` +
        `${connections.a} connections open), replica ${b.url} ${reviews.b} (${pct(reviews.b, SHARED_PODS)}, ${connections.b} connections open)`,
    );

    // Every pod was injected: none was admitted untraced by a failed call.
    expect(await injectedPods(admin, namespace, "shared")).toEqual({ pods: SHARED_PODS, injected: SHARED_PODS });
    // The API server sent one review per pod, and the two replicas answered exactly those.
    expect(apiserver.sent - before.apiserver.sent).toBe(SHARED_PODS);
    expect(apiserver.failedOpen - before.apiserver.failedOpen).toBe(0);
    expect(reviews.a + reviews.b).toBe(SHARED_PODS);
    // Both answered reviews. Not a share: the API server picks a replica per new connection
    // (at random), and reuses the most recently freed connection first, so a few busy
    // connections carry most reviews and the split is as uneven as they fall. Over thirteen runs
    // of this load it ranged from 7.5 % / 92.5 % to 50 % / 50 % (four below 20 %), so no
    // share bound would hold reliably. That one replica answers none needs every
    // connection that carried a review on the same one: for n connections 2^(1-n), and
    // the API server held 11 to 19 after this load (a connection dialed for a review that
    // another one took is the most recent idle one, so the next review takes it): under
    // one in a thousand.
    expect(reviews.a).toBeGreaterThan(0);
    expect(reviews.b).toBeGreaterThan(0);
  });

  it(`one replica stopped (SIGTERM, endpoint terminating): the other answers all of ${ALONE_PODS} pods created afterwards`, async (ctx) => {
    const { admin, replicas: [a, b], slice, namespace, net } = await twoReplicas(ctx);
    if (!a || !b) throw new Error("two replicas expected");
    // What Kubernetes does when the pod of replica a is deleted: the EndpointSlice controller
    // marks its endpoint terminating (not ready), the kubelet sends SIGTERM. Replica a
    // goes on answering for its shutdown delay, then closes its connections and exits.
    const endpoints = net.addresses.map((address) =>
      address === net.addresses[0]
        ? { addresses: [address], conditions: { ready: false, serving: true, terminating: true } }
        : { addresses: [address], conditions: { ready: true, serving: true, terminating: false } },
    );
    ok(await apply(admin, { ...slice, endpoints } as K8sObject), "mark replica a's endpoint terminating");
    const stopped = performance.now();
    // A clean exit: every connection closed, even those the API server dialed and never used.
    expect(await a.stop()).toBe(0);
    console.log(`replica ${a.url} exited ${((performance.now() - stopped) / 1000).toFixed(1)} s after SIGTERM`);

    const before = { b: await b.requests(), apiserver: await apiserverCounts(admin) };
    const load = await createPods(admin, namespace, "alone", ALONE_PODS);
    expect(load.created).toBe(ALONE_PODS);
    const reviews = (await b.requests()) - before.b;
    const apiserver = await apiserverCounts(admin);
    console.log(`${ALONE_PODS} pods in ${(load.ms / 1000).toFixed(1)} s with replica ${a.url} gone: replica ${b.url} answered ${reviews} reviews`);

    expect(await injectedPods(admin, namespace, "alone")).toEqual({ pods: ALONE_PODS, injected: ALONE_PODS });
    expect(apiserver.sent - before.apiserver.sent).toBe(ALONE_PODS);
    expect(apiserver.failedOpen - before.apiserver.failedOpen).toBe(0);
    expect(reviews).toBe(ALONE_PODS);
  });
});
