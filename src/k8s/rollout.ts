// `hookpoint enable` / `disable`: change the opt-in (namespace label, or the
// workloads' pod-template annotation), restart the workloads the way `kubectl
// rollout restart` does, watch their new pods, and on enable roll the opt-in
// back (and restart again) when a traced pod crash-loops or its proxy is not
// ready in time. Every change is a JSON Patch of the one label or annotation it
// sets, computed from the object just read (no test op: a concurrent edit of other
// fields is kept, not refused).
import { AppsV1Api, CoreV1Api, type KubeConfig, type V1DaemonSet, type V1Deployment, type V1Namespace, type V1PodTemplateSpec, type V1StatefulSet } from "@kubernetes/client-node";
import { escapePointerSegment } from "../admission/patch.js";
import { INJECT_KEY } from "../names.js";
import { USER_FORBIDDEN_HINT, describeApiError, httpStatus } from "./api-errors.js";
import { judgePods, RESTARTED_AT, type PodView, type Verdict } from "./rollout-health.js";

export const WORKLOAD_KINDS = ["Deployment", "StatefulSet", "DaemonSet"] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

export interface WorkloadRef {
  kind: WorkloadKind;
  name: string;
}

export interface RolloutOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  /** Only these; none: the namespace label and every workload of the namespace. */
  workloads: WorkloadRef[];
  mode: "enable" | "disable";
  timeoutMs: number;
  pollMs: number;
  dryRun: boolean;
  say: (line: string) => void;
  /** Asked before anything is changed (dry run included) with each workload's pod template; a reason refuses the rollout. */
  precheck?: (workloads: { label: string; name: string; template: V1PodTemplateSpec }[]) => Promise<string | undefined>;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
}

type Workload = { ref: WorkloadRef; obj: V1Deployment | V1StatefulSet | V1DaemonSet };

/** What the opt-in is made of: the namespace label, or one annotation per workload. */
interface OptIn {
  describe(): string;
  apply(): Promise<void>;
  undo(): Promise<void>;
}

export class RolloutFailed extends Error {}

export async function rollout(o: RolloutOptions): Promise<void> {
  const apps = o.kubeConfig.makeApiClient(AppsV1Api);
  const core = o.kubeConfig.makeApiClient(CoreV1Api);
  const now = o.now ?? (() => new Date());
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const ns = await readNamespace(core, o.namespace, o.kubeConfig.getCurrentCluster()?.server ?? "", o.workloads.length > 0);
  const workloads = await selectWorkloads(apps, o.namespace, o.workloads);
  // ns is undefined only with --workload (see readNamespace).
  const optIn = o.workloads.length > 0 || ns === undefined ? templateOptIn(apps, o.namespace, workloads, o.mode) : await namespaceOptIn(core, o.namespace, ns, o.mode);

  const label = (w: Workload) => `${w.ref.kind} ${o.namespace}/${w.ref.name}`;
  const refused = await o.precheck?.(workloads.map((w) => ({ label: label(w), name: w.ref.name, template: w.obj.spec?.template ?? {} })));
  if (refused !== undefined) throw new RolloutFailed(refused);
  if (o.dryRun) {
    o.say(`would ${optIn.describe()}`);
    for (const w of workloads) o.say(`would restart ${label(w)} (annotation ${RESTARTED_AT} on its pod template)`);
    o.say(
      o.mode === "enable"
        ? `would watch their new pods for ${o.timeoutMs / 1000}s; if one crash-loops or its proxy is not ready by then, undo the opt-in and restart them again`
        : `would watch their new pods for ${o.timeoutMs / 1000}s until they run untraced`,
    );
    return;
  }
  if (workloads.length === 0) o.say(`no Deployment, StatefulSet or DaemonSet in ${o.namespace}: only the opt-in changes`);
  await optIn.apply();
  o.say(`${optIn.describe().replace(/^(\w+)/, (v) => PAST[v] ?? v)}`);
  const restartedAt = await restartAll(apps, o.namespace, workloads, now(), (w) => o.say(`restarted ${label(w)}`));

  const deadline = now().getTime() + o.timeoutMs;
  const pending = new Map(workloads.map((w) => [label(w), w]));
  let last = new Map<string, Verdict>();
  while (pending.size > 0) {
    const verdicts = new Map<string, Verdict>();
    for (const [name, w] of pending) verdicts.set(name, judgePods(await podsOf(core, o.namespace, w), restartedAt, wanted(w), o.mode === "enable"));
    for (const [name, v] of verdicts) {
      if (v.state === "healthy") {
        o.say(`${name}: ${v.detail}`);
        pending.delete(name);
      }
    }
    const failed = [...verdicts].find(([, v]) => v.state === "failed");
    const timedOut = now().getTime() >= deadline && pending.size > 0;
    if (failed || timedOut) {
      const why = failed ? `${failed[0]}: ${failed[1].detail}` : `not ready within ${o.timeoutMs / 1000}s: ${[...pending.keys()].map((n) => `${n}: ${(verdicts.get(n) ?? last.get(n))?.detail ?? "no new pods"}`).join("; ")}`;
      if (o.mode === "disable") throw new RolloutFailed(why);
      o.say(`rolling back: ${why}`);
      await optIn.undo();
      await restartAll(apps, o.namespace, workloads, now(), (w) => o.say(`restarted ${label(w)} again`));
      throw new RolloutFailed(`rolled back: ${why}`);
    }
    last = verdicts;
    if (pending.size > 0) await sleep(o.pollMs);
  }
}

const PAST: Record<string, string> = { label: "labelled", remove: "removed", annotate: "annotated", set: "set" };

async function selectWorkloads(apps: AppsV1Api, namespace: string, refs: readonly WorkloadRef[]): Promise<Workload[]> {
  if (refs.length === 0) {
    const [d, s, ds] = await Promise.all([
      apps.listNamespacedDeployment({ namespace }).catch((e: unknown) => Promise.reject(describeApiError(`listing Deployments in ${namespace}`, e, USER_FORBIDDEN_HINT))),
      apps.listNamespacedStatefulSet({ namespace }).catch((e: unknown) => Promise.reject(describeApiError(`listing StatefulSets in ${namespace}`, e, USER_FORBIDDEN_HINT))),
      apps.listNamespacedDaemonSet({ namespace }).catch((e: unknown) => Promise.reject(describeApiError(`listing DaemonSets in ${namespace}`, e, USER_FORBIDDEN_HINT))),
    ]);
    return [
      ...d.items.map((obj) => ({ ref: { kind: "Deployment" as const, name: obj.metadata?.name ?? "" }, obj })),
      ...s.items.map((obj) => ({ ref: { kind: "StatefulSet" as const, name: obj.metadata?.name ?? "" }, obj })),
      ...ds.items.map((obj) => ({ ref: { kind: "DaemonSet" as const, name: obj.metadata?.name ?? "" }, obj })),
    ];
  }
  return Promise.all(refs.map(async (ref) => ({ ref, obj: await read(apps, namespace, ref) })));
}

async function read(apps: AppsV1Api, namespace: string, ref: WorkloadRef): Promise<V1Deployment | V1StatefulSet | V1DaemonSet> {
  try {
    if (ref.kind === "Deployment") return await apps.readNamespacedDeployment({ name: ref.name, namespace });
    if (ref.kind === "StatefulSet") return await apps.readNamespacedStatefulSet({ name: ref.name, namespace });
    return await apps.readNamespacedDaemonSet({ name: ref.name, namespace });
  } catch (e) {
    throw describeApiError(`reading ${ref.kind} ${namespace}/${ref.name}`, e, USER_FORBIDDEN_HINT);
  }
}

async function patch(apps: AppsV1Api, namespace: string, ref: WorkloadRef, body: object[]): Promise<void> {
  try {
    if (ref.kind === "Deployment") await apps.patchNamespacedDeployment({ name: ref.name, namespace, body });
    else if (ref.kind === "StatefulSet") await apps.patchNamespacedStatefulSet({ name: ref.name, namespace, body });
    else await apps.patchNamespacedDaemonSet({ name: ref.name, namespace, body });
  } catch (e) {
    throw describeApiError(`patching ${ref.kind} ${namespace}/${ref.name}`, e, USER_FORBIDDEN_HINT);
  }
}

/** JSON Patch setting (value) or removing (undefined) one annotation of the pod template. */
function templateAnnotationOps(obj: Workload["obj"], key: string, value: string | undefined): object[] {
  const annotations = obj.spec?.template.metadata?.annotations;
  const path = `/spec/template/metadata/annotations/${escapePointerSegment(key)}`;
  if (value === undefined) return annotations?.[key] === undefined ? [] : [{ op: "remove", path }];
  if (!obj.spec?.template.metadata) return [{ op: "add", path: "/spec/template/metadata", value: { annotations: { [key]: value } } }];
  if (!annotations) return [{ op: "add", path: "/spec/template/metadata/annotations", value: { [key]: value } }];
  return [{ op: "add", path, value }];
}

/** Restarts like `kubectl rollout restart`; returns the value written (the new pods carry it). */
async function restartAll(apps: AppsV1Api, namespace: string, workloads: Workload[], at: Date, done: (w: Workload) => void): Promise<string> {
  const value = at.toISOString();
  for (const w of workloads) {
    w.obj = await read(apps, namespace, w.ref);
    await patch(apps, namespace, w.ref, templateAnnotationOps(w.obj, RESTARTED_AT, value));
    done(w);
  }
  return value;
}

/** The pods a workload wants: 0 for one scaled to zero (a restart makes none; waiting for one would time out and roll back). */
function wanted(w: Workload): number {
  if (w.ref.kind === "DaemonSet") return Math.max(0, (w.obj as V1DaemonSet).status?.desiredNumberScheduled ?? 1);
  return Math.max(0, (w.obj as V1Deployment).spec?.replicas ?? 1);
}

/**
 * A workload's label selector as a query string, matchExpressions included: left out, a
 * selector of expressions alone would list every pod of the namespace, and another
 * workload's new pods (restarted at the same moment) would count for this one.
 */
function selectorQuery(selector: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] } | undefined): string {
  const parts = Object.entries(selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of selector?.matchExpressions ?? []) {
    const values = `(${(e.values ?? []).join(",")})`;
    if (e.operator === "In") parts.push(`${e.key} in ${values}`);
    else if (e.operator === "NotIn") parts.push(`${e.key} notin ${values}`);
    else if (e.operator === "Exists") parts.push(e.key);
    else if (e.operator === "DoesNotExist") parts.push(`!${e.key}`);
  }
  return parts.join(",");
}

async function podsOf(core: CoreV1Api, namespace: string, w: Workload): Promise<PodView[]> {
  const labelSelector = selectorQuery(w.obj.spec?.selector);
  try {
    return (await core.listNamespacedPod({ namespace, labelSelector })).items as PodView[];
  } catch (e) {
    throw describeApiError(`listing the pods of ${w.ref.kind} ${namespace}/${w.ref.name}`, e, USER_FORBIDDEN_HINT);
  }
}

/**
 * The namespace, read before anything else: a missing one is named as such, where listing
 * its workloads would find none and reading one would blame the workload ("deployments.apps
 * \"web\" not found"). With --workload, getting Namespaces is not among the permissions
 * enable needs: refused, the namespace is not checked (undefined) and the workloads' reads say.
 */
async function readNamespace(core: CoreV1Api, namespace: string, server: string, optional: boolean): Promise<V1Namespace | undefined> {
  try {
    return await core.readNamespace({ name: namespace });
  } catch (e) {
    const code = httpStatus(e);
    if (code === 404) throw new RolloutFailed(`namespace ${namespace} does not exist on ${server}: nothing was changed`);
    if (optional && code === 403) return undefined;
    throw describeApiError(`reading namespace ${namespace} from ${server}`, e, USER_FORBIDDEN_HINT);
  }
}

/**
 * The namespace label as the opt-in. Whether the user may set it is asked up front with a
 * server-side dry run of the patch, so that --dry-run does not promise a change the API
 * server would refuse.
 */
async function namespaceOptIn(core: CoreV1Api, namespace: string, ns: V1Namespace, mode: "enable" | "disable"): Promise<OptIn> {
  const previous = ns.metadata?.labels?.[INJECT_KEY];
  let hasLabels = ns.metadata?.labels !== undefined;
  const path = `/metadata/labels/${escapePointerSegment(INJECT_KEY)}`;
  const set = async (value: string | undefined, dryRun = false) => {
    const body = value === undefined ? [{ op: "remove", path }] : hasLabels ? [{ op: "add", path, value }] : [{ op: "add", path: "/metadata/labels", value: { [INJECT_KEY]: value } }];
    try {
      await core.patchNamespace({ name: namespace, body, ...(dryRun ? { dryRun: "All" } : {}) });
    } catch (e) {
      throw describeApiError(`labelling namespace ${namespace}`, e, USER_FORBIDDEN_HINT);
    }
    if (!dryRun) hasLabels = true;
  };
  const target = mode === "enable" ? "enabled" : undefined;
  if (previous !== target) await set(target, true);
  return {
    describe: () => (mode === "enable" ? `label namespace ${namespace} ${INJECT_KEY}=enabled${previous !== undefined ? ` (was ${previous})` : ""}` : `remove label ${INJECT_KEY} from namespace ${namespace}${previous === undefined ? " (it has none)" : ` (was ${previous})`}`),
    apply: async () => {
      if (previous !== target) await set(target);
    },
    undo: async () => {
      if (previous !== target) await set(previous);
    },
  };
}

function templateOptIn(apps: AppsV1Api, namespace: string, workloads: Workload[], mode: "enable" | "disable"): OptIn {
  const value = mode === "enable" ? "true" : "false";
  const previous = new Map(workloads.map((w) => [w, w.obj.spec?.template.metadata?.annotations?.[INJECT_KEY]]));
  const names = workloads.map((w) => `${w.ref.kind} ${w.ref.name}`).join(", ");
  return {
    describe: () => `annotate the pod template of ${names} in ${namespace} with ${INJECT_KEY}="${value}"`,
    apply: async () => {
      for (const w of workloads) await patch(apps, namespace, w.ref, templateAnnotationOps(w.obj, INJECT_KEY, value));
    },
    undo: async () => {
      for (const w of workloads) {
        w.obj = await read(apps, namespace, w.ref);
        await patch(apps, namespace, w.ref, templateAnnotationOps(w.obj, INJECT_KEY, previous.get(w)));
      }
    },
  };
}
