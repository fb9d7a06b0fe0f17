// `npm run catalog` (the first step of `npm run build`): compiles the bundled bpftrace
// scripts (bpf/*.bt) into src/catalog/compiled.ts. Every header is parsed and every
// program linted here, at build time; a script with a problem fails the build, naming
// the file, line and field. The agent and the CLI then use the typed module and never
// parse a bundled script at run time (a --scripts-dir of one's own still is).
//   tsx scripts/catalog/compile.ts            write the module
//   tsx scripts/catalog/compile.ts --check    exit 1 when it is not current
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { bundledScriptsDir, loadCatalogSync, type BundledScript } from "../../src/catalog/catalog.js";

export const COMPILED_MODULE = fileURLToPath(new URL("../../src/catalog/compiled.ts", import.meta.url));

/** The module's text for these scripts (read from bpf/, parsed and linted). */
export function compiledCatalogSource(scripts: readonly BundledScript[]): string {
  const entries = scripts.map((s) => {
    const compiled = { header: s.header, source: s.source, bodyStart: s.source.length - s.body.length };
    return `  ${JSON.stringify(compiled, null, 2).replace(/\n/g, "\n  ")},\n`;
  });
  return `// Generated from bpf/*.bt by scripts/catalog/compile.ts (npm run catalog, npm run build):
// the bundled scripts with their headers parsed and programs linted at build time.
// Do not edit; a unit test checks that it is current.
import type { CompiledScript } from "./compiled-script.js";

export const COMPILED_SCRIPTS: readonly CompiledScript[] = [
${entries.join("")}];
`;
}

/** The bundled scripts read from bpf/, the module's source of truth. */
export function readBundledScripts(): BundledScript[] {
  return loadCatalogSync(bundledScriptsDir());
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const text = compiledCatalogSource(readBundledScripts());
  if (process.argv.includes("--check")) {
    let current = "";
    try {
      current = readFileSync(COMPILED_MODULE, "utf8");
    } catch {
      // missing: not current
    }
    if (current !== text) {
      console.error("src/catalog/compiled.ts is not current: run npm run catalog");
      process.exit(1);
    }
  } else {
    writeFileSync(COMPILED_MODULE, text);
  }
}
