// `hookpoint explain`'s work: decide for every resource of every input (a denial
// does not stop it), print a table or JSON, and say on stderr what it assumed.
import { WEBHOOK_CONFIGURATION_NAME } from "../k8s/install-names.js";
import type { Settings } from "../policy/effective.js";
import type { Snapshot } from "../policy/snapshot.js";
import type { PodReview } from "../admission/review.js";
import { reviewManifests, type ReviewedResource } from "../manifests/inject.js";
import { resourceLabel } from "../manifests/summary.js";
import { UsageError } from "./errors.js";
import { clusterSnapshotFromFlags, knownIstioWebhooks, type LiveInputs } from "./explain-cluster.js";
import { loadSnapshot } from "./inputs.js";
import { readSources, requireObjects } from "./manifest-sources.js";
import { settingsFromFlags } from "./input-options.js";
import { renderTable } from "./table.js";
import type { ClusterFlags } from "./explain-cluster.js";
import type { InputFlags } from "./input-options.js";

export type ExplainFlags = InputFlags & ClusterFlags & { output: string };

export interface ExplainRow {
  file: string;
  /** 1-based, as in messages. */
  document: number;
  kind: string;
  namespace: string;
  name: string;
  inject: boolean;
  /** inject, skip, deny, or pass-through (no pod template). */
  outcome: "inject" | "skip" | "deny" | "pass-through";
  decidedBy: string | null;
  reason: string;
  message: string;
  policy: string | null;
  warnings: string[];
  /** What an injection applies; null when not injected. */
  profile: string | null;
  image: string | null;
  scripts: string[] | null;
}

export async function runExplain(flags: ExplainFlags): Promise<void> {
  if (flags.output !== "table" && flags.output !== "json") throw new UsageError(`--output must be table or json, got "${flags.output}"`);
  const settings = await settingsFromFlags(flags);
  const note = (line: string) => process.stderr.write(`hookpoint explain: ${line}\n`);
  const live = await clusterSnapshotFromFlags(flags, settings, note);
  const snapshot = live?.snapshot ?? (await loadSnapshot(flags, settings));
  const sources = await readSources(flags.filename, flags.recursive);
  // A template without istio-proxy is judged as Istio's injector hands its pods over; a namespace the cluster lacks has no labels.
  // A namespace missing from --namespaces is taken without labels (as the notes say), not as unknown.
  // With a cluster, which of Istio's webhooks select a pod is read from it where it lets us list them.
  const istio = { namespaceKnown: (ns: string) => live !== undefined || flags.namespaces !== undefined || snapshot.namespaces.has(ns), webhooks: knownIstioWebhooks(live) };
  const ctx = { snapshot, settings, defaultNamespace: flags.namespace, force: false, istio };
  const perSource = sources.map((source) => ({ source, resources: reviewManifests(source.text, source.name, ctx).resources }));
  requireObjects(perSource.map((p) => ({ source: p.source, objects: p.resources.length })));
  const reviewed = perSource.flatMap((p) => p.resources);
  const rows = reviewed.map((r) => toRow(r, live));
  process.stdout.write(flags.output === "json" ? JSON.stringify(rows, null, 2) + "\n" : formatTable(rows, reviewed));
  for (const a of assumptions(reviewed, snapshot, settings, flags, live)) note(`assumed: ${a}`);
}

function toRow(r: ReviewedResource, live: LiveInputs | undefined): ExplainRow {
  const o = r.outcome;
  const base = { file: r.resource.file, document: r.resource.document + 1, kind: r.resource.kind, name: r.resource.name };
  if (o.status === "passed-through") {
    return { ...base, namespace: r.resource.namespace ?? "", inject: false, outcome: "pass-through", decidedBy: null, reason: "no-pod-template", message: o.reason, policy: null, warnings: [], profile: null, image: null, scripts: null };
  }
  const d = o.review.decision;
  const status = o.status === "injected" || o.status === "unchanged" ? o.review.status : undefined;
  return {
    ...base,
    namespace: r.namespace,
    inject: status !== undefined,
    outcome: o.status === "denied" ? "deny" : status ? "inject" : "skip",
    decidedBy: d.decidedBy,
    reason: d.reason,
    message: o.status === "denied" ? `denied: ${o.reason}` : d.message,
    policy: d.policy,
    warnings: [...o.review.warnings, ...notRouted(r.namespace, o.review, live)],
    profile: status?.profile ?? null,
    image: status?.image ?? null,
    scripts: status ? [...status.scripts] : null,
  };
}

/** A pod the rules inject but the cluster's webhook configuration does not send: say so, with the policy's Routed condition. */
function notRouted(namespace: string, review: PodReview, live: LiveInputs | undefined): string[] {
  const pod = review.mutated;
  if (!live || !review.decision.inject || !pod || live.sends(namespace, pod) !== false) return [];
  const routed = live.routed(review.decision.policy);
  return [`hookpoint: would be injected, but MutatingWebhookConfiguration ${WEBHOOK_CONFIGURATION_NAME} does not send this pod to the webhook${routed?.status === "False" ? `: ${routed.message}` : ""}`];
}

export function formatTable(rows: readonly ExplainRow[], reviewed: readonly ReviewedResource[]): string {
  const header = ["KIND", "NAMESPACE", "NAME", "INJECT", "DECIDED BY", "REASON", "POLICY"];
  const inject = (r: ExplainRow) => (r.outcome === "pass-through" ? "-" : r.outcome === "deny" ? "denied" : r.inject ? "yes" : "no");
  const body = rows.map((r) => [r.kind, r.namespace || "-", r.name, inject(r), r.decidedBy ?? "-", r.reason, r.outcome === "pass-through" ? "-" : (r.policy ?? "(defaults)")]);
  let out = renderTable(header, body);
  const notes = rows.flatMap((r, i) => {
    const label = resourceLabel((reviewed[i] as ReviewedResource).resource, r.namespace || undefined);
    const applied = r.profile !== null ? [`${label}: would apply profile "${r.profile}", image ${r.image}, scripts ${(r.scripts ?? []).join(", ")}`] : [];
    return [`${label}: ${r.message}`, ...applied, ...r.warnings.map((w) => `${label}: warning: ${w.replace(/^hookpoint: /, "")}`)];
  });
  if (notes.length) out += "\n" + notes.join("\n") + "\n";
  return out;
}

/** One line per reason Istio's injector is taken to add its proxy, naming the resources it applies to. */
function istioAssumptions(decided: readonly ReviewedResource[]): string[] {
  const byReason = new Map<string, string[]>();
  for (const r of decided) {
    if (!r.istio?.added) continue;
    const what = `${r.resource.kind} ${r.namespace}/${r.resource.name}`;
    const why = r.istio.inject === "yes" ? `: ${r.istio.reason}` : `, as if namespace ${r.namespace} were labelled istio-injection=enabled: ${r.istio.reason} (give its Namespace object with --namespaces, or read it with --kubeconfig)`;
    byReason.set(why, [...(byReason.get(why) ?? []), what]);
  }
  return [...byReason].map(([why, what]) => `Istio's injector adds its istio-proxy container (Istio's default sidecar template) to the pods of ${what.join(", ")}${why}`);
}

/** What explain took for granted: unknown namespaces' labels, the default policy, namespace and image. */
function assumptions(reviewed: readonly ReviewedResource[], snapshot: Snapshot, settings: Settings, flags: ExplainFlags, live: LiveInputs | undefined): string[] {
  const cluster = live !== undefined;
  const out: string[] = [];
  const decided = reviewed.filter((r) => r.outcome.status !== "passed-through");
  if (decided.length === 0) return out;
  const defaults = "the built-in default policy decides (mode OptIn: only a namespace label or an allowed pod annotation opts in)";
  if (!cluster && !flags.policy) out.push(`no --policy given: ${defaults}`);
  // An empty file (or `kubectl get hookpointpolicies -o yaml` of a cluster with none) decides like no --policy: say so, not nothing.
  else if (!cluster && snapshot.policies.length === 0) out.push(`${flags.policy === "-" ? "stdin" : flags.policy} (--policy) holds no HookpointPolicy: ${defaults}`);
  const unknown = [...new Set(decided.map((r) => r.namespace).filter((ns) => !snapshot.namespaces.has(ns)))];
  if (unknown.length > 0) {
    const list = unknown.join(", ");
    if (cluster) out.push(`namespace${unknown.length > 1 ? "s" : ""} ${list} not found in the cluster: no labels`);
    else if (flags.namespaces) out.push(`namespace${unknown.length > 1 ? "s" : ""} ${list} not in ${flags.namespaces}: no labels`);
    else out.push(`no --namespaces given: namespace${unknown.length > 1 ? "s" : ""} ${list} without labels (give their Namespace objects with --namespaces, or read them with --kubeconfig)`);
  }
  // Only where Istio's step was taken: a template with its proxy needs no webhook list.
  if (live && !live.istioWebhooks.ok && decided.some((r) => r.istio !== undefined)) {
    out.push(`Istio's webhooks are those of its default install (${live.istioWebhooks.problem})`);
  }
  out.push(...istioAssumptions(decided));
  const own = settings.webhookNamespace;
  if (own !== undefined && decided.some((r) => r.namespace === own)) out.push(`the webhook runs in namespace ${own} (its --namespace default), where it never injects`);
  const unnamed = decided.filter((r) => r.resource.namespace === undefined);
  if (unnamed.length > 0) out.push(`${unnamed.map((r) => `${r.resource.kind} ${r.resource.name}`).join(", ")} name${unnamed.length > 1 ? "" : "s"} no namespace: "${flags.namespace}" (-n)`);
  const defaultImage = decided.some((r) => (r.outcome.status === "injected" || r.outcome.status === "unchanged") && r.outcome.review.status?.image === settings.defaultImage);
  if (defaultImage && !flags.image) out.push(`the tracing image where the profile names none: ${settings.defaultImage} (the built-in default; --image or the profile's image sets another)`);
  return out;
}
