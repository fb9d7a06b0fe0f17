// `hookpoint explain --kubeconfig` as a process against the fake API server:
// the live cluster decides exactly like the same objects given as files, and
// bad input or an unreachable cluster gives one clear line.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadClusterSnapshot } from "../../../src/k8s/cluster-snapshot.js";
import { loadNamespacesFile, loadPolicyFile } from "../../../src/policy/files.js";
import { repoRoot, runCliAsync } from "../../support/cli.js";
import { settings } from "../../support/pods.js";
import { FakeKubeApi } from "./fake-kube-api.js";
import { decision } from "./support.js";
import { istioInstall } from "../../support/istio-webhooks.js";

const api = new FakeKubeApi();
const tmp = mkdtempSync(join(tmpdir(), "hookpoint-explain-"));
const kubeconfig = join(tmp, "kubeconfig");
const files = ["--policy", "examples/policy.yaml", "--namespaces", "examples/namespaces.yaml"];

beforeAll(async () => {
  await api.start();
  writeFileSync(kubeconfig, api.kubeConfigYaml());
  writeFileSync(join(tmp, "malformed"), "apiVersion: v1\nkind: Config\nclusters: [\n");
  writeFileSync(join(tmp, "nocurrent"), api.kubeConfigYaml().replace("current-context: fake\n", ""));
  // Port 1 on loopback: nothing listens there, the connection is refused at once.
  writeFileSync(join(tmp, "unreachable"), api.kubeConfigYaml().replace(api.url, "http://127.0.0.1:1"));
  for (const ns of await loadNamespacesFile(join(repoRoot, "examples/namespaces.yaml"))) api.setNamespace(ns.name, ns.labels);
  for (const p of await loadPolicyFile(join(repoRoot, "examples/policy.yaml"))) api.applyPolicy(p.metadata.name, p.spec);
  // deploy/base's webhook configuration, as an install leaves it before the webhook manages it.
  api.webhookConfigurations.set("zz-hookpoint", parse(readFileSync(join(repoRoot, "deploy/base/mutatingwebhookconfiguration.yaml"), "utf8")));
});

afterAll(async () => {
  await api.stop();
});

/** A Deployment whose template has no istio-proxy: Istio's automatic injection adds it, if one of its webhooks selects the pod. */
const plainDeployment = (ns: string) =>
  `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: ${ns}}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: app, image: app:1}]\n`;

describe("hookpoint explain --kubeconfig", () => {
  it("decides like the same policies and namespaces given as files, and writes nothing", async () => {
    const [live, offline] = await Promise.all([
      runCliAsync(["explain", "-f", "examples/bookinfo.yaml", "--kubeconfig", kubeconfig, "-o", "json"]),
      runCliAsync(["explain", "-f", "examples/bookinfo.yaml", ...files, "-o", "json"]),
    ]);
    const IMAGE_NOTE = "hookpoint explain: assumed: the tracing image where the profile names none: hookpoint/proxy-istio:0.1.0-istio1.28.0 (the built-in default; --image or the profile's image sets another)\n";
    expect(live.stderr).toBe(IMAGE_NOTE);
    expect(live.code).toBe(0);
    expect(offline.code).toBe(0);
    expect(JSON.parse(live.stdout)).toEqual(JSON.parse(offline.stdout));
    expect((JSON.parse(live.stdout) as { name: string; reason: string; policy: string }[]).map((r) => [r.name, r.reason, r.policy])).toEqual([
      ["reviews", "no-pod-template", null],
      ["reviews-v1", "namespace-enabled", "default"],
      ["loadgen", "pod-opt-in", "default"],
      ["ledger", "namespace-disabled", "default"],
    ]);
    expect(api.statusWrites).toEqual([]);
    expect(api.count({ watch: true })).toBe(0);
  });

  it("never injects in the webhook's own namespace, as the webhook and its configuration never do, even when labelled enabled", async () => {
    api.setNamespace("hookpoint-system", { "hookpoint.dev/inject": "enabled" });
    const manifest = join(tmp, "own-namespace.yaml");
    writeFileSync(manifest, readFileSync(join(repoRoot, "examples/bookinfo.yaml"), "utf8").replaceAll("namespace: bookinfo", "namespace: hookpoint-system"));
    try {
      const r = await runCliAsync(["explain", "-f", manifest, "--kubeconfig", kubeconfig, "-o", "json"]);
      expect(r.code).toBe(0);
      const row = (JSON.parse(r.stdout) as { name: string; namespace: string; inject: boolean; decidedBy: string; reason: string; message: string }[]).find((x) => x.name === "reviews-v1");
      expect(row).toMatchObject({ namespace: "hookpoint-system", inject: false, decidedBy: "excluded-namespace", reason: "namespace-excluded", message: "namespace hookpoint-system is the webhook's own namespace, where it never injects" });
    } finally {
      api.namespaces.delete("hookpoint-system");
    }
  });

  it("a plain Deployment (Istio adds its proxy at creation): yes where one of the cluster's Istio webhooks selects it, else no and why", async () => {
    api.setNamespace("mesh", { "hookpoint.dev/inject": "enabled", "istio-injection": "enabled" });
    api.webhookConfigurations.set("istio-sidecar-injector", istioInstall(""));
    const manifest = join(tmp, "plain.yaml");
    writeFileSync(manifest, `${plainDeployment("mesh")}---\n${plainDeployment("bookinfo")}`);
    try {
      const r = await runCliAsync(["explain", "-f", manifest, "--kubeconfig", kubeconfig]);
      expect(r).toEqual({
        code: 0,
        stdout:
          "KIND        NAMESPACE  NAME  INJECT  DECIDED BY        REASON               POLICY\n" +
          "Deployment  mesh       web   yes     namespace-label   namespace-enabled    default\n" +
          "Deployment  bookinfo   web   no      target-container  no-target-container  default\n\n" +
          `${manifest}: document 1: Deployment mesh/web: namespace mesh is labelled hookpoint.dev/inject=enabled\n` +
          `${manifest}: document 1: Deployment mesh/web: would apply profile "default", image hookpoint/proxy-istio:0.1.0-istio1.28.0, scripts envoy-request-flow, envoy-event-loop\n` +
          `${manifest}: document 2: Deployment bookinfo/web: no container named istio-proxy, and Istio's injector would not add one: no installed Istio webhook selects the template: namespace bookinfo has no label istio-injection or istio.io/rev, and the template has no label sidecar.istio.io/inject or istio.io/rev\n`,
        stderr:
          "hookpoint explain: assumed: Istio's injector adds its istio-proxy container (Istio's default sidecar template) to the pods of Deployment mesh/web: namespace mesh is labelled istio-injection=enabled (Istio's webhook namespace.sidecar-injector.istio.io of MutatingWebhookConfiguration istio-sidecar-injector selects it)\n" +
          "hookpoint explain: assumed: the tracing image where the profile names none: hookpoint/proxy-istio:0.1.0-istio1.28.0 (the built-in default; --image or the profile's image sets another)\n",
      });
    } finally {
      api.namespaces.delete("mesh");
      api.webhookConfigurations.delete("istio-sidecar-injector");
    }
  });

  it("a plain Deployment where the namespace names a revision: no while no webhook of that revision exists, yes once it does; without list permission, Istio's default install is assumed and said", async () => {
    api.setNamespace("canary", { "hookpoint.dev/inject": "enabled", "istio.io/rev": "canary" });
    api.webhookConfigurations.set("istio-sidecar-injector", istioInstall(""));
    const manifest = join(tmp, "canary.yaml");
    writeFileSync(manifest, plainDeployment("canary"));
    const explain = async () => {
      const r = await runCliAsync(["explain", "-f", manifest, "--kubeconfig", kubeconfig, "-o", "json"]);
      expect(r.code).toBe(0);
      const [row] = JSON.parse(r.stdout) as { inject: boolean; message: string }[];
      return { inject: row?.inject, message: row?.message, stderr: r.stderr.split("\n").filter((l) => !l.includes("tracing image")) };
    };
    try {
      expect(await explain()).toEqual({
        inject: false,
        message:
          "no container named istio-proxy, and Istio's injector would not add one: no installed Istio webhook selects the template: namespace canary is labelled istio.io/rev=canary, and the template has no label sidecar.istio.io/inject or istio.io/rev; no revision or tag canary is installed (installed: default)",
        stderr: [""],
      });
      api.webhookConfigurations.set("istio-sidecar-injector-canary", istioInstall("canary"));
      expect(await explain()).toEqual({
        inject: true,
        message: "namespace canary is labelled hookpoint.dev/inject=enabled",
        stderr: [
          "hookpoint explain: assumed: Istio's injector adds its istio-proxy container (Istio's default sidecar template) to the pods of Deployment canary/web: namespace canary is labelled istio.io/rev=canary (Istio's webhook rev.namespace.sidecar-injector.istio.io of MutatingWebhookConfiguration istio-sidecar-injector-canary selects it)",
          "",
        ],
      });
      api.webhookConfigurations.delete("istio-sidecar-injector-canary");
      api.forbidWebhookList = true;
      expect(await explain()).toEqual({
        inject: true,
        message: "namespace canary is labelled hookpoint.dev/inject=enabled",
        stderr: [
          'hookpoint explain: assumed: Istio\'s webhooks are those of its default install (cannot list MutatingWebhookConfigurations: HTTP 403: mutatingwebhookconfigurations.admissionregistration.k8s.io is forbidden: User "tester" cannot list resource "mutatingwebhookconfigurations" in API group "admissionregistration.k8s.io" at the cluster scope)',
          "hookpoint explain: assumed: Istio's injector adds its istio-proxy container (Istio's default sidecar template) to the pods of Deployment canary/web: namespace canary is labelled istio.io/rev=canary",
          "",
        ],
      });
    } finally {
      api.forbidWebhookList = false;
      api.namespaces.delete("canary");
      api.webhookConfigurations.delete("istio-sidecar-injector");
      api.webhookConfigurations.delete("istio-sidecar-injector-canary");
    }
  });

  it("notes a policy that is not accepted, and decides without it", async () => {
    api.applyPolicy("zz-broken", { mode: "Disabled", priority: 100, profiles: { x: { scripts: ["envoy-tcp"] } } });
    try {
      const r = await runCliAsync(["explain", "-f", "examples/bookinfo.yaml", "--context", "fake", "--kubeconfig", kubeconfig]);
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(
        /^hookpoint explain: HookpointPolicy zz-broken \(generation 1\) is not accepted: spec\.profiles\.x\.scripts\[0\]: unknown script "envoy-tcp"; available: [a-z0-9, -]+; it governs no pods\nhookpoint explain: assumed: the tracing image where the profile names none: [^\n]+\n$/,
      );
      expect(r.stdout.split("\n")[2]).toBe("Deployment  bookinfo   reviews-v1  yes     namespace-label  namespace-enabled   default");
    } finally {
      api.deletePolicy("zz-broken");
    }
  });

  it("notes a policy whose pods the webhook configuration does not send, and flags each such workload", async () => {
    api.applyPolicy("perf-all", { mode: "Enabled", priority: 50, namespaceSelector: { matchLabels: { team: "perf" } } });
    try {
      const r = await runCliAsync(["explain", "-f", "examples/bookinfo.yaml", "--kubeconfig", kubeconfig, "-o", "json"]);
      expect(r.code).toBe(0);
      const message =
        "MutatingWebhookConfiguration zz-hookpoint does not send the webhook the pods its mode Enabled selects in namespaces not labelled hookpoint.dev/inject=enabled (entry perf-all.policy.inject.hookpoint.dev): those pods are admitted untraced. Run the webhook with --manage-routing (every shipped install does) so it writes these entries, or apply deploy/components/cluster-wide.";
      expect(r.stderr).toBe(
        `hookpoint explain: HookpointPolicy perf-all is not routed: ${message}\n` +
          "hookpoint explain: assumed: the tracing image where the profile names none: hookpoint/proxy-istio:0.1.0-istio1.28.0 (the built-in default; --image or the profile's image sets another)\n",
      );
      const rows = JSON.parse(r.stdout) as { name: string; inject: boolean; policy: string; warnings: string[] }[];
      // loadgen carries the opt-in annotation, so the pod route sends it: no warning. A pod without it would not be sent.
      const routing = (ws: string[]) => ws.filter((w) => w.includes("does not send"));
      expect(rows.map((x) => [x.name, x.inject, x.policy, routing(x.warnings)])).toEqual([
        ["reviews", false, null, []],
        ["reviews-v1", true, "default", []],
        ["loadgen", true, "perf-all", []],
        ["ledger", false, "default", []],
      ]);
      const plain = join(tmp, "bookinfo-no-opt-in.yaml");
      writeFileSync(plain, readFileSync(join(repoRoot, "examples/bookinfo.yaml"), "utf8").replace(/hookpoint\.dev\/inject: "true"/g, 'team: "perf"'));
      const p = await runCliAsync(["explain", "-f", plain, "--kubeconfig", kubeconfig, "-o", "json"]);
      const loadgen = (JSON.parse(p.stdout) as { name: string; inject: boolean; warnings: string[] }[]).find((x) => x.name === "loadgen");
      expect({ inject: loadgen?.inject, warnings: routing(loadgen?.warnings ?? []) }).toEqual({ inject: true, warnings: [`hookpoint: would be injected, but MutatingWebhookConfiguration zz-hookpoint does not send this pod to the webhook: ${message}`] });
    } finally {
      api.deletePolicy("perf-all");
    }
  });

  it.each([
    ["--kubeconfig with --policy", ["--kubeconfig", "@kubeconfig", "--policy", "examples/policy.yaml"], 2, "hookpoint explain: --kubeconfig cannot be combined with --policy or --namespaces: the cluster's policies and namespaces are used\n"],
    ["an unknown context", ["--kubeconfig", "@kubeconfig", "--context", "prod"], 2, 'hookpoint explain: --context: no context "prod" in @kubeconfig (contexts: fake)\n'],
    ["a missing kubeconfig", ["--kubeconfig", "@missing"], 2, "hookpoint explain: @missing: cannot read: no such file\n"],
    ["a malformed kubeconfig", ["--kubeconfig", "@malformed"], 2, "hookpoint explain: @malformed: not a valid kubeconfig: unexpected end of the stream within a flow collection (4:1)\n"],
    ["a kubeconfig without current context", ["--kubeconfig", "@nocurrent"], 2, "hookpoint explain: @nocurrent: it has no current context; pass --context (contexts: fake)\n"],
    ["an unreachable API server", ["--kubeconfig", "@unreachable"], 1, "hookpoint explain: cannot list namespaces from http://127.0.0.1:1: connection refused\n"],
  ])("%s: one clear line, nothing on stdout", async (_what, args, code, message) => {
    const resolve = (s: string) => s.replace(/@(\w+)/g, (_m, f: string) => join(tmp, f));
    const r = await runCliAsync(["explain", "-f", "examples/bookinfo.yaml", ...args.map(resolve)]);
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code, stdout: "", stderr: resolve(message) });
  });
});

describe("loadClusterSnapshot", () => {
  it("status and collect name the unreachable API server too, as explain does", async () => {
    const kubeconfig = join(tmp, "unreachable");
    const status = await runCliAsync(["status", "-n", "shop", "--kubeconfig", kubeconfig]);
    const collect = await runCliAsync(["collect", "-n", "shop", "-o", join(tmp, "collected"), "--kubeconfig", kubeconfig]);
    expect([status, collect].map((r) => ({ code: r.code, stderr: r.stderr }))).toEqual([
      { code: 1, stderr: "hookpoint status: cannot list pods in namespace shop of http://127.0.0.1:1 with selector hookpoint.dev/injected=true: connection refused\n" },
      { code: 1, stderr: "hookpoint collect: cannot list pods in namespace shop of http://127.0.0.1:1 with selector hookpoint.dev/injected=true: connection refused\n" },
    ]);
  });

  it("an unreachable API server is named, with the cause", async () => {
    const down = new FakeKubeApi();
    await down.start();
    const kc = down.kubeConfig();
    await down.stop();
    await expect(loadClusterSnapshot(kc, settings)).rejects.toThrow(`cannot list namespaces from ${down.url}: connection refused`);
  });

  it("refused credentials say so", async () => {
    await expect(loadClusterSnapshot(api.kubeConfig("wrong-token"), settings)).rejects.toThrow(
      `cannot list namespaces from ${api.url}: HTTP 401: Unauthorized (the kubeconfig's credentials were refused)`,
    );
  });

  it("without the CRD, decides with the built-in defaults and says so", async () => {
    api.servePolicies = false;
    try {
      const live = await loadClusterSnapshot(api.kubeConfig(), settings);
      expect(live.policyCrdInstalled).toBe(false);
      expect(live.policies).toEqual([]);
      expect(live.namespaces).toBe(4);
      expect(decision(live.snapshot, "perf", { annotations: { "hookpoint.dev/inject": "true" } })).toMatchObject({ inject: false, reason: "pod-opt-in-not-allowed", policy: null });
    } finally {
      api.servePolicies = true;
    }
  });
});
