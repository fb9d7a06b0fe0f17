// `hookpoint version`'s work. The webhook and the agent are this same program
// (`hookpoint webhook`, `hookpoint agent`), so locally all three share VERSION;
// the Istio line comes from the tracing image's name (…-istio1.28.0).
import { DEFAULT_IMAGE } from "../defaults.js";
import { imageParts } from "../image-reference.js";
import { INJECTED_LABEL, STATUS_ANNOTATION } from "../names.js";
import { VERSION } from "../version.js";
import { JobError, UsageError } from "./errors.js";

export interface VersionFlags {
  kubeconfig?: string;
  context?: string;
  namespace: string;
  output: string;
}

export interface Versions {
  client: string;
  webhook: { version: string; source: string };
  agent: { version: string; source: string };
  istio: { version: string | null; source: string };
}

/** The Istio version a tracing image is built for, from its tag's -istioX.Y.Z suffix. */
export function istioLine(image: string): string | null {
  return /-istio(\d+\.\d+(?:\.\d+)?)$/.exec(imageParts(image).tag ?? "")?.[1] ?? null;
}

/** The hookpoint version in an image tag (0.1.0 of 0.1.0 or 0.1.0-istio1.28.0). */
function versionOfTag(image: string): string | null {
  return /^v?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.]+?)?)(?:-istio[\d.]+)?$/.exec(imageParts(image).tag ?? "")?.[1] ?? null;
}

export function localVersions(): Versions {
  return {
    client: VERSION,
    webhook: { version: VERSION, source: "this build: hookpoint webhook" },
    agent: { version: VERSION, source: `this build: hookpoint agent, in the tracing image ${DEFAULT_IMAGE}` },
    istio: { version: istioLine(DEFAULT_IMAGE), source: `the tracing image ${DEFAULT_IMAGE}` },
  };
}

async function clusterVersions(flags: VersionFlags): Promise<Versions> {
  const [{ loadKubeConfig }, { httpStatus, errorText }, k8s] = await Promise.all([import("../k8s/kubeconfig.js"), import("../k8s/api-errors.js"), import("@kubernetes/client-node")]);
  const kc = loadKubeConfig({ file: flags.kubeconfig, context: flags.context });
  const server = kc.getCurrentCluster()?.server ?? "the cluster";
  const out = localVersions();
  try {
    const dep = await kc.makeApiClient(k8s.AppsV1Api).readNamespacedDeployment({ name: "hookpoint-webhook", namespace: flags.namespace });
    const image = dep.spec?.template.spec?.containers.find((c) => c.name === "webhook")?.image ?? dep.spec?.template.spec?.containers[0]?.image ?? "";
    out.webhook = { version: versionOfTag(image) ?? "unknown", source: `Deployment ${flags.namespace}/hookpoint-webhook, image ${image} (${dep.status?.readyReplicas ?? 0}/${dep.spec?.replicas ?? 1} ready)` };
  } catch (err) {
    out.webhook = { version: "not found", source: httpStatus(err) === 404 ? `no Deployment hookpoint-webhook in ${flags.namespace} on ${server}` : `cannot read Deployment ${flags.namespace}/hookpoint-webhook on ${server}: ${errorText(err)}` };
  }
  const pods = await kc
    .makeApiClient(k8s.CoreV1Api)
    .listPodForAllNamespaces({ labelSelector: `${INJECTED_LABEL}=true` })
    .catch((err: unknown) => {
      throw new JobError(`cannot list the traced pods (label ${INJECTED_LABEL}=true) on ${server}: ${errorText(err)}`);
    });
  const agents = new Map<string, number>();
  const lines = new Set<string>();
  for (const pod of pods.items) {
    let status: { container?: string; image?: string } = {};
    try {
      status = JSON.parse(pod.metadata?.annotations?.[STATUS_ANNOTATION] ?? "{}") as typeof status;
    } catch {
      // a broken annotation: the container image still tells
    }
    const image = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((c) => c.name === status.container)?.image ?? status.image ?? "";
    const key = `${versionOfTag(image) ?? "unknown"} (${image})`;
    agents.set(key, (agents.get(key) ?? 0) + 1);
    const line = istioLine(image);
    if (line) lines.add(line);
  }
  if (agents.size > 0) {
    const list = [...agents].map(([k, n]) => `${k}: ${n} pod${n > 1 ? "s" : ""}`);
    out.agent = { version: [...new Set([...agents.keys()].map((k) => k.split(" ")[0]))].join(", "), source: `traced pods on ${server}: ${list.join("; ")}` };
  } else out.agent = { ...out.agent, source: `${out.agent.source}; no traced pods on ${server}` };
  if (lines.size > 0) out.istio = { version: [...lines].join(", "), source: `the tracing images of the traced pods on ${server}` };
  return out;
}

export async function runVersion(flags: VersionFlags): Promise<void> {
  if (flags.output !== "text" && flags.output !== "json") throw new UsageError(`--output must be text or json, got "${flags.output}"`);
  const v = flags.kubeconfig !== undefined || flags.context !== undefined ? await clusterVersions(flags) : localVersions();
  if (flags.output === "json") {
    process.stdout.write(JSON.stringify(v, null, 2) + "\n");
    return;
  }
  process.stdout.write(
    [
      `hookpoint ${v.client}`,
      `webhook:  ${v.webhook.version}, from ${v.webhook.source}`,
      `agent:    ${v.agent.version}, from ${v.agent.source}`,
      `istio:    ${v.istio.version ?? "unknown"}, from ${v.istio.source}`,
      "",
    ].join("\n"),
  );
}
