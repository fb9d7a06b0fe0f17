// `hookpoint inject`'s work: review every input, report each resource on
// stderr, and write only when nothing was denied.
import { reviewManifests } from "../manifests/inject.js";
import { injectSummary } from "../manifests/summary.js";
import { JobError } from "./errors.js";
import { loadSnapshot } from "./inputs.js";
import { checkDiffOutput, checkOutputFlags, writeManifests } from "./manifest-output.js";
import { readSources, requireObjects } from "./manifest-sources.js";
import { settingsFromFlags } from "./input-options.js";
import type { InputFlags, WriteFlags } from "./input-options.js";

export interface InjectFlags extends InputFlags, WriteFlags {
  force: boolean;
}

export async function runInject(flags: InjectFlags): Promise<void> {
  checkOutputFlags(flags, flags.filename);
  const settings = await settingsFromFlags(flags);
  const snapshot = await loadSnapshot(flags, settings);
  const sources = await readSources(flags.filename, flags.recursive);
  await checkDiffOutput(flags, sources);
  const ctx = { snapshot, settings, defaultNamespace: flags.namespace, force: flags.force };
  const reviewed = sources.map((source) => ({ source, reviewed: reviewManifests(source.text, source.name, ctx) }));
  requireObjects(reviewed.map((r) => ({ source: r.source, objects: r.reviewed.resources.length })));
  for (const { reviewed: r } of reviewed) {
    for (const res of r.resources) {
      const [line, ...warnings] = injectSummary(res);
      if (!flags.quiet || res.outcome.status === "denied") process.stderr.write(`${line}\n`);
      for (const w of warnings) process.stderr.write(`${w}\n`);
    }
  }
  const denied = reviewed.flatMap((r) => r.reviewed.resources.filter((x) => x.outcome.status === "denied"));
  // Nothing half-injected may reach kubectl apply: a denial writes nothing.
  if (denied.length > 0) throw new JobError(`${denied.length} resource${denied.length > 1 ? "s" : ""} denied (see above): nothing written`);
  await writeManifests(
    reviewed.map((r) => ({ source: r.source, output: r.reviewed.render() })),
    flags,
    (s) => process.stdout.write(s),
  );
}
