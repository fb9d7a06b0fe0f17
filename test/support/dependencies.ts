// Which npm packages src/ loads at run time, read from the sources and the lock file: for
// the tests that keep runtime dependencies honest and the proxy images small.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

export const ROOT = resolve(new URL("../../", import.meta.url).pathname);

interface LockPackage {
  dev?: boolean;
  optional?: boolean;
  devOptional?: boolean;
  peerDependencies?: Record<string, string>;
}

export function lockPackages(): Record<string, LockPackage> {
  return (JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as { packages: Record<string, LockPackage> }).packages;
}

const IMPORT_RE = /(import|export)\s+(type\s+)?[^;]*?\sfrom\s+"([^"]+)"|import\(\s*"([^"]+)"\s*\)|require\(\s*"([^"]+)"\s*\)/g;

function packageOf(spec: string): string {
  return spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : (spec.split("/")[0] ?? spec);
}

/** Relative modules and packages one source file loads at run time (type-only imports are erased). */
function loadsOf(file: string): { modules: string[]; packages: string[]; lazy: string[] } {
  const out = { modules: [] as string[], packages: [] as string[], lazy: [] as string[] };
  for (const m of readFileSync(file, "utf8").matchAll(IMPORT_RE)) {
    if (m[2]) continue;
    const spec = m[3] ?? m[4] ?? m[5] ?? "";
    if (spec.startsWith("node:")) continue;
    if (!spec.startsWith(".")) out.packages.push(packageOf(spec));
    else if (m[4]) out.lazy.push(resolve(dirname(file), spec.replace(/\.js$/, ".ts")));
    else out.modules.push(resolve(dirname(file), spec.replace(/\.js$/, ".ts")));
  }
  return out;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []));
}

/** Package name → the src/ files that load it, over all of src/. */
export function packagesLoadedBySrc(): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const file of sources(join(ROOT, "src"))) {
    for (const name of loadsOf(file).packages) {
      if (!out.has(name)) out.set(name, new Set());
      out.get(name)?.add(file.slice(ROOT.length + 1));
    }
  }
  return out;
}

/**
 * The packages one run of `entry` can load: its static imports, followed; lazy imports
 * only into the modules named in `lazyInto` (the one command that runs).
 */
export function packagesLoadedFrom(entry: string, lazyInto: readonly string[]): Set<string> {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const allowed = new Set(lazyInto.map((f) => join(ROOT, f)));
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const l = loadsOf(file);
    for (const p of l.packages) packages.add(p);
    for (const m of l.modules) visit(m);
    for (const m of l.lazy) if (allowed.has(m)) visit(m);
  };
  visit(join(ROOT, entry));
  return packages;
}

/** Adds the peer dependencies (which the package loads itself) of every package, transitively. */
export function withPeers(names: Iterable<string>): Set<string> {
  const lock = lockPackages();
  const out = new Set(names);
  for (const name of out) for (const peer of Object.keys(lock[`node_modules/${name}`]?.peerDependencies ?? {})) out.add(peer);
  return out;
}

/**
 * Packages `npm prune --omit=dev [--omit=optional]` keeps, from the lock file: npm flags a
 * package dev, optional or devOptional when only such dependencies reach it.
 */
export function prunedPackages(omitOptional: boolean): Set<string> {
  const kept = new Set<string>();
  for (const [path, p] of Object.entries(lockPackages())) {
    if (path === "" || p.dev || p.devOptional || (omitOptional && p.optional)) continue;
    kept.add(path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length));
  }
  return kept;
}
