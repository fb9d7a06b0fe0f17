// Pods for the e2e scenarios: realistic Istio shapes from test/fixtures/pods,
// created through the API server with their warnings, read back as stored.
import type { KubeConfig } from "@kubernetes/client-node";
import type { Container, Pod } from "../../../src/admission/pod.js";
import { loadPod } from "../../support/pods.js";
import { kubeRequest, ok, type KubeResponse } from "./kube-http.js";

export type { Container, Pod } from "../../../src/admission/pod.js";

/**
 * A fixture pod without what ties it to the namespace it was captured in: its
 * namespace, owner, generated name and ServiceAccount (which does not exist in a
 * test namespace). `name` replaces its name; `annotations` are added.
 */
export function fixturePod(fixture: string, name: string, annotations: Record<string, string> = {}): Pod {
  const pod = loadPod(fixture);
  const { namespace: _ns, ownerReferences: _owner, generateName: _gen, ...metadata } = pod.metadata ?? {};
  const { serviceAccountName: _sa, ...spec } = pod.spec as Pod["spec"] & { serviceAccountName?: string };
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { ...metadata, name, annotations: { ...(metadata.annotations ?? {}), ...annotations } },
    spec,
  } as Pod;
}

/** The smallest pod hookpoint acts on: one istio-proxy container, as Istio shapes it. */
export function probePod(name: string, annotations: Record<string, string> = {}): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, annotations },
    spec: {
      containers: [
        {
          name: "istio-proxy",
          image: "docker.io/istio/proxyv2:1.28.0",
          args: ["proxy", "sidecar"],
          securityContext: { runAsUser: 1337, runAsGroup: 1337, runAsNonRoot: true, allowPrivilegeEscalation: false, privileged: false, capabilities: { drop: ["ALL"] } },
        },
      ],
    },
  } as Pod;
}

/** POST a pod; the raw answer (stored pod or refusal, and the warnings). */
export function postPod(kc: KubeConfig, namespace: string, pod: Pod, opts: { dryRun?: boolean } = {}): Promise<KubeResponse<Pod>> {
  return kubeRequest<Pod>(kc, {
    method: "POST",
    path: `/api/v1/namespaces/${namespace}/pods`,
    query: { fieldValidation: "Strict", ...(opts.dryRun ? { dryRun: "All" } : {}) },
    body: pod,
  });
}

/** Creates a pod, which must be admitted; the answer's pod and warnings. */
export async function createPod(kc: KubeConfig, namespace: string, pod: Pod, opts: { dryRun?: boolean } = {}): Promise<{ pod: Pod; warnings: string[] }> {
  const res = ok(await postPod(kc, namespace, pod, opts), `create pod ${namespace}/${pod.metadata?.name ?? ""}`);
  return { pod: res.body, warnings: res.warnings };
}

/** The pod as stored (GET), or undefined on 404. */
export async function readPod(kc: KubeConfig, namespace: string, name: string): Promise<Pod | undefined> {
  const res = await kubeRequest<Pod>(kc, { method: "GET", path: `/api/v1/namespaces/${namespace}/pods/${name}` });
  if (res.status === 404) return undefined;
  return ok(res, `get pod ${namespace}/${name}`).body;
}

export function container(pod: Pod, name: string): Container {
  const c = [...(pod.spec.initContainers ?? []), ...pod.spec.containers].find((x) => x.name === name);
  if (!c) throw new Error(`pod ${pod.metadata?.name ?? ""} has no container ${name}`);
  return c;
}

/** The ServiceAccount admission plugin names its token volume kube-api-access-<5 random>. */
const TOKEN_VOLUME = /^kube-api-access-[a-z0-9]{5}$/;
export const TOKEN_VOLUME_NAME = "kube-api-access-GENERATED";

/** The spec with the generated token volume name replaced, so two stored pods compare. */
export function withoutGeneratedNames<T>(value: T): T {
  return JSON.parse(JSON.stringify(value), (_k, v: unknown) => (typeof v === "string" && TOKEN_VOLUME.test(v) ? TOKEN_VOLUME_NAME : v)) as T;
}
