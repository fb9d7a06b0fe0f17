// Istio's own manifests for the local cluster: `istioctl manifest generate` renders the
// charts compiled into the istioctl built from the same module as istiod, with the
// injector webhook's clientConfig pointing at a loopback URL (the chart's
// istiodRemote.injectionURL; a Service has no endpoints here) and the test CA as its
// caBundle. What needs nodes (Deployments, Services, autoscalers) is left out; the
// ValidatingWebhookConfiguration is too: it points at the istiod Service, which has no
// endpoints here, and validating Istio's resources is not what these tests are about.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import type { K8sObject } from "./deploy.js";

export const ISTIO_NAMESPACE = "istio-system";
export const ISTIO_INJECTOR_CONFIGURATION = "istio-sidecar-injector";

/** Kinds applied to the cluster, in this order (CRDs first so their kinds are served). */
const APPLIED_KINDS = ["CustomResourceDefinition", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "ConfigMap", "MutatingWebhookConfiguration"];

export interface RenderOptions {
  /** https://127.0.0.1:PORT/inject */
  injectionUrl: string;
  /** base64 of the PEM CA that signed istiod's serving certificate. */
  caBundle: string;
  /** Further `--set` values (e.g. "values.sidecarInjectorWebhook.reinvocationPolicy=IfNeeded"). */
  set?: readonly string[];
}

export function parseYamlObjects(text: string, what: string): K8sObject[] {
  return parseAllDocuments(text).flatMap((doc) => {
    if (doc.errors.length > 0) throw new Error(`${what}: ${doc.errors[0]?.message ?? "bad YAML"}`);
    const o = doc.toJS() as K8sObject | null;
    return o && typeof o === "object" ? [o] : [];
  });
}

/** Everything `istioctl manifest generate` renders for the default profile with these settings. */
export function renderIstio(istioctl: string, opts: RenderOptions): K8sObject[] {
  const set = [`values.istiodRemote.injectionURL=${opts.injectionUrl}`, `values.istiodRemote.injectionCABundle=${opts.caBundle}`, ...(opts.set ?? [])];
  const text = execFileSync(istioctl, ["manifest", "generate", ...set.flatMap((s) => ["--set", s])], { encoding: "utf8", maxBuffer: 64 << 20, stdio: ["ignore", "pipe", "pipe"] });
  return parseYamlObjects(text, "istioctl manifest generate");
}

/** The rendered objects the local cluster gets, in apply order. */
export function appliedObjects(rendered: readonly K8sObject[]): K8sObject[] {
  return APPLIED_KINDS.flatMap((kind) => rendered.filter((o) => o.kind === kind));
}

export function findObject(objs: readonly K8sObject[], kind: string, name: string): K8sObject {
  const o = objs.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`Istio's manifests have no ${kind} ${name}`);
  return o;
}

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string }; resourceFieldRef?: { resource: string } };
}

/**
 * The environment of istiod's discovery container as the rendered Deployment sets it,
 * with the downward-API values a kubelet would fill in for a local process.
 */
export function istiodEnvironment(rendered: readonly K8sObject[], local: { podName: string; cpus: number }): Record<string, string> {
  const deployment = findObject(rendered, "Deployment", "istiod") as K8sObject & { spec: { template: { spec: { serviceAccountName?: string; containers: { name: string; env?: EnvVar[] }[] } } } };
  const pod = deployment.spec.template.spec;
  const container = pod.containers.find((c) => c.name === "discovery");
  if (!container) throw new Error("istiod's Deployment has no discovery container");
  const fields: Record<string, string> = {
    "metadata.name": local.podName,
    "metadata.namespace": ISTIO_NAMESPACE,
    "spec.serviceAccountName": pod.serviceAccountName ?? "istiod",
  };
  const env: Record<string, string> = {};
  for (const e of container.env ?? []) {
    // The remote-cluster kubeconfig path of a multi-cluster install: --kubeconfig says it here.
    if (e.name === "KUBECONFIG") continue;
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.fieldRef) env[e.name] = fields[e.valueFrom.fieldRef.fieldPath] ?? "";
    else if (e.valueFrom?.resourceFieldRef?.resource === "limits.cpu") env[e.name] = String(local.cpus);
  }
  return env;
}

/** The mesh configuration (ConfigMap istio, key mesh) istiod reads from a file. */
export function meshConfig(rendered: readonly K8sObject[]): string {
  const cm = findObject(rendered, "ConfigMap", "istio") as K8sObject & { data?: Record<string, string> };
  const mesh = cm.data?.mesh;
  if (mesh === undefined) throw new Error("ConfigMap istio has no mesh key");
  return mesh;
}

/** The Gateway API CRDs cached next to the binaries. */
export function gatewayApiCrds(path: string): K8sObject[] {
  return parseYamlObjects(readFileSync(path, "utf8"), path);
}
