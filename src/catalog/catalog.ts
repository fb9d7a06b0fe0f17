// The bundled bpftrace scripts (bpf/*.bt): each file's header, program and path. The
// bundled ones come compiled at build time (compiled.ts); a directory of one's own is read,
// parsed and linted when loaded.
import { readdirSync, readFileSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { COMPILED_SCRIPTS } from "./compiled.js";
import { parseScriptFile, ScriptFileError, type ScriptHeader } from "./header.js";
import { lintScript } from "./lint.js";
import { errnoText } from "../errno-text.js";

export type { ScriptHeader, ScriptMapInfo } from "./header.js";

export interface BundledScript {
  header: ScriptHeader;
  /** The whole file (header comment included), or the generated program. */
  source: string;
  /** Where it was read from; null for a script generated for one binary. */
  file: string | null;
  /** The program after the header comment (what is rendered; the header is parsed once). */
  body: string;
}

export { DEFAULT_SCRIPT_NAMES } from "../defaults.js";

/** The package's bpf/ directory (next to src/ when run from source, to dist/ when built). */
export function bundledScriptsDir(): string {
  return fileURLToPath(new URL("../../bpf/", import.meta.url));
}

/** Parses and checks one script file's text; throws ScriptFileError naming file, line and problem. */
export function parseBundledScript(text: string, file: string): BundledScript {
  const { header, body, bodyLine } = parseScriptFile(text, file);
  const expected = basename(file).replace(/\.bt$/, "");
  if (header.name !== expected) {
    throw new ScriptFileError(file, 2, `header: name "${header.name}" must match the file name "${expected}.bt"`);
  }
  lintScript(header, body, file, bodyLine);
  return { header, source: text, file, body };
}

/** The bundled scripts, sorted by name, as compiled at build time (bpf/ is not read). */
export function bundledCatalog(): BundledScript[] {
  const dir = bundledScriptsDir();
  return COMPILED_SCRIPTS.map((c) => ({ header: c.header, source: c.source, file: join(dir, `${c.header.name}.bt`), body: c.source.slice(c.bodyStart) }));
}

/** Reads every `*.bt` in `dir`, sorted by name; without `dir`, the bundled scripts (compiled). */
export async function loadCatalog(dir?: string): Promise<BundledScript[]> {
  if (dir === undefined) return bundledCatalog();
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith(".bt")).sort();
  } catch (err) {
    throw new Error(`cannot read the bpftrace scripts in ${dir}: ${errnoText(err, "directory")}`);
  }
  const scripts: BundledScript[] = [];
  for (const n of names) {
    const file = join(dir, n);
    scripts.push(parseBundledScript(await readFile(file, "utf8"), file));
  }
  return checkCatalog(scripts, dir);
}

/** The same, synchronously (for a caller that needs one template outside an async path). */
export function loadCatalogSync(dir?: string): BundledScript[] {
  if (dir === undefined) return bundledCatalog();
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith(".bt")).sort();
  } catch (err) {
    throw new Error(`cannot read the bpftrace scripts in ${dir}: ${errnoText(err, "directory")}`);
  }
  return checkCatalog(
    names.map((n) => parseBundledScript(readFileSync(join(dir, n), "utf8"), join(dir, n))),
    dir,
  );
}

function checkCatalog(scripts: BundledScript[], dir: string): BundledScript[] {
  if (scripts.length === 0) throw new Error(`no bpftrace scripts (*.bt) in ${dir}`);
  // One Prometheus family per metric name: two scripts must not share one.
  const owner = new Map<string, string>();
  for (const s of scripts) {
    for (const m of s.header.maps) {
      const other = owner.get(m.metric);
      if (other !== undefined) throw new ScriptFileError(s.file ?? s.header.name, null, `header: metric "${m.metric}" of ${m.name} is already used by ${other}`);
      owner.set(m.metric, `${s.header.name} ${m.name}`);
    }
  }
  return scripts;
}

/** Finds scripts by name; an unknown name is an error that lists the known ones. */
export function selectScripts(catalog: readonly BundledScript[], names: readonly string[]): BundledScript[] {
  const known = catalog.map((s) => s.header.name);
  const unknown = names.filter((n) => !known.includes(n));
  if (unknown.length > 0) {
    throw new Error(`unknown script${unknown.length > 1 ? "s" : ""} ${unknown.map((u) => `"${u}"`).join(", ")}; available: ${known.join(", ")}`);
  }
  return names.map((n) => catalog.find((s) => s.header.name === n) as BundledScript);
}
