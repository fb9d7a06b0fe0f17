// `hookpoint explain --kubeconfig` reads which of Istio's injector webhooks the real
// API server holds: a template without istio-proxy in a namespace labelled
// istio.io/rev=canary gets Istio's proxy only while a webhook of revision canary
// exists. The configurations are Istio's chart's (test/support/istio-webhooks.ts);
// the revision tag "default" stands for the default revision, as it sorts before the
// istio-sidecar-injector another e2e file's istiod may have left.
import { describe, expect, it } from "vitest";
import type { ExplainRow } from "../../src/cli/explain-run.js";
import { runCliAsync } from "../support/cli.js";
import { istioInstall, istioRevisionTag } from "../support/istio-webhooks.js";
import { useCluster } from "./support/e2e.js";
import { withIstioConfigurations } from "./support/istio-configurations.js";

const e2e = useCluster();

const deployment = (ns: string) => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web", namespace: ns },
  spec: { selector: { matchLabels: { app: "web" } }, template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "app", image: "app:1" }] } } },
});

/** explain's row for the Deployment, and its stderr lines about Istio (the others depend on what else the cluster holds). */
async function explain(kubeconfig: string, ns: string): Promise<{ row: Pick<ExplainRow, "inject" | "decidedBy" | "reason" | "message">; istio: string[] }> {
  const r = await runCliAsync(["explain", "-f", "-", "--kubeconfig", kubeconfig, "-o", "json"], { input: JSON.stringify(deployment(ns)) });
  if (r.code !== 0) throw new Error(`hookpoint explain exited ${r.code}: ${r.stderr}`);
  const [row] = JSON.parse(r.stdout) as ExplainRow[];
  if (!row) throw new Error(`hookpoint explain printed no row: ${r.stdout}`);
  return { row: { inject: row.inject, decidedBy: row.decidedBy, reason: row.reason, message: row.message }, istio: r.stderr.split("\n").filter((l) => l.includes("Istio")) };
}

describe("hookpoint explain with Istio's webhooks read from the cluster", () => {
  it("namespace labelled istio.io/rev=canary: no proxy while no webhook of revision canary exists, Istio's proxy and hookpoint's decision once it does", async (ctx) => {
    const { cluster, admin } = e2e.require(ctx);
    const ns = await e2e.namespace("explain-canary", { labels: { "istio.io/rev": "canary", "hookpoint.dev/inject": "enabled" } });
    await withIstioConfigurations(admin, [istioRevisionTag("default", "")], async () => {
      expect(await explain(cluster.kubeconfigPath, ns)).toEqual({
        row: {
          inject: false,
          decidedBy: "target-container",
          reason: "no-target-container",
          message:
            "no container named istio-proxy, and Istio's injector would not add one: no installed Istio webhook selects the template: " +
            `namespace ${ns} is labelled istio.io/rev=canary, and the template has no label sidecar.istio.io/inject or istio.io/rev; no revision or tag canary is installed (installed: default)`,
        },
        istio: [],
      });
      await withIstioConfigurations(admin, [istioInstall("canary")], async () => {
        expect(await explain(cluster.kubeconfigPath, ns)).toEqual({
          row: { inject: true, decidedBy: "namespace-label", reason: "namespace-enabled", message: `namespace ${ns} is labelled hookpoint.dev/inject=enabled` },
          istio: [
            `hookpoint explain: assumed: Istio's injector adds its istio-proxy container (Istio's default sidecar template) to the pods of Deployment ${ns}/web: ` +
              `namespace ${ns} is labelled istio.io/rev=canary (Istio's webhook rev.namespace.sidecar-injector.istio.io of MutatingWebhookConfiguration istio-sidecar-injector-canary selects it)`,
          ],
        });
      });
      // Deleted again: back to no.
      expect((await explain(cluster.kubeconfigPath, ns)).row.inject).toBe(false);
    });
  }, 300_000);
});
