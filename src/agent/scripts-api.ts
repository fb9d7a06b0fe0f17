// What the agent needs from the bundled scripts (src/scripts/). The types are the
// scripts' own; the functions are passed in by the CLI edge, so the agent can be
// tested with small scripts of its own.
import type { BundledScript, ScriptHeader, ScriptMapInfo } from "../scripts/catalog.js";
import type { CheckResult, RenderOptions } from "../scripts/render.js";
import type { SymbolTable } from "./elf/symbols.js";

/** Same shapes as src/scripts (one definition); only the functions are injected. */
export type MapInfo = ScriptMapInfo;
export type ScriptInfo = ScriptHeader;
export type Script = BundledScript;
export type { CheckResult, RenderOptions };

/** The script half, injected into the agent. */
export interface ScriptSource {
  loadCatalog(dir?: string): Promise<Script[]>;
  checkScript(script: Script, table: SymbolTable): CheckResult;
  renderScript(script: Script, opts: RenderOptions): string;
  generatePairsScript(table: SymbolTable): Script | null;
  defaultScriptNames: readonly string[];
}
