// The names of DESIGN.md's contract. Change one only everywhere at once.
import { TMP_SIZE_LIMIT } from "./defaults.js";

export const INJECT_KEY = "hookpoint.dev/inject"; // namespace label and pod annotation
/** Path the API server posts AdmissionReviews to: the webhook's route, the configuration's service path. */
export const WEBHOOK_PATH = "/mutate";
/** The values of INJECT_KEY that decide() and the webhook configuration's routing (routing.ts) both read. */
export const NS_ENABLED = "enabled";
export const NS_DISABLED = "disabled";
export const POD_OPT_IN = "true";
export const POD_OPT_OUT = "false";
export const PROFILE_ANNOTATION = "hookpoint.dev/profile";
export const IMAGE_ANNOTATION = "hookpoint.dev/image";
export const SCRIPTS_ANNOTATION = "hookpoint.dev/scripts";
export const STATUS_ANNOTATION = "hookpoint.dev/status";
export const INJECTED_LABEL = "hookpoint.dev/injected";
export const PSA_ENFORCE_LABEL = "pod-security.kubernetes.io/enforce";
/** Pod Security Admission levels; without a namespace label the cluster's default applies (Kubernetes' own default: privileged). */
export const POD_SECURITY_LEVELS = ["privileged", "baseline", "restricted"] as const;
export type PodSecurityLevel = (typeof POD_SECURITY_LEVELS)[number];
export const DEFAULT_POD_SECURITY: PodSecurityLevel = "privileged";
export const NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";

export const DEFAULT_TARGET_CONTAINERS: readonly string[] = ["istio-proxy"];
export const DEFAULT_EXCLUDED_NAMESPACES: readonly string[] = ["kube-system", "kube-public", "kube-node-lease"];

/** Entrypoints of the proxy images we know, used when the container sets no command. */
export const DEFAULT_ENTRYPOINTS: Readonly<Record<string, readonly string[]>> = {
  "istio-proxy": ["/usr/local/bin/pilot-agent"],
  "cilium-envoy": ["/usr/bin/cilium-envoy-starter"],
};

export const AGENT_COMMAND: readonly string[] = ["hookpoint", "agent", "--"];

export const TRACING_CAPABILITIES: readonly string[] = ["SYS_ADMIN", "BPF", "PERFMON", "SYS_RESOURCE"];

/** Istio's proxy uid/gid; its iptables rules exempt traffic by either. The agent's defaults too. */
export const PROXY_UID = 1337;
export const PROXY_GID = 1337;

export const AGENT_METRICS_PORT = 15099;
export const AGENT_OUTPUT_DIR = "/tmp/hookpoint";

export interface HookpointVolume {
  name: string;
  mountPath: string;
  readOnly: boolean;
  source: { hostPath: { path: string } } | { emptyDir: { sizeLimit: string } };
}

export const HOOKPOINT_VOLUMES: readonly HookpointVolume[] = [
  { name: "hookpoint-lib-modules", mountPath: "/lib/modules", readOnly: true, source: { hostPath: { path: "/lib/modules" } } },
  { name: "hookpoint-usr-src", mountPath: "/usr/src", readOnly: true, source: { hostPath: { path: "/usr/src" } } },
  { name: "hookpoint-tracefs", mountPath: "/sys/kernel/tracing", readOnly: false, source: { hostPath: { path: "/sys/kernel/tracing" } } },
  // Sized for the agent's capped output (src/defaults.ts): a full /tmp never evicts the pod.
  { name: "hookpoint-tmp", mountPath: "/tmp", readOnly: false, source: { emptyDir: { sizeLimit: TMP_SIZE_LIMIT } } },
];
