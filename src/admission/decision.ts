// Who gets injected (DESIGN.md, "Decision: who gets injected"). Pure: the
// rules are evaluated in order and the first that decides wins.
import type { EffectivePolicy } from "../policy/effective.js";
import { policyLabel } from "../policy/effective.js";
import { selectorMatches } from "../policy/selector.js";
import { envoyDisabled } from "./istio.js";
import { DEFAULT_POD_SECURITY, INJECT_KEY, NS_DISABLED, NS_ENABLED, POD_OPT_IN, POD_OPT_OUT, POD_SECURITY_LEVELS, PSA_ENFORCE_LABEL, type PodSecurityLevel } from "../names.js";
import { findTarget, type Container, type Pod, type TargetRef } from "./pod.js";

export type DecidedBy =
  | "target-container"
  | "excluded-namespace"
  | "host-network"
  | "policy"
  | "pod-annotation"
  | "namespace-label"
  | "default"
  | "force"
  | "proxy-without-envoy"
  | "pod-security"
  | "resources"
  | "agent-settings";

export type Reason =
  | "no-target-container"
  | "namespace-excluded"
  | "host-network"
  | "policy-disabled"
  | "pod-opt-out"
  | "namespace-disabled"
  | "pod-opt-in"
  | "pod-opt-in-not-allowed"
  | "namespace-enabled"
  | "policy-enabled"
  | "not-opted-in"
  | "forced"
  | "envoy-disabled"
  | "pod-security-enforced"
  | "invalid-resources"
  | "invalid-agent-settings";

export interface Decision {
  inject: boolean;
  decidedBy: DecidedBy;
  reason: Reason;
  /** One sentence for humans (explain, audit annotations). */
  message: string;
  warnings: string[];
  /** Governing HookpointPolicy, null for the built-in defaults. */
  policy: string | null;
  target?: TargetRef;
}

export interface DecisionInput {
  pod: Pod;
  namespace: string;
  nsLabels: Readonly<Record<string, string>>;
  policy: EffectivePolicy;
  /** CLI `--force`: inject whatever the opt-in says (exclusions still apply). */
  force?: boolean;
  /** The cluster's default Pod Security level, for a namespace without an enforce label (default privileged). */
  defaultPodSecurity?: PodSecurityLevel;
}

export function decide(input: DecisionInput): Decision {
  const { pod, namespace, nsLabels, policy } = input;
  const psa = input.defaultPodSecurity ?? DEFAULT_POD_SECURITY;
  const warnings: string[] = [];
  const done = (inject: boolean, decidedBy: DecidedBy, reason: Reason, message: string, target?: TargetRef): Decision => {
    const d: Decision = { inject, decidedBy, reason, message, warnings, policy: policy.name };
    if (target) d.target = target;
    return d;
  };

  // 1. Never add a proxy: only pods that already have one are candidates.
  const target = findTarget(pod.spec, policy.targetContainers);
  if (!target) {
    return done(false, "target-container", "no-target-container", `no container named ${policy.targetContainers.join(" or ")}`);
  }

  // 2. Exclusions.
  if (policy.excludedNamespaces.includes(namespace)) {
    const why = namespace === policy.webhookNamespace ? "is the webhook's own namespace, where it never injects" : `is excluded by ${policyLabel(policy)}`;
    return done(false, "excluded-namespace", "namespace-excluded", `namespace ${namespace} ${why}`, target);
  }
  if (pod.spec.hostNetwork === true) {
    return done(false, "host-network", "host-network", "pod uses hostNetwork", target);
  }

  if (input.force) return afterInject(done(true, "force", "forced", "injection forced (--force)", target), pod, namespace, nsLabels, psa);

  const podValue = readSwitch(pod.metadata?.annotations?.[INJECT_KEY], [POD_OPT_IN, POD_OPT_OUT], `pod annotation ${INJECT_KEY}`, warnings);
  const nsValue = readSwitch(nsLabels[INJECT_KEY], [NS_ENABLED, NS_DISABLED], `namespace ${namespace} label ${INJECT_KEY}`, warnings);

  // 3. Kill switch.
  if (policy.mode === "Disabled") {
    return done(false, "policy", "policy-disabled", `${policyLabel(policy)} has mode Disabled`, target);
  }
  // 4. The pod's own opt-out.
  if (podValue === POD_OPT_OUT) {
    return done(false, "pod-annotation", "pod-opt-out", `pod annotation ${INJECT_KEY}="false"`, target);
  }
  // 5. A namespace owner's veto beats a pod's opt-in.
  if (nsValue === NS_DISABLED) {
    return done(false, "namespace-label", "namespace-disabled", `namespace ${namespace} is labelled ${INJECT_KEY}=disabled`, target);
  }
  // 6. A bare annotation must not hand out privileged containers: only where allowed.
  if (podValue === POD_OPT_IN) {
    const allowed = nsValue === NS_ENABLED || (policy.allowPodOptIn !== undefined && selectorMatches(policy.allowPodOptIn, nsLabels));
    if (allowed) {
      return afterInject(done(true, "pod-annotation", "pod-opt-in", `pod annotation ${INJECT_KEY}="true", allowed in namespace ${namespace}`, target), pod, namespace, nsLabels, psa);
    }
    warnings.push(
      `hookpoint: annotation ${INJECT_KEY}="true" ignored: namespace ${namespace} is not labelled ${INJECT_KEY}=enabled and ${policyLabel(policy)} has no allowPodOptIn selecting it`,
    );
  }
  // 7. The namespace opted in.
  if (nsValue === NS_ENABLED) {
    return afterInject(done(true, "namespace-label", "namespace-enabled", `namespace ${namespace} is labelled ${INJECT_KEY}=enabled`, target), pod, namespace, nsLabels, psa);
  }
  // 8. A cluster-wide policy opted in (its selectors matched when it was chosen).
  if (policy.mode === "Enabled") {
    return afterInject(done(true, "policy", "policy-enabled", `${policyLabel(policy)} has mode Enabled`, target), pod, namespace, nsLabels, psa);
  }
  // 9. An opt-in that rule 6 did not allow (an allowed one returned there).
  if (podValue === POD_OPT_IN) {
    return done(false, "pod-annotation", "pod-opt-in-not-allowed", `pod opt-in is not allowed in namespace ${namespace}`, target);
  }
  return done(false, "default", "not-opted-in", "neither the pod, its namespace nor a policy opted in", target);
}

/**
 * What still skips a pod the rules would inject, with a warning: a proxy that
 * runs no Envoy, and Pod Security Admission that would reject the mutated pod.
 */
function afterInject(d: Decision, pod: Pod, namespace: string, nsLabels: Readonly<Record<string, string>>, clusterDefault: PodSecurityLevel): Decision {
  const target = d.target;
  const container = target ? (pod.spec[target.location]?.[target.index] as Container | undefined) : undefined;
  if (target && container && envoyDisabled(container)) {
    d.warnings.push(
      `hookpoint: not injected: container ${target.name} sets DISABLE_ENVOY=true (Istio's proxyless gRPC agent), so there is no Envoy to trace; it is left as it is, never made privileged`,
    );
    return { ...d, inject: false, decidedBy: "proxy-without-envoy", reason: "envoy-disabled", message: `container ${target.name} runs no Envoy (DISABLE_ENVOY=true)` };
  }
  const level = podSecurityLevel(nsLabels[PSA_ENFORCE_LABEL], clusterDefault);
  if (level.level === "privileged") return d;
  d.warnings.push(
    `hookpoint: not injected: namespace ${namespace} enforces Pod Security "${level.level}" (${level.from}), which would reject the privileged tracing container; use a namespace with ${PSA_ENFORCE_LABEL}=privileged`,
  );
  return { ...d, inject: false, decidedBy: "pod-security", reason: "pod-security-enforced", message: `namespace ${namespace} enforces Pod Security "${level.level}" (${level.from})` };
}

/** The level Pod Security Admission enforces: the namespace's label (an invalid value counts as restricted, as in Kubernetes), else the cluster's default. */
function podSecurityLevel(label: string | undefined, clusterDefault: PodSecurityLevel): { level: PodSecurityLevel; from: string } {
  if (label === undefined) return { level: clusterDefault, from: "the cluster's default, --default-pod-security" };
  if ((POD_SECURITY_LEVELS as readonly string[]).includes(label)) return { level: label as PodSecurityLevel, from: `label ${PSA_ENFORCE_LABEL}` };
  return { level: "restricted", from: `label ${PSA_ENFORCE_LABEL} has the invalid value "${label}", which Kubernetes enforces as restricted` };
}

/** An on/off value; anything else is a warning and counts as unset. */
function readSwitch<T extends string>(value: string | undefined, allowed: readonly T[], what: string, warnings: string[]): T | undefined {
  if (value === undefined) return undefined;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  warnings.push(`hookpoint: ${what} has value "${value}", expected ${allowed.map((a) => `"${a}"`).join(" or ")}; ignored`);
  return undefined;
}
