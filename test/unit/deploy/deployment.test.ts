// The webhook Deployment, Service, PodDisruptionBudget and namespace: what
// issue 7 asks of them (replicas, spreading, probes, drain, resources, a
// restricted securityContext) in the base and in every overlay.
import { describe, expect, it } from "vitest";
import { DEFAULT_GRACE_MS, DEFAULT_SHUTDOWN_DELAY_MS } from "../../../src/server/shutdown.js";
import { find, render, TARGETS, type Target } from "./render.js";
import { selectorMatches } from "./support.js";

describe.each(TARGETS)("webhook Deployment of %s", (target: Target) => {
  it("runs 2 replicas spread over nodes, never fewer during a rollout, protected by a PodDisruptionBudget", (ctx) => {
    const objs = render(ctx, target);
    const d = find(objs, "Deployment", "hookpoint-webhook");
    expect(d.metadata.namespace).toBe("hookpoint-system");
    expect(d.spec.replicas).toBe(2);
    expect(d.spec.strategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
    const podLabels = d.spec.template.metadata.labels as Record<string, string>;
    expect(selectorMatches(d.spec.selector, podLabels)).toBe(true);
    expect(d.spec.template.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution).toEqual([
      {
        weight: 100,
        podAffinityTerm: { topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: { "app.kubernetes.io/name": "hookpoint-webhook" } } },
      },
    ]);
    const pdb = find(objs, "PodDisruptionBudget", "hookpoint-webhook");
    expect(pdb.spec.minAvailable).toBe(1);
    expect(selectorMatches(pdb.spec.selector, podLabels)).toBe(true);
    // No mesh sidecar in front of the webhook.
    expect(podLabels["sidecar.istio.io/inject"]).toBe("false");
  });

  it("probes /readyz and /healthz over HTTPS on 8443, leaves the drain to the server, and has requests and limits", (ctx) => {
    const d = find(render(ctx, target), "Deployment", "hookpoint-webhook");
    const c = d.spec.template.spec.containers[0];
    expect(d.spec.template.spec.containers).toHaveLength(1);
    expect(c.ports).toEqual([{ name: "https", containerPort: 8443, protocol: "TCP" }]);
    expect(c.readinessProbe.httpGet).toEqual({ path: "/readyz", port: "https", scheme: "HTTPS" });
    expect(c.livenessProbe.httpGet).toEqual({ path: "/healthz", port: "https", scheme: "HTTPS" });
    // The server itself answers on (not ready) for --shutdown-delay after SIGTERM: no preStop (no shell or sleep needed in the image).
    expect(c.lifecycle).toBeUndefined();
    expect(c.args).not.toContain("--shutdown-delay");
    expect(d.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual((DEFAULT_SHUTDOWN_DELAY_MS + DEFAULT_GRACE_MS) / 1000 + 10);
    expect(c.resources).toEqual({ requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "1", memory: "256Mi" } });
    expect(c.args.slice(0, 7)).toEqual(["webhook", "--port", "8443", "--cert", "/etc/hookpoint/tls/tls.crt", "--key", "/etc/hookpoint/tls/tls.key"]);
    expect(c.env).toEqual([{ name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } }]);
    expect(d.spec.template.spec.serviceAccountName).toBe("hookpoint-webhook");
  });

  it("meets the restricted Pod Security Standard: non-root, read-only root, no capabilities, RuntimeDefault seccomp", (ctx) => {
    const objs = render(ctx, target);
    const spec = find(objs, "Deployment", "hookpoint-webhook").spec.template.spec;
    expect(spec.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      fsGroup: 65532,
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(spec.containers[0].securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    });
    // hostPath, hostNetwork and friends are what restricted forbids; the webhook uses none.
    expect(spec.hostNetwork ?? false).toBe(false);
    expect(spec.volumes.every((v: Record<string, unknown>) => !("hostPath" in v))).toBe(true);
    expect(find(objs, "Namespace", "hookpoint-system").metadata.labels).toEqual({
      "app.kubernetes.io/part-of": "hookpoint",
      "hookpoint.dev/inject": "disabled",
      "istio-injection": "disabled",
      "pod-security.kubernetes.io/enforce": "restricted",
      "pod-security.kubernetes.io/enforce-version": "latest",
    });
  });

  it("is reached through Service hookpoint-webhook, port 443 to 8443", (ctx) => {
    const objs = render(ctx, target);
    const svc = find(objs, "Service", "hookpoint-webhook");
    expect(svc.metadata.namespace).toBe("hookpoint-system");
    expect(svc.spec.ports).toEqual([{ name: "https", port: 443, targetPort: 8443, protocol: "TCP" }]);
    const podLabels = find(objs, "Deployment", "hookpoint-webhook").spec.template.metadata.labels as Record<string, string>;
    expect(selectorMatches({ matchLabels: svc.spec.selector }, podLabels)).toBe(true);
  });
});
