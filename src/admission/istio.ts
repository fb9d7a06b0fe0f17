// What hookpoint reads and writes of Istio's own pod conventions (Istio's
// injection templates are the reference). Pure.
import { imageParts } from "../image-reference.js";
import { envEntry, type Container, type Pod } from "./pod.js";

/** Inbound ports istio-init / istio-cni leave alone (comma list). Istio's injector reads it, and so does the CNI plugin. */
export const EXCLUDE_INBOUND_PORTS_ANNOTATION = "traffic.sidecar.istio.io/excludeInboundPorts";
/** Written by Istio's injector on every pod it injected. */
export const ISTIO_STATUS_ANNOTATION = "sidecar.istio.io/status";
export const ISTIO_INIT_CONTAINER = "istio-init";
/** The container Istio's injector adds. */
export const ISTIO_PROXY_CONTAINER = "istio-proxy";
/** istio-iptables' flag for the inbound ports excluded from capture: `-d`, long form `--istio-local-exclude-ports`. */
const EXCLUDE_FLAGS = ["-d", "--istio-local-exclude-ports"] as const;

/** Istio's default readiness (status) port, which its templates exclude from inbound capture last. */
export const ISTIO_STATUS_PORT = "15020";
/** Overrides the status port per pod (Istio's `status.sidecar.istio.io/port`). */
export const ISTIO_STATUS_PORT_ANNOTATION = "status.sidecar.istio.io/port";

/** The pod's Istio status port ("0": none), from its annotation or Istio's default. */
export function istioStatusPort(annotations: Readonly<Record<string, string>> | undefined): string {
  return annotations?.[ISTIO_STATUS_PORT_ANNOTATION]?.trim() || ISTIO_STATUS_PORT;
}

/**
 * A comma list of ports with `port` in it; the same string when it is there
 * already (so a second pass changes nothing). Where the list ends with the
 * status port, `port` goes before it: Istio's injector renders both the
 * annotation (istio-cni) and istio-init's `-d` as the annotation's ports
 * followed by the status port (its template's excludeInboundPort), so the list
 * is then exactly what Istio renders when it injects this pod again.
 */
export function withPort(list: string | undefined, port: number, statusPort: string = ISTIO_STATUS_PORT): string {
  const p = String(port);
  if (list === undefined || list.trim() === "") return p;
  if (hasPort(list, p)) return list;
  const comma = list.lastIndexOf(",");
  const last = list.slice(comma + 1).trim();
  if (statusPort !== "0" && last === statusPort) return `${list.slice(0, comma + 1)}${p},${list.slice(comma + 1)}`;
  return list.endsWith(",") ? `${list}${p}` : `${list},${p}`;
}

/** Whether a comma list holds `p` (blanks around items ignored), without splitting it. */
function hasPort(list: string, p: string): boolean {
  let start = 0;
  while (start <= list.length) {
    let end = list.indexOf(",", start);
    if (end < 0) end = list.length;
    if (list.slice(start, end).trim() === p) return true;
    start = end + 1;
  }
  return false;
}

/** The value of istio-iptables' excluded-inbound-ports flag at args[i], if that is the flag: [value, written as flag=value]. */
function excludeValue(args: readonly string[], i: number): [string, boolean] | undefined {
  const a = args[i] as string;
  for (const flag of EXCLUDE_FLAGS) {
    if (a === flag) return i + 1 < args.length ? [args[i + 1] as string, false] : undefined;
    if (a.length > flag.length && a.startsWith(flag) && a.charCodeAt(flag.length) === 61 /* = */) return [a.slice(flag.length + 1), true];
  }
  return undefined;
}

/**
 * istio-iptables arguments with `port` added to the excluded inbound ports
 * (`-d 15090,15021` → `-d 15090,15021,15099`, also `-d=…` and the long flag);
 * `-d port` appended when there is none. The same array when nothing changes.
 */
export function withExcludedInboundPort(args: readonly string[], port: number, statusPort: string = ISTIO_STATUS_PORT): readonly string[] {
  for (let i = 0; i < args.length; i++) {
    const found = excludeValue(args, i);
    if (!found) continue;
    const [value, joined] = found;
    const next = withPort(value, port, statusPort);
    if (next === value) return args;
    const out = [...args];
    if (joined) out[i] = `${(args[i] as string).slice(0, (args[i] as string).indexOf("=") + 1)}${next}`;
    else out[i + 1] = next;
    return out;
  }
  return [...args, "-d", String(port)];
}

/** Which list of istio-init holds istio-iptables' arguments: the one with `-d`, else the one naming istio-iptables (Istio writes `args`; older templates `command`). */
export function istioIptablesList(c: Container): "args" | "command" | undefined {
  for (const k of ["args", "command"] as const) {
    const list = c[k];
    if (Array.isArray(list)) for (let i = 0; i < list.length; i++) if (excludeValue(list, i)) return k;
  }
  for (const k of ["args", "command"] as const) if (Array.isArray(c[k]) && (c[k] as string[]).includes("istio-iptables")) return k;
  return undefined;
}

/** Go's strconv.ParseBool true values (pilot-agent reads DISABLE_ENVOY with it). */
const GO_TRUE = new Set(["1", "t", "T", "TRUE", "true", "True"]);

/** Istio's proxyless gRPC template runs pilot-agent with DISABLE_ENVOY=true: there is no Envoy to trace. */
export function envoyDisabled(c: Container): boolean {
  const v = envEntry(c.env, "DISABLE_ENVOY")?.value;
  return typeof v === "string" && GO_TRUE.has(v);
}

const VERSION = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/;

/** Image → version, for the few images a cluster runs (bounded: cleared when it grows past 1,000). */
const proxyVersions = new Map<string, string | undefined>();
const tracingVersions = new Map<string, string | undefined>();

function memo(cache: Map<string, string | undefined>, image: string, compute: (image: string) => string | undefined): string | undefined {
  const hit = cache.get(image);
  if (hit !== undefined || cache.has(image)) return hit;
  if (cache.size >= 1_000) cache.clear();
  const v = compute(image);
  cache.set(image, v);
  return v;
}

/** Istio's version from its proxy image (`…/proxyv2:1.28.0`, `…:1.28.0-distroless`), or undefined when unknown. */
export function istioVersionOfProxyImage(image: string | undefined): string | undefined {
  return image ? memo(proxyVersions, image, proxyVersion) : undefined;
}

function proxyVersion(image: string): string | undefined {
  const { repository, tag } = imageParts(image);
  if (!/(^|\/)proxyv2$/.test(repository) || !tag || !VERSION.test(tag)) return undefined;
  return tag.replace(/-(distroless|debug)$/, "");
}

/** The Istio version a tracing image was built for: the `istio<version>` part of its tag (`0.1.0-istio1.28.0`). */
export function istioVersionOfTracingImage(image: string): string | undefined {
  return memo(tracingVersions, image, tracingVersion);
}

function tracingVersion(image: string): string | undefined {
  const { tag } = imageParts(image);
  const m = tag ? /(?:^|-)istio(\d+\.\d+\.\d+(?:-[0-9A-Za-z.]+)?)$/.exec(tag) : null;
  return m?.[1];
}

/** A warning when the tracing image was built for another Istio than the pod's proxy, else undefined. */
export function istioVersionWarning(container: string, proxyImage: string | undefined, tracingImage: string): string | undefined {
  if (proxyImage === tracingImage) return undefined;
  const proxy = istioVersionOfProxyImage(proxyImage);
  const built = istioVersionOfTracingImage(tracingImage);
  if (!proxy || !built || proxy === built) return undefined;
  return `hookpoint: tracing image ${tracingImage} is built for Istio ${built}, but container ${container} ran Istio ${proxy} (${proxyImage}); the proxy must match the control plane: build deploy/images/proxy-istio.Dockerfile with ISTIO_VERSION=${proxy} and set it as the profile's image`;
}

/** Where Istio's injector puts its proxy: a classic sidecar (last of containers) or a native one (an init container that keeps running). */
export type IstioSidecarKind = "classic" | "native";

const PROXY_RESOURCE_ANNOTATIONS = [
  ["requests", "cpu", "sidecar.istio.io/proxyCPU"],
  ["requests", "memory", "sidecar.istio.io/proxyMemory"],
  ["limits", "cpu", "sidecar.istio.io/proxyCPULimit"],
  ["limits", "memory", "sidecar.istio.io/proxyMemoryLimit"],
] as const;

/**
 * The pod as Istio's injector hands it over to the webhooks after it, as far as
 * hookpoint's decision reads it: the istio-proxy container of Istio's default
 * injection template (istio-discovery files/injection-template.yaml: args, uid
 * and gid 1337, resources from its values or the pod's sidecar.istio.io/proxy*
 * annotations) and the labels it adds. Its image (Istio's version) is not known
 * offline and is left out, and so is istio-init, which the decision does not
 * read. The input pod is not modified.
 */
export function withIstioProxy(pod: Pod, workloadName: string, kind: IstioSidecarKind = "classic"): Pod {
  const labels = pod.metadata?.labels ?? {};
  const annotations = pod.metadata?.annotations ?? {};
  const fromAnnotations = PROXY_RESOURCE_ANNOTATIONS.filter(([, , a]) => annotations[a] !== undefined);
  const resources: Record<string, Record<string, string>> = {};
  if (fromAnnotations.length === 0) Object.assign(resources, { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "2000m", memory: "1024Mi" } });
  for (const [part, resource, a] of fromAnnotations) (resources[part] ??= {})[resource] = annotations[a] as string;
  // TPROXY interception and capNetBindService run the proxy as root with gid 1337; otherwise uid and gid 1337.
  const root = annotations["sidecar.istio.io/interceptionMode"] === "TPROXY" || annotations["sidecar.istio.io/capNetBindService"] === "true";
  const proxy: Container = {
    name: ISTIO_PROXY_CONTAINER,
    ...(kind === "native" ? { restartPolicy: "Always" } : {}),
    ports: [{ containerPort: 15090, protocol: "TCP", name: "http-envoy-prom" }],
    args: ["proxy", "sidecar", "--domain", "$(POD_NAMESPACE).svc.cluster.local", "--proxyLogLevel=warning", "--proxyComponentLogLevel=misc:error", "--log_output_level=default:info"],
    resources,
    securityContext: {
      allowPrivilegeEscalation: false,
      capabilities: root ? { add: annotations["sidecar.istio.io/interceptionMode"] === "TPROXY" ? ["NET_ADMIN"] : ["NET_BIND_SERVICE"], drop: ["ALL"] } : { drop: ["ALL"] },
      privileged: false,
      readOnlyRootFilesystem: true,
      ...(root ? { runAsNonRoot: false, runAsUser: 0, runAsGroup: 1337 } : { runAsNonRoot: true, runAsUser: 1337, runAsGroup: 1337 }),
    },
  };
  // Sprig's `default`, as the template chains it: an empty value counts as unset.
  const canonicalName = labels["service.istio.io/canonical-name"] || labels["app.kubernetes.io/name"] || labels.app || workloadName;
  const istioLabels = {
    "security.istio.io/tlsMode": labels["security.istio.io/tlsMode"] || "istio",
    "service.istio.io/canonical-name": trimAll(canonicalName.slice(0, 63), "-_."),
    "service.istio.io/canonical-revision": labels["service.istio.io/canonical-revision"] || labels["app.kubernetes.io/version"] || labels.version || "latest",
  };
  const spec = { ...pod.spec };
  // Istio's reorderPod: a native sidecar goes first of the init containers (istio-init aside), a classic one last.
  if (kind === "native") spec.initContainers = [proxy, ...(Array.isArray(spec.initContainers) ? spec.initContainers : [])];
  else spec.containers = [...(Array.isArray(spec.containers) ? spec.containers : []), proxy];
  return { ...pod, metadata: { ...pod.metadata, labels: { ...labels, ...istioLabels } }, spec };
}

/** Sprig's trimAll: `cut` removed from both ends. */
function trimAll(s: string, cut: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && cut.includes(s[start] as string)) start++;
  while (end > start && cut.includes(s[end - 1] as string)) end--;
  return s.slice(start, end);
}
