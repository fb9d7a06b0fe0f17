import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { bundledScriptsDir, DEFAULT_SCRIPT_NAMES, loadCatalog, loadCatalogSync, selectScripts } from "../../../src/catalog/catalog.js";
import { expectGoldenJson } from "../../support/golden.js";

/** Every bundled script, by name. */
const BUNDLED_SCRIPT_NAMES: readonly string[] = [
  "envoy-event-loop",
  "envoy-filter-chain",
  "envoy-http-filters",
  "envoy-request-flow",
  "envoy-request-trace",
  "envoy-socket-io",
  "hookpoint-pairs",
];

const golden = (name: string): string => fileURLToPath(new URL(`./golden/${name}.header.json`, import.meta.url));

describe("bundled script catalog", async () => {
  const catalog = await loadCatalog();

  it("reads every bpf/*.bt, sorted by name, and the exported name lists match their headers", () => {
    const files = readdirSync(bundledScriptsDir()).filter((f) => f.endsWith(".bt")).sort();
    expect(catalog.map((s) => `${s.header.name}.bt`)).toEqual(files);
    expect(catalog.map((s) => s.header.name)).toEqual(BUNDLED_SCRIPT_NAMES);
    expect(catalog.filter((s) => s.header.default).map((s) => s.header.name)).toEqual(DEFAULT_SCRIPT_NAMES);
    expect(DEFAULT_SCRIPT_NAMES).toEqual(["envoy-event-loop", "envoy-request-flow", "hookpoint-pairs"]);
  });

  it("loads the same synchronously", () => {
    expect(loadCatalogSync().map((s) => s.header)).toEqual(catalog.map((s) => s.header));
  });

  it.each(BUNDLED_SCRIPT_NAMES.map((n) => [n]))("pins the parsed header of %s (golden)", (name) => {
    const script = catalog.find((s) => s.header.name === name);
    expect(script?.file).toBe(join(bundledScriptsDir(), `${name}.bt`));
    expectGoldenJson(golden(name), script?.header);
  });

  it("every script runs on the bpftrace of Debian 12 (0.17)", () => {
    expect(catalog.map((s) => s.header.minBpftrace)).toEqual(catalog.map(() => "0.17"));
  });

  it("selects scripts by name and names the available ones for an unknown name", () => {
    expect(selectScripts(catalog, ["envoy-socket-io"]).map((s) => s.header.name)).toEqual(["envoy-socket-io"]);
    expect(() => selectScripts(catalog, ["envoy-socket-io", "envoy-tls", "x"])).toThrow(
      'unknown scripts "envoy-tls", "x"; available: envoy-event-loop, envoy-filter-chain, envoy-http-filters, envoy-request-flow, envoy-request-trace, envoy-socket-io, hookpoint-pairs',
    );
  });

  it("says which directory it could not read", async () => {
    const missing = join(tmpdir(), "hookpoint-no-such-dir");
    await expect(loadCatalog(missing)).rejects.toThrow(`cannot read the bpftrace scripts in ${missing}: no such directory`);
  });

  it("refuses an empty directory, and a file whose header names another script", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hookpoint-scripts-"));
    await expect(loadCatalog(dir)).rejects.toThrow(`no bpftrace scripts (*.bt) in ${dir}`);
    const text = (await loadCatalog()).find((s) => s.header.name === "envoy-socket-io")?.source ?? "";
    writeFileSync(join(dir, "socket-io.bt"), text);
    await expect(loadCatalog(dir)).rejects.toThrow(`${join(dir, "socket-io.bt")}:2: header: name "envoy-socket-io" must match the file name "socket-io.bt"`);
  });

  it("refuses two scripts that would export the same metric", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hookpoint-scripts-"));
    const source = (await loadCatalog()).find((s) => s.header.name === "envoy-filter-chain")?.source ?? "";
    writeFileSync(join(dir, "envoy-filter-chain.bt"), source);
    writeFileSync(join(dir, "filter-chain-copy.bt"), source.replace("name: envoy-filter-chain", "name: filter-chain-copy"));
    await expect(loadCatalog(dir)).rejects.toThrow(
      `${join(dir, "filter-chain-copy.bt")}: header: metric "filter_chain_duration" of @filter_chain_ns is already used by envoy-filter-chain @filter_chain_ns`,
    );
  });
});
