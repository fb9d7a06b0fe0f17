// Where a workload keeps its pod: the document itself for a Pod, spec.template
// for controllers, spec.jobTemplate.spec.template for a CronJob, template for a
// PodTemplate. Pure.
import { isObject } from "../is-object.js";
import type { Pod } from "./pod.js";

export const TEMPLATE_PATHS: Readonly<Record<string, readonly string[]>> = {
  Pod: [],
  Deployment: ["spec", "template"],
  StatefulSet: ["spec", "template"],
  DaemonSet: ["spec", "template"],
  ReplicaSet: ["spec", "template"],
  ReplicationController: ["spec", "template"],
  Job: ["spec", "template"],
  CronJob: ["spec", "jobTemplate", "spec", "template"],
  PodTemplate: ["template"],
  DeploymentConfig: ["spec", "template"], // OpenShift
};

export type TemplateLookup =
  | { ok: true; pod: Pod; path: readonly string[] }
  | { ok: false; path: string; message: string }
  | { ok: "skip" };

/** The pod (template) of a workload document, or a problem naming the field path. */
export function podTemplateOf(doc: Record<string, unknown>): TemplateLookup {
  const kind = doc.kind;
  if (typeof kind !== "string" || kind === "") return { ok: false, path: "kind", message: "missing" };
  const path = TEMPLATE_PATHS[kind];
  if (!path) return { ok: "skip" }; // Services, ConfigMaps...: passed through untouched
  return podAt(doc, path);
}

/** The pod (template) at `path` of a document, checked like podTemplateOf checks a known kind's. */
export function podAt(doc: Record<string, unknown>, path: readonly string[]): TemplateLookup {
  let node: unknown = doc;
  for (let i = 0; i < path.length; i++) {
    const key = path[i] as string;
    node = isObject(node) ? node[key] : undefined;
    if (!isObject(node)) return { ok: false, path: path.slice(0, i + 1).join("."), message: "missing" };
  }
  const pod = node as Record<string, unknown>;
  const at = (f: string) => [...path, f].join(".");
  if (!isObject(pod.spec)) return { ok: false, path: at("spec"), message: "missing" };
  const containers = pod.spec.containers;
  if (!Array.isArray(containers) || containers.length === 0) return { ok: false, path: at("spec.containers"), message: "missing or empty" };
  for (const list of ["containers", "initContainers"] as const) {
    const items = pod.spec[list];
    if (items === undefined) continue;
    if (!Array.isArray(items)) return { ok: false, path: at(`spec.${list}`), message: "must be a list" };
    for (let i = 0; i < items.length; i++) {
      const c = items[i];
      if (!isObject(c) || typeof c.name !== "string") return { ok: false, path: at(`spec.${list}[${i}].name`), message: "missing" };
    }
  }
  return { ok: true, pod: pod as unknown as Pod, path };
}
