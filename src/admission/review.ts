// The whole admission of one pod: decision, plan, mutation and patch. Pure.
import type { EffectivePolicy, Settings } from "../policy/effective.js";
import { governingPolicy, namespaceLabels, type Snapshot } from "../policy/snapshot.js";
import { decide, type Decision } from "./decision.js";
import { agentGraceSeconds, isWrapped, mutatePod, sameStrings, type InjectionStatus } from "./mutate.js";
import { podPatch, type Operation } from "./patch.js";
import { planInjection, type DenialReason, type InjectionPlan } from "./plan.js";
import type { Container, Pod, TargetRef } from "./pod.js";
import { mergeResources } from "../policy/resources.js";
import { AGENT_ENV_PREFIX, OutputBudgetError, agentSettingsProblem, valueKnownBeforeStart, type SettingsError } from "../agent/settings.js";
import { DEFAULT_SCRIPT_NAMES, MAX_PROXY_ID } from "../defaults.js";
import { SCRIPTS_ANNOTATION } from "../names.js";

export interface PodReview {
  decision: Decision;
  /** Empty when skipping or when the pod is already as hookpoint would make it. */
  patch: Operation[];
  /** Set when the request must be refused; the message names what and why. */
  denied?: string;
  /** Set with `denied`: the rule that refused it. */
  deniedReason?: DenialReason;
  warnings: string[];
  mutated?: Pod;
  status?: InjectionStatus;
}

export interface ReviewOptions {
  force?: boolean;
}

export function reviewPod(pod: Pod, namespace: string, snapshot: Snapshot, settings: Settings, options: ReviewOptions = {}): PodReview {
  const nsLabels = namespaceLabels(snapshot, namespace);
  const policy = governingPolicy(snapshot, nsLabels, pod.metadata?.labels ?? {});
  const decision = decide({ pod, namespace, nsLabels, policy, force: options.force ?? false, ...(settings.defaultPodSecurity ? { defaultPodSecurity: settings.defaultPodSecurity } : {}) });
  const target = decision.target;
  if (!decision.inject || !target) return { decision, patch: [], warnings: [...decision.warnings] };

  const planned = planInjection(pod, target, policy, settings);
  if (!planned.ok) return { decision, patch: [], denied: planned.denied, deniedReason: planned.reason, warnings: [...decision.warnings] };

  let plan = planned.plan;
  if (plan.profile.resources) {
    // A pod the API server would refuse is worse than an untraced one: skip, and say why.
    const container = pod.spec[target.location]?.[target.index] as Container;
    const merged = mergeResources(container.name, container.resources, plan.profile.resources);
    if (!merged.ok) {
      const warning = `hookpoint: not injected: profile "${plan.profileName}" cannot be applied validly: ${merged.problem}`;
      const skipped: Decision = { ...decision, inject: false, decidedBy: "resources", reason: "invalid-resources", message: merged.problem, warnings: [...decision.warnings, warning] };
      return { decision: skipped, patch: [], warnings: [...skipped.warnings, ...planned.warnings] };
    }
    plan = { ...plan, resources: merged.resources };
  }

  const mutation = mutatePod(pod, plan, decision.decidedBy, settings);
  // A proxy that never starts is worse than an untraced one: the agent stops on a setting it
  // refuses before it starts the proxy. Policy validation judged the profile's env with the
  // profile's scripts; here the container's own env and a scripts annotation count too. The
  // parser runs only when the pod brings something validation did not judge (issue 18: every µs counts).
  const refused = settingsAsJudged(pod, target, policy, plan, settings, mutation.status) ? undefined : agentRefusal(mutation.pod, target, mutation.status);
  if (refused) {
    const message = `the agent would exit before it starts the proxy: ${refused.message}${refused instanceof OutputBudgetError ? `, with scripts ${plan.scripts.join(", ")}` : ""}`;
    const skipped: Decision = { ...decision, inject: false, decidedBy: "agent-settings", reason: "invalid-agent-settings", message, warnings: [...decision.warnings, `hookpoint: not injected: ${message}`] };
    return { decision: skipped, patch: [], warnings: [...skipped.warnings, ...planned.warnings] };
  }
  return {
    decision,
    patch: podPatch(pod, mutation.pod),
    warnings: [...decision.warnings, ...planned.warnings, ...mutation.warnings],
    mutated: mutation.pod,
    status: mutation.status,
  };
}

/**
 * Whether the agent's settings in the mutated container are exactly those policy validation
 * judged (the profile's env, with the profile's or the default scripts: policy/validate.ts)
 * plus the values the webhook writes itself, valid by construction: then the agent's parser,
 * costly on this path, need not run again. What the pod decides is the rest: a scripts
 * annotation, HOOKPOINT_* env of the container's own, the ids and grace period the webhook
 * copies from it (mutate.ts); a Disabled policy's env is not judged, yet `--force` injects under it,
 * and with `agent: false` neither is, yet a command wrapped by hand still starts the agent.
 */
export function settingsAsJudged(pod: Pod, target: TargetRef, policy: EffectivePolicy, plan: InjectionPlan, settings: Settings, status: InjectionStatus): boolean {
  if (policy.mode === "Disabled" || plan.profile.agent === false) return false;
  if (pod.metadata?.annotations?.[SCRIPTS_ANNOTATION] !== undefined) return false;
  // Validation judged a profile without scripts with DEFAULT_SCRIPT_NAMES; other default scripts
  // matter only against a budget the profile sets (the agent's own default holds every bundled script).
  if (plan.profile.scripts === undefined && !sameStrings(settings.defaultScripts, DEFAULT_SCRIPT_NAMES) && setsAgent(plan.profile.env)) return false;
  const container = pod.spec[target.location]?.[target.index] as Container;
  for (const e of container.env ?? []) if (typeof e?.name !== "string" || e.name.startsWith(AGENT_ENV_PREFIX)) return false;
  const grace: unknown = pod.spec.terminationGracePeriodSeconds;
  // Written as agentGraceSeconds(grace), from 0 to the agent's largest: only a fraction is wrong.
  if (grace !== undefined && !(typeof grace === "number" && Number.isInteger(agentGraceSeconds(grace)))) return false;
  return isProxyId(status.proxyUid) && isProxyId(status.proxyGid);
}

function setsAgent(env: readonly { name: string }[] | undefined): boolean {
  return env !== undefined && env.some((e) => e.name.startsWith(AGENT_ENV_PREFIX));
}

function isProxyId(id: unknown): boolean {
  return typeof id === "number" && Number.isInteger(id) && id >= 0 && id <= MAX_PROXY_ID;
}

/** What the agent in the mutated container would stop on: its command's flags and the container's HOOKPOINT_* env, as the kubelet passes them (the last entry of a name wins). */
export function agentRefusal(mutated: Pod, target: TargetRef, status: InjectionStatus): SettingsError | undefined {
  const c = mutated.spec[target.location]?.[target.index] as Container;
  if (!isWrapped(c.command)) return undefined;
  const env: Record<string, string> = {};
  for (const e of c.env ?? []) {
    if (typeof e?.name !== "string" || !e.name.startsWith(AGENT_ENV_PREFIX)) continue;
    const value = valueKnownBeforeStart(e);
    if (value !== undefined) env[e.name] = value;
    else delete env[e.name];
  }
  return agentSettingsProblem({ proxyUid: String(status.proxyUid), proxyGid: String(status.proxyGid) }, env);
}
