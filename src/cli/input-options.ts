// Decision-input flags of the offline commands (inject, explain); inputs.ts reads the files.
import type { Command } from "commander";

export interface InputFlags {
  filename: string;
  policy?: string;
  namespaces?: string;
  namespace: string;
  image?: string;
}

export function addInputOptions(cmd: Command): Command {
  return cmd
    .requiredOption("-f, --filename <file>", "manifests to read (YAML or JSON, several documents allowed); - for standard input")
    .option("--policy <file>", "HookpointPolicy objects to apply (YAML or JSON)")
    .option("--namespaces <file>", "Namespace objects whose labels the rules read (YAML or JSON)")
    .option("-n, --namespace <name>", "namespace of documents that name none", "default")
    .option("--image <image>", "tracing image when the profile names none");
}
