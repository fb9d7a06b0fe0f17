// What the agent needs from the bundled scripts (src/scripts/). The types and the
// pairs script's name are the scripts' own; the functions are passed in by the CLI
// edge, so the agent can be tested with small scripts of its own.
import type { BundledScript, ScriptHeader, ScriptMapInfo } from "../scripts/catalog.js";
import type { CheckResult, RenderOptions } from "../scripts/render.js";
import type { SymbolTable } from "../elf/symbols.js";

/** Same shapes as src/scripts (one definition); only the functions are injected. */
export type MapInfo = ScriptMapInfo;
export type ScriptInfo = ScriptHeader;
export type Script = BundledScript;
export type { CheckResult, RenderOptions };
/** The script generated per binary from its hookpoint* functions. */
export { HOOKPOINT_SYMBOL_PATTERN, PAIRS_SCRIPT_NAME } from "../scripts/pairs.js";

/** The script half, injected into the agent. */
export interface ScriptSource {
  loadCatalog(dir?: string): Promise<Script[]>;
  checkScript(script: Script, table: SymbolTable): CheckResult;
  renderScript(script: Script, opts: RenderOptions): string;
  /** From `template` (default: the bundled hookpoint-pairs.bt); null when the binary has no hookpoint* function. */
  generatePairsScript(table: SymbolTable, template?: Script): Script | null;
  /** The symbol names and globs the scripts probe: what the binary's table is read for. */
  symbolPatternsOf(scripts: readonly Script[]): string[];
  defaultScriptNames: readonly string[];
}
