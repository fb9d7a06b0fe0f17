// One line per resource for stderr: what inject/uninject did with it and why,
// then its warnings. The label names file, document (and List item), kind,
// namespace and name, like the error messages do.
import type { ReviewedResource } from "./inject.js";
import type { Resource } from "./resources.js";
import type { UninjectedResource } from "./uninject.js";

export function resourceLabel(r: Resource, namespace = r.namespace): string {
  const where = `${r.file}: document ${r.document + 1}${r.item !== undefined ? `: items[${r.item}]` : ""}`;
  return `${where}: ${r.kind} ${namespace ? `${namespace}/` : ""}${r.name}`;
}

const plain = (s: string) => s.replace(/^hookpoint: /, "");

export function injectSummary(r: ReviewedResource): string[] {
  const o = r.outcome;
  const label = resourceLabel(r.resource, "review" in o ? r.namespace : r.resource.namespace);
  let line: string;
  switch (o.status) {
    case "injected":
      line = o.overrode ? `injected (forced; overrode: ${o.overrode.message})` : `injected (${o.review.decision.message})`;
      break;
    case "unchanged":
      line = "unchanged: already injected as hookpoint would inject it";
      break;
    case "skipped":
      line = `skipped: ${o.review.decision.message}`;
      break;
    case "denied":
      line = `denied: ${o.reason}`;
      break;
    case "passed-through":
      line = `passed through: ${o.reason}`;
      break;
  }
  const warnings = "review" in o ? o.review.warnings : [];
  return [`${label}: ${line}`, ...warnings.map((w) => `${label}: warning: ${plain(w)}`)];
}

export function uninjectSummary(r: UninjectedResource): string {
  const o = r.outcome;
  const label = resourceLabel(r.resource);
  switch (o.status) {
    case "uninjected":
      return `${label}: uninjected`;
    case "unchanged":
      return `${label}: unchanged: ${o.reason}`;
    case "failed":
      return `${label}: failed: ${o.path}: ${o.reason}`;
    case "passed-through":
      return `${label}: passed through: ${o.reason}`;
  }
}
