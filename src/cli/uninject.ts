// `hookpoint uninject`: options here; the work (uninject-run.ts) loads only when it runs.
import type { Command } from "commander";
import { addManifestOptions, addWriteOptions, type UninjectFlags } from "./input-options.js";
import { runCommand } from "./run.js";

export function register(program: Command): void {
  const cmd = program
    .command("uninject")
    .description("Remove what hookpoint added to pod templates in manifests (from each pod's hookpoint.dev/status annotation), giving back the pods as they were");
  addWriteOptions(addManifestOptions(cmd)).action((flags: UninjectFlags) => runCommand("uninject", async () => (await import("./uninject-run.js")).runUninject(flags)));
}
