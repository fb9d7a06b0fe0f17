// The decision table of DESIGN.md, shared by the precedence test (decide()
// against a model written straight from the rule list) and the routing test
// (every pod decide() injects must reach the webhook): policy variants, every
// combination of the decision inputs, and the pods and namespaces they make.
import type { Reason } from "../../src/admission/decision.js";
import type { Container, Pod } from "../../src/admission/pod.js";
import type { HookpointPolicy, PolicyMode } from "../../src/policy/types.js";
import { policy } from "./pods.js";

// --- the model -------------------------------------------------------------

export const DECIDED_BY: Record<Reason, string> = {
  "no-target-container": "target-container",
  "namespace-excluded": "excluded-namespace",
  "host-network": "host-network",
  "policy-disabled": "policy",
  "pod-opt-out": "pod-annotation",
  "namespace-disabled": "namespace-label",
  "pod-opt-in": "pod-annotation",
  "pod-opt-in-not-allowed": "pod-annotation",
  "namespace-enabled": "namespace-label",
  "policy-enabled": "policy",
  "not-opted-in": "default",
  forced: "force",
  "envoy-disabled": "proxy-without-envoy",
  "pod-security-enforced": "pod-security",
  "invalid-resources": "resources",
  "invalid-agent-settings": "agent-settings",
};

export interface PolicyVariant {
  label: string;
  policies: HookpointPolicy[];
  /** Name of the policy that governs the test pod, null for the built-in defaults. */
  governs: string | null;
  mode: PolicyMode;
  /** allowPodOptIn selects namespaces labelled team=perf. */
  allowsTeamPerf: boolean;
  excluded: string[];
  targets: string[];
}

const ALLOW_PERF = { matchLabels: { team: "perf" } };
const BUILTIN_EXCLUDED = ["kube-system", "kube-public", "kube-node-lease", "hookpoint-system"];
export const VARIANTS: PolicyVariant[] = [
  { label: "no policy", policies: [], governs: null, mode: "OptIn", allowsTeamPerf: false, excluded: [], targets: ["istio-proxy"] },
  { label: "mode Disabled", policies: [policy("kill", { mode: "Disabled" })], governs: "kill", mode: "Disabled", allowsTeamPerf: false, excluded: [], targets: ["istio-proxy"] },
  { label: "mode OptIn", policies: [policy("optin", { mode: "OptIn" })], governs: "optin", mode: "OptIn", allowsTeamPerf: false, excluded: [], targets: ["istio-proxy"] },
  {
    label: "mode OptIn with allowPodOptIn",
    policies: [policy("teams", { allowPodOptIn: ALLOW_PERF })],
    governs: "teams",
    mode: "OptIn",
    allowsTeamPerf: true,
    excluded: [],
    targets: ["istio-proxy"],
  },
  { label: "mode Enabled", policies: [policy("all", { mode: "Enabled" })], governs: "all", mode: "Enabled", allowsTeamPerf: false, excluded: [], targets: ["istio-proxy"] },
  {
    label: "mode Enabled, selector not matching (defaults govern)",
    policies: [policy("prod-only", { mode: "Enabled", priority: 50, namespaceSelector: { matchLabels: { env: "prod" } } })],
    governs: null,
    mode: "OptIn",
    allowsTeamPerf: false,
    excluded: [],
    targets: ["istio-proxy"],
  },
  {
    label: "mode Enabled excluding payments, allowPodOptIn, cilium-envoy",
    policies: [
      policy("wide", { mode: "Enabled", excludedNamespaces: ["payments"], allowPodOptIn: ALLOW_PERF, targetContainers: ["istio-proxy", "cilium-envoy"] }),
      policy("lower", { mode: "Disabled", priority: -1 }),
    ],
    governs: "wide",
    mode: "Enabled",
    allowsTeamPerf: true,
    excluded: ["payments"],
    targets: ["istio-proxy", "cilium-envoy"],
  },
  {
    label: "a Disabled policy outranked by an OptIn one",
    policies: [policy("a-off", { mode: "Disabled", priority: 1 }), policy("z-on", { mode: "OptIn", priority: 2, allowPodOptIn: ALLOW_PERF })],
    governs: "z-on",
    mode: "OptIn",
    allowsTeamPerf: true,
    excluded: [],
    targets: ["istio-proxy"],
  },
];

export type Target = "istio-proxy" | "istio-proxy (native sidecar)" | "istio-proxy (DISABLE_ENVOY)" | "cilium-envoy" | "none";
type Switch = "unset" | "on" | "off" | "junk";
export interface Case {
  target: Target;
  namespace: "web" | "payments" | "kube-system" | "hookpoint-system";
  hostNetwork: boolean;
  podAnnotation: Switch;
  namespaceLabel: Switch;
  teamPerf: boolean;
  /** The namespace's enforce label ("junk": a value Pod Security Admission enforces as restricted). */
  psa: "unset" | "privileged" | "baseline" | "restricted" | "junk";
  /** The webhook's --default-pod-security. */
  clusterPsa: "privileged" | "baseline";
}

export interface Outcome {
  inject: boolean;
  decidedBy: string;
  reason: Reason;
  policy: string | null;
  warnings: number;
}

/** DESIGN.md, "Decision: who gets injected", rule by rule. */
export function model(c: Case, v: PolicyVariant): Outcome {
  let warnings = 0;
  const out = (inject: boolean, reason: Reason): Outcome => ({ inject, decidedBy: DECIDED_BY[reason], reason, policy: v.governs, warnings });
  const inject = (reason: Reason): Outcome => {
    if (c.target === "istio-proxy (DISABLE_ENVOY)") {
      warnings += 1;
      return out(false, "envoy-disabled");
    }
    const enforced = c.psa === "unset" ? c.clusterPsa : c.psa;
    if (enforced !== "privileged") {
      warnings += 1;
      return out(false, "pod-security-enforced");
    }
    return out(true, reason);
  };
  const targetName = c.target === "none" ? undefined : c.target.startsWith("istio-proxy") ? "istio-proxy" : c.target;
  // 1. never add a proxy
  if (!targetName || !v.targets.includes(targetName)) return out(false, "no-target-container");
  // 2. exclusions, then hostNetwork
  if (BUILTIN_EXCLUDED.includes(c.namespace) || v.excluded.includes(c.namespace)) return out(false, "namespace-excluded");
  if (c.hostNetwork) return out(false, "host-network");
  // values other than the two allowed ones are warned about and count as unset
  if (c.podAnnotation === "junk") warnings += 1;
  if (c.namespaceLabel === "junk") warnings += 1;
  // 3. kill switch
  if (v.mode === "Disabled") return out(false, "policy-disabled");
  // 4. the pod's opt-out
  if (c.podAnnotation === "off") return out(false, "pod-opt-out");
  // 5. the namespace's veto
  if (c.namespaceLabel === "off") return out(false, "namespace-disabled");
  // 6. pod opt-in, only where the namespace is enabled or allowPodOptIn selects it
  let refused = false;
  if (c.podAnnotation === "on") {
    if (c.namespaceLabel === "on" || (v.allowsTeamPerf && c.teamPerf)) return inject("pod-opt-in");
    refused = true;
    warnings += 1;
  }
  // 7. namespace opt-in
  if (c.namespaceLabel === "on") return inject("namespace-enabled");
  // 8. policy opt-in
  if (v.mode === "Enabled") return inject("policy-enabled");
  // 9.
  return out(false, refused ? "pod-opt-in-not-allowed" : "not-opted-in");
}


export function buildPod(c: Case): Pod {
  const containers: Container[] = [{ name: "app", image: "app:1" }];
  const pod: Pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "p", labels: { app: "reviews" } }, spec: { containers } };
  if (c.target === "istio-proxy" || c.target === "cilium-envoy") containers.push({ name: c.target, image: "proxy:1" });
  if (c.target === "istio-proxy (DISABLE_ENVOY)") containers.push({ name: "istio-proxy", image: "proxy:1", env: [{ name: "DISABLE_ENVOY", value: "true" }] });
  if (c.target === "istio-proxy (native sidecar)") pod.spec.initContainers = [{ name: "istio-proxy", image: "proxy:1", restartPolicy: "Always" }];
  if (c.hostNetwork) pod.spec.hostNetwork = true;
  const value = { unset: undefined, on: "true", off: "false", junk: "yes" }[c.podAnnotation];
  if (value !== undefined) pod.metadata!.annotations = { "hookpoint.dev/inject": value };
  return pod;
}

export function nsLabelsOf(c: Case): Record<string, string> {
  const labels: Record<string, string> = {};
  const value = { unset: undefined, on: "enabled", off: "disabled", junk: "on" }[c.namespaceLabel];
  if (value !== undefined) labels["hookpoint.dev/inject"] = value;
  if (c.teamPerf) labels.team = "perf";
  if (c.psa !== "unset") labels["pod-security.kubernetes.io/enforce"] = c.psa === "junk" ? "Privileged" : c.psa;
  return labels;
}

export function* cases(): Generator<Case> {
  for (const target of ["istio-proxy", "istio-proxy (native sidecar)", "istio-proxy (DISABLE_ENVOY)", "cilium-envoy", "none"] as const)
    for (const namespace of ["web", "payments", "kube-system", "hookpoint-system"] as const)
      for (const hostNetwork of [false, true])
        for (const podAnnotation of ["unset", "on", "off", "junk"] as const)
          for (const namespaceLabel of ["unset", "on", "off", "junk"] as const)
            for (const teamPerf of [false, true])
              for (const psa of ["unset", "privileged", "baseline", "restricted", "junk"] as const)
                for (const clusterPsa of ["privileged", "baseline"] as const) yield { target, namespace, hostNetwork, podAnnotation, namespaceLabel, teamPerf, psa, clusterPsa };
}

