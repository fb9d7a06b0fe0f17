// `hookpoint check`'s verdicts on one read of the cluster (CheckSnapshot, read
// by src/k8s/check-snapshot.ts). Pure: no I/O, `now` is given; each check is
// one line, in the order an install is built (CRD, webhook configuration, TLS,
// policies, namespaces, images).
import { decide } from "../admission/decision.js";
import { istioVersionOfProxyImage, istioVersionOfTracingImage } from "../admission/istio.js";
import { INJECT_KEY, INJECTED_LABEL, NS_DISABLED, NS_ENABLED, PSA_ENFORCE_LABEL, type PodSecurityLevel } from "../names.js";
import { IMAGE_REFERENCE, imageParts } from "../image-reference.js";
import { findTarget, type Pod } from "../admission/pod.js";
import type { RoutedCondition } from "../admission/routing.js";
import { BUILTIN_PROFILE, type EffectivePolicy } from "../policy/effective.js";
import { optionalSelectorMatches } from "../policy/selector.js";
import { governingPolicy, namespaceLabels, type Snapshot } from "../policy/snapshot.js";
import { API_VERSION, POLICY_CRD_NAME } from "../policy/types.js";
import { caBundleLine, expiryLine, servingCertificateCheck, type ServingCertificate, type WebhookEntry } from "./certificates.js";
import { fail, pass, type CheckLine } from "./lines.js";


export type CrdState = { installed: false } | { installed: true; established: boolean; versions: { name: string; served: boolean; storage: boolean }[] };

export type WebhookState = { found: true; name: string; entries: WebhookEntry[] } | { found: false; name: string; problem: string };

export type EndpointsState =
  | { kind: "url"; urls: string[] }
  | { kind: "service"; service: string; found: false }
  | { kind: "service"; service: string; found: true; ready: string[]; notReady: number };

export interface PolicyState {
  name: string;
  accepted: boolean;
  /** The Accepted condition's message. */
  message: string;
  inForce: "this" | "previous" | "none";
  inForceGeneration: number | undefined;
  routed?: RoutedCondition;
}

export interface CheckSnapshot {
  /** The API server's address and version. */
  server: string;
  serverVersion: string;
  crd: CrdState;
  webhook: WebhookState;
  endpoints: EndpointsState;
  serving: ServingCertificate;
  policies: PolicyState[];
  /** Namespaces and the policies in force, as the webhook decides with them. */
  decision: Snapshot;
  /** Namespaces being deleted: they get no new pods, so they are left out. */
  terminating: readonly string[];
  /** The pods of each opted-in namespace (only their names, labels and containers matter). */
  pods: ReadonlyMap<string, readonly Pod[]>;
  /** Istio control planes found (istiod Deployments): where, and their image. */
  istiod: { where: string; image: string }[];
  /** The cluster's default Pod Security level the webhook assumes, and where that was read. */
  defaultPodSecurity: { level: PodSecurityLevel; from: string };
  /** The tracing image where a profile names none. */
  defaultImage: string;
}

export function clusterChecks(s: CheckSnapshot, now: Date): CheckLine[] {
  const lines: CheckLine[] = [pass("API server", `${s.server} (Kubernetes ${s.serverVersion})`), crdLine(s.crd), webhookLine(s.webhook)];
  if (s.webhook.found && s.webhook.entries.length > 0) lines.push(caBundleLine(s.webhook.entries));
  lines.push(endpointsLine(s.endpoints));
  if (s.webhook.found && s.webhook.entries.length > 0) {
    const serving = servingCertificateCheck(s.webhook.entries, s.serving);
    lines.push(serving.line);
    if (serving.leaf) lines.push(expiryLine(serving.leaf, serving.root, now));
  }
  if (s.crd.installed) lines.push(...policyLines(s.policies));
  const opted = optedInNamespaces(s.decision, s.terminating);
  lines.push(...namespaceLines(s, opted), ...podSecurityLines(s, opted));
  const images = tracingImages(s.decision, s.defaultImage);
  lines.push(...imageLines(images), istioLine(s, opted, images));
  return lines;
}

function crdLine(crd: CrdState): CheckLine {
  const name = "HookpointPolicy CRD";
  if (!crd.installed) return fail(name, `${POLICY_CRD_NAME} is not installed: HookpointPolicies cannot be created, and the webhook applies its built-in defaults`, "kubectl apply -k deploy/crd");
  const versions = crd.versions.map((v) => `${v.name} (${[v.served ? "served" : "not served", ...(v.storage ? ["storage"] : [])].join(", ")})`).join(", ");
  if (!crd.established) return fail(name, `${POLICY_CRD_NAME} is installed but not Established; versions ${versions}`, `kubectl describe crd ${POLICY_CRD_NAME} (its conditions say why)`);
  if (!crd.versions.some((v) => v.name === API_VERSION && v.served)) {
    return fail(name, `${POLICY_CRD_NAME} does not serve ${API_VERSION}, which this hookpoint reads (versions ${versions})`, "kubectl apply -k deploy/crd of this hookpoint version");
  }
  return pass(name, `${POLICY_CRD_NAME} installed, versions ${versions}`);
}

function webhookLine(w: WebhookState): CheckLine {
  const name = "webhook configuration";
  if (!w.found) return fail(name, w.problem, "kubectl apply -k deploy/overlays/<yours> (self-managed, cert-manager, ...)");
  if (w.entries.length === 0) return fail(name, `MutatingWebhookConfiguration ${w.name} has no entries: no pod is sent to the webhook`, "kubectl apply -k deploy/overlays/<yours>");
  return pass(name, `MutatingWebhookConfiguration ${w.name} has ${w.entries.length} ${w.entries.length === 1 ? "entry" : "entries"} (${w.entries.map((e) => e.name).join(", ")})`);
}

function endpointsLine(e: EndpointsState): CheckLine {
  const name = "webhook endpoints";
  if (e.kind === "url") return pass(name, `the API server calls ${e.urls.join(", ")} (a URL, no Service)`);
  if (!e.found) return fail(name, `Service ${e.service} does not exist: the API server cannot call the webhook, and failurePolicy Ignore admits pods untraced`, "kubectl apply -k deploy/overlays/<yours>");
  if (e.ready.length === 0) {
    const [ns, svc] = e.service.split("/");
    return fail(
      name,
      `Service ${e.service} has no ready endpoints${e.notReady ? ` (${e.notReady} not ready)` : ""}: the API server cannot call the webhook, and failurePolicy Ignore admits pods untraced`,
      `kubectl -n ${ns} get pods -l app.kubernetes.io/name=${svc}; kubectl -n ${ns} logs deploy/${svc}`,
    );
  }
  return pass(name, `Service ${e.service} has ${e.ready.length} ready ${e.ready.length === 1 ? "endpoint" : "endpoints"} (${e.ready.join(", ")})${e.notReady ? `, ${e.notReady} not ready` : ""}`);
}

function policyLines(policies: readonly PolicyState[]): CheckLine[] {
  if (policies.length === 0) return [pass("policies", "none: the webhook applies its built-in defaults (mode OptIn)")];
  return policies.map((p) => {
    const name = `policy ${p.name}`;
    if (!p.accepted) {
      const fallback = p.inForce === "previous" ? `; its last accepted version (generation ${p.inForceGeneration ?? "?"}) governs pods instead` : "; it governs no pods";
      return fail(name, `not Accepted: ${p.message}${fallback}`, `correct its spec (kubectl edit hookpointpolicy ${p.name}); kubectl get hookpointpolicy ${p.name} -o yaml shows the condition`);
    }
    if (!p.routed) return pass(name, "Accepted");
    if (p.routed.status === "True") return pass(name, "Accepted, Routed");
    if (p.routed.status === "Unknown") return fail(name, `Accepted, Routed unknown: ${p.routed.message}`, "see the webhook configuration check");
    return fail(
      name,
      `Accepted, not Routed: ${p.routed.message}`,
      "run the webhook with --manage-routing (the shipped Deployment does) and the base's RBAC (get/patch on zz-hookpoint), or apply deploy/components/cluster-wide",
    );
  });
}

interface OptedIn {
  namespace: string;
  /** Why it is opted in: its label, or a policy with mode Enabled. */
  why: string;
  policy: EffectivePolicy;
}

/** Namespaces whose pods the rules would inject: labelled enabled, or selected by a policy with mode Enabled (Terminating ones left out). */
export function optedInNamespaces(snapshot: Snapshot, terminating: readonly string[]): OptedIn[] {
  const out: OptedIn[] = [];
  for (const name of [...snapshot.namespaces.keys()].sort()) {
    if (terminating.includes(name)) continue;
    const labels = namespaceLabels(snapshot, name);
    if (labels[INJECT_KEY] === NS_ENABLED) {
      out.push({ namespace: name, why: `label ${INJECT_KEY}=${NS_ENABLED}`, policy: governingPolicy(snapshot, labels, {}) });
      continue;
    }
    if (labels[INJECT_KEY] === NS_DISABLED) continue;
    const enabled = snapshot.policies.find((p) => p.effective.mode === "Enabled" && optionalSelectorMatches(p.policy.spec.namespaceSelector, labels) && !p.effective.excludedNamespaces.includes(name));
    if (enabled) out.push({ namespace: name, why: `HookpointPolicy ${enabled.policy.metadata.name} has mode Enabled`, policy: enabled.effective });
  }
  return out;
}

/** A pod with only the policy's first target container: how the decision sees an Istio pod of this namespace. */
function probePod(policy: EffectivePolicy): Pod {
  return { metadata: { labels: {} }, spec: { containers: [{ name: policy.targetContainers[0] ?? "istio-proxy" }] } };
}

function probeDecision(s: CheckSnapshot, o: OptedIn) {
  return decide({ pod: probePod(o.policy), namespace: o.namespace, nsLabels: namespaceLabels(s.decision, o.namespace), policy: o.policy, defaultPodSecurity: s.defaultPodSecurity.level });
}

function namespaceLines(s: CheckSnapshot, opted: readonly OptedIn[]): CheckLine[] {
  if (opted.length === 0) return [pass("namespaces", `none opted in (kubectl label namespace NS ${INJECT_KEY}=${NS_ENABLED})`)];
  return opted.map((o) => {
    const name = `namespace ${o.namespace}`;
    const d = probeDecision(s, o);
    if (!d.inject && d.reason !== "pod-security-enforced") {
      return fail(name, `opted in (${o.why}), but its pods are not traced: ${d.message}`, `hookpoint explain --kubeconfig ... -f a workload of ${o.namespace} shows each rule`);
    }
    const pods = s.pods.get(o.namespace) ?? [];
    const targets = o.policy.targetContainers.join(" or ");
    if (pods.length === 0) return pass(name, `opted in (${o.why}); no pods yet`);
    const withProxy = pods.filter((p) => findTarget(p.spec, o.policy.targetContainers) !== undefined);
    if (withProxy.length === 0) {
      return fail(
        name,
        `opted in (${o.why}), but none of its ${pods.length} ${pods.length === 1 ? "pod has" : "pods has"} a container named ${targets}: hookpoint only rewrites a proxy the mesh added`,
        `enable Istio's injection there (kubectl label namespace ${o.namespace} istio-injection=enabled, or istio.io/rev=REVISION) and restart its workloads`,
      );
    }
    const traced = pods.filter((p) => p.metadata?.labels?.[INJECTED_LABEL] === "true").length;
    return pass(name, `opted in (${o.why}); ${withProxy.length} of ${pods.length} pods have ${targets}, ${traced} traced`);
  });
}

function podSecurityLines(s: CheckSnapshot, opted: readonly OptedIn[]): CheckLine[] {
  const blocked = opted.flatMap((o) => {
    const d = probeDecision(s, o);
    return d.reason === "pod-security-enforced" ? [{ o, d }] : [];
  });
  const name = "pod security";
  if (blocked.length === 0) {
    return [pass(name, `${opted.length === 0 ? "no opted-in namespace to check" : `every opted-in namespace admits privileged pods`} (cluster default ${s.defaultPodSecurity.level}, ${s.defaultPodSecurity.from})`)];
  }
  return blocked.map(({ o, d }) =>
    fail(name, `${d.message}: hookpoint skips its pods, which would be rejected with the privileged tracing container`, `kubectl label namespace ${o.namespace} ${PSA_ENFORCE_LABEL}=privileged --overwrite, if privileged tracing containers are acceptable there; otherwise opt the namespace out`),
  );
}

/** Every tracing image the policies in force can give a pod, with the profiles that name it. */
export function tracingImages(snapshot: Snapshot, defaultImage: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (image: string, user: string) => out.set(image, [...(out.get(image) ?? []), user]);
  const policies = snapshot.policies.length > 0 ? snapshot.policies.map((p) => p.effective) : [snapshot.defaults];
  for (const p of policies) {
    for (const [profile, spec] of Object.entries(p.profiles).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (p.name === null && profile !== BUILTIN_PROFILE) continue;
      add(spec.image ?? defaultImage, `${p.name === null ? "built-in defaults" : `policy ${p.name}`}, profile ${profile}`);
    }
  }
  return out;
}

/** Repositories hookpoint names in its defaults but nobody publishes: build and push your own. */
const PLACEHOLDER_REPOSITORIES = ["hookpoint/proxy-istio", "hookpoint/proxy-cilium", "hookpoint/webhook"];

/**
 * The repository as Docker Hub names it when it lives there (docker.io/x/y and the legacy
 * index.docker.io/x/y are x/y, as the kubelet reads them), and whether a tag or digest pins it.
 */
function repositoryOf(image: string): { repository: string; tagged: boolean } {
  const { repository, tag, digest } = imageParts(image);
  return { repository: repository.replace(/^(?:index\.)?docker\.io\//, ""), tagged: tag !== undefined || digest !== undefined };
}

function imageLines(images: ReadonlyMap<string, string[]>): CheckLine[] {
  return [...images].map(([image, users]) => {
    const name = "tracing image";
    const who = users.join("; ");
    if (!IMAGE_REFERENCE.test(image)) return fail(name, `${image} (${who}) is not a valid image reference`, "set the profile's image to REGISTRY/hookpoint/proxy-istio:TAG");
    const { repository, tagged } = repositoryOf(image);
    if (PLACEHOLDER_REPOSITORIES.includes(repository)) {
      return fail(
        name,
        `${image} (${who}) is the placeholder name nobody publishes: traced pods would fail to pull it`,
        "build deploy/images/proxy-istio.Dockerfile, push it to your registry and point the profile at it (kustomize edit set image hookpoint/proxy-istio=REGISTRY/hookpoint/proxy-istio:TAG)",
      );
    }
    if (!tagged) return fail(name, `${image} (${who}) has no tag: nodes would pull :latest, whatever it is then`, "name a tag or digest, e.g. REGISTRY/hookpoint/proxy-istio:0.1.0-istio1.28.0");
    return pass(name, `${image} (${who})`);
  });
}

/** The Istio version of an istiod image (…/pilot:1.28.0), like istioVersionOfProxyImage for proxies. */
function pilotVersion(image: string): string | undefined {
  const { repository, tag } = imageParts(image);
  if (!/(^|\/)pilot$/.test(repository)) return undefined;
  return /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.]+)?$/.exec(tag ?? "")?.[0].replace(/-(distroless|debug)$/, "");
}

function istioLine(s: CheckSnapshot, opted: readonly OptedIn[], images: ReadonlyMap<string, string[]>): CheckLine {
  const name = "Istio version";
  const built = new Map<string, string[]>();
  for (const image of images.keys()) {
    const v = istioVersionOfTracingImage(image);
    if (v) built.set(v, [...(built.get(v) ?? []), image]);
  }
  // What runs: istiod, and the proxies of the opted-in namespaces.
  const running = new Map<string, string[]>();
  const seen = (v: string | undefined, where: string) => {
    if (v) running.set(v, [...(running.get(v) ?? []), where]);
  };
  for (const c of s.istiod) seen(pilotVersion(c.image), `istiod in ${c.where} (${c.image})`);
  for (const o of opted) {
    const counts = new Map<string, number>();
    for (const p of s.pods.get(o.namespace) ?? []) {
      const t = findTarget(p.spec, o.policy.targetContainers);
      const image = t ? p.spec[t.location]?.[t.index]?.image : undefined;
      // A traced pod's proxy is the tracing image itself: its Istio version is what it was built for.
      const v = istioVersionOfProxyImage(image);
      if (v) counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    for (const [v, n] of counts) seen(v, `${n} ${n === 1 ? "proxy" : "proxies"} in ${o.namespace}`);
  }
  if (built.size === 0) return pass(name, `not compared: no tracing image names an Istio version (a tag ending -istioX.Y.Z)`);
  const builtText = [...built.keys()].join(", ");
  if (running.size === 0) return pass(name, `tracing images built for Istio ${builtText}; no istiod Deployment or Istio proxy found to compare with`);
  const mismatched = [...built].filter(([v]) => !running.has(v) || running.size > 1);
  if (mismatched.length === 0) return pass(name, `${builtText}: the tracing images, ${[...running.values()].flat().join(", ")}`);
  const runs = [...running].map(([v, where]) => `Istio ${v} (${where.join(", ")})`).join(" and ");
  const target = [...running.keys()].sort().pop() ?? "";
  return fail(
    name,
    `${mismatched.map(([v, imgs]) => `${imgs.join(", ")} ${imgs.length === 1 ? "is" : "are"} built for Istio ${v}`).join("; ")}, but the cluster runs ${runs}`,
    `build deploy/images/proxy-istio.Dockerfile with --build-arg ISTIO_VERSION=${target} and set it as the profiles' image`,
  );
}
