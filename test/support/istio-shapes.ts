// The Istio pod shapes of test/fixtures/pods that come from the real injector
// (scripts/istio/goldens.ts writes them; bench:injector sends them): each shape's
// application pod, as its owner writes it before Istio, is derived from the fixture.
import type { Container, Pod, Volume } from "../../src/admission/pod.js";
import { loadPod } from "./pods.js";

const ISTIO_STATUS = "sidecar.istio.io/status";
const ISTIO_LABELS = ["security.istio.io/tlsMode", "service.istio.io/canonical-name", "service.istio.io/canonical-revision"];
const ISTIO_ANNOTATIONS = [ISTIO_STATUS, "istio.io/rev", "kubectl.kubernetes.io/default-container", "kubectl.kubernetes.io/default-logs-container", "prometheus.io/path", "prometheus.io/port", "prometheus.io/scrape"];

export interface IstioShape {
  file: string;
  /** First comment lines of the fixture (what the shape is). */
  about: string[];
  /** The pod as its owner writes it, before Istio. */
  input: () => Pod;
}

/** The fixture without what Istio added (its status annotation lists the containers and volumes). */
export function beforeIstio(file: string, annotations: Record<string, string> = {}): Pod {
  const pod = loadPod(file);
  const status = JSON.parse(pod.metadata?.annotations?.[ISTIO_STATUS] ?? "{}") as { initContainers?: string[] | null; containers?: string[] | null; volumes?: string[] | null };
  const drop = <T extends { name: string }>(list: T[] | undefined, names: string[] | null | undefined): T[] | undefined => {
    const kept = (list ?? []).filter((x) => !(names ?? []).includes(x.name));
    return kept.length > 0 ? kept : undefined;
  };
  const labels = Object.fromEntries(Object.entries(pod.metadata?.labels ?? {}).filter(([k]) => !ISTIO_LABELS.includes(k)));
  const kept = Object.fromEntries(Object.entries(pod.metadata?.annotations ?? {}).filter(([k]) => !ISTIO_ANNOTATIONS.includes(k)));
  const spec: Pod["spec"] = { ...pod.spec, containers: drop(pod.spec.containers, status.containers) ?? [] };
  const init = drop(pod.spec.initContainers, status.initContainers);
  const volumes = drop<Volume>(pod.spec.volumes, status.volumes);
  if (init) spec.initContainers = init;
  else delete spec.initContainers;
  if (volumes) spec.volumes = volumes;
  else delete spec.volumes;
  return { ...pod, metadata: { ...pod.metadata, labels, annotations: { ...kept, ...annotations } }, spec };
}

export const ISTIO_SHAPES: IstioShape[] = [
  {
    file: "classic-sidecar",
    about: ["Classic Istio sidecar: istio-init runs iptables, istio-proxy is the last entry of", "spec.containers (the pod asks for it with sidecar.istio.io/nativeSidecar: \"false\")."],
    input: () => beforeIstio("classic-sidecar", { "sidecar.istio.io/nativeSidecar": "false" }),
  },
  {
    file: "native-sidecar",
    about: ["Native sidecar (Istio's default on Kubernetes >= 1.33): istio-proxy is an init container", "with restartPolicy: Always, right after istio-init."],
    input: () => beforeIstio("native-sidecar"),
  },
  {
    file: "tproxy",
    about: ["TPROXY interception (sidecar.istio.io/interceptionMode): Istio runs the proxy as uid 0,", "gid 1337, with NET_ADMIN."],
    input: () => beforeIstio("tproxy", { "sidecar.istio.io/nativeSidecar": "false" }),
  },
  {
    file: "several-apps",
    about: ["Several application containers around the proxy; only istio-proxy changes."],
    input: () => beforeIstio("several-apps", { "sidecar.istio.io/nativeSidecar": "false" }),
  },
  {
    file: "gateway",
    about: ["An ingress gateway as Istio's gateway chart deploys it: the pod declares istio-proxy with", "image auto and asks for the gateway template; istio-proxy is the only container and runs `proxy router`."],
    input: () => {
      const pod = beforeIstio("gateway");
      const declared: Container = { name: "istio-proxy", image: "auto" };
      pod.metadata = { ...pod.metadata, labels: { ...(pod.metadata?.labels ?? {}), "sidecar.istio.io/inject": "true" }, annotations: { ...(pod.metadata?.annotations ?? {}), "inject.istio.io/templates": "gateway" } };
      pod.spec = { ...pod.spec, containers: [declared] };
      return pod;
    },
  },
];


/** An AdmissionReview for a Pod CREATE, as the API server sends it (the fields injectors read). */
export function podCreateReview(pod: Pod, uid: string): object {
  return {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid,
      kind: { group: "", version: "v1", kind: "Pod" },
      resource: { group: "", version: "v1", resource: "pods" },
      namespace: pod.metadata?.namespace,
      operation: "CREATE",
      userInfo: { username: "system:serviceaccount:kube-system:replicaset-controller" },
      object: pod,
      dryRun: false,
    },
  };
}
