// The HookpointPolicy resource (hookpoint.dev/v1alpha1, cluster-scoped) and the
// inputs of an admission decision. The CRD's OpenAPI schema in deploy/ is the
// authority on field shapes; these types mirror it.

export const API_GROUP = "hookpoint.dev";
export const API_VERSION = "v1alpha1";
export const POLICY_KIND = "HookpointPolicy";
export const POLICY_PLURAL = "hookpointpolicies";
/** The CustomResourceDefinition's name. */
export const POLICY_CRD_NAME = `${POLICY_PLURAL}.${API_GROUP}`;

export type PolicyMode = "Disabled" | "OptIn" | "Enabled";

export interface LabelSelectorRequirement {
  key: string;
  operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
  values?: string[];
}

/** Kubernetes label selector semantics: `{}` matches everything; absent means "no selector". */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: unknown;
}

export interface ResourceRequirements {
  limits?: Record<string, string>;
  requests?: Record<string, string>;
}

export interface Profile {
  /** Tracing proxy image (Istio proxyv2 + bpftrace + the hookpoint agent). */
  image?: string;
  /** Bundled script names the agent runs. */
  scripts?: string[];
  /** Extra env for the proxy container (HOOKPOINT_* settings for the agent, for instance; validation judges those as the agent will). */
  env?: EnvVar[];
  /** Replaces the proxy container's resources when set. */
  resources?: ResourceRequirements;
  /** Default true. false = least privilege: only `capabilities` are added. */
  privileged?: boolean;
  /** Capabilities added when privileged is false (default: SETUID, SETGID, KILL, SYS_PTRACE, SYS_ADMIN). */
  capabilities?: string[];
  /** The node kernels the profile is meant for (inclusive versions like "6.1" or "6.1.146"); validation refuses capabilities that cannot trace on one of them. */
  kernels?: { min?: string; max?: string };
  /** Default true. false = the image has no agent; the entrypoint is left alone. */
  agent?: boolean;
}

export interface HookpointPolicySpec {
  mode?: PolicyMode;
  priority?: number;
  namespaceSelector?: LabelSelector;
  podSelector?: LabelSelector;
  excludedNamespaces?: string[];
  /** Namespaces where a bare pod annotation `hookpoint.dev/inject: "true"` is honoured. */
  allowPodOptIn?: LabelSelector;
  targetContainers?: string[];
  /** Image patterns; `*` matches any run of characters. */
  allowedImages?: string[];
  defaultProfile?: string;
  profiles?: Record<string, Profile>;
}

export interface PolicyCondition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime: string;
}

export interface HookpointPolicy {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    generation?: number;
    resourceVersion?: string;
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: HookpointPolicySpec;
  status?: { conditions?: PolicyCondition[] };
}

export interface NamespaceInfo {
  name: string;
  labels: Record<string, string>;
}
