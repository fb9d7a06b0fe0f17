// `hookpoint inject`'s work, and reading the manifests (shared with explain).
import { readFile } from "node:fs/promises";
import { injectManifests } from "../manifests/inject.js";
import { readStdin } from "../manifests/stdin.js";
import { InputError } from "./errors.js";
import type { InjectFlags } from "./inject.js";
import { loadSnapshot } from "./inputs.js";
import { loadSettings } from "./settings.js";

export async function runInject(flags: InjectFlags): Promise<void> {
  const settings = await loadSettings(flags.image ? { image: flags.image } : {});
  const snapshot = await loadSnapshot(flags, settings);
  const text = await readManifests(flags.filename);
  const { output, workloads } = injectManifests(text, flags.filename, { snapshot, settings, defaultNamespace: flags.namespace, force: flags.force });
  // Everything succeeded: only now write, so a failure never leaves half an output.
  process.stdout.write(output);
  for (const w of workloads) for (const warning of w.review.warnings) process.stderr.write(`${w.kind} ${w.namespace}/${w.name}: ${warning}\n`);
}

export async function readManifests(file: string): Promise<string> {
  if (file === "-") return readStdin();
  try {
    return await readFile(file, "utf8");
  } catch (err) {
    throw new InputError(file, `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}
