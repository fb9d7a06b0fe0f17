// Cilium's Envoy as Cilium's own Helm chart deploys it (test/fixtures/cilium, rendered by
// scripts/cilium/render.sh): a DaemonSet in kube-system with hostNetwork. hookpoint's
// rules never inject it, whatever a policy says: kube-system is excluded (a policy can add
// exclusions, not lift them) and a hostNetwork pod is always skipped (DESIGN.md rule 2).
// So `explain` says why, `inject` (even --force) leaves it byte for byte, and Cilium's
// Envoy is traced by editing the DaemonSet by hand (README "Cilium").
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "../../support/cli.js";
import { fixtureUrl } from "../../support/pods.js";

const DAEMONSET = readFileSync(fixtureUrl("cilium/cilium-envoy-daemonset.yaml"), "utf8");
const dir = mkdtempSync(join(tmpdir(), "hookpoint-cilium-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A policy that traces every pod it can and names Cilium's container as a target. */
const POLICY = `apiVersion: hookpoint.dev/v1alpha1
kind: HookpointPolicy
metadata: { name: everything }
spec:
  mode: Enabled
  targetContainers: [istio-proxy, cilium-envoy]
`;
const NAMESPACES = `apiVersion: v1
kind: Namespace
metadata: { name: kube-system }
---
apiVersion: v1
kind: Namespace
metadata: { name: cilium, labels: { hookpoint.dev/inject: enabled } }
`;
writeFileSync(join(dir, "policy.yaml"), POLICY);
writeFileSync(join(dir, "namespaces.yaml"), NAMESPACES);
const inputs = ["--policy", join(dir, "policy.yaml"), "--namespaces", join(dir, "namespaces.yaml")];

/** The DaemonSet as installed with `helm install -n cilium` (the chart follows the release namespace). */
const inCiliumNamespace = DAEMONSET.replace("\n  namespace: kube-system\n", "\n  namespace: cilium\n");

function explain(yaml: string, extra: string[] = inputs): { inject: boolean; decidedBy: string; reason: string; message: string }[] {
  const r = runCli(["explain", "-f", "-", ...extra, "-o", "json"], { input: yaml });
  // Without --policy/--namespaces explain notes on stderr what it assumed.
  if (extra.length > 0) expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return (JSON.parse(r.stdout) as { inject: boolean; decidedBy: string; reason: string; message: string }[]).map(({ inject, decidedBy, reason, message }) => ({ inject, decidedBy, reason, message }));
}

describe("Cilium's cilium-envoy DaemonSet, as its chart renders it", () => {
  it("is the shape the tests assume: kube-system, hostNetwork, cilium-envoy-starter as root with the chart's args", () => {
    expect(DAEMONSET).toContain("\n  namespace: kube-system\n");
    expect(DAEMONSET).toContain("\n      hostNetwork: true\n");
    expect(DAEMONSET).toMatch(/command:\n\s+- \/usr\/bin\/cilium-envoy-starter\n/);
    expect(inCiliumNamespace).not.toBe(DAEMONSET);
  });

  it("explain: never injected, and says why (kube-system excluded; elsewhere hostNetwork)", () => {
    expect(explain(DAEMONSET)).toEqual([{ inject: false, decidedBy: "excluded-namespace", reason: "namespace-excluded", message: "namespace kube-system is excluded by HookpointPolicy everything" }]);
    expect(explain(inCiliumNamespace)).toEqual([{ inject: false, decidedBy: "host-network", reason: "host-network", message: "pod uses hostNetwork" }]);
    // Without cilium-envoy among the targets the first rule already says no, and Istio's injector adds no istio-proxy to a hostNetwork pod.
    expect(explain(DAEMONSET, [])).toEqual([
      { inject: false, decidedBy: "target-container", reason: "no-target-container", message: "no container named istio-proxy, and Istio's injector would not add one: the template uses hostNetwork, where Istio's injector never adds its proxy" },
    ]);
  });

  it("inject, even with --force, writes the DaemonSet back byte for byte", () => {
    for (const yaml of [DAEMONSET, inCiliumNamespace]) {
      for (const force of [[], ["--force"]]) {
        const r = runCli(["inject", "-f", "-", ...inputs, ...force], { input: yaml });
        expect(r.code).toBe(0);
        expect(r.stdout).toBe(yaml);
      }
    }
  });
});
