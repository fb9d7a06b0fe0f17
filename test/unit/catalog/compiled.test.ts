// The catalog compiled at build time (src/catalog/compiled.ts) is current with bpf/ and is
// exactly what reading the files gives.
import { describe, expect, it } from "vitest";
import { bundledCatalog, bundledScriptsDir, loadCatalog } from "../../../src/catalog/catalog.js";
import { COMPILED_MODULE, compiledCatalogSource, readBundledScripts } from "../../../scripts/catalog/compile.js";
import { expectGoldenText } from "../../support/golden.js";

describe("the compiled catalog", () => {
  it("is current: compiling bpf/ again gives src/catalog/compiled.ts (npm run catalog rewrites it)", () => {
    expectGoldenText(COMPILED_MODULE, compiledCatalogSource(readBundledScripts()));
  });

  it("holds what parsing and linting bpf/*.bt gives: headers, sources, programs and paths", async () => {
    const fromFiles = await loadCatalog(bundledScriptsDir());
    expect(bundledCatalog()).toEqual(fromFiles);
    expect(await loadCatalog()).toEqual(fromFiles);
  });
});
