// `hookpoint explain`'s work: decide per workload and print a table or JSON.
import { reviewManifests } from "../manifests/inject.js";
import { InputError } from "./errors.js";
import type { ExplainFlags } from "./explain.js";
import { clusterSnapshotFromFlags } from "./explain-cluster.js";
import { readManifests } from "./inject-run.js";
import { loadSnapshot } from "./inputs.js";
import { loadSettings } from "./settings.js";
import { renderTable } from "./table.js";

export interface ExplainRow {
  kind: string;
  namespace: string;
  name: string;
  inject: boolean;
  decidedBy: string;
  reason: string;
  message: string;
  policy: string | null;
  warnings: string[];
}

export async function runExplain(flags: ExplainFlags): Promise<void> {
  if (flags.output !== "table" && flags.output !== "json") throw new InputError("--output", `must be table or json, got "${flags.output}"`);
  const settings = await loadSettings(flags.image ? { image: flags.image } : {});
  const live = await clusterSnapshotFromFlags(flags, settings, (line) => process.stderr.write(`hookpoint explain: ${line}\n`));
  const snapshot = live ?? (await loadSnapshot(flags, settings));
  const text = await readManifests(flags.filename);
  const { workloads } = reviewManifests(text, flags.filename, { snapshot, settings, defaultNamespace: flags.namespace, force: false });
  const rows: ExplainRow[] = workloads.map((w) => ({
    kind: w.kind,
    namespace: w.namespace,
    name: w.name,
    inject: w.review.decision.inject,
    decidedBy: w.review.decision.decidedBy,
    reason: w.review.decision.reason,
    message: w.review.decision.message,
    policy: w.review.decision.policy,
    warnings: w.review.warnings,
  }));
  process.stdout.write(flags.output === "json" ? JSON.stringify(rows, null, 2) + "\n" : formatTable(rows));
}

export function formatTable(rows: readonly ExplainRow[]): string {
  const header = ["KIND", "NAMESPACE", "NAME", "INJECT", "DECIDED BY", "REASON", "POLICY"];
  const body = rows.map((r) => [r.kind, r.namespace, r.name, r.inject ? "yes" : "no", r.decidedBy, r.reason, r.policy ?? "(defaults)"]);
  let out = renderTable(header, body);
  const notes = rows.flatMap((r) => [`${r.kind} ${r.namespace}/${r.name}: ${r.message}`, ...r.warnings.map((w) => `${r.kind} ${r.namespace}/${r.name}: ${w}`)]);
  if (notes.length) out += "\n" + notes.join("\n") + "\n";
  return out;
}
