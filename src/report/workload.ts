// Which workload a pod belongs to, when the collect manifest does not say: read from the
// pod's generated name. Pure.
//
// Kubernetes names a controller's pods `<owner>-<suffix>`, the suffix 5 characters of
// its safe alphabet (no vowels, no 0/1/3, so never a word or a number):
//   Deployment   <deployment>-<pod-template-hash: 6-10 safe chars>-<5 safe chars>
//   ReplicaSet, DaemonSet, Job   <owner>-<5 safe chars>
//   StatefulSet  <statefulset>-<ordinal>
// Anything else is its own workload (a bare pod). A heuristic: the manifest's owner wins.

const SAFE = "[bcdfghjklmnpqrstvwxz2456789]";
const DEPLOYMENT = new RegExp(`^(.+)-${SAFE}{6,10}-${SAFE}{5}$`);
const GENERATED = new RegExp(`^(.+)-${SAFE}{5}$`);
const ORDINAL = /^(.+)-(0|[1-9]\d*)$/;

export interface Workload {
  /** e.g. "Deployment"; what the name pattern suggests when derived. */
  kind: string;
  name: string;
  /** True when read from the pod name rather than from its owner. */
  derived: boolean;
}

export function workloadFromPodName(pod: string): Workload {
  let m = DEPLOYMENT.exec(pod);
  if (m) return { kind: "Deployment", name: m[1]!, derived: true };
  m = GENERATED.exec(pod);
  if (m) return { kind: "ReplicaSet/DaemonSet/Job", name: m[1]!, derived: true };
  m = ORDINAL.exec(pod);
  if (m) return { kind: "StatefulSet", name: m[1]!, derived: true };
  return { kind: "Pod", name: pod, derived: true };
}
