// Runtime dependencies serve the runtime: each one in package.json's dependencies (what
// the images keep after `npm prune --omit=dev`) is loaded when hookpoint runs, by src/
// or as the peer of a package src/ loads, not only named for its types; and src/ loads
// nothing that is not one.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { packagesLoadedBySrc, ROOT, withPeers } from "../support/dependencies.js";

describe("runtime dependencies", () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { dependencies: Record<string, string>; optionalDependencies?: Record<string, string> };
  const runtime = [...Object.keys(pkg.dependencies), ...Object.keys(pkg.optionalDependencies ?? {})];
  const loaded = packagesLoadedBySrc();

  it("every dependency is loaded at run time (by src/, or as a peer of a package it loads)", () => {
    const used = withPeers(loaded.keys());
    expect(runtime.filter((name) => !used.has(name))).toEqual([]);
  });

  it("src/ loads only dependencies (never a devDependency)", () => {
    expect([...loaded.keys()].filter((name) => !runtime.includes(name))).toEqual([]);
  });

  it("pino-pretty, optional and absent from the proxy images, is loaded only by the webhook's logger", () => {
    expect([...(loaded.get("pino-pretty") ?? [])]).toEqual(["src/server/logger.ts"]);
  });
});
