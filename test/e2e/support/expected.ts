// What hookpoint writes into a pod, spelled out value by value (DESIGN.md,
// "What the mutation does"): the e2e scenarios compare the pod the API server
// stored against these, and everything else against an unmutated copy.
import type { Container, Pod } from "./pods.js";

export const DEFAULT_SCRIPTS = ["envoy-event-loop", "envoy-request-flow", "hookpoint-pairs"];
/** deploy/base/default-policy.yaml's profile "default". */
export const BASE_POLICY_IMAGE = "hookpoint/proxy-istio:0.1.0-istio1.28.0";

export const AGENT_COMMAND = ["hookpoint", "agent", "--proxy-uid", "1337", "--proxy-gid", "1337", "--", "/usr/local/bin/pilot-agent"];

/** The four mounts, in this order, after the container's own. */
export const HOOKPOINT_MOUNTS = [
  { name: "hookpoint-lib-modules", mountPath: "/lib/modules", readOnly: true },
  { name: "hookpoint-usr-src", mountPath: "/usr/src", readOnly: true },
  { name: "hookpoint-tracefs", mountPath: "/sys/kernel/tracing" },
  { name: "hookpoint-tmp", mountPath: "/tmp" },
];

/** The four volumes as the API server stores them (hostPath gets `type: ""` by defaulting). */
export const HOOKPOINT_VOLUMES = [
  { name: "hookpoint-lib-modules", hostPath: { path: "/lib/modules", type: "" } },
  { name: "hookpoint-usr-src", hostPath: { path: "/usr/src", type: "" } },
  { name: "hookpoint-tracefs", hostPath: { path: "/sys/kernel/tracing", type: "" } },
  { name: "hookpoint-tmp", emptyDir: { sizeLimit: "512Mi" } },
];

/** Istio's securityContext (runAsUser/Group 1337, drop ALL) made privileged, root, gid kept. */
export const TRACING_SECURITY_CONTEXT = {
  allowPrivilegeEscalation: true,
  capabilities: { add: ["SYS_ADMIN", "BPF", "PERFMON", "SYS_RESOURCE"], drop: ["ALL"] },
  privileged: true,
  readOnlyRootFilesystem: true,
  runAsGroup: 1337,
  runAsNonRoot: false,
  runAsUser: 0,
};

export function agentEnv(profile: string, scripts: readonly string[]): { name: string; value: string }[] {
  return [
    { name: "HOOKPOINT_PROFILE", value: profile },
    { name: "HOOKPOINT_SCRIPTS", value: scripts.join(",") },
    { name: "HOOKPOINT_OUTPUT_DIR", value: "/tmp/hookpoint" },
    { name: "HOOKPOINT_METRICS_PORT", value: "15099" },
    // The API server defaults terminationGracePeriodSeconds to 30 before admission.
    { name: "HOOKPOINT_TERMINATION_GRACE_SECONDS", value: "30" },
  ];
}

export interface Injection {
  image: string;
  profile: string;
  scripts: readonly string[];
  decidedBy: string;
  location: "containers" | "initContainers";
}

/** The hookpoint.dev/status annotation without its `original` record, byte for byte (its field order is part of the contract). */
export function statusAnnotation(i: Injection): string {
  return JSON.stringify({ version: "0.1.0", container: "istio-proxy", location: i.location, image: i.image, profile: i.profile, scripts: i.scripts, decidedBy: i.decidedBy, proxyUid: 1337, proxyGid: 1337 });
}

/** A stored status annotation with its last field, the `original` record for uninject, cut off. */
export function withoutOriginal(status: string | undefined): string | undefined {
  return status?.replace(/,"original":\{.*\}\}$/, "}");
}

const names = (list: readonly { name: string }[]) => list.map((x) => x.name);

export const EXCLUDE_INBOUND_PORTS = "traffic.sidecar.istio.io/excludeInboundPorts";

/**
 * The `original` record hookpoint keeps of `unmutated` (as stored without it):
 * the proxy's image, command and securityContext, and by name the env entries,
 * mounts and volumes it sets (none of which the unmutated pod has).
 */
export function originalRecord(unmutated: Pod, i: Injection): Record<string, unknown> {
  const c = (unmutated.spec[i.location] ?? []).find((x) => x.name === "istio-proxy") as Container;
  const absent = (v: unknown) => (v === undefined ? { absent: true } : {});
  const created = [...(unmutated.metadata?.annotations ? [] : ["annotations"]), ...(unmutated.metadata?.labels ? [] : ["labels"])];
  const init = unmutated.spec.initContainers?.find((x) => x.name === "istio-init");
  return {
    fields: { image: c.image ?? null, command: c.command ?? null, securityContext: c.securityContext ?? null },
    env: { names: names(agentEnv(i.profile, i.scripts)), ...absent(c.env) },
    volumeMounts: { names: names(HOOKPOINT_MOUNTS), ...absent(c.volumeMounts) },
    volumes: { names: names(HOOKPOINT_VOLUMES), ...absent(unmutated.spec.volumes) },
    ...(created.length > 0 ? { created } : {}),
    // The agent's port, excluded from Istio's capture: the annotation as it was, istio-init's arguments as they were.
    annotations: { [EXCLUDE_INBOUND_PORTS]: unmutated.metadata?.annotations?.[EXCLUDE_INBOUND_PORTS] ?? null },
    ...(init?.args ? { istioInit: { field: "args", was: init.args } } : {}),
  };
}

/** The istio-proxy container hookpoint makes of `original` (as stored unmutated). */
export function tracedProxy(original: Container, i: Injection): Container {
  return {
    ...original,
    image: i.image,
    command: AGENT_COMMAND,
    securityContext: TRACING_SECURITY_CONTEXT,
    env: [...(original.env ?? []), ...agentEnv(i.profile, i.scripts)],
    volumeMounts: [...(original.volumeMounts ?? []), ...HOOKPOINT_MOUNTS],
  };
}

/**
 * A port list with the agent's 15099 in it as Istio's injector would render it
 * from an annotation holding 15099: before the trailing status port 15020
 * (Istio's template writes the annotation's ports, then the status port), else last.
 */
function with15099(list: string | undefined): string {
  if (!list) return "15099";
  const ports = list.split(",");
  return (ports.at(-1) === "15020" ? [...ports.slice(0, -1), "15099", "15020"] : [...ports, "15099"]).join(",");
}

/** istio-init with the agent's port 15099 in its `-d` list (Istio's injector always writes one). */
function withAgentPortExcluded(c: Container): Container {
  if (c.name !== "istio-init" || !c.args) return c;
  const i = c.args.indexOf("-d");
  return { ...c, args: c.args.map((a, j) => (j === i + 1 ? with15099(a) : a)) };
}

/**
 * The whole pod hookpoint makes of `unmutated` (the same pod stored without
 * hookpoint): the proxy container, istio-init's excluded inbound ports, the
 * volumes, the status annotation, the excludeInboundPorts annotation and the
 * injected label; nothing else.
 */
export function tracedPod(unmutated: Pod, i: Injection): { labels: Record<string, string>; annotations: Record<string, string>; spec: Pod["spec"] } {
  const list = unmutated.spec[i.location] ?? [];
  const spec = {
    ...unmutated.spec,
    [i.location]: list.map((c) => (c.name === "istio-proxy" ? tracedProxy(c, i) : c)),
    volumes: [...(unmutated.spec.volumes ?? []), ...HOOKPOINT_VOLUMES],
  };
  if (spec.initContainers) spec.initContainers = spec.initContainers.map(withAgentPortExcluded);
  const ports = unmutated.metadata?.annotations?.[EXCLUDE_INBOUND_PORTS];
  return {
    labels: { ...(unmutated.metadata?.labels ?? {}), "hookpoint.dev/injected": "true" },
    annotations: {
      ...(unmutated.metadata?.annotations ?? {}),
      "hookpoint.dev/status": statusAnnotation(i).replace(/\}$/, `,"original":${JSON.stringify(originalRecord(unmutated, i))}}`),
      [EXCLUDE_INBOUND_PORTS]: with15099(ports),
    },
    spec,
  };
}
