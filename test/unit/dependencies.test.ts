// Runtime dependencies serve the runtime: each one in package.json's dependencies (what
// the images keep after `npm prune --omit=dev`) is loaded by src/ when hookpoint runs,
// not only named for its types; and src/ loads nothing that is not one.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = new URL("../../", import.meta.url).pathname;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []));
}

/** Package names src/ loads at run time: value imports, re-exports, dynamic imports and require() (type-only imports are erased). */
function loadedPackages(): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const re = /(import|export)\s+(type\s+)?[^;]*?\sfrom\s+"([^".][^"]*)"|import\(\s*"([^".][^"]*)"\s*\)|require\(\s*"([^".][^"]*)"\s*\)/g;
  for (const file of sources(join(ROOT, "src"))) {
    for (const m of readFileSync(file, "utf8").matchAll(re)) {
      if (m[2]) continue;
      const spec = m[3] ?? m[4] ?? m[5] ?? "";
      if (spec.startsWith("node:")) continue;
      const name = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : (spec.split("/")[0] ?? spec);
      if (!out.has(name)) out.set(name, new Set());
      out.get(name)?.add(file.slice(ROOT.length));
    }
  }
  return out;
}

describe("runtime dependencies", () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { dependencies: Record<string, string>; optionalDependencies?: Record<string, string> };
  const loaded = loadedPackages();

  it("every dependency is loaded by src/ at run time", () => {
    const runtime = [...Object.keys(pkg.dependencies), ...Object.keys(pkg.optionalDependencies ?? {})];
    expect(runtime.filter((name) => !loaded.has(name))).toEqual([]);
  });

  it("src/ loads only dependencies (never a devDependency)", () => {
    const runtime = new Set([...Object.keys(pkg.dependencies), ...Object.keys(pkg.optionalDependencies ?? {})]);
    expect([...loaded.keys()].filter((name) => !runtime.has(name))).toEqual([]);
  });

  it("pino-pretty, optional and absent from the proxy images, is loaded only by the webhook's logger", () => {
    expect([...(loaded.get("pino-pretty") ?? [])]).toEqual(["src/server/logger.ts"]);
  });
});
