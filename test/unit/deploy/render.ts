// Rendered overlays for the deploy/ tests, built once per test file. Without the
// kustomize binary a test is skipped with the reason, except under CI=true,
// where the setup step must have built it and its absence is a failure.
import { join } from "node:path";
import { DEPLOY, KUSTOMIZE_MISSING, kustomizeBinary, kustomizeBuild, type K8sObject } from "./support.js";

export type Target = "base" | "cert-manager" | "self-managed" | "cluster-wide";

const cache = new Map<string, K8sObject[]>();

export function targetDir(target: Target): string {
  return target === "base" ? join(DEPLOY, "base") : join(DEPLOY, "overlays", target);
}

export function render(ctx: { skip: (note?: string) => void }, target: Target | string): K8sObject[] {
  const bin = kustomizeBinary();
  if (!bin) {
    if (process.env.CI === "true") throw new Error(KUSTOMIZE_MISSING);
    ctx.skip(KUSTOMIZE_MISSING);
    throw new Error("unreachable: skipped");
  }
  const dir = target.startsWith("/") ? target : targetDir(target as Target);
  let objs = cache.get(dir);
  if (!objs) {
    objs = kustomizeBuild(bin, dir);
    cache.set(dir, objs);
  }
  return structuredClone(objs);
}

export function find(objs: K8sObject[], kind: string, name: string): K8sObject {
  const found = objs.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} among ${objs.map((o) => `${o.kind}/${o.metadata.name}`).join(", ")}`);
  return found;
}
