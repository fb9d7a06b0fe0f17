// What the mutation does to the proxy container (DESIGN.md). Pure and
// copy-on-write: only the objects on the path to a change are copied, the
// input pod is never modified, so diffing it against the result is exact.
import type { Settings } from "../policy/effective.js";
import type { DecidedBy } from "./decision.js";
import {
  AGENT_COMMAND,
  AGENT_METRICS_PORT,
  AGENT_OUTPUT_DIR,
  DEFAULT_ENTRYPOINTS,
  HOOKPOINT_VOLUMES,
  INJECTED_LABEL,
  type HookpointVolume,
  PROXY_GID,
  PROXY_UID,
  STATUS_ANNOTATION,
  TRACING_CAPABILITIES,
} from "./names.js";
import type { ResourceRequirements } from "../policy/types.js";
import { LEAST_PRIVILEGE_CAPABILITIES } from "../privilege.js";
import { previousOriginal, recordOriginal, type OriginalState } from "./original.js";
import type { InjectionPlan } from "./plan.js";
import type { Container, EnvVar, Pod, SecurityContext, Volume, VolumeMount } from "./pod.js";

const OUR_VOLUME_NAMES = new Set(HOOKPOINT_VOLUMES.map((v) => v.name));

export interface KeptMount {
  path: string;
  volume: string;
}

/** The JSON in the hookpoint.dev/status annotation. Field order is part of the output. */
export interface InjectionStatus {
  version: string;
  container: string;
  location: "containers" | "initContainers";
  image: string;
  profile: string;
  scripts: string[];
  decidedBy: DecidedBy;
  keptMounts?: KeptMount[];
  /** What hookpoint replaced, for `hookpoint uninject` (original.ts). */
  original?: OriginalState;
}

export interface MutationResult {
  pod: Pod;
  status: InjectionStatus;
  warnings: string[];
}

export function mutatePod(pod: Pod, plan: InjectionPlan, decidedBy: DecidedBy, settings: Pick<Settings, "version">): MutationResult {
  const warnings: string[] = [];
  const { target, profile } = plan;
  const spec = { ...pod.spec };
  const list = [...(spec[target.location] ?? [])];
  spec[target.location] = list;
  const original = list[target.index] as Container;
  const c: Container = { ...original };
  list[target.index] = c;

  const podSc = pod.spec.securityContext ?? {};
  const origUid = original.securityContext?.runAsUser ?? podSc.runAsUser;
  const origGid = original.securityContext?.runAsGroup ?? podSc.runAsGroup;

  c.image = plan.image;
  const privileged = profile.privileged !== false;
  c.securityContext = tracingSecurityContext(original.securityContext, privileged, profile.capabilities ?? (privileged ? TRACING_CAPABILITIES : LEAST_PRIVILEGE_CAPABILITIES), origGid);

  if (profile.agent !== false && !isWrapped(c.command)) {
    const entrypoint = c.command ?? DEFAULT_ENTRYPOINTS[c.name];
    if (entrypoint) c.command = [...AGENT_COMMAND, ...entrypoint];
    else warnings.push(`hookpoint: container ${c.name} sets no command and its image entrypoint is unknown; the agent was not added (set command, or use a profile with agent: false)`);
  }

  const env = [...(c.env ?? [])];
  const existing = (name: string) => env.find((e) => e.name === name)?.value;
  setEnv(env, { name: "HOOKPOINT_PROFILE", value: plan.profileName });
  setEnv(env, { name: "HOOKPOINT_SCRIPTS", value: plan.scripts.join(",") });
  // Keep the first run's uid/gid: on re-invocation the container already runs as 0.
  setEnv(env, { name: "HOOKPOINT_PROXY_UID", value: existing("HOOKPOINT_PROXY_UID") ?? String(origUid ?? PROXY_UID) });
  setEnv(env, { name: "HOOKPOINT_PROXY_GID", value: existing("HOOKPOINT_PROXY_GID") ?? String(origGid ?? PROXY_GID) });
  setEnv(env, { name: "HOOKPOINT_OUTPUT_DIR", value: AGENT_OUTPUT_DIR });
  setEnv(env, { name: "HOOKPOINT_METRICS_PORT", value: String(AGENT_METRICS_PORT) });
  // So the agent stops tracing (final dump) before the kubelet's SIGKILL; its default is Kubernetes' 30.
  const grace = pod.spec.terminationGracePeriodSeconds;
  if (typeof grace === "number") setEnv(env, { name: "HOOKPOINT_TERMINATION_GRACE_SECONDS", value: String(grace) });
  for (const e of profile.env ?? []) setEnv(env, e as EnvVar);
  c.env = env;

  if (profile.resources) c.resources = mergeResources(original.resources, profile.resources);

  // Our mounts are found by name; a mount of someone else's at one of our paths
  // wins (and is recorded), so a second run finds exactly the same state.
  const mounts = [...(c.volumeMounts ?? [])];
  const keptMounts: KeptMount[] = [];
  const used = new Set<string>();
  for (const v of HOOKPOINT_VOLUMES) {
    const mount: VolumeMount = v.readOnly ? { name: v.name, mountPath: v.mountPath, readOnly: true } : { name: v.name, mountPath: v.mountPath };
    const theirs = mounts.find((m) => !OUR_VOLUME_NAMES.has(m.name) && samePath(m.mountPath, v.mountPath));
    // Our volume mounted more than once (by hand, earlier): keep one at most.
    const first = mounts.findIndex((m) => m.name === v.name);
    for (let i = mounts.length - 1; i > first; i--) if (mounts[i]?.name === v.name) mounts.splice(i, 1);
    if (theirs) {
      keptMounts.push({ path: v.mountPath, volume: theirs.name });
      if (first >= 0) mounts.splice(first, 1);
      continue;
    }
    if (first >= 0) mounts[first] = mount;
    else mounts.push(mount);
    used.add(v.name);
  }
  c.volumeMounts = mounts;

  // A volume with our name is replaced, never duplicated; new ones only when mounted.
  // One that already is ours as the API server stores it is kept as it is.
  const volumes = [...(spec.volumes ?? [])];
  for (const v of HOOKPOINT_VOLUMES) {
    const vol: Volume = { name: v.name, ...v.source };
    const i = volumes.findIndex((x) => x.name === v.name);
    if (i >= 0) {
      if (!isOurVolume(volumes[i] as Volume, v)) volumes[i] = vol;
    } else if (used.has(v.name)) volumes.push(vol);
  }
  if (volumes.length > 0 || spec.volumes) spec.volumes = volumes;

  const status: InjectionStatus = {
    version: settings.version,
    container: target.name,
    location: target.location,
    image: plan.image,
    profile: plan.profileName,
    scripts: plan.scripts,
    decidedBy,
  };
  if (keptMounts.length > 0) status.keptMounts = keptMounts;
  // Re-invocation keeps the first run's record: this pod is no longer the original.
  const previous = previousOriginal(pod, target);
  const record = previous.injected ? previous.original : recordOriginal(pod, target, c, spec.volumes);
  if (record) status.original = record;

  const metadata = { ...(pod.metadata ?? {}) };
  metadata.annotations = { ...(metadata.annotations ?? {}), [STATUS_ANNOTATION]: JSON.stringify(status) };
  metadata.labels = { ...(metadata.labels ?? {}), [INJECTED_LABEL]: "true" };

  return { pod: { ...pod, metadata, spec }, status, warnings };
}

export function isWrapped(command: readonly string[] | undefined): boolean {
  return command !== undefined && AGENT_COMMAND.every((part, i) => command[i] === part);
}

function tracingSecurityContext(
  original: SecurityContext | undefined,
  privileged: boolean,
  capabilities: readonly string[],
  origGid: number | undefined,
): SecurityContext {
  const sc: SecurityContext = { ...(original ?? {}) };
  if (privileged) {
    sc.privileged = true;
    // The API server rejects privileged with allowPrivilegeEscalation false.
    sc.allowPrivilegeEscalation = true;
  }
  const caps = { ...(sc.capabilities ?? {}) };
  const add = [...(caps.add ?? [])];
  for (const cap of capabilities) if (!add.includes(cap)) add.push(cap);
  caps.add = add;
  if (caps.drop) caps.drop = caps.drop.filter((d) => !capabilities.includes(d));
  sc.capabilities = caps;
  // bpftrace needs root; the agent drops back to the proxy's uid/gid for Envoy.
  sc.runAsUser = 0;
  sc.runAsNonRoot = false;
  // Istio's iptables rules exempt the proxy's traffic by uid or gid 1337: keep the gid.
  if (sc.runAsGroup === undefined) sc.runAsGroup = origGid ?? PROXY_GID;
  return sc;
}

/**
 * Whether `existing` is our volume `v` once the API server has defaulted it: it
 * stores hostPath.type "" for an unset type. Replacing such a volume would make
 * every reinvocation a non-empty patch (removing the defaulted field).
 */
function isOurVolume(existing: Volume, v: HookpointVolume): boolean {
  const { name: _name, ...rest } = existing;
  const keys = Object.keys(rest);
  if ("hostPath" in v.source) {
    const hp = rest.hostPath as Record<string, unknown> | undefined;
    if (keys.length !== 1 || typeof hp !== "object" || hp === null) return false;
    return hp.path === v.source.hostPath.path && (hp.type === undefined || hp.type === "") && Object.keys(hp).every((k) => k === "path" || k === "type");
  }
  const ed = rest.emptyDir as Record<string, unknown> | undefined;
  const want = v.source.emptyDir;
  return keys.length === 1 && typeof ed === "object" && ed !== null && Object.keys(ed).length === 1 && ed.sizeLimit === want.sizeLimit;
}

/**
 * The profile's limits and requests win per resource; the container's others stay.
 * Merging (rather than replacing) keeps a re-run on the stored pod a no-op: the
 * API server adds requests equal to limits where a container sets none.
 */
function mergeResources(original: Record<string, unknown> | undefined, profile: ResourceRequirements): Record<string, unknown> {
  const out: Record<string, unknown> = { ...(original ?? {}) };
  for (const key of ["limits", "requests"] as const) {
    const wanted = profile[key];
    if (wanted) out[key] = { ...((original?.[key] as Record<string, string> | undefined) ?? {}), ...wanted };
  }
  return out;
}

function setEnv(env: EnvVar[], entry: EnvVar): void {
  const i = env.findIndex((e) => e.name === entry.name);
  if (i >= 0) env[i] = entry;
  else env.push(entry);
}

function samePath(a: string, b: string): boolean {
  return a === b || withoutTrailingSlashes(a) === withoutTrailingSlashes(b);
}

function withoutTrailingSlashes(path: string): string {
  let end = path.length;
  while (end > 0 && path.charCodeAt(end - 1) === 47 /* "/" */) end--;
  return path.slice(0, end);
}
