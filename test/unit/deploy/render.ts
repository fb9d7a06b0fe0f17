// Rendered overlays for the deploy/ tests (unit and e2e), built once per test
// file. Without the kustomize binary a test is skipped with the reason, except
// under CI=true, where the setup step must have built it and its absence is a
// failure.
import { join } from "node:path";
import { DEPLOY, KUSTOMIZE_MISSING, kustomizeBinary, kustomizeBuild, type K8sObject } from "./support.js";

export const TARGETS = ["base", "cert-manager", "self-managed", "cluster-wide", "cluster-wide-cert-manager"] as const;
export type Target = (typeof TARGETS)[number];

/** Thrown when kustomize was not built on this machine (outside CI: the tests are skipped with this reason). */
export class KustomizeMissingError extends Error {}

const cache = new Map<Target, K8sObject[]>();

export function targetDir(target: Target): string {
  return target === "base" ? join(DEPLOY, "base") : join(DEPLOY, "overlays", target);
}

/** `kustomize build` of the base or an overlay: a fresh copy of the cached output. */
export function build(target: Target): K8sObject[] {
  let objs = cache.get(target);
  if (!objs) {
    const bin = kustomizeBinary();
    if (!bin) {
      if (process.env.CI === "true") throw new Error(KUSTOMIZE_MISSING);
      throw new KustomizeMissingError(KUSTOMIZE_MISSING);
    }
    objs = kustomizeBuild(bin, targetDir(target));
    cache.set(target, objs);
  }
  return structuredClone(objs);
}

/** `build(target)`, or ctx.skip(reason) where kustomize was not built (outside CI). */
export function render(ctx: { skip: (note: string) => void }, target: Target): K8sObject[] {
  try {
    return build(target);
  } catch (e) {
    if (e instanceof KustomizeMissingError) ctx.skip(e.message);
    throw e;
  }
}

export function find(objs: K8sObject[], kind: string, name: string): K8sObject {
  const found = objs.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} among ${objs.map((o) => `${o.kind}/${o.metadata.name}`).join(", ")}`);
  return found;
}
