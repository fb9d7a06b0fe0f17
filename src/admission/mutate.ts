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
} from "../names.js";
import { copyOf } from "../copy.js";
import { MAX_TERMINATION_GRACE_SECONDS } from "../defaults.js";
import { LEAST_PRIVILEGE_CAPABILITIES } from "../privilege.js";
import { previousOriginal, previousStatus, recordOriginal, UNREADABLE_STATUS, type OriginalState, type OtherChanges } from "./original.js";
import { EXCLUDE_INBOUND_PORTS_ANNOTATION, ISTIO_INIT_CONTAINER, ISTIO_STATUS_ANNOTATION, istioIptablesList, istioStatusPort, istioVersionWarning, withExcludedInboundPort, withPort } from "./istio.js";
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
  /** The proxy's uid/gid before the container was made root: the agent starts the proxy as these (flags in the command, never pod env). */
  proxyUid: number;
  proxyGid: number;
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
  const spec = copyOf(pod.spec);
  const list = [...(spec[target.location] ?? [])];
  spec[target.location] = list;
  const original = list[target.index] as Container;
  const c: Container = copyOf(original);
  list[target.index] = c;

  const podSc = pod.spec.securityContext ?? {};
  const origGid = original.securityContext?.runAsGroup ?? podSc.runAsGroup;
  // Read once: both the proxy's uid and the original record of a re-invocation come from it.
  const previous = previousStatus(pod);
  const { uid: proxyUid, gid: proxyGid } = proxyIds(pod, original, previous);

  if (original.image !== plan.image) {
    const mismatch = istioVersionWarning(c.name, original.image, plan.image);
    if (mismatch) warnings.push(mismatch);
  }
  c.image = plan.image;
  const privileged = profile.privileged !== false;
  c.securityContext = tracingSecurityContext(original.securityContext, privileged, profile.capabilities ?? (privileged ? TRACING_CAPABILITIES : LEAST_PRIVILEGE_CAPABILITIES), origGid);

  const agent = profile.agent !== false;
  if (agent) {
    const entrypoint = isWrapped(c.command) ? wrappedCommand(c.command) : (c.command ?? DEFAULT_ENTRYPOINTS[c.name]);
    if (entrypoint) {
      const command = [...AGENT_COMMAND.slice(0, -1), "--proxy-uid", String(proxyUid), "--proxy-gid", String(proxyGid), "--", ...entrypoint];
      if (!sameStrings(c.command, command)) c.command = command;
    } else warnings.push(`hookpoint: container ${c.name} sets no command and its image entrypoint is unknown; the agent was not added (set command, or use a profile with agent: false)`);
  }

  const env = [...(c.env ?? [])];
  setEnv(env, { name: "HOOKPOINT_PROFILE", value: plan.profileName });
  setEnv(env, { name: "HOOKPOINT_SCRIPTS", value: plan.scripts.join(",") });
  setEnv(env, { name: "HOOKPOINT_OUTPUT_DIR", value: AGENT_OUTPUT_DIR });
  setEnv(env, { name: "HOOKPOINT_METRICS_PORT", value: String(AGENT_METRICS_PORT) });
  // So the agent stops tracing (final dump) before the kubelet's SIGKILL; its default is Kubernetes' 30.
  const grace = pod.spec.terminationGracePeriodSeconds;
  if (typeof grace === "number") setEnv(env, { name: "HOOKPOINT_TERMINATION_GRACE_SECONDS", value: String(agentGraceSeconds(grace)) });
  for (const e of profile.env ?? []) setEnv(env, e as EnvVar);
  c.env = env;

  if (plan.resources) c.resources = plan.resources;

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
    const vol: Volume = Object.assign({ name: v.name }, v.source);
    const i = volumes.findIndex((x) => x.name === v.name);
    if (i >= 0) {
      if (!isOurVolume(volumes[i] as Volume, v)) volumes[i] = vol;
    } else if (used.has(v.name)) volumes.push(vol);
  }
  if (volumes.length > 0 || spec.volumes) spec.volumes = volumes;

  // The agent's port must stay reachable under Istio's inbound capture: the
  // annotation for istio-cni (and Istio's injector, should it run later), and
  // istio-init's own arguments where they are already rendered.
  const other: OtherChanges = {};
  const annotations: Record<string, string> = copyOf(pod.metadata?.annotations);
  if (agent && isIstioPod(pod, target.name)) {
    const statusPort = istioStatusPort(annotations);
    const ports = annotations[EXCLUDE_INBOUND_PORTS_ANNOTATION];
    const merged = withPort(ports, AGENT_METRICS_PORT, statusPort);
    if (merged !== ports) {
      annotations[EXCLUDE_INBOUND_PORTS_ANNOTATION] = merged;
      other.annotations = [EXCLUDE_INBOUND_PORTS_ANNOTATION];
    }
    const changed = excludeAgentPortInIstioInit(spec, statusPort);
    if (changed) other.istioInit = changed;
  }

  const status: InjectionStatus = {
    version: settings.version,
    container: target.name,
    location: target.location,
    image: plan.image,
    profile: plan.profileName,
    scripts: plan.scripts,
    decidedBy,
    proxyUid,
    proxyGid,
  };
  if (keptMounts.length > 0) status.keptMounts = keptMounts;
  // Re-invocation keeps the first run's record: this pod is no longer the original.
  const before = previousOriginal(previous, target);
  const record = before.injected ? before.original : recordOriginal(pod, target, c, spec.volumes, other);
  if (record) status.original = record;

  const metadata = copyOf(pod.metadata);
  annotations[STATUS_ANNOTATION] = JSON.stringify(status);
  metadata.annotations = annotations;
  const labels: Record<string, string> = copyOf(metadata.labels);
  labels[INJECTED_LABEL] = "true";
  metadata.labels = labels;

  const out: Pod = copyOf(pod);
  out.metadata = metadata;
  out.spec = spec;
  return { pod: out, status, warnings };
}

/**
 * The grace period the agent is told for a pod's terminationGracePeriodSeconds: the one the
 * pod gets. Kubernetes stores a negative one as 1 (1.27+, before admission; older API servers
 * keep it and delete the pod with 1). A longer one than the agent takes would stop it before
 * it starts the proxy: at its largest, tracing stops a day into the drain. A fraction, which
 * the API server cannot decode, is written as it is, for the agent's parser to refuse.
 */
export function agentGraceSeconds(grace: number): number {
  return grace < 0 ? 1 : Math.min(grace, MAX_TERMINATION_GRACE_SECONDS);
}

/** A command that already starts `hookpoint agent` (hookpoint's own, or written by hand). */
export function isWrapped(command: readonly string[] | undefined): command is readonly string[] {
  return command !== undefined && command[0] === AGENT_COMMAND[0] && command[1] === AGENT_COMMAND[1] && command.includes("--");
}

/** The proxy's own entrypoint inside a wrapped command: everything after the first `--`. */
function wrappedCommand(command: readonly string[]): string[] {
  return command.slice(command.indexOf("--") + 1);
}

export function sameStrings(a: readonly string[] | undefined, b: readonly string[]): boolean {
  return a !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * The uid/gid the agent starts the proxy as: the container's own (or the pod's)
 * runAsUser/runAsGroup, Istio's 1337 when neither sets one. On a pod hookpoint
 * already made root (reinvocation), the uid recorded in its status annotation;
 * that is trusted only there, since a pod whose proxy already runs as root
 * gains nothing from naming another uid, and nowhere else, so an annotation
 * written by the pod's author cannot turn a 1337 proxy into root.
 */
function proxyIds(pod: Pod, container: Container, status: unknown): { uid: number; gid: number } {
  const podSc = pod.spec.securityContext ?? {};
  const uid = container.securityContext?.runAsUser ?? podSc.runAsUser;
  const gid = container.securityContext?.runAsGroup ?? podSc.runAsGroup ?? PROXY_GID;
  if (uid === 0 && isWrapped(container.command)) {
    const recorded = recordedProxyUid(status);
    if (recorded !== undefined) return { uid: recorded, gid };
  }
  return { uid: uid ?? PROXY_UID, gid };
}

function recordedProxyUid(status: unknown): number | undefined {
  if (status === undefined || status === null || status === UNREADABLE_STATUS) return undefined;
  const uid = (status as { proxyUid?: unknown }).proxyUid;
  return typeof uid === "number" && Number.isSafeInteger(uid) && uid >= 0 ? uid : undefined;
}

/** Istio's pods: an istio-proxy target, or Istio's injector's status annotation. */
function isIstioPod(pod: Pod, target: string): boolean {
  return target === "istio-proxy" || pod.metadata?.annotations?.[ISTIO_STATUS_ANNOTATION] !== undefined;
}

/** istio-init's `-d` list gains the agent's port (copy-on-write: only when it changes); what it was, when it changed. */
function excludeAgentPortInIstioInit(spec: Pod["spec"], statusPort: string): OtherChanges["istioInit"] {
  const inits = spec.initContainers;
  if (!Array.isArray(inits)) return undefined;
  const i = inits.findIndex((x) => x?.name === ISTIO_INIT_CONTAINER);
  const init = inits[i];
  if (!init) return undefined;
  const field = istioIptablesList(init);
  if (!field) return undefined;
  const args = init[field] as string[];
  const next = withExcludedInboundPort(args, AGENT_METRICS_PORT, statusPort);
  if (next === args) return undefined;
  const copy = [...inits];
  const changed: Container = copyOf(init);
  changed[field] = next as string[];
  copy[i] = changed;
  spec.initContainers = copy;
  return { field, was: args };
}

function tracingSecurityContext(
  original: SecurityContext | undefined,
  privileged: boolean,
  capabilities: readonly string[],
  origGid: number | undefined,
): SecurityContext {
  const sc: SecurityContext = copyOf(original);
  if (privileged) {
    sc.privileged = true;
    // The API server rejects privileged with allowPrivilegeEscalation false.
    sc.allowPrivilegeEscalation = true;
  }
  const caps: NonNullable<SecurityContext["capabilities"]> = copyOf(sc.capabilities);
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
 * Sets a variable so the container gets this value: it takes the place of the first entry of
 * its name, and later entries of that name go, since the kubelet passes the last one.
 */
function setEnv(env: EnvVar[], entry: EnvVar): void {
  const i = env.findIndex((e) => e?.name === entry.name);
  if (i < 0) {
    env.push(entry);
    return;
  }
  env[i] = entry;
  // Later entries of the name go, in one pass (a splice each would copy the rest of the list each time).
  let kept = i + 1;
  for (let j = i + 1; j < env.length; j++) {
    const e = env[j] as EnvVar;
    if (e?.name !== entry.name) env[kept++] = e;
  }
  env.length = kept;
}

function samePath(a: string, b: string): boolean {
  return a === b || withoutTrailingSlashes(a) === withoutTrailingSlashes(b);
}

function withoutTrailingSlashes(path: string): string {
  let end = path.length;
  while (end > 0 && path.charCodeAt(end - 1) === 47 /* "/" */) end--;
  return path.slice(0, end);
}
