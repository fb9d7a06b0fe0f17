// Structural types for the parts of a Pod that hookpoint reads or writes.
// Everything else passes through untouched, hence the index signatures.

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  managedFields?: unknown[];
  [key: string]: unknown;
}

export interface EnvVar {
  name: string;
  value?: string;
  [key: string]: unknown;
}

/** The entry of `name` the container gets: of a name given twice, the kubelet passes the last. */
export function envEntry<T extends { name: string }>(env: readonly T[] | undefined, name: string): T | undefined {
  // A manifest's env may be no list at all (`env: "…"`): nothing is read from it.
  return Array.isArray(env) ? (env as readonly (T | null)[]).findLast((e) => e?.name === name) ?? undefined : undefined;
}

export interface VolumeMount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
  [key: string]: unknown;
}

export interface SecurityContext {
  privileged?: boolean;
  allowPrivilegeEscalation?: boolean;
  runAsUser?: number;
  runAsGroup?: number;
  runAsNonRoot?: boolean;
  capabilities?: { add?: string[]; drop?: string[] };
  [key: string]: unknown;
}

export interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  volumeMounts?: VolumeMount[];
  securityContext?: SecurityContext;
  resources?: Record<string, unknown>;
  restartPolicy?: string;
  [key: string]: unknown;
}

export interface Volume {
  name: string;
  [key: string]: unknown;
}

export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  volumes?: Volume[];
  hostNetwork?: boolean;
  securityContext?: { runAsUser?: number; runAsGroup?: number; [key: string]: unknown };
  terminationGracePeriodSeconds?: number;
  [key: string]: unknown;
}

export interface Pod {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec: PodSpec;
  [key: string]: unknown;
}

export type ContainerLocation = "containers" | "initContainers";

export interface TargetRef {
  name: string;
  location: ContainerLocation;
  index: number;
}

/** Find the first target container by name: all of `containers`, then `initContainers`. Never by position. */
export function findTarget(spec: PodSpec, targetNames: readonly string[]): TargetRef | undefined {
  for (const name of targetNames) {
    for (const location of ["containers", "initContainers"] as const) {
      const list = spec[location];
      if (!Array.isArray(list)) continue;
      const index = list.findIndex((c) => c?.name === name);
      if (index >= 0) return { name, location, index };
    }
  }
  return undefined;
}
