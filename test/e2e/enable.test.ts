// `hookpoint enable` / `disable` against the real kube-apiserver. There is no
// controller-manager: once the CLI has restarted a Deployment, the test creates
// the pod its ReplicaSet would (traced, as the webhook leaves it) and drives the
// pod's status through the status subresource: a ready proxy, a crash loop, or
// nothing at all.
import { readFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { AppsV1Api, CoreV1Api, RbacAuthorizationV1Api, type KubeConfig } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { runCliAsync, type CliResult } from "../support/cli.js";
import { serviceAccountKubeConfig } from "./support/cluster.js";
import { applyCrd, applyServed, type K8sObject } from "./support/deploy.js";
import { istioRevisionTag } from "../support/istio-webhooks.js";
import { useCluster } from "./support/e2e.js";
import { withIstioConfigurations } from "./support/istio-configurations.js";
import { kubeRequest, ok, remove } from "./support/kube-http.js";
import { pollUntil } from "./support/poll.js";

const e2e = useCluster();
/** Istio's default revision, as its revision tag "default" serves it (sorts before the istio-sidecar-injector another file's istiod may leave). */
const DEFAULT_REVISION = istioRevisionTag("default", "");
const RESTARTED = "kubectl.kubernetes.io/restartedAt";

async function deployment(admin: KubeConfig, namespace: string, name: string, replicas = 1, selectBy: "labels" | "expressions" = "labels", proxy = true): Promise<void> {
  const containers = [{ name: "app", image: "app:1" }, ...(proxy ? [{ name: "istio-proxy", image: "docker.io/istio/proxyv2:1.28.0" }] : [])];
  await admin.makeApiClient(AppsV1Api).createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name },
      spec: {
        replicas,
        selector: selectBy === "labels" ? { matchLabels: { app: name } } : { matchExpressions: [{ key: "app", operator: "In", values: [name] }] },
        template: { metadata: { labels: { app: name } }, spec: { containers } },
      },
    },
  });
}

const restartedAt = async (admin: KubeConfig, namespace: string, name: string) =>
  (await admin.makeApiClient(AppsV1Api).readNamespacedDeployment({ name, namespace })).spec?.template.metadata?.annotations?.[RESTARTED];

/** Waits for the CLI's restart, then creates the pod the ReplicaSet would (with the template's restartedAt) and sets its container statuses. */
async function newPod(admin: KubeConfig, namespace: string, app: string, pod: string, traced: boolean, statuses: object[] | undefined, after?: string): Promise<string> {
  const { value } = await pollUntil(() => restartedAt(admin, namespace, app), (v) => v !== undefined && v !== after, { what: `restart of ${app}`, timeoutMs: 120_000, intervalMs: 200 });
  await admin.makeApiClient(CoreV1Api).createNamespacedPod({
    namespace,
    body: {
      metadata: {
        name: pod,
        labels: { app, ...(traced ? { "hookpoint.dev/injected": "true" } : {}) },
        annotations: { [RESTARTED]: value as string, ...(traced ? { "hookpoint.dev/status": JSON.stringify({ version: "0.1.0", container: "istio-proxy", location: "containers" }) } : {}) },
      },
      spec: { containers: [{ name: "app", image: "app:1" }, { name: "istio-proxy", image: "docker.io/hookpoint/proxy-istio:0.1.0-istio1.28.0" }] },
    },
  });
  if (statuses) {
    ok(
      await kubeRequest(admin, { method: "PATCH", path: `/api/v1/namespaces/${namespace}/pods/${pod}/status`, contentType: "application/merge-patch+json", body: { status: { phase: "Running", containerStatuses: statuses } } }),
      `status of pod ${pod}`,
    );
  }
  return value as string;
}

const running = (name: string, ready: boolean) => ({ name, ready, restartCount: 0, image: "x", imageID: "", started: ready, state: { running: { startedAt: new Date().toISOString() } } });
const crashing = (name: string) => ({ name, ready: false, restartCount: 4, image: "x", imageID: "", started: false, state: { waiting: { reason: "CrashLoopBackOff", message: "back-off 40s restarting failed container" } } });

const label = async (admin: KubeConfig, namespace: string) => (await admin.makeApiClient(CoreV1Api).readNamespace({ name: namespace })).metadata?.labels?.["hookpoint.dev/inject"];

function cli(args: string[], kubeconfig: string): Promise<CliResult> {
  return runCliAsync([...args, "--kubeconfig", kubeconfig]);
}

/**
 * A HookpointPolicy governing only namespace `ns` (above any other policy), allowing pod opt-in there or not;
 * the CRD is installed first. Returns a function deleting it.
 */
async function governingPolicy(admin: KubeConfig, ns: string, allowPodOptIn: boolean): Promise<{ name: string; remove: () => Promise<void> }> {
  await applyCrd(admin, parse(readFileSync(new URL("../../deploy/crd/hookpointpolicies.hookpoint.dev.yaml", import.meta.url), "utf8")) as K8sObject);
  const name = `e2e-enable-${randomBytes(3).toString("hex")}`;
  const nsSelector = { matchLabels: { "kubernetes.io/metadata.name": ns } };
  const policy: K8sObject = {
    apiVersion: "hookpoint.dev/v1alpha1",
    kind: "HookpointPolicy",
    metadata: { name },
    spec: {
      mode: "OptIn",
      priority: 1000,
      namespaceSelector: nsSelector,
      ...(allowPodOptIn ? { allowPodOptIn: nsSelector } : {}),
      allowedImages: ["hookpoint/proxy-istio:*"],
      defaultProfile: "default",
      profiles: { default: { image: "hookpoint/proxy-istio:0.1.0-istio1.28.0", privileged: true, agent: true } },
    },
  };
  ok(await applyServed(admin, policy), `apply HookpointPolicy ${name}`);
  return { name, remove: () => remove(admin, policy) };
}

/** Runs `body` with the name of a policy from governingPolicy in force, and deletes the policy after. */
async function underPolicy(admin: KubeConfig, ns: string, allowPodOptIn: boolean, body: (policy: string) => Promise<void>): Promise<void> {
  const policy = await governingPolicy(admin, ns, allowPodOptIn);
  try {
    await body(policy.name);
  } finally {
    await policy.remove();
  }
}

/** enable's refusal of Deployment web in `ns`, whose governing `policy` has no allowPodOptIn for it. */
const optInNotAllowed = (ns: string, policy: string) =>
  `hookpoint enable: not enabled, nothing was changed: Deployment ${ns}/web: pod opt-in is not allowed in namespace ${ns}: ` +
  `it is not labelled hookpoint.dev/inject=enabled and HookpointPolicy ${policy} has no allowPodOptIn selecting it; ` +
  `opt the whole namespace in with hookpoint enable -n ${ns} (label hookpoint.dev/inject=enabled), or add an allowPodOptIn in HookpointPolicy ${policy} that selects it\n`;

const templateAnnotations = async (admin: KubeConfig, namespace: string, name: string) =>
  (await admin.makeApiClient(AppsV1Api).readNamespacedDeployment({ name, namespace })).spec?.template.metadata?.annotations;

describe("hookpoint enable and disable", () => {
  it("--dry-run prints the plan and changes nothing", async (ctx) => {
    const { admin, cluster } = e2e.require(ctx);
    const ns = await e2e.namespace("enable-dry");
    await deployment(admin, ns, "web");
    const r = await cli(["enable", "-n", ns, "--dry-run", "--timeout", "30"], cluster.kubeconfigPath);
    expect(r).toEqual({
      code: 0,
      stderr: "",
      stdout: [
        `would label namespace ${ns} hookpoint.dev/inject=enabled`,
        `would restart Deployment ${ns}/web (annotation ${RESTARTED} on its pod template)`,
        "would watch their new pods for 30s; if one crash-loops or its proxy is not ready by then, undo the opt-in and restart them again",
        "",
      ].join("\n"),
    });
    expect(await label(admin, ns)).toBeUndefined();
    expect(await restartedAt(admin, ns, "web")).toBeUndefined();
  }, 300_000);

  it("labels the namespace, restarts, and succeeds once the new pod is traced with a ready proxy; disable undoes it", async (ctx) => {
    const { admin, cluster } = e2e.require(ctx);
    const ns = await e2e.namespace("enable-ok");
    await deployment(admin, ns, "web");
    const run = cli(["enable", "-n", ns, "--timeout", "120"], cluster.kubeconfigPath);
    const first = await newPod(admin, ns, "web", "web-1", true, [running("app", true), running("istio-proxy", true)]);
    const r = await run;
    expect(r).toEqual({
      code: 0,
      stderr: "",
      stdout: [`labelled namespace ${ns} hookpoint.dev/inject=enabled`, `restarted Deployment ${ns}/web`, `Deployment ${ns}/web: 1 new pod traced, proxy ready`, ""].join("\n"),
    });
    expect(await label(admin, ns)).toBe("enabled");

    const off = cli(["disable", "-n", ns, "--timeout", "120"], cluster.kubeconfigPath);
    await newPod(admin, ns, "web", "web-2", false, [running("app", true), running("istio-proxy", true)], first);
    const d = await off;
    expect(d.stdout).toBe(
      [`removed label hookpoint.dev/inject from namespace ${ns} (was enabled)`, `restarted Deployment ${ns}/web`, `Deployment ${ns}/web: 1 new pod untraced and ready`, ""].join("\n"),
    );
    expect(d.code).toBe(0);
    expect(await label(admin, ns)).toBeUndefined();
  }, 600_000);

  it("a Deployment scaled to zero is restarted and not waited for (no pod will come)", async (ctx) => {
    const { admin, cluster } = e2e.require(ctx);
    const ns = await e2e.namespace("enable-idle");
    await deployment(admin, ns, "web");
    await deployment(admin, ns, "idle", 0);
    const run = cli(["enable", "-n", ns, "--timeout", "60"], cluster.kubeconfigPath);
    await newPod(admin, ns, "web", "web-1", true, [running("app", true), running("istio-proxy", true)]);
    const r = await run;
    expect(r).toEqual({
      code: 0,
      stderr: "",
      stdout: [
        `labelled namespace ${ns} hookpoint.dev/inject=enabled`,
        `restarted Deployment ${ns}/idle`,
        `restarted Deployment ${ns}/web`,
        `Deployment ${ns}/idle: no replicas wanted: no new pods to wait for`,
        `Deployment ${ns}/web: 1 new pod traced, proxy ready`,
        "",
      ].join("\n"),
    });
    expect(await label(admin, ns)).toBe("enabled");
  }, 600_000);

  it("a Deployment selecting its pods by matchExpressions is judged by its own pods, not by another's", async (ctx) => {
    const { admin, cluster } = e2e.require(ctx);
    const ns = await e2e.namespace("enable-expr");
    await deployment(admin, ns, "api");
    await deployment(admin, ns, "web", 1, "expressions");
    const run = cli(["enable", "-n", ns, "--timeout", "10"], cluster.kubeconfigPath);
    // Only api's new pod comes, traced and ready; web's never does.
    await newPod(admin, ns, "api", "api-1", true, [running("app", true), running("istio-proxy", true)]);
    const r = await run;
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`hookpoint enable: rolled back: not ready within 10s: Deployment ${ns}/web: 0/1 new pods traced with a ready proxy (0 new)\n`);
  }, 600_000);

  it("rolls the opt-in back and restarts again when a traced pod crash-loops", async (ctx) => {
    const { admin, cluster } = e2e.require(ctx);
    const ns = await e2e.namespace("enable-crash");
    await deployment(admin, ns, "web");
    // The annotation is honoured here: a policy's allowPodOptIn selects the namespace.
    const policy = await governingPolicy(admin, ns, true);
    const run = cli(["enable", "-n", ns, "--workload", "deploy/web", "--timeout", "120"], cluster.kubeconfigPath);
    const first = await newPod(admin, ns, "web", "web-1", true, [running("app", true), crashing("istio-proxy")]).finally(policy.remove);
    const r = await run;
    const why = `Deployment ${ns}/web: pod web-1: container istio-proxy is in CrashLoopBackOff (back-off 40s restarting failed container)`;
    expect(r).toEqual({
      code: 1,
      stdout: [`annotated the pod template of Deployment web in ${ns} with hookpoint.dev/inject="true"`, `restarted Deployment ${ns}/web`, `rolling back: ${why}`, `restarted Deployment ${ns}/web again`, ""].join("\n"),
      stderr: `hookpoint enable: rolled back: ${why}\n`,
    });
    const dep = await admin.makeApiClient(AppsV1Api).readNamespacedDeployment({ name: "web", namespace: ns });
    expect(dep.spec?.template.metadata?.annotations?.["hookpoint.dev/inject"]).toBeUndefined();
    expect(dep.spec?.template.metadata?.annotations?.[RESTARTED]).not.toBe(first);
  }, 600_000);

  it("rolls back when the proxy never becomes ready within the timeout", async (ctx) => {
    const { admin, cluster } = e2e.require(ctx);
    const ns = await e2e.namespace("enable-slow", { labels: { "hookpoint.dev/inject": "disabled" } });
    await deployment(admin, ns, "web");
    const run = cli(["enable", "-n", ns, "--timeout", "20"], cluster.kubeconfigPath);
    await newPod(admin, ns, "web", "web-1", true, [running("app", true), running("istio-proxy", false)]);
    const r = await run;
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`hookpoint enable: rolled back: not ready within 20s: Deployment ${ns}/web: 0/1 new pods traced with a ready proxy (1 new)\n`);
    expect(await label(admin, ns)).toBe("disabled");
  }, 600_000);

  it("--workload where the governing policy does not allow pod opt-in: refused at once, naming the policy and the fix; nothing changed", async (ctx) => {
    const { admin, cluster } = e2e.require(ctx);
    const ns = await e2e.namespace("enable-no-opt-in");
    await deployment(admin, ns, "web");
    await underPolicy(admin, ns, false, async (policy) => {
      const why = optInNotAllowed(ns, policy);
      // A timeout far beyond the test's: the refusal must not wait for pods.
      expect(await cli(["enable", "-n", ns, "--workload", "deploy/web", "--timeout", "86400"], cluster.kubeconfigPath)).toEqual({ code: 1, stdout: "", stderr: why });
      expect(await cli(["enable", "-n", ns, "--workload", "deploy/web", "--dry-run"], cluster.kubeconfigPath)).toEqual({ code: 1, stdout: "", stderr: why });
    });
    expect(await templateAnnotations(admin, ns, "web")).toBeUndefined();
    expect(await label(admin, ns)).toBeUndefined();
  }, 300_000);

  it("--workload the webhook would skip for another reason (no istio-proxy): refused with the decision's reason; nothing changed", async (ctx) => {
    const { admin, cluster } = e2e.require(ctx);
    const ns = await e2e.namespace("enable-no-proxy");
    await deployment(admin, ns, "web");
    await deployment(admin, ns, "batch", 1, "labels", false);
    await withIstioConfigurations(admin, [DEFAULT_REVISION], () =>
      underPolicy(admin, ns, true, async (policy) => {
        expect(await cli(["enable", "-n", ns, "--workload", "deploy/web", "--workload", "deploy/batch", "--timeout", "86400"], cluster.kubeconfigPath)).toEqual({
          code: 1,
          stdout: "",
          stderr:
            `hookpoint enable: not enabled, nothing was changed: Deployment ${ns}/batch: the webhook would not inject its pods: no container named istio-proxy, and Istio's injector would not add one: ` +
            `no installed Istio webhook selects the template: namespace ${ns} has no label istio-injection or istio.io/rev, and the template has no label sidecar.istio.io/inject or istio.io/rev (decided by target-container, reason no-target-container, under HookpointPolicy ${policy})\n`,
        });
      }),
    );
    expect(await templateAnnotations(admin, ns, "web")).toBeUndefined();
    expect(await templateAnnotations(admin, ns, "batch")).toBeUndefined();
  }, 300_000);

  it("--workload of a plain Deployment where Istio's automatic injection adds istio-proxy: accepted (the check decides on the pod Istio hands over), saying so", async (ctx) => {
    const { admin, cluster } = e2e.require(ctx);
    const ns = await e2e.namespace("enable-istio-auto", { labels: { "istio-injection": "enabled" } });
    await deployment(admin, ns, "web", 1, "labels", false);
    await withIstioConfigurations(admin, [DEFAULT_REVISION], () => underPolicy(admin, ns, true, async () => {
      expect(await cli(["enable", "-n", ns, "--workload", "deploy/web", "--dry-run", "--timeout", "30"], cluster.kubeconfigPath)).toEqual({
        code: 0,
        stderr: "",
        stdout: [
          `Deployment ${ns}/web: Istio's injector adds its istio-proxy container (Istio's default sidecar template) to its pods: namespace ${ns} is labelled istio-injection=enabled (Istio's webhook namespace.sidecar-injector.istio.io of MutatingWebhookConfiguration istio-revision-tag-default selects it)`,
          `would annotate the pod template of Deployment web in ${ns} with hookpoint.dev/inject="true"`,
          `would restart Deployment ${ns}/web (annotation ${RESTARTED} on its pod template)`,
          "would watch their new pods for 30s; if one crash-loops or its proxy is not ready by then, undo the opt-in and restart them again",
          "",
        ].join("\n"),
      });
    }));
    expect(await templateAnnotations(admin, ns, "web")).toBeUndefined();
  }, 300_000);

  it("--workload's check needs the README's RBAC: without listing namespaces it stops before any change; with it, it decides", async (ctx) => {
    const { admin, cluster } = e2e.require(ctx);
    const ns = await e2e.namespace("enable-rbac");
    await deployment(admin, ns, "web");
    const policy = await governingPolicy(admin, ns, false);
    const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
    const subjects = [{ kind: "ServiceAccount", name: "enabler", namespace: ns }];
    // What enable --workload needed before the check: its workloads and their pods, in the namespace only.
    await rbac.createNamespacedRole({ namespace: ns, body: { metadata: { name: "enabler" }, rules: [{ apiGroups: ["apps"], resources: ["deployments"], verbs: ["get", "patch"] }, { apiGroups: [""], resources: ["pods"], verbs: ["list"] }] } });
    await rbac.createNamespacedRoleBinding({ namespace: ns, body: { metadata: { name: "enabler" }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "enabler" }, subjects } });
    const sa = await serviceAccountKubeConfig(ns, "enabler");
    const name = `hookpoint-enabler-${ns}`;
    try {
      const denied = await cli(["enable", "-n", ns, "--workload", "deploy/web"], sa.kubeconfigPath);
      expect(denied).toEqual({
        code: 1,
        stdout: "",
        stderr: `hookpoint enable: cannot list namespaces from ${cluster.server}: HTTP 403: namespaces is forbidden: User "${sa.username}" cannot list resource "namespaces" in API group "" at the cluster scope (the user lacks permission to list namespaces)\n`,
      });
      // The README's cluster-wide reads for the check; not the webhook configuration (optional).
      await rbac.createClusterRole({ body: { metadata: { name }, rules: [{ apiGroups: [""], resources: ["namespaces"], verbs: ["list"] }, { apiGroups: ["hookpoint.dev"], resources: ["hookpointpolicies"], verbs: ["list"] }] } });
      await rbac.createClusterRoleBinding({ body: { metadata: { name }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name }, subjects } });
      const refused = await pollUntil(() => cli(["enable", "-n", ns, "--workload", "deploy/web"], sa.kubeconfigPath), (r) => !r.stderr.includes("403"), { what: "the ClusterRoleBinding in force", timeoutMs: 30_000, intervalMs: 500 });
      expect(refused.value).toEqual({
        code: 1,
        stdout: "",
        stderr: optInNotAllowed(ns, policy.name),
      });
      expect(await templateAnnotations(admin, ns, "web")).toBeUndefined();
    } finally {
      await rbac.deleteClusterRoleBinding({ name }).catch(() => undefined);
      await rbac.deleteClusterRole({ name }).catch(() => undefined);
      await policy.remove();
    }
  }, 300_000);

  it("a namespace that does not exist: one line naming it and the server, exit 1, before anything is changed", async (ctx) => {
    const { cluster } = e2e.require(ctx);
    const ns = `e2e-missing-${randomBytes(3).toString("hex")}`;
    const missing = (mode: string) => ({ code: 1, stdout: "", stderr: `hookpoint ${mode}: namespace ${ns} does not exist on ${cluster.server}: nothing was changed\n` });
    expect(await cli(["enable", "-n", ns], cluster.kubeconfigPath)).toEqual(missing("enable"));
    expect(await cli(["enable", "-n", ns, "--dry-run"], cluster.kubeconfigPath)).toEqual(missing("enable"));
    expect(await cli(["enable", "-n", ns, "--workload", "deploy/web"], cluster.kubeconfigPath)).toEqual(missing("enable"));
    expect(await cli(["disable", "-n", ns], cluster.kubeconfigPath)).toEqual(missing("disable"));
    expect(await cli(["disable", "-n", ns, "--workload", "deploy/web"], cluster.kubeconfigPath)).toEqual(missing("disable"));
  }, 300_000);

  it("a namespace the user may read but not label: refused before any change, --dry-run included", async (ctx) => {
    const { admin } = e2e.require(ctx);
    const ns = await e2e.namespace("enable-no-label");
    await deployment(admin, ns, "web");
    const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
    // Everything enable needs but patching the Namespace.
    const rules = [
      { apiGroups: [""], resources: ["namespaces"], resourceNames: [ns], verbs: ["get"] },
      { apiGroups: ["apps"], resources: ["deployments", "statefulsets", "daemonsets"], verbs: ["get", "list", "patch"] },
      { apiGroups: [""], resources: ["pods"], verbs: ["list"] },
    ];
    await rbac.createNamespacedRole({ namespace: ns, body: { metadata: { name: "reader" }, rules } });
    await rbac.createNamespacedRoleBinding({ namespace: ns, body: { metadata: { name: "reader" }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "reader" }, subjects: [{ kind: "ServiceAccount", name: "reader", namespace: ns }] } });
    const sa = await serviceAccountKubeConfig(ns, "reader");
    const refused = {
      code: 1,
      stdout: "",
      stderr: `hookpoint enable: labelling namespace ${ns} failed: HTTP 403: namespaces "${ns}" is forbidden: User "${sa.username}" cannot patch resource "namespaces" in API group "" in the namespace "${ns}" (the kubeconfig's user lacks this permission)\n`,
    };
    expect(await cli(["enable", "-n", ns, "--dry-run"], sa.kubeconfigPath)).toEqual(refused);
    expect(await cli(["enable", "-n", ns, "--timeout", "86400"], sa.kubeconfigPath)).toEqual(refused);
    expect(await label(admin, ns)).toBeUndefined();
    expect(await restartedAt(admin, ns, "web")).toBeUndefined();
  }, 300_000);

  it("names what it cannot use: a workload that does not exist, a bad --workload", async (ctx) => {
    const { cluster } = e2e.require(ctx);
    const ns = await e2e.namespace("enable-bad");
    expect(await cli(["enable", "-n", ns, "--workload", "deploy/nope"], cluster.kubeconfigPath)).toEqual({
      code: 1,
      stdout: "",
      stderr: `hookpoint enable: reading Deployment ${ns}/nope failed: HTTP 404: deployments.apps "nope" not found\n`,
    });
    expect(await cli(["enable", "-n", ns, "--workload", "pod/x"], cluster.kubeconfigPath)).toEqual({
      code: 2,
      stdout: "",
      stderr: 'hookpoint enable: --workload must be KIND/NAME with KIND one of Deployment, StatefulSet, DaemonSet (or deploy, sts, ds), got "pod/x"\n',
    });
  }, 300_000);
});
