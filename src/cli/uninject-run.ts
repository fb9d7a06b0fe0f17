// `hookpoint uninject`'s work: restore every injected template, report each
// resource on stderr, and write only when every one could be restored.
import { uninjectSummary } from "../manifests/summary.js";
import { uninjectManifests } from "../manifests/uninject.js";
import { JobError } from "./errors.js";
import { checkDiffOutput, checkOutputFlags, writeManifests } from "./manifest-output.js";
import { readSources, requireObjects } from "./manifest-sources.js";
import type { UninjectFlags } from "./input-options.js";

export async function runUninject(flags: UninjectFlags): Promise<void> {
  checkOutputFlags(flags, flags.filename);
  const sources = await readSources(flags.filename, flags.recursive);
  await checkDiffOutput(flags, sources);
  const done = sources.map((source) => ({ source, result: uninjectManifests(source.text, source.name) }));
  requireObjects(done.map((d) => ({ source: d.source, objects: d.result.resources.length })));
  for (const { result } of done) {
    for (const r of result.resources) if (!flags.quiet || r.outcome.status === "failed") process.stderr.write(`${uninjectSummary(r)}\n`);
  }
  const failed = done.reduce((n, d) => n + d.result.resources.filter((r) => r.outcome.status === "failed").length, 0);
  if (failed > 0) throw new JobError(`${failed} resource${failed > 1 ? "s" : ""} could not be restored (see above): nothing written`);
  await writeManifests(
    done.map((d) => ({ source: d.source, output: d.result.output })),
    flags,
    (s) => process.stdout.write(s),
  );
}
