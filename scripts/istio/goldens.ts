// `npm run istio:goldens`: regenerates the Istio pod shapes in test/fixtures/pods/ from
// the real injector. For each shape it takes the application pod (the fixture minus what
// Istio added, as its sidecar.istio.io/status lists), sends it to the /inject endpoint of
// the istiod built from istio.io/istio (the one the e2e tests run, started if needed) as
// the API server would at CREATE, applies the JSON Patch istiod answers, and writes the
// result with a header naming the Istio version. Review the diff like code, then
// regenerate the derived admission goldens: UPDATE_GOLDEN=1 npx vitest run test/unit/admission.
// Shapes Istio cannot produce (a hostNetwork pod, hand-made edge cases, the pod before
// injection) stay hand-written.
import { randomUUID } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import jsonpatch from "fast-json-patch";
import { stringify } from "yaml";
import type { Container, Pod, Volume } from "../../src/admission/pod.js";
import { ensureIstiod, type Istiod } from "../../test/e2e/support/istiod.js";
import { fixtureUrl, loadPod } from "../../test/support/pods.js";
import { REPO_ROOT } from "../cluster/layout.js";

const ISTIO_STATUS = "sidecar.istio.io/status";
const ISTIO_LABELS = ["security.istio.io/tlsMode", "service.istio.io/canonical-name", "service.istio.io/canonical-revision"];
const ISTIO_ANNOTATIONS = [ISTIO_STATUS, "istio.io/rev", "kubectl.kubernetes.io/default-container", "kubectl.kubernetes.io/default-logs-container", "prometheus.io/path", "prometheus.io/port", "prometheus.io/scrape"];

interface Shape {
  file: string;
  /** First comment lines of the fixture (what the shape is). */
  about: string[];
  /** The pod as its owner writes it, before Istio. */
  input: () => Pod;
}

/** The fixture without what Istio added (its status annotation lists the containers and volumes). */
function beforeIstio(file: string, annotations: Record<string, string> = {}): Pod {
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

const SHAPES: Shape[] = [
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

/** POST an AdmissionReview to istiod's /inject, trusting only its CA; the JSON Patch it answers. */
function inject(istiod: Istiod, pod: Pod): Promise<jsonpatch.Operation[]> {
  const review = {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: randomUUID(),
      kind: { group: "", version: "v1", kind: "Pod" },
      resource: { group: "", version: "v1", resource: "pods" },
      namespace: pod.metadata?.namespace,
      operation: "CREATE",
      userInfo: { username: "system:serviceaccount:kube-system:replicaset-controller" },
      object: pod,
      dryRun: false,
    },
  };
  const body = Buffer.from(JSON.stringify(review));
  return new Promise((resolve, reject) => {
    const r = request(istiod.injectUrl, { method: "POST", ca: istiod.caPem, headers: { "Content-Type": "application/json", "Content-Length": String(body.length) }, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const answer = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { response?: { allowed: boolean; patch?: string; status?: { message?: string } } };
        const resp = answer.response;
        if (!resp?.allowed) return reject(new Error(`istiod refused ${pod.metadata?.name ?? ""}: ${resp?.status?.message ?? res.statusCode}`));
        if (!resp.patch) return reject(new Error(`istiod did not inject ${pod.metadata?.name ?? ""}`));
        resolve(JSON.parse(Buffer.from(resp.patch, "base64").toString("utf8")) as jsonpatch.Operation[]);
      });
    });
    r.on("timeout", () => r.destroy(new Error(`${istiod.injectUrl}: no answer within 10 s`)));
    r.on("error", reject);
    r.end(body);
  });
}

const istiod = await ensureIstiod();
for (const shape of SHAPES) {
  const input = shape.input();
  const injected = jsonpatch.applyPatch(structuredClone(input), await inject(istiod, input), true, false).newDocument;
  const header = [
    ...shape.about,
    `Generated by scripts/istio/goldens.ts (npm run istio:goldens) from the /inject answer of istiod`,
    `istio.io/istio ${istiod.version}; regenerate rather than edit.`,
  ];
  const path = fixtureUrl(`pods/${shape.file}.yaml`).pathname;
  const before = readFileSync(path, "utf8");
  const text = header.map((l) => `# ${l}`).join("\n") + "\n" + stringify(injected, { lineWidth: 0 });
  writeFileSync(path, text);
  process.stdout.write(`${join("test/fixtures/pods", `${shape.file}.yaml`)}: ${before === text ? "unchanged" : "written"}\n`);
}
process.stdout.write(`derived goldens: UPDATE_GOLDEN=1 npx vitest run test/unit/admission (from ${REPO_ROOT})\n`);
