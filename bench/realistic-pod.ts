// A realistic Istio-injected pod as the API server hands it to a webhook at
// CREATE: the classic-sidecar fixture plus the managedFields kubectl and the
// controllers write (about 10 KB of JSON).
import type { Pod } from "../src/admission/pod.js";
import { loadPod } from "../test/support/pods.js";

export function realisticPod(): Pod {
  const pod = loadPod("classic-sidecar");
  const fieldsFor = (c: { name: string }) => ({ [`k:{"name":"${c.name}"}`]: { ".": {}, "f:args": {}, "f:env": {}, "f:image": {}, "f:imagePullPolicy": {}, "f:name": {}, "f:ports": {}, "f:resources": {}, "f:securityContext": {}, "f:terminationMessagePath": {}, "f:terminationMessagePolicy": {}, "f:volumeMounts": {} } });
  pod.metadata!.managedFields = [
    {
      manager: "kube-controller-manager",
      operation: "Update",
      apiVersion: "v1",
      time: "2026-11-22T05:00:00Z",
      fieldsType: "FieldsV1",
      fieldsV1: {
        "f:metadata": { "f:generateName": {}, "f:labels": { ".": {}, "f:app": {}, "f:pod-template-hash": {}, "f:version": {} }, "f:ownerReferences": { ".": {}, 'k:{"uid":"2f1e0c6a-6f52-4d1b-9a43-7c1f6e2d9b10"}': {} } },
        "f:spec": {
          "f:containers": Object.assign({}, ...pod.spec.containers.map(fieldsFor)),
          "f:initContainers": Object.assign({}, ...(pod.spec.initContainers ?? []).map(fieldsFor)),
          "f:dnsPolicy": {}, "f:enableServiceLinks": {}, "f:restartPolicy": {}, "f:schedulerName": {}, "f:securityContext": {}, "f:serviceAccount": {}, "f:serviceAccountName": {}, "f:terminationGracePeriodSeconds": {},
          "f:volumes": Object.assign({}, ...(pod.spec.volumes ?? []).map((v) => ({ [`k:{"name":"${v.name}"}`]: { ".": {}, "f:emptyDir": {}, "f:name": {} } }))),
        },
      },
    },
  ];
  // Env Istio adds on real clusters that the fixture leaves out.
  const proxy = pod.spec.containers.find((c) => c.name === "istio-proxy")!;
  proxy.env!.push(
    { name: "ISTIO_KUBE_APP_PROBERS", value: JSON.stringify({ "/app-health/reviews/livez": { httpGet: { path: "/health", port: 9080, scheme: "HTTP" }, timeoutSeconds: 3 }, "/app-health/reviews/readyz": { httpGet: { path: "/ready", port: 9080, scheme: "HTTP" }, timeoutSeconds: 3 } }) },
    { name: "ISTIO_META_REQUESTED_NETWORK_VIEW", value: "network1" },
    { name: "ISTIO_BOOTSTRAP_OVERRIDE", value: "/etc/istio/custom-bootstrap/custom_bootstrap.json" },
    { name: "ISTIO_META_DNS_CAPTURE", value: "true" },
    { name: "ISTIO_META_DNS_AUTO_ALLOCATE", value: "true" },
    { name: "PROXY_XDS_VIA_AGENT", value: "true" },
    { name: "ISTIO_META_ENABLE_HBONE", value: "false" },
    { name: "ISTIO_META_PLATFORM_METADATA", value: '{"gcp_project":"example-prod","gcp_location":"europe-west1","gcp_gke_cluster_name":"mesh-prod-1"}' },
  );
  // `kubectl rollout restart` and a GitOps tool leave their own entries and annotations.
  pod.metadata!.annotations!["kubectl.kubernetes.io/restartedAt"] = "2026-11-21T22:14:03Z";
  pod.metadata!.annotations!["argocd.argoproj.io/tracking-id"] = "bookinfo:apps/Deployment:bookinfo/reviews-v1";
  pod.metadata!.managedFields.push({
    manager: "argocd-controller",
    operation: "Update",
    apiVersion: "v1",
    time: "2026-11-21T22:14:03Z",
    fieldsType: "FieldsV1",
    fieldsV1: { "f:metadata": { "f:annotations": { ".": {}, "f:argocd.argoproj.io/tracking-id": {}, "f:kubectl.kubernetes.io/restartedAt": {}, "f:prometheus.io/path": {}, "f:prometheus.io/port": {}, "f:prometheus.io/scrape": {}, "f:sidecar.istio.io/status": {} }, "f:labels": { "f:security.istio.io/tlsMode": {}, "f:service.istio.io/canonical-name": {}, "f:service.istio.io/canonical-revision": {} } } },
  });
  Object.assign(pod.spec, { dnsPolicy: "ClusterFirst", enableServiceLinks: true, restartPolicy: "Always", schedulerName: "default-scheduler", securityContext: {}, serviceAccount: "bookinfo-reviews", tolerations: [{ effect: "NoExecute", key: "node.kubernetes.io/not-ready", operator: "Exists", tolerationSeconds: 300 }, { effect: "NoExecute", key: "node.kubernetes.io/unreachable", operator: "Exists", tolerationSeconds: 300 }], priority: 0, preemptionPolicy: "PreemptLowerPriority" });
  return pod;
}
