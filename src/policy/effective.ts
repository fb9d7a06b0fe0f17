// A policy with every default filled in: what the decision actually uses.
// With no HookpointPolicy governing a pod, the built-in defaults apply.
import { DEFAULT_EXCLUDED_NAMESPACES, DEFAULT_TARGET_CONTAINERS, type PodSecurityLevel } from "../names.js";
import type { HookpointPolicy, LabelSelector, PolicyMode, Profile } from "./types.js";

export const BUILTIN_PROFILE = "default";
/** How messages name the built-in defaults where a policy name is expected. */
export const BUILTIN_POLICY_NAME = "(built-in defaults)";

/** Settings of the webhook (or CLI) run, passed in by the edge. */
export interface Settings {
  /** Image used when a profile names none. */
  defaultImage: string;
  /** Scripts used when a profile names none. */
  defaultScripts: readonly string[];
  /** Names of the bundled scripts (for validating the scripts annotation). */
  knownScripts: readonly string[];
  /** The webhook's own namespace: never injected. */
  webhookNamespace?: string;
  /** hookpoint's version, written into the status annotation. */
  version: string;
  /** The cluster's default Pod Security level, for namespaces without an enforce label (default privileged, as in Kubernetes). */
  defaultPodSecurity?: PodSecurityLevel;
}

export interface EffectivePolicy {
  /** Name of the governing HookpointPolicy, or null for the built-in defaults. */
  name: string | null;
  mode: PolicyMode;
  excludedNamespaces: readonly string[];
  /** The webhook's own namespace (among excludedNamespaces): named as such when it decides. */
  webhookNamespace?: string;
  allowPodOptIn: LabelSelector | undefined;
  targetContainers: readonly string[];
  allowedImages: readonly string[];
  defaultProfile: string;
  profiles: Readonly<Record<string, Profile>>;
}

export function effectivePolicy(policy: HookpointPolicy | undefined, settings: Settings): EffectivePolicy {
  const spec = policy?.spec ?? {};
  const profiles: Record<string, Profile> = { ...(spec.profiles ?? {}) };
  if (!(BUILTIN_PROFILE in profiles)) profiles[BUILTIN_PROFILE] = {};
  const excluded = [...DEFAULT_EXCLUDED_NAMESPACES];
  if (settings.webhookNamespace) excluded.push(settings.webhookNamespace);
  for (const ns of spec.excludedNamespaces ?? []) if (!excluded.includes(ns)) excluded.push(ns);
  return {
    name: policy?.metadata.name ?? null,
    mode: spec.mode ?? "OptIn",
    excludedNamespaces: excluded,
    ...(settings.webhookNamespace ? { webhookNamespace: settings.webhookNamespace } : {}),
    allowPodOptIn: spec.allowPodOptIn,
    targetContainers: spec.targetContainers && spec.targetContainers.length > 0 ? spec.targetContainers : DEFAULT_TARGET_CONTAINERS,
    allowedImages: spec.allowedImages ?? [],
    defaultProfile: spec.defaultProfile ?? BUILTIN_PROFILE,
    profiles,
  };
}

/** How the policy names itself in messages. */
export function policyLabel(p: EffectivePolicy): string {
  return p.name === null ? "the built-in default policy" : `HookpointPolicy ${p.name}`;
}
